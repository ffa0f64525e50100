// XEP-0124 session rules as tables: the grant for a creation request, rid parsing and the window, and the
// framing of stanzas for WebSocket messages and BOSH bodies (RFC 7395 §3.3.3, XEP-0206).
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "http/bosh_rules.hpp"
#include "http/xmpp_framing.hpp"

using namespace causerie;
using namespace causerie::http;

namespace {
xml::Element body(const std::string& attrs) {
  return *xml::parse_fragment("<body xmlns='http://jabber.org/protocol/httpbind' " + attrs + "/>");
}
}  // namespace

TEST(BoshRules, NegotiateSessionCreation) {
  HttpConfig cfg;  // max wait 60, max hold 1, inactivity 60, polling 2
  // XEP-0124 §7.1 example request.
  BoshGrant g = negotiate_bosh(body("content='text/xml; charset=utf-8' hold='1' rid='1573741820' to='example.com' "
                                    "ver='1.6' wait='60' ack='1' xml:lang='en'"), cfg);
  EXPECT_EQ(g.condition, "");
  EXPECT_EQ(g.params.wait.count(), 60);
  EXPECT_EQ(g.params.hold, 1u);
  EXPECT_EQ(g.params.requests, 2u);
  EXPECT_EQ(g.params.ver, "1.6");  // the lower of ours and theirs
  EXPECT_TRUE(g.params.acks);
  EXPECT_EQ(negotiate_bosh(body("hold='5' wait='3600' ver='1.11'"), cfg).params.hold, 1u);   // capped
  EXPECT_EQ(negotiate_bosh(body("hold='5' wait='3600' ver='1.11'"), cfg).params.wait.count(), 60);
  EXPECT_EQ(negotiate_bosh(body("hold='1' wait='10' ver='2.0'"), cfg).params.ver, "1.11");
  EXPECT_EQ(negotiate_bosh(body("hold='1' wait='10' ver='1.20'"), cfg).params.ver, "1.11");  // minor is an integer
  // Polling sessions get more inactivity than twice the polling interval (§11).
  HttpConfig quick;
  quick.bosh_inactivity = std::chrono::seconds(1);
  EXPECT_GT(negotiate_bosh(body("hold='0' wait='0'"), quick).params.inactivity, quick.bosh_polling * 2);
  EXPECT_EQ(negotiate_bosh(body("hold='1'"), cfg).condition, "bad-request");  // wait is required
  EXPECT_EQ(negotiate_bosh(body("hold='-1' wait='5'"), cfg).condition, "bad-request");
  EXPECT_EQ(negotiate_bosh(body("hold='1' wait='5' content='text/html'"), cfg).params.content_type, "text/html");
}

TEST(BoshRules, ParseRid) {
  EXPECT_EQ(parse_rid("1573741820"), 1573741820u);
  EXPECT_EQ(parse_rid("9007199254740991"), 9007199254740991u);  // 2^53 - 1 (§14.1)
  for (const char* bad : {"", "0", "-1", "9007199254740992", "12a", " 1", "1.5"}) EXPECT_FALSE(parse_rid(bad)) << bad;
}

TEST(BoshRules, RidWindow) {
  struct Case { uint64_t rid, last; unsigned window; RidPlace place; } cases[] = {
      {11, 10, 2, RidPlace::kNext},    {12, 10, 2, RidPlace::kAhead},  {13, 10, 2, RidPlace::kOutside},
      {10, 10, 2, RidPlace::kRepeat},  {5, 10, 2, RidPlace::kRepeat},  {11, 10, 1, RidPlace::kNext},
      {12, 10, 1, RidPlace::kOutside}, {20, 10, 10, RidPlace::kAhead},
  };
  for (const auto& c : cases)
    EXPECT_EQ(place_rid(c.rid, c.last, c.window), c.place) << c.rid << " after " << c.last << " window " << c.window;
}

