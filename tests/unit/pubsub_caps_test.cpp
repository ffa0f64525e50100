// XEP-0115 verification strings (the XEP's own examples as fixtures) and the caps/interest tracker.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "modules/pubsub/caps.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

xml::Element parse(const std::string& s) {
  auto e = xml::parse_fragment(s);
  EXPECT_TRUE(e) << s;
  return e ? *e : xml::Element();
}

// XEP-0115 §5.2 (simple generation example).
const std::string kSimple =
    "<query xmlns='http://jabber.org/protocol/disco#info' node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/></query>";

// XEP-0115 §5.3 (complex generation example: languages and an extended form).
const std::string kComplex =
    "<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "<x xmlns='jabber:x:data' type='result'>"
    "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
    "<field var='ip_version' type='text-multi'><value>ipv4</value><value>ipv6</value></field>"
    "<field var='os'><value>Mac</value></field>"
    "<field var='os_version'><value>10.5.1</value></field>"
    "<field var='software'><value>Psi</value></field>"
    "<field var='software_version'><value>0.11</value></field></x></query>";

std::string with_notify(const std::string& ver_query, const std::string& extra_features) {
  std::string s = ver_query;
  s.insert(s.rfind("</query>"), extra_features);
  return s;
}

}  // namespace

TEST(PubsubCaps, VerificationStringsOfTheXepExamples) {
  EXPECT_EQ(caps_verification_string(parse(kSimple)), "QgayPKawpkPSDYmwT/WM94uAlu0=");
  EXPECT_EQ(caps_verification_string(parse(kComplex)), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

TEST(PubsubCaps, OrderDoesNotMatterButDuplicatesAreRefused) {
  std::string shuffled =
      "<query xmlns='http://jabber.org/protocol/disco#info'>"
      "<feature var='http://jabber.org/protocol/muc'/><feature var='http://jabber.org/protocol/disco#items'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/><feature var='http://jabber.org/protocol/caps'/>"
      "<identity category='client' name='Exodus 0.9.1' type='pc'/></query>";
  EXPECT_EQ(caps_verification_string(parse(shuffled)), "QgayPKawpkPSDYmwT/WM94uAlu0=");
  // §5.4: duplicate features or identities make the answer unusable for caps.
  EXPECT_FALSE(caps_verification_string(parse(with_notify(kSimple, "<feature var='http://jabber.org/protocol/muc'/>"))));
  EXPECT_FALSE(caps_verification_string(parse(with_notify(kSimple, "<identity category='client' name='Exodus 0.9.1' type='pc'/>"))));
}

TEST(PubsubCaps, NotifyNodes) {
  auto q = parse(with_notify(kSimple, "<feature var='urn:xmpp:microblog:0+notify'/><feature var='+notify'/>"
                                      "<feature var='http://jabber.org/protocol/tune+notify'/>"));
  auto nodes = notify_nodes(q);
  EXPECT_EQ(nodes, (std::unordered_set<std::string>{"urn:xmpp:microblog:0", "http://jabber.org/protocol/tune"}));
}

TEST(PubsubCaps, ParseCapsFromPresence) {
  auto p = parse("<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                 "node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>");
  auto c = parse_caps(p);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->hash, "sha-1");
  EXPECT_EQ(c->ver, "QgayPKawpkPSDYmwT/WM94uAlu0=");
  // Legacy caps (no hash) cannot be verified: ignored.
  EXPECT_FALSE(parse_caps(parse("<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' node='n' ver='1.0'/></presence>")));
  EXPECT_FALSE(parse_caps(parse("<presence xmlns='jabber:client'/>")));
}

TEST(PubsubCaps, TrackerQueriesOnceAndCachesVerifiedAnswers) {
  std::string features = "<feature var='urn:xmpp:microblog:0+notify'/>";
  auto answer = parse(with_notify(kSimple, features));
  std::string ver = *caps_verification_string(answer);
  Caps caps{"sha-1", "http://example.org/client", ver};
  CapsTracker t;
  auto first = t.available("romeo@montague.lit/orchard", caps);
  EXPECT_FALSE(first.known);
  ASSERT_FALSE(first.query_id.empty());
  // A second resource announcing the same ver waits for the same query.
  auto second = t.available("nurse@capulet.lit/chamber", caps);
  EXPECT_FALSE(second.known);
  EXPECT_TRUE(second.query_id.empty());
  EXPECT_TRUE(t.interested("romeo@montague.lit", "urn:xmpp:microblog:0").empty());
  auto resolved = t.answer(first.query_id, &answer);
  ASSERT_EQ(resolved.size(), 2u);
  for (const auto& r : resolved) EXPECT_EQ(r.gained, std::vector<std::string>{"urn:xmpp:microblog:0"});
  EXPECT_EQ(t.interested("romeo@montague.lit", "urn:xmpp:microblog:0"), std::vector<std::string>{"romeo@montague.lit/orchard"});
  EXPECT_TRUE(t.interested("romeo@montague.lit", "urn:xmpp:tune").empty());
  // Verified, so cached: the next one knows at once, and a repeated presence gains nothing.
  auto third = t.available("juliet@capulet.lit/balcony", caps);
  EXPECT_TRUE(third.known);
  EXPECT_EQ(third.gained, std::vector<std::string>{"urn:xmpp:microblog:0"});
  EXPECT_TRUE(t.available("juliet@capulet.lit/balcony", caps).gained.empty());
  t.unavailable("juliet@capulet.lit/balcony");
  EXPECT_TRUE(t.interested("juliet@capulet.lit", "urn:xmpp:microblog:0").empty());
  EXPECT_FALSE(t.has_resources("juliet@capulet.lit"));
}

TEST(PubsubCaps, TrackerDoesNotCacheAPoisonedAnswer) {
  auto answer = parse(with_notify(kSimple, "<feature var='urn:xmpp:microblog:0+notify'/>"));
  Caps claimed{"sha-1", "n", "QgayPKawpkPSDYmwT/WM94uAlu0="};  // the ver of an answer without +notify
  CapsTracker t;
  auto seen = t.available("mallory@evil.lit/x", claimed);
  ASSERT_FALSE(seen.query_id.empty());
  auto resolved = t.answer(seen.query_id, &answer);
  ASSERT_EQ(resolved.size(), 1u);  // mallory's own resource still gets what it said about itself…
  EXPECT_EQ(t.interested("mallory@evil.lit", "urn:xmpp:microblog:0").size(), 1u);
  // …but the ver it claimed is not tied to that answer for anyone else.
  auto other = t.available("romeo@montague.lit/orchard", claimed);
  EXPECT_FALSE(other.known);
  EXPECT_FALSE(other.query_id.empty());
}

TEST(PubsubCaps, NoCapsMeansNoInterestAndCapsChangesAreDiffs) {
  CapsTracker t;
  auto seen = t.available("a@x/1", std::nullopt);
  EXPECT_TRUE(seen.known);
  EXPECT_TRUE(seen.gained.empty());
  auto with_mb = parse(with_notify(kSimple, "<feature var='urn:xmpp:microblog:0+notify'/>"));
  Caps caps{"sha-1", "n", *caps_verification_string(with_mb)};
  auto changed = t.available("a@x/1", caps);
  ASSERT_FALSE(changed.query_id.empty());
  auto resolved = t.answer(changed.query_id, &with_mb);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].gained, std::vector<std::string>{"urn:xmpp:microblog:0"});
  // An error answer leaves the resource with no interests.
  Caps unknown{"sha-1", "n", "AAAA"};
  auto s2 = t.available("b@x/1", unknown);
  auto r2 = t.answer(s2.query_id, nullptr);
  EXPECT_TRUE(t.interested("b@x", "urn:xmpp:microblog:0").empty());
}

