// XEP-0045 §10.1.3 / §10.2 room configuration forms (src/modules/muc/room_config.hpp).
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/muc/room_config.hpp"

using namespace causerie;
using namespace causerie::modules::muc;

namespace {

xml::DataForm submit(std::vector<std::pair<std::string, std::vector<std::string>>> fields) {
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {ns::kMucRoomConfig});
  for (auto& [var, values] : fields) f.add(var, "", values);
  return f;
}

TEST(MucRoomConfig, FormCarriesEveryOption) {
  RoomConfig c;
  c.name = "A Dark Cave";
  c.max_users = 30;
  xml::DataForm f = config_form(c, {"crone1@shakespeare.lit"}, {"wiccarocks@shakespeare.lit"}, ConfigLimits{}, "coven@chat");
  EXPECT_EQ(f.type, "form");
  EXPECT_EQ(f.form_type(), ns::kMucRoomConfig);
  for (const char* var : {"muc#roomconfig_roomname", "muc#roomconfig_roomdesc", "muc#roomconfig_lang",
                          "muc#roomconfig_enablelogging", "muc#roomconfig_enablearchiving",
                          "muc#roomconfig_changesubject", "muc#roomconfig_allowinvites",
                          "muc#roomconfig_allowpm", "muc#roomconfig_maxusers", "muc#roomconfig_presencebroadcast",
                          "muc#roomconfig_getmemberlist", "muc#roomconfig_publicroom", "muc#roomconfig_persistentroom",
                          "muc#roomconfig_moderatedroom", "muc#roomconfig_membersonly",
                          "muc#roomconfig_passwordprotectedroom", "muc#roomconfig_roomsecret", "muc#roomconfig_whois",
                          "muc#maxhistoryfetch", "muc#roomconfig_roomadmins", "muc#roomconfig_roomowners"})
    EXPECT_NE(f.field(var), nullptr) << var;
  EXPECT_EQ(f.value("muc#roomconfig_roomname"), "A Dark Cave");
  EXPECT_EQ(f.value("muc#roomconfig_maxusers"), "30");
  EXPECT_EQ(f.field("muc#roomconfig_presencebroadcast")->values.size(), 3u);
  EXPECT_EQ(f.value("muc#roomconfig_roomowners"), "crone1@shakespeare.lit");
}

TEST(MucRoomConfig, AppliesTheSpecExample) {
  // §10.1.3, "Owner Submits Configuration Form".
  auto sub = apply_config_form(
      submit({{"muc#roomconfig_roomname", {"A Dark Cave"}},
              {"muc#roomconfig_roomdesc", {"The place for all good witches!"}},
              {"muc#roomconfig_enablelogging", {"0"}},
              {"muc#roomconfig_changesubject", {"1"}},
              {"muc#roomconfig_allowinvites", {"0"}},
              {"muc#roomconfig_allowpm", {"anyone"}},
              {"muc#roomconfig_maxusers", {"10"}},
              {"muc#roomconfig_publicroom", {"0"}},
              {"muc#roomconfig_persistentroom", {"0"}},
              {"muc#roomconfig_moderatedroom", {"0"}},
              {"muc#roomconfig_membersonly", {"0"}},
              {"muc#roomconfig_passwordprotectedroom", {"1"}},
              {"muc#roomconfig_roomsecret", {"cauldronburn"}},
              {"muc#roomconfig_whois", {"moderators"}},
              {"muc#maxhistoryfetch", {"50"}},
              {"muc#roomconfig_roomadmins", {"wiccarocks@shakespeare.lit", "hecate@shakespeare.lit/broom"}}}),
      RoomConfig{}, ConfigLimits{});
  ASSERT_TRUE(sub) << sub.error().text;
  const RoomConfig& c = sub->config;
  EXPECT_EQ(c.name, "A Dark Cave");
  EXPECT_TRUE(c.change_subject);
  EXPECT_EQ(c.max_users, 10u);
  EXPECT_FALSE(c.is_public);
  EXPECT_TRUE(c.password_protected);
  EXPECT_EQ(c.password, "cauldronburn");
  EXPECT_EQ(c.history_fetch, 50u);
  ASSERT_TRUE(sub->admins);
  EXPECT_EQ(*sub->admins, (std::vector<std::string>{"wiccarocks@shakespeare.lit", "hecate@shakespeare.lit"}));
  EXPECT_FALSE(sub->owners);
}

