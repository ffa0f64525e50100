// XEP-0055 user directory and XEP-0433 channel search (src/modules/directory.hpp, channel_search.hpp):
// who a search finds, the shapes of the answers, the channel search form, its errors, order and pages.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/channel_search.hpp"
#include "modules/directory.hpp"

using namespace causerie;
using namespace causerie::modules;

namespace {

xml::Element parse(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? std::move(*el) : xml::Element();
}

const char* kJuliet =
    "<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><N><GIVEN>Juliet</GIVEN><FAMILY>Capulet</FAMILY></N>"
    "<NICKNAME>JC</NICKNAME><EMAIL><USERID>juliet@example.com</USERID></EMAIL></vCard>";

TEST(Directory, EntriesAndMatches) {
  auto e = directory::make_entry("juliet@capulet.lit", "", kJuliet);
  EXPECT_EQ(e.nick, "JC");  // the vCard's when the listing names none
  EXPECT_EQ(e.first, "Juliet");
  EXPECT_EQ(e.last, "Capulet");
  EXPECT_EQ(e.email, "juliet@example.com");
  EXPECT_EQ(directory::make_entry("juliet@capulet.lit", "balcony", kJuliet).nick, "balcony");
  EXPECT_EQ(directory::make_entry("r@m.lit", "romeo", "").full_name, "");

  auto legacy = [](std::string_view inner) {
    return directory::parse_request(parse("<query xmlns='jabber:iq:search'>" + std::string(inner) + "</query>"));
  };
  auto r = legacy("<last>capu</last>");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->form);
  EXPECT_TRUE(directory::matches(e, r->query));
  EXPECT_FALSE(directory::matches(e, legacy("<last>capu</last><first>romeo</first>")->query));  // all must match
  EXPECT_TRUE(directory::matches(e, legacy("<email>EXAMPLE</email>")->query));
  // Nothing asked, or one letter: refused (found, not enumerated).
  EXPECT_EQ(legacy("").error().condition, StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(legacy("<nick>j</nick>").error().condition, StanzaErrorCondition::kNotAcceptable);

  auto form = directory::parse_request(parse(
      "<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE' type='hidden'><value>jabber:iq:search</value></field>"
      "<field var='name'><value>juliet cap</value></field><field var='jid'><value>@capulet</value></field></x></query>"));
  ASSERT_TRUE(form.has_value());
  EXPECT_TRUE(form->form);
  EXPECT_TRUE(directory::matches(e, form->query));
  auto wrong = directory::parse_request(parse(
      "<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:other</value></field></x></query>"));
  EXPECT_EQ(wrong.error().condition, StanzaErrorCondition::kBadRequest);
}

TEST(Directory, ResultShapes) {
  std::vector<directory::Entry> found = {directory::make_entry("juliet@capulet.lit", "", kJuliet)};
  auto legacy = directory::results(found, false);
  const xml::Element* item = legacy.child("item", directory::kSearch);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->attr("jid"), "juliet@capulet.lit");
  EXPECT_EQ(item->child_text("first", directory::kSearch), "Juliet");
  EXPECT_EQ(item->child_text("nick", directory::kSearch), "JC");
  auto form = directory::results(found, true);
  const xml::Element* x = form.child("x", ns::kDataForms);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->attr("type"), "result");
  EXPECT_NE(x->child("reported", ns::kDataForms), nullptr);
  EXPECT_EQ(x->children("item", ns::kDataForms).size(), 1u);
  auto fields = directory::search_fields();
  EXPECT_NE(fields.child("nick", directory::kSearch), nullptr);
  EXPECT_NE(fields.child("x", ns::kDataForms), nullptr);
}

xml::DataForm submitted(std::vector<std::pair<std::string, std::vector<std::string>>> fields) {
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {channel_search::kParams});
  for (auto& [var, values] : fields) f.add(var, "", values);
  return f;
}

const char* app_condition(const StanzaError& e) {
  return e.app_condition ? e.app_condition->name().c_str() : "";
}

TEST(ChannelSearch, FormAndErrors) {
  auto form = channel_search::search_form();
  for (const char* var : {"FORM_TYPE", "q", "all", "sinname", "sindescription", "sinaddress", "min_users", "types", "key"})
    EXPECT_NE(form.field(var), nullptr) << var;
  EXPECT_EQ(form.value("key"), channel_search::kOrderUsers);

  auto both = channel_search::parse_query(submitted({{"q", {"xmpp"}}, {"all", {"true"}}}));
  ASSERT_FALSE(both.has_value());
  EXPECT_STREQ(app_condition(both.error()), "conflicting-fields");
  EXPECT_EQ(both.error().type, StanzaErrorType::kModify);
  auto none = channel_search::parse_query(submitted({}));
  EXPECT_STREQ(app_condition(none.error()), "no-search-conditions");
  auto terms = channel_search::parse_query(submitted({{"q", {"a  b"}}}));
  EXPECT_EQ(terms.error().condition, StanzaErrorCondition::kBadRequest);
  EXPECT_STREQ(app_condition(terms.error()), "invalid-search-terms");
  auto key = channel_search::parse_query(submitted({{"all", {"1"}}, {"key", {"{urn:other}popularity"}}}));
  EXPECT_EQ(key.error().condition, StanzaErrorCondition::kFeatureNotImplemented);
  EXPECT_STREQ(app_condition(key.error()), "invalid-sort-key");
  auto users = channel_search::parse_query(submitted({{"all", {"1"}}, {"min_users", {"-1"}}}));
  EXPECT_EQ(users.error().condition, StanzaErrorCondition::kBadRequest);
  auto ok = channel_search::parse_query(submitted({{"q", {"Coffee  Talk"}}, {"sinaddr", {"false"}}}));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->terms, (std::vector<std::string>{"coffee", "talk"}));
  EXPECT_FALSE(ok->in_address);
  EXPECT_FALSE(ok->by_address);
}

