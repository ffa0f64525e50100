// XEP-0114 external components: the handshake value, the accept protocol's state machine on the XEP's
// own example (stream id 3BF96D32, secret "test"), what happens to stanzas for a disconnected
// component, and where components are listed. Their configuration: config_test.cpp.
#include <gtest/gtest.h>

#include "core/component/component_accept.hpp"
#include "core/component/component_handshake.hpp"
#include "core/component/component_registry.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "core/xml/stream_parser.hpp"

using namespace causerie;
using namespace causerie::component;

namespace {

// XEP-0114 §3, examples 1, 2 and 3, verbatim.
const char* kComponentHeader =
    "<stream:stream\n"
    "    xmlns='jabber:component:accept'\n"
    "    xmlns:stream='http://etherx.jabber.org/streams'\n"
    "    to='plays.shakespeare.lit'>";
const char* kExampleStreamId = "3BF96D32";
const char* kHandshake = "<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>";

const char* kConfig =
    "[[host]]\nname = \"shakespeare.lit\"\n"
    "[[component]]\ndomain = \"plays.shakespeare.lit\"\nsecret = \"test\"\nname = \"The plays\"\n";

// Parses a stream header followed by elements with the server's own parser, as the transport does.
struct Parsed : xml::StreamParser::Handler {
  xml::Element header;
  std::string content_ns;
  std::vector<xml::Element> elements;
  void on_stream_open(const xml::Element& h, std::string_view ns) override {
    header = h;
    content_ns = std::string(ns);
  }
  void on_element(xml::Element&& el) override { elements.push_back(std::move(el)); }
  void on_stream_close() override {}
};

Parsed parse(const std::string& header, const std::string& rest = {}) {
  Parsed p;
  xml::StreamParser parser(p, xml::StreamLimits{});
  EXPECT_EQ(parser.feed(header + rest), xml::StreamParser::Status::kOk) << header + rest;
  return p;
}

// A ComponentAccept past the XEP's handshake.
struct Established {
  Config config = load_config_text(kConfig, "t");
  ComponentAccept accept{config};
  Established() {
    Parsed p = parse(kComponentHeader, kHandshake);
    auto opened = accept.open(p.header, p.content_ns, kExampleStreamId);
    EXPECT_FALSE(opened.failure);
    EXPECT_FALSE(accept.handshake(p.elements.at(0)));
    accept.established();
  }
  ComponentAccept::Checked stanza(const std::string& xml) {
    Parsed p = parse(kComponentHeader, xml);
    return accept.stanza(std::move(p.elements.at(0)));
  }
};

std::optional<StreamErrorCondition> failure_of(const ComponentAccept::Checked& c) {
  if (auto* f = std::get_if<ComponentAccept::Failure>(&c)) return f->condition;
  return std::nullopt;
}

TEST(ComponentHandshake, TheXepExampleValue) {
  EXPECT_EQ(handshake_digest(kExampleStreamId, "test"), "aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e");
  EXPECT_TRUE(handshake_matches("aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e", kExampleStreamId, "test"));
  // Step 4 asks for lower case; the same hash in upper case is still the same credential.
  EXPECT_TRUE(handshake_matches("AAEE83C26AEEAFCBABEABFCBCD50DF997E0A2A1E", kExampleStreamId, "test"));
  EXPECT_FALSE(handshake_matches("aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e", kExampleStreamId, "tes"));
  EXPECT_FALSE(handshake_matches("aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e", "3BF96D33", "test"));
  EXPECT_FALSE(handshake_matches("aaee83c26aeeafcbabeabfcbcd50df997e0a2a1", kExampleStreamId, "test"));
  EXPECT_FALSE(handshake_matches("", kExampleStreamId, "test"));
  // The stream id comes first: SHA1(sid + secret), not SHA1(secret + sid).
  EXPECT_NE(handshake_digest("test", kExampleStreamId), handshake_digest(kExampleStreamId, "test"));
}

TEST(ComponentAccept, TheXepExampleFlow) {
  Config config = load_config_text(kConfig, "t");
  ComponentAccept accept(config);
  Parsed p = parse(kComponentHeader, kHandshake);
  EXPECT_EQ(accept.state(), ComponentAccept::State::kHeader);
  auto opened = accept.open(p.header, p.content_ns, kExampleStreamId);
  EXPECT_FALSE(opened.failure);
  // Example 2: from the component's name, with the stream id, and no version (so no features).
  EXPECT_EQ(opened.reply.content_ns, ns::kComponentAccept);
  EXPECT_EQ(opened.reply.from, "plays.shakespeare.lit");
  EXPECT_EQ(opened.reply.id, kExampleStreamId);
  EXPECT_FALSE(opened.reply.version);
  EXPECT_EQ(accept.state(), ComponentAccept::State::kHandshake);
  EXPECT_EQ(accept.domain(), "plays.shakespeare.lit");
  EXPECT_FALSE(accept.handshake(p.elements.at(0)));
  accept.established();
  EXPECT_EQ(accept.state(), ComponentAccept::State::kEstablished);
}

TEST(ComponentAccept, HeaderErrors) {
  Config config = load_config_text(kConfig, "t");
  struct Case {
    std::string header;
    StreamErrorCondition expected;
  };
  const Case cases[] = {
      // §3: a namespace not served here.
      {"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='plays.shakespeare.lit'>",
       StreamErrorCondition::kInvalidNamespace},
      {"<stream:stream xmlns='jabber:component:connect' xmlns:stream='http://etherx.jabber.org/streams' "
       "to='plays.shakespeare.lit'>",
       StreamErrorCondition::kInvalidNamespace},
      {"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://wrong.example/' to='plays.shakespeare.lit'>",
       StreamErrorCondition::kInvalidNamespace},
      // §3: a component name the server does not serve; the host itself is not a component.
      {"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='poems.shakespeare.lit'>",
       StreamErrorCondition::kHostUnknown},
      {"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='shakespeare.lit'>",
       StreamErrorCondition::kHostUnknown},
      {"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>",
       StreamErrorCondition::kHostUnknown},
  };
  for (const auto& c : cases) {
    ComponentAccept accept(config);
    Parsed p = parse(c.header);
    auto opened = accept.open(p.header, p.content_ns, "id1");
    ASSERT_TRUE(opened.failure) << c.header;
    EXPECT_EQ(opened.failure->condition, c.expected) << c.header;
    EXPECT_EQ(accept.state(), ComponentAccept::State::kClosed);
    // RFC 6120 §4.9.1.1: the error still follows a header of ours.
    EXPECT_EQ(opened.reply.content_ns, ns::kComponentAccept);
    EXPECT_FALSE(opened.reply.id.empty());
  }
  // The domain is compared once prepared, as every JID is.
  ComponentAccept accept(config);
  Parsed p = parse("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' "
                   "to='Plays.Shakespeare.LIT'>");
  EXPECT_FALSE(accept.open(p.header, p.content_ns, "id2").failure);
  EXPECT_EQ(accept.domain(), "plays.shakespeare.lit");
}

TEST(ComponentAccept, WrongHandshakeIsNotAuthorized) {
  Config config = load_config_text(kConfig, "t");
  for (const std::string& first : {
           std::string("<handshake>b09ea9b3b7f586be8a08d0a3dd7466f110aeb136</handshake>"),  // SHA1(sid + "secret")
           std::string("<handshake/>"),
           // A stanza before the handshake.
           std::string("<message from='a@plays.shakespeare.lit' to='romeo@shakespeare.lit'><body>hi</body></message>"),
           // The right value in another namespace.
           std::string("<handshake xmlns='jabber:client'>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>"),
       }) {
    ComponentAccept accept(config);
    Parsed p = parse(kComponentHeader, first);
    ASSERT_FALSE(accept.open(p.header, p.content_ns, kExampleStreamId).failure);
    auto failure = accept.handshake(p.elements.at(0));
    ASSERT_TRUE(failure) << first;
    EXPECT_EQ(failure->condition, StreamErrorCondition::kNotAuthorized) << first;
    EXPECT_EQ(accept.state(), ComponentAccept::State::kClosed);
  }
}

TEST(ComponentAccept, StanzasAreCheckedAndMovedIntoJabberClient) {
  Established e;
  auto checked = e.stanza(
      "<message from='Juliet@plays.shakespeare.lit/balcony' to='romeo@shakespeare.lit' type='chat'>"
      "<body>Wherefore art thou?</body><x xmlns='jabber:x:oob'><url>http://x</url></x></message>");
  auto* st = std::get_if<Stanza>(&checked);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->from().str(), "juliet@plays.shakespeare.lit/balcony");  // prepared
  EXPECT_EQ(st->element().attr("from"), "juliet@plays.shakespeare.lit/balcony");
  EXPECT_EQ(st->to().str(), "romeo@shakespeare.lit");
  EXPECT_EQ(st->element().ns(), ns::kClient);
  EXPECT_EQ(st->element().child_text("body", ns::kClient), "Wherefore art thou?");
  EXPECT_NE(st->element().child("x", "jabber:x:oob"), nullptr);
  // Written back out it carries no namespace of its own: it fits any content namespace.
  std::string out;
  xml::serialize_stanza(st->element(), out);
  EXPECT_EQ(out.find("jabber:component:accept"), std::string::npos) << out;
  EXPECT_EQ(out.find("xmlns='jabber:client'"), std::string::npos) << out;

