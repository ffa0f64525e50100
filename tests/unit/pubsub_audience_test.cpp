// Per-post audiences (docs/protocol/audiences.md): the one decision, may_see(), for every kind of
// requester against group audiences; the stored form and its round trip; and what a publication states.
#include <gtest/gtest.h>

#include "core/xml/namespaces.hpp"
#include "modules/pubsub/audience.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

Requester contact(std::vector<std::string> groups, bool shares_presence = true) {
  Requester r;
  r.presence_subscribed = shares_presence;
  r.groups = std::move(groups);
  return r;
}

Requester affiliated(Affiliation a) {
  Requester r;
  r.affiliation = a;
  return r;
}

NodeConfig blog() {
  NodeConfig c;
  c.access_model = AccessModel::kPresence;
  c.roster_groups_allowed = {"Work"};  // the node's own list, which a per-post audience replaces
  return c;
}

Visibility audience(std::vector<std::string> groups) { return Visibility(AccessModel::kRoster, std::move(groups)); }

xml::DataForm options(std::vector<std::pair<std::string, std::vector<std::string>>> fields) {
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {ns::kPubsubPublishOptions});
  for (auto& [var, values] : fields) f.add(var, "", values);
  return f;
}

xml::Element atom_entry(std::optional<std::vector<std::string>> groups) {
  xml::Element e("entry", ns::kAtom);
  e.add_text_child("title", "t", ns::kAtom);
  if (groups) {
    xml::Element& a = e.add_child("audience", kAudienceNs);
    for (const auto& g : *groups) a.add_text_child("group", g, kAudienceNs);
  }
  return e;
}

}  // namespace

TEST(PubsubAudience, MaySeeGroupAudience) {
  const NodeConfig c = blog();
  const Visibility family = audience({"Family"});
  EXPECT_TRUE(may_see(family, c, contact({"Family"})));
  EXPECT_TRUE(may_see(family, c, contact({"Work", "Family"})));
  EXPECT_FALSE(may_see(family, c, contact({"Work"})));  // the node's list does not apply
  EXPECT_FALSE(may_see(family, c, contact({})));
  EXPECT_FALSE(may_see(family, c, contact({"Family"}, false)));  // in the group, but sharing no presence
  EXPECT_FALSE(may_see(family, c, Requester{}));                 // a stranger
  EXPECT_FALSE(may_see(family, c, contact({"family"})));         // group names are exact
  EXPECT_TRUE(may_see(family, c, affiliated(Affiliation::kOwner)));  // the publisher
  EXPECT_FALSE(may_see(family, c, affiliated(Affiliation::kOutcast)));
  EXPECT_FALSE(may_see(family, c, affiliated(Affiliation::kPublishOnly)));
  // The empty audience: the publisher alone.
  EXPECT_FALSE(may_see(audience({}), c, contact({"Family", "Work"})));
  EXPECT_TRUE(may_see(audience({}), c, affiliated(Affiliation::kOwner)));
  // "roster" without groups of its own: the node's list.
  EXPECT_TRUE(may_see(Visibility(AccessModel::kRoster), c, contact({"Work"})));
  EXPECT_FALSE(may_see(Visibility(AccessModel::kRoster), c, contact({"Family"})));
  // The other models as before.
  EXPECT_TRUE(may_see(AccessModel::kOpen, c, Requester{}));
  EXPECT_FALSE(may_see(AccessModel::kPresence, c, Requester{}));
  EXPECT_TRUE(may_see(AccessModel::kPresence, c, contact({})));
}

TEST(PubsubAudience, IsPublic) {
  EXPECT_TRUE(is_public(AccessModel::kOpen, blog()));
  EXPECT_FALSE(is_public(AccessModel::kPresence, blog()));
  EXPECT_FALSE(is_public(audience({"Family"}), blog()));
  EXPECT_FALSE(is_public(audience({}), blog()));
}

TEST(PubsubAudience, StoredForm) {
  EXPECT_EQ(encode_visibility(AccessModel::kOpen), "open");
  EXPECT_EQ(encode_visibility(Visibility(AccessModel::kRoster)), "roster");
  EXPECT_EQ(encode_visibility(audience({})), "roster;");
  EXPECT_EQ(encode_visibility(audience({"Family", "Work"})), "roster;Family;Work");
  EXPECT_EQ(encode_visibility(audience({"a;b", "50%", "x\ny"})), "roster;a%3Bb;50%25;x%0Ay");
  for (const auto& v : {audience({}), audience({"Family"}), audience({"a;b", "50%", "x\ny", "é"}),
                        Visibility(AccessModel::kRoster), Visibility(AccessModel::kOpen)})
    EXPECT_EQ(parse_visibility(encode_visibility(v)), v);
  EXPECT_EQ(parse_visibility(""), std::nullopt);
  EXPECT_EQ(parse_visibility("roster;a;"), std::nullopt);
  EXPECT_EQ(parse_visibility("roster;a;;b"), std::nullopt);
  EXPECT_EQ(parse_visibility("roster;%4"), std::nullopt);
  EXPECT_EQ(parse_visibility("roster;%zz"), std::nullopt);
  EXPECT_EQ(parse_visibility("friends"), std::nullopt);
  EXPECT_TRUE(valid_item_access(""));
  EXPECT_TRUE(valid_item_access("roster;Family"));
  EXPECT_FALSE(valid_item_access("roster;"  "a;"));
  // Every stored audience lies in the range the store's index covers.
  for (const auto& v : {audience({}), audience({"~~~"}), audience({"\x01"})}) {
    std::string s = encode_visibility(v);
    EXPECT_TRUE(s >= kAudiencePrefix && s < kAudienceEnd) << s;
  }
  // The node's model when the item has none; unreadable text fails closed.
  EXPECT_EQ(item_visibility(blog(), ""), Visibility(AccessModel::kPresence));
  EXPECT_FALSE(may_see(item_visibility(blog(), "garbage"), blog(), contact({"Work", "Family"})));
  EXPECT_EQ(with_groups(Visibility(AccessModel::kRoster), blog()), audience({"Work"}));
  EXPECT_EQ(with_groups(audience({"Family"}), blog()), audience({"Family"}));
}

