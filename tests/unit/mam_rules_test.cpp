// The mam module's pure decisions (src/modules/mam/archive_rules.cpp), with XEP-0313, XEP-0359,
// XEP-0441 and XEP-0424 examples as fixtures.
#include <gtest/gtest.h>

#include <cctype>

#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/mam/archive_rules.hpp"
#include "storage/archive_store.hpp"

using namespace causerie;
using namespace causerie::modules::mam;

namespace {

xml::Element parse(const std::string& text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el) << text;
  return el ? *el : xml::Element();
}

Jid jid(const char* s) { return *Jid::parse(s); }

TEST(MamRules, WhichMessagesAreArchived) {
  struct Case {
    const char* xml;
    bool archived;
  } cases[] = {
      {"<message xmlns='jabber:client' type='chat'><body>hi</body></message>", true},
      {"<message xmlns='jabber:client'><body>hi</body></message>", true},
      {"<message xmlns='jabber:client' type='normal'><body>hi</body></message>", true},
      {"<message xmlns='jabber:client' type='groupchat'><body>hi</body></message>", false},
      {"<message xmlns='jabber:client' type='headline'><body>hi</body></message>", false},
      {"<message xmlns='jabber:client' type='error'><body>hi</body></message>", false},
      {"<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>", false},
      {"<message xmlns='jabber:client' type='chat'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>", false},
      {"<message xmlns='jabber:client' type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>", false},
      {"<message xmlns='jabber:client' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/><store xmlns='urn:xmpp:hints'/></message>", true},
      {"<message xmlns='jabber:client' type='chat'><retract xmlns='urn:xmpp:message-retract:1' id='x'/></message>", true},
  };
  for (const auto& c : cases) EXPECT_EQ(should_archive(parse(c.xml)), c.archived) << c.xml;
}

TEST(MamRules, StanzaIdsClaimingUsAreRemoved) {
  auto msg = parse(
      "<message xmlns='jabber:client'><body>b</body>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@capulet.lit' id='forged'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@capulet.lit' id='x'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='keep'/>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='origin'/></message>");
  auto ours = [](std::string_view by) { return by.ends_with("@capulet.lit"); };
  EXPECT_EQ(strip_stanza_ids(msg, ours, "juliet@capulet.lit"), "forged");
  auto left = msg.children("stanza-id", "urn:xmpp:sid:0");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]->attr("id"), "keep");
  EXPECT_TRUE(msg.child("origin-id", "urn:xmpp:sid:0"));  // §4 rule 3: not ours to touch
  add_stanza_id(msg, "juliet@capulet.lit", "28482-98726-73623");
  EXPECT_EQ(msg.children("stanza-id", "urn:xmpp:sid:0").size(), 2u);
  EXPECT_EQ(strip_stanza_ids(msg, ours), "");  // no keep_by: nothing reported
}

TEST(MamRules, NewArchiveIdsSortByTimeAndDiffer) {
  std::string a = new_archive_id(1'700'000'000'000), b = new_archive_id(1'700'000'000'000);
  std::string later = new_archive_id(1'700'000'000'001), much_later = new_archive_id(2'000'000'000'000);
  EXPECT_NE(a, b);  // same millisecond: the random part tells them apart
  EXPECT_EQ(a.substr(0, 9), b.substr(0, 9));
  EXPECT_LT(a.substr(0, 9), later.substr(0, 9));
  EXPECT_LT(later, much_later);
  EXPECT_EQ(a.size(), 21u);  // 9 time digits + 12 characters of base64url for 72 random bits
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << a;
  // The store finds them by the time they begin with (storage/archive_store.hpp).
  EXPECT_EQ(storage::archive_id_time_ms(a), 1'700'000'000'000);
  EXPECT_EQ(storage::archive_id_time_ms(much_later), 2'000'000'000'000);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(storage::archive_id_time_ms(new_archive_id(1'800'000'000'123)), 1'800'000'000'123);
}

TEST(MamRules, PreferencesDecide) {
  storage::ArchivePrefs p;
  p.default_mode = "roster";
  p.always = {"romeo@montague.lit"};
  p.never = {"montague@montague.lit", "nurse@capulet.lit/kitchen"};
  EXPECT_EQ(decide(p, jid("romeo@montague.lit/orchard")), Decision::kArchive);  // bare entry: any resource
  EXPECT_EQ(decide(p, jid("montague@montague.lit")), Decision::kSkip);
  EXPECT_EQ(decide(p, jid("nurse@capulet.lit/kitchen")), Decision::kSkip);  // full entry: exactly
  EXPECT_EQ(decide(p, jid("nurse@capulet.lit/garden")), Decision::kAskRoster);
  p.always.push_back("montague@montague.lit");
  EXPECT_EQ(decide(p, jid("montague@montague.lit")), Decision::kSkip);  // in both lists: never
  p.default_mode = "always";
  EXPECT_EQ(decide(p, jid("tybalt@capulet.lit")), Decision::kArchive);
  p.default_mode = "never";
  EXPECT_EQ(decide(p, jid("tybalt@capulet.lit")), Decision::kSkip);
}