  // The domain itself and any JID under it may send.
  EXPECT_TRUE(std::holds_alternative<Stanza>(e.stanza("<presence from='plays.shakespeare.lit' to='romeo@shakespeare.lit'/>")));
  EXPECT_TRUE(std::holds_alternative<Stanza>(
      e.stanza("<iq from='plays.shakespeare.lit/x' to='shakespeare.lit' type='result' id='1'/>")));
}

TEST(ComponentAccept, StanzaFailures) {
  struct Case {
    std::string xml;
    StreamErrorCondition expected;
  };
  const Case cases[] = {
      // §3: 'from' must be in the component's domain: not the server's, not another's, not a subdomain's.
      {"<message from='romeo@shakespeare.lit' to='juliet@shakespeare.lit'/>", StreamErrorCondition::kInvalidFrom},
      {"<message from='x@poems.shakespeare.lit' to='juliet@shakespeare.lit'/>", StreamErrorCondition::kInvalidFrom},
      {"<message from='x@act1.plays.shakespeare.lit' to='juliet@shakespeare.lit'/>", StreamErrorCondition::kInvalidFrom},
      {"<message from='@@' to='juliet@shakespeare.lit'/>", StreamErrorCondition::kInvalidFrom},
      // §3: both addresses are required (RFC 6120 §4.9.3.7).
      {"<message to='juliet@shakespeare.lit'/>", StreamErrorCondition::kImproperAddressing},
      {"<message from='x@plays.shakespeare.lit'/>", StreamErrorCondition::kImproperAddressing},
      // Not a stanza, or a stanza in another namespace.
      {"<handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>", StreamErrorCondition::kUnsupportedStanzaType},
      {"<message xmlns='jabber:client' from='x@plays.shakespeare.lit' to='juliet@shakespeare.lit'/>",
       StreamErrorCondition::kUnsupportedStanzaType},
  };
  for (const auto& c : cases) {
    Established e;
    auto failure = failure_of(e.stanza(c.xml));
    ASSERT_TRUE(failure) << c.xml;
    EXPECT_EQ(*failure, c.expected) << c.xml;
    EXPECT_EQ(e.accept.state(), ComponentAccept::State::kClosed);
  }
}