ChannelInfo room(std::string address, std::string name, std::string description, size_t users,
                 std::string type = "xep-0045") {
  ChannelInfo c;
  c.address = std::move(address);
  c.name = std::move(name);
  c.description = std::move(description);
  c.nusers = users;
  c.service_type = std::move(type);
  return c;
}

std::vector<std::string> addresses(const std::vector<ChannelInfo>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.address);
  return out;
}

TEST(ChannelSearch, SelectsAndOrders) {
  std::vector<ChannelInfo> all = {
      room("coffee@conference.x", "Coffee", "talk about coffee", 3),
      room("tea@conference.x", "Tea room", "coffee is banned", 7),
      room("empty@conference.x", "Empty", "", 0),
      room("roasters@spaces.x", "Roasters", "coffee community", 12, channel_search::kPubsubType),
  };
  auto q = *channel_search::parse_query(submitted({{"q", {"coffee"}}}));
  EXPECT_EQ(addresses(channel_search::select(all, q)), (std::vector<std::string>{"tea@conference.x", "coffee@conference.x"}));
  q.in_description = false;
  EXPECT_EQ(addresses(channel_search::select(all, q)), (std::vector<std::string>{"coffee@conference.x"}));
  auto every = *channel_search::parse_query(
      submitted({{"all", {"true"}}, {"types", {"xep-0045", channel_search::kPubsubType}},
                 {"key", {channel_search::kOrderAddress}}, {"min_users", {"1"}}}));
  EXPECT_EQ(addresses(channel_search::select(all, every)),
            (std::vector<std::string>{"coffee@conference.x", "roasters@spaces.x", "tea@conference.x"}));
}

TEST(ChannelSearch, Pages) {
  std::vector<ChannelInfo> sorted;
  for (char c = 'a'; c <= 'e'; ++c) sorted.push_back(room(std::string(1, c) + "@conference.x", "", "", 1));
  auto q = *channel_search::parse_query(submitted({{"all", {"true"}}, {"key", {channel_search::kOrderAddress}}}));
  auto page = [&](std::optional<xml::RsmRequest> rsm) {
    auto r = channel_search::result_page(sorted, q, rsm, 50);
    EXPECT_TRUE(r.has_value());
    std::vector<std::string> out;
    for (const auto* i : r->children("item", channel_search::kSearch)) out.push_back(std::string(i->attr("address")));
    EXPECT_EQ(r->child("set", ns::kRsm)->child_text("count", ns::kRsm), "5");
    return out;
  };
  xml::RsmRequest first;
  first.max = 2;
  EXPECT_EQ(page(first), (std::vector<std::string>{"a@conference.x", "b@conference.x"}));
  xml::RsmRequest next = first;
  next.after = "b@conference.x";
  EXPECT_EQ(page(next), (std::vector<std::string>{"c@conference.x", "d@conference.x"}));
  next.after = "bb@conference.x";  // left the set meanwhile: ordered by address, the page goes on from there
  EXPECT_EQ(page(next), (std::vector<std::string>{"c@conference.x", "d@conference.x"}));
  xml::RsmRequest last = first;
  last.before = "";
  EXPECT_EQ(page(last), (std::vector<std::string>{"d@conference.x", "e@conference.x"}));
  EXPECT_EQ(page(std::nullopt).size(), 5u);
  // Ordered by users, an unknown cursor cannot be placed.
  auto by_users = *channel_search::parse_query(submitted({{"all", {"true"}}}));
  xml::RsmRequest lost;
  lost.after = "zz@conference.x";
  EXPECT_EQ(channel_search::result_page(sorted, by_users, lost, 50).error().condition, StanzaErrorCondition::kItemNotFound);
  // The items carry what §7.2 defines.
  auto one = channel_search::result_page({room("coffee@conference.x", "Coffee", "talk", 3)}, q, std::nullopt, 50);
  const xml::Element* item = one->child("item", channel_search::kSearch);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->child_text("name", channel_search::kSearch), "Coffee");
  EXPECT_EQ(item->child_text("nusers", channel_search::kSearch), "3");
  EXPECT_EQ(item->child_text("service-type", channel_search::kSearch), "xep-0045");
}

}  // namespace