TEST(MamRules, PrefsElementRoundTrip) {
  // XEP-0441 Example 4.
  auto el = parse(
      "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>romeo@montague.lit</jid></always>"
      "<never><jid>montague@montague.lit</jid></never></prefs>");
  auto p = parse_prefs(el);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->default_mode, "roster");
  EXPECT_EQ(p->always, std::vector<std::string>{"romeo@montague.lit"});
  EXPECT_EQ(xml::to_string(prefs_element(*p)), xml::to_string(el));
  EXPECT_FALSE(parse_prefs(parse("<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>")));
  auto bad = parse_prefs(parse("<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid>@@</jid></never></prefs>"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().condition, StanzaErrorCondition::kJidMalformed);
  // Empty lists are still present (§2.1).
  EXPECT_EQ(xml::to_string(prefs_element(storage::ArchivePrefs{})),
            "<prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never/></prefs>");
}

TEST(MamRules, QueryFormAndRsm) {
  // XEP-0313 Example 5 with RSM (Example 15's page) and flip-page.
  auto q = parse_query(parse(
      "<query xmlns='urn:xmpp:mam:2' queryid='f27'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>"
      "<field var='with'><value>juliet@capulet.lit</value></field>"
      "<field var='start'><value>2010-06-07T00:00:00Z</value></field>"
      "<field var='end'><value>2010-07-07T13:23:54Z</value></field>"
      "<field var='after-id'><value>28482-98726-73623</value></field>"
      "<field var='{urn:xmpp:fulltext:0}fulltext'><value>Where art thou</value></field></x>"
      "<set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>09af3-cc343-b409f</after></set>"
      "<flip-page/></query>"), 50, 100);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->queryid, "f27");
  EXPECT_TRUE(q->flip);
  EXPECT_EQ(q->query.with, "juliet@capulet.lit");
  EXPECT_EQ(q->query.start_ms, int64_t{1275868800000});
  EXPECT_EQ(q->query.end_ms, int64_t{1278509034000});
  EXPECT_EQ(q->query.after, (std::vector<std::string>{"28482-98726-73623", "09af3-cc343-b409f"}));
  EXPECT_EQ(q->query.fulltext, "Where art thou");
  EXPECT_EQ(q->query.limit, 10u);
  EXPECT_FALSE(q->query.from_end);

  auto last = parse_query(parse("<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>"
                                "<max>1000</max><before/></set></query>"), 50, 100);
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->query.from_end);
  EXPECT_TRUE(last->query.before.empty());
  EXPECT_EQ(last->query.limit, 100u);  // capped
  auto plain = parse_query(parse("<query xmlns='urn:xmpp:mam:2'/>"), 50, 100);
  EXPECT_EQ(plain->query.limit, 50u);

  struct Bad {
    const char* xml;
    StanzaErrorCondition condition;
  } bad[] = {
      {"<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='color'><value>red</value>"
       "</field></x></query>", StanzaErrorCondition::kFeatureNotImplemented},
      {"<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='with'><value>@x</value>"
       "</field></x></query>", StanzaErrorCondition::kJidMalformed},
      {"<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='start'><value>yesterday"
       "</value></field></x></query>", StanzaErrorCondition::kBadRequest},
      {"<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:x"
       "</value></field></x></query>", StanzaErrorCondition::kBadRequest},
      {"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><index>3</index></set></query>",
       StanzaErrorCondition::kFeatureNotImplemented},
      {"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set></query>",
       StanzaErrorCondition::kBadRequest},
  };
  for (const auto& b : bad) {
    auto r = parse_query(parse(b.xml), 50, 100);
    ASSERT_FALSE(r) << b.xml;
    EXPECT_EQ(r.error().condition, b.condition) << b.xml;
  }
}

TEST(MamRules, TheFormAdvertisesEveryField) {
  auto form = query_form();
  for (const char* var : {"FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids", kFulltextField})
    EXPECT_TRUE(form.field(var)) << var;
  EXPECT_TRUE(form.field("ids")->validate_open);
  for (const auto& f : form.fields) EXPECT_FALSE(f.required) << f.var;  // §4.1.6
}