TEST(ComponentAccept, StanzaErrorsLeaveTheStreamOpen) {
  Established e;
  // RFC 6120 §8.3.3.8: a malformed 'to' is answered, from the server, to the sender.
  auto checked = e.stanza("<message from='x@plays.shakespeare.lit' to='a@b@c' id='m1'><body>hi</body></message>");
  auto* reply = std::get_if<xml::Element>(&checked);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->attr("type"), "error");
  EXPECT_EQ(reply->attr("to"), "x@plays.shakespeare.lit");
  EXPECT_EQ(reply->attr("from"), "shakespeare.lit");
  EXPECT_EQ(reply->attr("id"), "m1");
  ASSERT_NE(reply->child("error", ns::kClient), nullptr);
  EXPECT_NE(reply->child("error", ns::kClient)->child("jid-malformed", ns::kStanzas), nullptr);
  // RFC 6120 §8.2.3: an iq needs an id and a known type.
  checked = e.stanza("<iq from='x@plays.shakespeare.lit' to='shakespeare.lit' type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
  reply = std::get_if<xml::Element>(&checked);
  ASSERT_NE(reply, nullptr);
  EXPECT_NE(reply->child("error", ns::kClient)->child("bad-request", ns::kStanzas), nullptr);
  // An error is never answered with an error.
  checked = e.stanza("<message from='x@plays.shakespeare.lit' to='a@b@c' type='error'/>");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(checked));
  EXPECT_EQ(e.accept.state(), ComponentAccept::State::kEstablished);
}

TEST(ComponentRegistry, WhatADisconnectedComponentsStanzasBecome) {
  struct Case {
    StanzaKind kind;
    const char* type;
    Unreachable expected;
  };
  const Case cases[] = {
      {StanzaKind::kIq, "get", Unreachable::kBounce},        {StanzaKind::kIq, "set", Unreachable::kBounce},
      {StanzaKind::kIq, "result", Unreachable::kDrop},       {StanzaKind::kIq, "error", Unreachable::kDrop},
      {StanzaKind::kMessage, "", Unreachable::kBounce},      {StanzaKind::kMessage, "chat", Unreachable::kBounce},
      {StanzaKind::kMessage, "groupchat", Unreachable::kBounce}, {StanzaKind::kMessage, "error", Unreachable::kDrop},
      {StanzaKind::kPresence, "", Unreachable::kDrop},       {StanzaKind::kPresence, "probe", Unreachable::kDrop},
      {StanzaKind::kPresence, "subscribe", Unreachable::kDrop}, {StanzaKind::kPresence, "unavailable", Unreachable::kDrop},
  };
  for (const auto& c : cases)
    EXPECT_EQ(when_unreachable(c.kind, c.type), c.expected) << static_cast<int>(c.kind) << " " << c.type;
}

TEST(ComponentRegistry, ParentHost) {
  Config c = load_config_text("[[host]]\nname = \"example.org\"\n[[host]]\nname = \"chat.example.org\"\n", "t");
  EXPECT_EQ(parent_host("irc.example.org", c.hosts), "example.org");
  EXPECT_EQ(parent_host("irc.chat.example.org", c.hosts), "chat.example.org");  // the closest one
  EXPECT_EQ(parent_host("a.b.example.org", c.hosts), "example.org");
  EXPECT_EQ(parent_host("irc.example.net", c.hosts), std::nullopt);
  EXPECT_EQ(parent_host("badexample.org", c.hosts), std::nullopt);  // a suffix, not a subdomain
  EXPECT_EQ(parent_host("example.org", c.hosts), std::nullopt);
}

}  // namespace