TEST(PubsubAudience, StatedByOptionsOrElement) {
  auto stated = [](const std::optional<xml::DataForm>& o, const std::optional<xml::Element>& e) {
    return stated_visibility(o ? &*o : nullptr, e ? &*e : nullptr);
  };
  // Nothing stated.
  EXPECT_EQ(*stated(std::nullopt, atom_entry(std::nullopt)), std::nullopt);
  EXPECT_EQ(*stated(options({{"pubsub#max_items", {"10"}}}), std::nullopt), std::nullopt);
  // Options alone: sorted, without duplicates; no groups = the publisher alone.
  EXPECT_EQ(*stated(options({{"pubsub#access_model", {"roster"}}, {"pubsub#roster_groups_allowed", {"Work", "Family", "Work"}}}),
                    std::nullopt),
            audience({"Family", "Work"}));
  EXPECT_EQ(*stated(options({{"pubsub#access_model", {"roster"}}}), std::nullopt), audience({}));
  EXPECT_EQ(*stated(options({{"pubsub#access_model", {"open"}}}), std::nullopt), Visibility(AccessModel::kOpen));
  // The element alone.
  EXPECT_EQ(*stated(std::nullopt, atom_entry(std::vector<std::string>{"Family"})), audience({"Family"}));
  EXPECT_EQ(*stated(std::nullopt, atom_entry(std::vector<std::string>{})), audience({}));
  // Both, agreeing (in any order) or not.
  EXPECT_EQ(*stated(options({{"pubsub#access_model", {"roster"}}, {"pubsub#roster_groups_allowed", {"B", "A"}}}),
                    atom_entry(std::vector<std::string>{"A", "B"})),
            audience({"A", "B"}));
  auto clash = stated(options({{"pubsub#access_model", {"roster"}}, {"pubsub#roster_groups_allowed", {"Family"}}}),
                      atom_entry(std::vector<std::string>{"Work"}));
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().condition, StanzaErrorCondition::kConflict);
  auto open_with_element = stated(options({{"pubsub#access_model", {"open"}}}), atom_entry(std::vector<std::string>{"Family"}));
  EXPECT_FALSE(open_with_element);  // never wider than the element says
  // Refused: groups without the roster model, unknown models, empty or too many names.
  EXPECT_FALSE(stated(options({{"pubsub#roster_groups_allowed", {"Family"}}}), std::nullopt));
  EXPECT_FALSE(stated(options({{"pubsub#access_model", {"presence"}}, {"pubsub#roster_groups_allowed", {"Family"}}}),
                      std::nullopt));
  EXPECT_FALSE(stated(options({{"pubsub#access_model", {"friends"}}}), std::nullopt));
  EXPECT_FALSE(stated(std::nullopt, atom_entry(std::vector<std::string>{""})));
  std::vector<std::string> many;
  for (size_t i = 0; i <= kMaxAudienceGroups; ++i) many.push_back("g" + std::to_string(i));
  auto too_many = stated(std::nullopt, atom_entry(many));
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().condition, StanzaErrorCondition::kBadRequest);
  // Two <audience/> elements.
  xml::Element twice = atom_entry(std::vector<std::string>{"A"});
  twice.add_child("audience", kAudienceNs);
  EXPECT_FALSE(stated(std::nullopt, twice));
  // Not an Atom entry: the element means nothing there.
  xml::Element other("geoloc", "http://jabber.org/protocol/geoloc");
  other.add_child("audience", kAudienceNs);
  EXPECT_EQ(*stated(std::nullopt, other), std::nullopt);
}

TEST(PubsubAudience, VisibilityFieldsLeaveTheOptions) {
  xml::DataForm f = without_visibility_fields(options({{"pubsub#access_model", {"roster"}},
                                                       {"pubsub#roster_groups_allowed", {"Family"}},
                                                       {"pubsub#max_items", {"max"}}}));
  EXPECT_EQ(f.field("pubsub#access_model"), nullptr);
  EXPECT_EQ(f.field("pubsub#roster_groups_allowed"), nullptr);
  ASSERT_NE(f.field("pubsub#max_items"), nullptr);
  ASSERT_NE(f.field("FORM_TYPE"), nullptr);
}