TEST(BoshRules, ParseBodyHoldsPayloadsToStanzaLimits) {
  xml::StreamLimits lim{1000, 8};
  // XEP-0124 §8 example request, with two payloads.
  auto ok = parse_bosh_body("<body rid='1249243562' sid='SomeSID' xmlns='http://jabber.org/protocol/httpbind'>"
                            "<message to='contact@example.com' xmlns='jabber:client'><body>I said hi!</body></message>"
                            "<presence xmlns='jabber:client'/></body>", lim);
  ASSERT_TRUE(ok.body) << ok.condition;
  EXPECT_EQ(ok.sid, "SomeSID");
  EXPECT_EQ(ok.body->attr("rid"), "1249243562");
  EXPECT_EQ(ok.body->element_count(), 2u);
  EXPECT_EQ(ok.body->child("message", "jabber:client")->child_text("body", "jabber:client"), "I said hi!");
  auto big = parse_bosh_body("<body sid='s' xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client'>" +
                             std::string(2000, 'x') + "</message></body>", lim);
  EXPECT_FALSE(big.body);
  EXPECT_EQ(big.condition, "policy-violation");
  EXPECT_EQ(big.sid, "s");  // known, so the session can be ended
  for (const char* bad : {"<body xmlns='wrong'/>", "<body xmlns='http://jabber.org/protocol/httpbind'>",
                          "<body xmlns='http://jabber.org/protocol/httpbind'>text</body>", "not xml",
                          "<body xmlns='http://jabber.org/protocol/httpbind'><!-- c --></body>"}) {
    auto r = parse_bosh_body(bad, lim);
    EXPECT_FALSE(r.body) << bad;
    EXPECT_EQ(r.condition, "bad-request") << bad;
  }
}

TEST(BoshRules, TerminateBodies) {
  auto t = xml::parse_fragment(bosh_terminate_body("item-not-found"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->attr("type"), "terminate");
  EXPECT_EQ(t->attr("condition"), "item-not-found");
  EXPECT_EQ(xml::parse_fragment(bosh_recoverable_error_body())->attr("type"), "error");
  EXPECT_EQ(xml::parse_fragment(bosh_empty_body())->element_count(), 0u);
}

TEST(XmppFraming, StanzasGetTheirNamespaceWithoutCopies) {
  xml::Element msg("message", "jabber:client");
  msg.set_attr("to", "juliet@example.com").add_text_child("body", "hi");
  OutStanza out = serialize_out(msg);
  FramedPieces p = framed_pieces(out);
  std::string joined;
  append_framed(joined, out);
  EXPECT_EQ(joined, "<message xmlns='jabber:client' to='juliet@example.com'><body>hi</body></message>");
  EXPECT_EQ(p.size(), joined.size());
  EXPECT_EQ(p.parts[0].data(), out.body->data());  // a view into the shared bytes
  // Per-recipient head + shared body (SharedStanza).
  SharedStanza shared(msg);
  std::string s;
  append_framed(s, shared.out_for("romeo@example.net/orchard"));
  auto el = xml::parse_fragment(s);
  ASSERT_TRUE(el);
  EXPECT_EQ(el->ns(), "jabber:client");
  EXPECT_EQ(el->attr("to"), "romeo@example.net/orchard");
  // Stream-level elements declare the stream prefix (RFC 7395 §3.3.3); others stand as they are.
  std::string f;
  append_framed(f, OutStanza{std::make_shared<const std::string>("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"), {}, StanzaKind::kOther});
  EXPECT_EQ(f, "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
  ASSERT_TRUE(xml::parse_fragment(f));
  // A stanza that already declares its namespace is left alone.
  std::string own;
  append_framed(own, OutStanza{std::make_shared<const std::string>("<message xmlns='jabber:client' to='a@b'/>"), {}, StanzaKind::kMessage});
  EXPECT_EQ(own, "<message xmlns='jabber:client' to='a@b'/>");
  std::string sasl;
  append_framed(sasl, OutStanza{std::make_shared<const std::string>("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"), {}, StanzaKind::kOther});
  EXPECT_EQ(sasl, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
}

TEST(XmppFraming, OpenAndClose) {
  auto open = xml::parse_fragment(framing_open("example.com", "++TR84Sm6A3hnt3Q065SnAbbk3Y=", ""));
  ASSERT_TRUE(open);
  EXPECT_EQ(open->ns(), "urn:ietf:params:xml:ns:xmpp-framing");
  EXPECT_EQ(open->attr("from"), "example.com");
  EXPECT_EQ(open->attr("version"), "1.0");
  EXPECT_FALSE(open->has_attr("to"));
  auto close = xml::parse_fragment(framing_close("wss://otherendpoint.example/xmpp-bind"));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->attr("see-other-uri"), "wss://otherendpoint.example/xmpp-bind");  // RFC 7395 §3.6.1
}
