// XEP-0352 (src/modules/csi.hpp): what an inactive client's session holds back, and the held queue:
// order, one presence per sender, bounds.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "modules/csi.hpp"

using namespace causerie;
using namespace causerie::modules::csi;

namespace {

Classification of(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? classify(*el) : Classification{};
}

OutStanza out(std::string text, StanzaKind kind) {
  return OutStanza{std::make_shared<const std::string>(std::move(text)), {}, kind};
}

TEST(Csi, ClassifiesWhatMayWait) {
  // Stanzas as they are serialized for a client: no xmlns on the stanza itself.
  auto p = of("<presence from='a@x/1' to='b@x/2'><show>away</show></presence>");
  EXPECT_EQ(p.kind, Classification::kPresence);
  EXPECT_EQ(p.sender, "a@x/1");
  EXPECT_EQ(of("<presence from='a@x/1' type='unavailable'/>").kind, Classification::kPresence);
  EXPECT_EQ(of("<presence from='a@x' type='subscribe'/>").kind, Classification::kUrgent);
  EXPECT_EQ(of("<presence from='a@x' type='error'/>").kind, Classification::kUrgent);
  EXPECT_EQ(of("<message from='a@x/1' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
               "<thread>t</thread><no-store xmlns='urn:xmpp:hints'/><origin-id xmlns='urn:xmpp:sid:0' id='i'/></message>")
                .kind,
            Classification::kChatState);
  EXPECT_EQ(of("<message from='a@x/1' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>")
                .kind,
            Classification::kUrgent);
  EXPECT_EQ(of("<message from='a@x/1'><paused xmlns='http://jabber.org/protocol/chatstates'/>"
               "<received xmlns='urn:xmpp:receipts' id='r'/></message>")
                .kind,
            Classification::kUrgent);
  EXPECT_EQ(of("<message from='a@x/1'><subject>s</subject><paused xmlns='http://jabber.org/protocol/chatstates'/></message>").kind,
            Classification::kUrgent);
  EXPECT_EQ(of("<message from='a@x/1' type='error'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>").kind,
            Classification::kUrgent);
  EXPECT_EQ(of("<message from='a@x/1'/>").kind, Classification::kUrgent);
  EXPECT_EQ(of("<iq from='a@x/1' type='get' id='1'/>").kind, Classification::kUrgent);
  // A carbon is judged by what it carries.
  EXPECT_EQ(of("<message from='b@x' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message xmlns='jabber:client' from='a@x/1' type='chat'><gone xmlns='http://jabber.org/protocol/chatstates'/>"
               "</message></forwarded></received></message>")
                .kind,
            Classification::kChatState);
  EXPECT_EQ(of("<message from='b@x' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
               "<message xmlns='jabber:client' to='a@x/1' type='chat'><body>b</body></message></forwarded></sent></message>")
                .kind,
            Classification::kUrgent);
}

std::vector<std::string> texts(std::vector<OutStanza> v) {
  std::vector<std::string> r;
  for (const auto& o : v) r.push_back(*o.body);
  return r;
}

TEST(Csi, KeepsOrderAndTheLatestPresenceOfEachSender) {
  HeldQueue q;
  auto hold = [&](const Classification& c, std::string text) {
    OutStanza o = out(std::move(text), c.kind == Classification::kPresence ? StanzaKind::kPresence : StanzaKind::kMessage);
    return q.hold(c, o);
  };
  Classification a{Classification::kPresence, "a@x/1"};
  Classification b{Classification::kPresence, "b@x/1"};
  Classification state{Classification::kChatState, {}};
  EXPECT_TRUE(hold(a, "a-away"));
  EXPECT_TRUE(hold(b, "b-dnd"));
  EXPECT_TRUE(hold(state, "a-composing"));
  EXPECT_TRUE(hold(state, "a-paused"));
  EXPECT_TRUE(hold(a, "a-unavailable"));  // replaces a-away, after what a did since
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(texts(q.take()), (std::vector<std::string>{"b-dnd", "a-composing", "a-paused", "a-unavailable"}));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
  // Empty again: the same sender starts afresh.
  EXPECT_TRUE(hold(a, "a-back"));
  EXPECT_EQ(texts(q.take()), (std::vector<std::string>{"a-back"}));
}

TEST(Csi, QueueIsBounded) {
  HeldQueue q;
  Classification state{Classification::kChatState, {}};
  for (size_t i = 0; i < HeldQueue::kMaxStanzas; ++i) {
    OutStanza o = out("s" + std::to_string(i), StanzaKind::kMessage);
    ASSERT_TRUE(q.hold(state, o));
  }
  OutStanza extra = out("extra", StanzaKind::kMessage);
  EXPECT_FALSE(q.hold(state, extra));
  EXPECT_EQ(*extra.body, "extra");  // left to the caller, who sends it after the rest
  // Replacing a held presence does not grow the queue, even when it is full of senders.
  HeldQueue p;
  for (size_t i = 0; i < HeldQueue::kMaxStanzas; ++i) {
    OutStanza o = out("p", StanzaKind::kPresence);
    ASSERT_TRUE(p.hold({Classification::kPresence, "u" + std::to_string(i) + "@x/r"}, o));
  }
  OutStanza again = out("p2", StanzaKind::kPresence);
  EXPECT_TRUE(p.hold({Classification::kPresence, "u0@x/r"}, again));
  EXPECT_EQ(p.size(), HeldQueue::kMaxStanzas);
  // And in bytes.
  HeldQueue big;
  OutStanza half = out(std::string(HeldQueue::kMaxBytes / 2 + 1, 'x'), StanzaKind::kMessage);
  OutStanza half2 = half;
  EXPECT_TRUE(big.hold(state, half));
  EXPECT_FALSE(big.hold(state, half2));
}

}  // namespace