TEST(MucRoomConfig, RefusesWhatTheServiceCannotAccept) {
  ConfigLimits limits;
  limits.max_users = 100;
  limits.max_history = 50;
  struct Row {
    std::string var, value;
  };
  for (const auto& [var, value] : std::vector<Row>{{"muc#roomconfig_maxusers", "101"},
                                                   {"muc#roomconfig_maxusers", "0"},
                                                   {"muc#roomconfig_maxusers", "lots"},
                                                   {"muc#maxhistoryfetch", "51"},
                                                   {"muc#roomconfig_publicroom", "maybe"},
                                                   {"muc#roomconfig_whois", "everyone"},
                                                   {"muc#roomconfig_allowpm", "all"},
                                                   {"muc#roomconfig_presencebroadcast", "none"},
                                                   {"muc#roomconfig_roomname", std::string(2000, 'x')},
                                                   {"muc#roomconfig_roomadmins", "not a jid@"},
                                                   {"muc#roomconfig_passwordprotectedroom", "1"}}) {
    auto sub = apply_config_form(submit({{var, {value}}}), RoomConfig{}, limits);
    ASSERT_FALSE(sub) << var << "=" << value;
    EXPECT_EQ(sub.error().condition, StanzaErrorCondition::kNotAcceptable) << var;
  }
  auto empty_owners = apply_config_form(submit({{"muc#roomconfig_roomowners", {}}}), RoomConfig{}, limits);
  EXPECT_FALSE(empty_owners);
  xml::DataForm other = submit({});
  other.fields[0].values = {"urn:example:other"};
  auto wrong = apply_config_form(other, RoomConfig{}, limits);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().condition, StanzaErrorCondition::kBadRequest);
}

TEST(MucRoomConfig, InstantRoomAndPasswordRules) {
  // §10.1.2: an empty submitted form accepts the defaults.
  xml::DataForm empty;
  empty.type = "submit";
  auto sub = apply_config_form(empty, RoomConfig{}, ConfigLimits{});
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->config, RoomConfig{});
  // A password alone protects the room; an explicit "no" clears it.
  auto pw = apply_config_form(submit({{"muc#roomconfig_roomsecret", {"s3cret"}}}), RoomConfig{}, ConfigLimits{});
  ASSERT_TRUE(pw);
  EXPECT_TRUE(pw->config.password_protected);
  auto off = apply_config_form(submit({{"muc#roomconfig_passwordprotectedroom", {"0"}}}), pw->config, ConfigLimits{});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->config.password_protected);
  EXPECT_TRUE(off->config.password.empty());
  auto none = apply_config_form(submit({{"muc#roomconfig_maxusers", {"none"}}}), RoomConfig{}, ConfigLimits{});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->config.max_users, 0u);
}

TEST(MucRoomConfig, ChangeCodes) {
  RoomConfig a, b;
  EXPECT_TRUE(config_change_codes(a, b).empty());
  b.logging = true;
  EXPECT_EQ(config_change_codes(a, b), (std::vector<int>{170}));
  EXPECT_EQ(config_change_codes(b, a), (std::vector<int>{171}));
  b = a;
  b.whois = Whois::kAnyone;
  EXPECT_EQ(config_change_codes(a, b), (std::vector<int>{172}));
  EXPECT_EQ(config_change_codes(b, a), (std::vector<int>{173}));
  b.whois = Whois::kNone;
  b.name = "renamed";
  EXPECT_EQ(config_change_codes(a, b), (std::vector<int>{174, 104}));
  b = a;
  b.members_only = true;
  EXPECT_EQ(config_change_codes(a, b), (std::vector<int>{104}));
}

TEST(MucRoomConfig, StoredFormRoundTrips) {
  RoomConfig c;
  c.name = "Salon <&> \"quoted\"";
  c.description = "d";
  c.lang = "fr";
  c.is_public = false;
  c.persistent = true;
  c.moderated = true;
  c.members_only = true;
  c.password_protected = true;
  c.password = "pw";
  c.whois = Whois::kAnyone;
  c.change_subject = true;
  c.allow_invites = true;
  c.allow_pm = AllowPm::kModerators;
  c.logging = true;
  c.archiving = false;
  c.max_users = 77;
  c.history_fetch = 5;
  c.presence_broadcast = role_bit(Role::kModerator);
  c.get_member_list = role_bit(Role::kParticipant) | role_bit(Role::kModerator);
  ConfigLimits limits;
  EXPECT_EQ(deserialize_config(serialize_config(c), limits), c);
  // Limits lowered since: clamped, not refused.
  limits.max_users = 50;
  limits.max_history = 3;
  RoomConfig clamped = deserialize_config(serialize_config(c), limits);
  EXPECT_EQ(clamped.max_users, 50u);
  EXPECT_EQ(clamped.history_fetch, 3u);
  EXPECT_EQ(deserialize_config("not xml", limits), RoomConfig{});
  // A room stored before muc#roomconfig_enablearchiving existed archives, as a new room does.
  std::string old_form = serialize_config(RoomConfig{});
  auto at = old_form.find("<field var='muc#roomconfig_enablearchiving'");
  ASSERT_NE(at, std::string::npos);
  old_form.erase(at, old_form.find("</field>", at) + 8 - at);
  RoomConfig old = deserialize_config(old_form, ConfigLimits{});
  EXPECT_TRUE(old.archiving);
  EXPECT_EQ(old, RoomConfig{});
}

}  // namespace