TEST(PubsubCaps, RemoteResourcesAreNewForEachOwner) {
  CapsTracker t;
  auto seen = t.available("romeo@remote.lit/r", std::nullopt, "juliet@capulet.lit");
  EXPECT_TRUE(seen.known);
  auto mb = parse(with_notify(kSimple, "<feature var='urn:xmpp:microblog:0+notify'/>"));
  Caps caps{"sha-1", "n", *caps_verification_string(mb)};
  auto q = t.available("romeo@remote.lit/r", caps, "juliet@capulet.lit");
  t.answer(q.query_id, &mb);
  // Presence reaching another local account is "initial" for that one: everything is gained.
  auto again = t.available("romeo@remote.lit/r", caps, "nurse@capulet.lit");
  EXPECT_EQ(again.gained, std::vector<std::string>{"urn:xmpp:microblog:0"});
  t.unavailable("romeo@remote.lit/r", "juliet@capulet.lit");
  EXPECT_EQ(t.interested("romeo@remote.lit", "urn:xmpp:microblog:0").size(), 1u);  // nurse still sees it
  t.unavailable("romeo@remote.lit/r", "nurse@capulet.lit");
  EXPECT_TRUE(t.interested("romeo@remote.lit", "urn:xmpp:microblog:0").empty());
}

TEST(PubsubCaps, RemotePresenceIsBounded) {
  CapsTracker t(10, 10, 2);
  t.available("a@local/1", std::nullopt);
  t.available("b@local/1", std::nullopt);
  // Local sessions are always tracked (they are bounded by the server's own limits)…
  t.available("c@local/1", std::nullopt);
  EXPECT_TRUE(t.has_resources("c@local"));
  // …but presence from anyone out there is not, past the bound.
  t.available("spam@remote.lit/1", std::nullopt, "a@local");
  EXPECT_FALSE(t.has_resources("spam@remote.lit"));
  t.unavailable("a@local/1");
  t.unavailable("b@local/1");
  t.unavailable("c@local/1");
  t.available("ok@remote.lit/1", std::nullopt, "a@local");
  EXPECT_TRUE(t.has_resources("ok@remote.lit"));
}
