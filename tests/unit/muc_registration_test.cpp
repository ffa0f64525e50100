// XEP-0045 §7.10 and §9.9 muc#register forms (src/modules/muc/registration.hpp).
#include <gtest/gtest.h>

#include "core/xml/namespaces.hpp"
#include "modules/muc/registration.hpp"
#include "modules/muc/room_config.hpp"

using namespace causerie;
using namespace causerie::modules::muc;

namespace {

using C = StanzaErrorCondition;

xml::DataForm submitted(std::vector<std::pair<std::string, std::string>> fields, bool with_type = true) {
  xml::DataForm f;
  f.type = "submit";
  if (with_type) f.add("FORM_TYPE", "hidden", {ns::kMucRegister});
  for (auto& [var, v] : fields) f.add(var, "", {v});
  return f;
}

TEST(MucRegistration, FormHasTheRegistryFieldsAndRequiresTheNickname) {
  xml::DataForm f = registration_form("coven@chat.shakespeare.lit", "");
  EXPECT_EQ(f.type, "form");
  EXPECT_EQ(f.form_type(), ns::kMucRegister);
  for (const char* var : {"muc#register_first", "muc#register_last", "muc#register_roomnick", "muc#register_url",
                          "muc#register_email", "muc#register_faqentry"})
    EXPECT_NE(f.field(var), nullptr) << var;
  EXPECT_TRUE(f.field("muc#register_roomnick")->required);
  EXPECT_EQ(f.field("muc#register_faqentry")->type, "text-multi");
  EXPECT_EQ(registration_form("r", "thirdwitch").value("muc#register_roomnick"), "thirdwitch");
  // Round trip through XML keeps <required/>.
  auto back = xml::DataForm::parse(f.to_element());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->field("muc#register_roomnick")->required);
}

TEST(MucRegistration, ParsingASubmission) {
  auto ok = parse_registration_form(
      submitted({{"muc#register_first", "Brunhilde"}, {"muc#register_roomnick", "thirdwitch"},
                 {"muc#register_faqentry", "Just another witch."}}),
      64, 1024);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->nick, "thirdwitch");
  EXPECT_EQ(ok->first, "Brunhilde");
  EXPECT_EQ(ok->faq, std::vector<std::string>{"Just another witch."});

  struct Row {
    const char* what;
    xml::DataForm form;
    C want;
  };
  xml::DataForm not_submit = submitted({{"muc#register_roomnick", "x"}});
  not_submit.type = "form";
  xml::DataForm other_type = submitted({{"muc#register_roomnick", "x"}}, false);
  other_type.add("FORM_TYPE", "hidden", {ns::kMucRoomConfig});
  std::vector<Row> rows = {
      {"no FORM_TYPE", submitted({{"muc#register_roomnick", "x"}}, false), C::kBadRequest},  // §7.10
      {"another FORM_TYPE", other_type, C::kBadRequest},
      {"not a submission", not_submit, C::kBadRequest},
      {"no nickname", submitted({{"muc#register_first", "B"}}), C::kNotAcceptable},  // XEP-0077 §3.1
      {"blank nickname", submitted({{"muc#register_roomnick", "\u200b"}}), C::kJidMalformed},  // §17.1
      {"long nickname", submitted({{"muc#register_roomnick", std::string(65, 'n')}}), C::kNotAcceptable},
      {"long field", submitted({{"muc#register_roomnick", "x"}, {"muc#register_url", std::string(2000, 'u')}}),
       C::kNotAcceptable},
  };
  for (const auto& r : rows) {
    auto got = parse_registration_form(r.form, 64, 1024);
    ASSERT_FALSE(got) << r.what;
    EXPECT_EQ(got.error().condition, r.want) << r.what;
  }
}

TEST(MucRegistration, ApprovalFormRoundTrip) {
  RegistrationRequest r;
  r.nick = "thirdwitch";
  r.first = "Brunhilde";
  xml::DataForm f = approval_form(r, "hag66@shakespeare.lit", "coven@chat.shakespeare.lit");
  EXPECT_EQ(f.form_type(), ns::kMucRegister);
  EXPECT_EQ(f.value("muc#jid"), "hag66@shakespeare.lit");
  EXPECT_EQ(f.field("muc#register_allow")->type, "boolean");
  EXPECT_EQ(xml::parse_form_bool(f.value("muc#register_allow")), false);
  EXPECT_EQ(f.value("muc#register_first"), "Brunhilde");

  f.type = "submit";
  auto refused = parse_approval_form(f, 64, 1024);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->allow);

  f.field("muc#register_allow")->values = {"true"};
  auto allowed = parse_approval_form(f, 64, 1024);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->allow);
  EXPECT_EQ(allowed->jid, "hag66@shakespeare.lit");
  EXPECT_EQ(allowed->request.nick, "thirdwitch");

  f.field("muc#jid")->values = {"shakespeare.lit"};  // a domain is no user
  auto bad = parse_approval_form(f, 64, 1024);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().condition, C::kJidMalformed);
}

TEST(MucRegistration, RoomOptionIsConfigurableAndStored) {
  RoomConfig c;
  EXPECT_EQ(c.registration, Registration::kAuto);
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {ns::kMucRoomConfig});
  f.add(kRegistrationField, "list-single", {"none"});
  auto sub = apply_config_form(f, c, ConfigLimits{});
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->config.registration, Registration::kNone);
  EXPECT_EQ(config_change_codes(c, sub->config), std::vector<int>{104});
  EXPECT_EQ(deserialize_config(serialize_config(sub->config), ConfigLimits{}).registration, Registration::kNone);
  f.fields.back().values = {"sometimes"};
  auto bad = apply_config_form(f, c, ConfigLimits{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().condition, C::kNotAcceptable);
  // A configuration stored before the option existed reads as the default.
  EXPECT_EQ(deserialize_config("<x xmlns='jabber:x:data' type='submit'/>", ConfigLimits{}).registration,
            Registration::kAuto);
}

}  // namespace
