// XEP-0280 §6.1 eligibility (src/modules/carbons.hpp) over messages from the XEP's examples and the MUC
// rules, and the shape of a copy (§§7–8). Parsed from text as a client's stream would give them.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/carbons.hpp"

using namespace causerie;
using namespace causerie::modules::carbons;

namespace {

xml::Element msg(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

struct Case {
  const char* xml;
  bool received;  // eligible as a received message (from a full JID)
  bool sent;      // eligible as a sent one
};

TEST(Carbons, EligibilityFollowsTheRecommendedRules) {
  const Case cases[] = {
      // §6.1: chat, normal with a body, IM payloads.
      {"<message xmlns='jabber:client' type='chat'><body>hi</body></message>", true, true},
      {"<message xmlns='jabber:client' type='chat'/>", true, true},
      {"<message xmlns='jabber:client'><body>hi</body></message>", true, true},
      {"<message xmlns='jabber:client' type='normal'><body>hi</body></message>", true, true},
      {"<message xmlns='jabber:client' type='normal'/>", false, false},
      {"<message xmlns='jabber:client'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>", true, true},
      {"<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='a'/></message>", true, true},
      {"<message xmlns='jabber:client'><displayed xmlns='urn:xmpp:chat-markers:0' id='a'/></message>", true, true},
      {"<message xmlns='jabber:client' type='headline'><body>news</body></message>", false, false},
      // §9 <private/>, XEP-0334 <no-copy/>.
      {"<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/>"
       "<no-copy xmlns='urn:xmpp:hints'/></message>", false, false},
      {"<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>", false, false},
      {"<message xmlns='jabber:client' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>", false, false},
      // Storage hints say nothing about copies.
      {"<message xmlns='jabber:client' type='chat'><body>x</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>", true, true},
      {"<message xmlns='jabber:client' type='chat'><body>x</body><store xmlns='urn:xmpp:hints'/></message>", true, true},
      {"<message xmlns='jabber:client' type='normal'><store xmlns='urn:xmpp:hints'/></message>", false, false},
      // MUC: groupchat never; invitations always; an occupant's private message only when the user sends it.
      {"<message xmlns='jabber:client' type='groupchat'><body>all</body></message>", false, false},
      {"<message xmlns='jabber:client'><x xmlns='jabber:x:conference' jid='room@muc.example'/></message>", true, true},
      {"<message xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x></message>", true, true},
      {"<message xmlns='jabber:client' type='chat'><body>pm</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>", false, true},
      // A carbon is not copied again.
      {"<message xmlns='jabber:client' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
       "<message xmlns='jabber:client' type='chat'><body>x</body></message></forwarded></sent></message>", false, false},
      // Errors: inbound only, when they echo a body (hints in them ignored, XEP-0334 §5).
      {"<message xmlns='jabber:client' type='error'><body>x</body><no-copy xmlns='urn:xmpp:hints'/><error type='cancel'/></message>", true, false},
      {"<message xmlns='jabber:client' type='error'><error type='cancel'/></message>", false, false},
  };
  for (const auto& c : cases) {
    xml::Element m = msg(c.xml);
    EXPECT_EQ(eligible(m, Direction::kReceived), c.received) << c.xml;
    EXPECT_EQ(eligible(m, Direction::kSent), c.sent) << c.xml;
  }
  // An error from a bare JID answers a message sent to an account.
  EXPECT_TRUE(eligible(msg("<message xmlns='jabber:client' type='error'><error type='cancel'/></message>"),
                       Direction::kReceived, true));
}

TEST(Carbons, CopiesWrapTheOriginalAsTheXepShows) {
  // §7, example 8 (without 'to', which each recipient gets).
  xml::Element original = msg(
      "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' "
      "type='chat'><body>What man art thou?</body></message>");
  EXPECT_EQ(xml::to_string(wrap(original, Direction::kReceived, "romeo@montague.example")),
            "<message xmlns='jabber:client' from='romeo@montague.example' type='chat'>"
            "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client' from='juliet@capulet.example/balcony' to='romeo@montague.example/garden' "
            "type='chat'><body>What man art thou?</body></message></forwarded></received></message>");
  // §8: <sent/>; a message without a type gives a copy without one.
  xml::Element plain = msg("<message xmlns='jabber:client' to='juliet@capulet.example'><body>b</body></message>");
  std::string sent = xml::to_string(wrap(plain, Direction::kSent, "romeo@montague.example"));
  EXPECT_EQ(sent.find("type="), std::string::npos) << sent;
  EXPECT_NE(sent.find("<sent xmlns='urn:xmpp:carbons:2'>"), std::string::npos) << sent;
}

}  // namespace