TEST(MamRules, RetractionAndTombstone) {
  // XEP-0424 Examples 3 and 6.
  auto retraction = parse(
      "<message xmlns='jabber:client' type='chat' to='lord@capulet.example' id='retract-message-1'>"
      "<retract id='wrong-recipient-1' xmlns='urn:xmpp:message-retract:1'/>"
      "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>"
      "<body>/me retracted a previous message, but it's unsupported by your client.</body>"
      "<store xmlns='urn:xmpp:hints'/></message>");
  EXPECT_EQ(retracted_id(retraction), "wrong-recipient-1");
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client'><body>x</body></message>")), "");
  EXPECT_EQ(retracted_id(parse("<message xmlns='jabber:client' type='error'><retract xmlns='urn:xmpp:message-retract:1' "
                               "id='wrong-recipient-1'/></message>")), "");  // a bounce retracts nothing
  auto original = parse(
      "<message xmlns='jabber:client' type='chat' from='romeo@montague.example' to='lord@capulet.example' "
      "id='wrong-recipient-1'><body>Have not saints lips, and holy palmers too?</body></message>");
  EXPECT_EQ(xml::to_string(tombstone(original, "retract-message-1", "2019-09-20T23:09:32Z")),
            "<message xmlns='jabber:client' type='chat' from='romeo@montague.example' to='lord@capulet.example' "
            "id='wrong-recipient-1'><retracted xmlns='urn:xmpp:message-retract:1' id='retract-message-1' "
            "stamp='2019-09-20T23:09:32Z'/></message>");
  EXPECT_EQ(body_text(original), "Have not saints lips, and holy palmers too?");
}

TEST(MamRules, ModeratedTombstoneResultAndFin) {
  // XEP-0425 §"Tombstones": attributes and the author's occupant id kept, the body gone.
  auto original = parse(
      "<message xmlns='jabber:client' type='groupchat' from='room@muc.example.com/oldhag' id='message-id-1'>"
      "<body>DM me for free magic potions!</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='ef73'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.example.com' id='stanza-id-1'/></message>");
  auto moderated = parse("<moderated xmlns='urn:xmpp:message-moderate:1' by='room@muc.example.com/macbeth'/>");
  EXPECT_EQ(xml::to_string(moderated_tombstone(original, moderated, "Spam", "2019-09-20T23:19:12Z")),
            "<message xmlns='jabber:client' type='groupchat' from='room@muc.example.com/oldhag' id='message-id-1'>"
            "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='ef73'/>"
            "<retracted xmlns='urn:xmpp:message-retract:1' stamp='2019-09-20T23:19:12Z'>"
            "<moderated xmlns='urn:xmpp:message-moderate:1' by='room@muc.example.com/macbeth'/>"
            "<reason>Spam</reason></retracted></message>");
  // §4.2: a result wraps the archived message, from the archive.
  storage::ArchivedMessage m;
  m.id = "stanza-id-1";
  m.seq = int64_t{1568999921000} << storage::kSeqTimeShift;
  m.xml = xml::to_string(original);
  auto r = result_message("room@muc.example.com", "q1", m);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->attr("from"), "room@muc.example.com");
  const xml::Element* res = r->child("result", "urn:xmpp:mam:2");
  ASSERT_NE(res, nullptr);
  EXPECT_EQ(res->attr("queryid"), "q1");
  EXPECT_EQ(res->attr("id"), "stanza-id-1");
  const xml::Element* fwd = res->child("forwarded", "urn:xmpp:forward:0");
  ASSERT_NE(fwd, nullptr);
  EXPECT_EQ(fwd->child("delay", "urn:xmpp:delay")->attr("stamp"), "2019-09-20T17:18:41Z");
  EXPECT_EQ(fwd->child("message", "jabber:client")->attr("from"), "room@muc.example.com/oldhag");
  m.xml = "<message";
  EXPECT_FALSE(result_message("room@muc.example.com", "", m));
  // §4.3: <fin complete/> with the page's first and last ids.
  storage::ArchivePage page;
  page.messages = {m, m};
  page.messages[1].id = "stanza-id-2";
  page.complete = false;
  xml::Element fin = fin_element(page);
  EXPECT_EQ(fin.attr("complete"), "");
  EXPECT_EQ(fin.child("set", "http://jabber.org/protocol/rsm")->child_text("first", "http://jabber.org/protocol/rsm"),
            "stanza-id-1");
  EXPECT_EQ(fin.child("set", "http://jabber.org/protocol/rsm")->child_text("last", "http://jabber.org/protocol/rsm"),
            "stanza-id-2");
}

}  // namespace
