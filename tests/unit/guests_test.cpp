// XEP-0175 guests (src/modules/guests.hpp): what a guest may send, which presences move it in and out of
// rooms, and the rooms a presence on its way to a guest says it left, read from our serializer's bytes.
#include <gtest/gtest.h>

#include "core/router/out_stanza.hpp"
#include "core/xml/fragment.hpp"
#include "modules/guests.hpp"

using namespace causerie;
using namespace causerie::modules::guests;

namespace {

Stanza stanza(std::string_view text, std::string_view from, std::string_view to) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return Stanza(std::move(*el), *Jid::parse(from), to.empty() ? Jid() : *Jid::parse(to));
}

bool ours(std::string_view d) { return d == "guest.test" || d == "localhost" || d == "conference.localhost"; }

TEST(Guests, OutboundStaysLocalAndNeverRegisters) {
  const char* g = "abc@guest.test/r";
  struct Case {
    const char* xml;
    const char* to;
    Outbound want;
  } cases[] = {
      {"<message xmlns='jabber:client'><body>hi</body></message>", "room@conference.localhost", Outbound::kAllow},
      {"<message xmlns='jabber:client'><body>hi</body></message>", "someone@remote.example", Outbound::kRemote},
      {"<presence xmlns='jabber:client'/>", "room@conference.remote.example/nick", Outbound::kRemote},
      {"<iq xmlns='jabber:client' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", "remote.example", Outbound::kRemote},
      {"<presence xmlns='jabber:client'/>", "", Outbound::kAllow},
      {"<iq xmlns='jabber:client' type='get' id='1'><query xmlns='jabber:iq:register'/></iq>", "", Outbound::kRegister},
      {"<iq xmlns='jabber:client' type='set' id='1'><query xmlns='jabber:iq:register'><username>x</username></query></iq>",
       "guest.test", Outbound::kRegister},
      {"<iq xmlns='jabber:client' type='get' id='1'><query xmlns='jabber:iq:register'/></iq>",
       "room@conference.localhost", Outbound::kRegister},
      {"<iq xmlns='jabber:client' type='result' id='1'><query xmlns='jabber:iq:register'/></iq>", "localhost",
       Outbound::kAllow},
      {"<iq xmlns='jabber:client' type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>", "", Outbound::kAllow},
  };
  for (const auto& c : cases)
    EXPECT_EQ(classify_outbound(stanza(c.xml, g, c.to), ours), c.want) << c.xml << " to " << c.to;
  EXPECT_EQ(refusal(Outbound::kRemote).condition, StanzaErrorCondition::kNotAllowed);
  EXPECT_EQ(refusal(Outbound::kRegister).condition, StanzaErrorCondition::kNotAllowed);
}

TEST(Guests, RoomMoves) {
  const char* g = "abc@guest.test/r";
  EXPECT_EQ(room_move(stanza("<presence xmlns='jabber:client'/>", g, "room@conference.localhost/nick"), true),
            RoomMove::kEnter);
  EXPECT_EQ(room_move(stanza("<presence xmlns='jabber:client' type='unavailable'/>", g, "room@conference.localhost/nick"), true),
            RoomMove::kLeave);
  // Not a room: the service itself, a bare room JID, a user's resource, a subscription.
  EXPECT_FALSE(room_move(stanza("<presence xmlns='jabber:client'/>", g, "conference.localhost/x"), true));
  EXPECT_FALSE(room_move(stanza("<presence xmlns='jabber:client'/>", g, "room@conference.localhost"), true));
  EXPECT_FALSE(room_move(stanza("<presence xmlns='jabber:client'/>", g, "user@localhost/phone"), false));
  EXPECT_FALSE(room_move(stanza("<presence xmlns='jabber:client' type='subscribe'/>", g, "room@conference.localhost/n"), true));
}

std::optional<std::string> left(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  OutStanza out = serialize_out(*el);
  return room_left(out.head, out.body ? std::string_view(*out.body) : std::string_view());
}

TEST(Guests, RoomsLeftAsSerialized) {
  // XEP-0045 §7.2.12: the guest's own unavailable presence (status 110), also after a kick (§8.2).
  EXPECT_EQ(left("<presence xmlns='jabber:client' from='room@conference.localhost/me' to='abc@guest.test/r' type='unavailable'>"
                 "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/>"
                 "<status code='307'/><status code='110'/></x></presence>"),
            "room@conference.localhost");
  // A join refused (§7.2.6 and others): a presence error from the room.
  EXPECT_EQ(left("<presence xmlns='jabber:client' from='room@conference.localhost/me' type='error'>"
                 "<error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"),
            "room@conference.localhost");
  // Someone else leaving, or anything else: still in the room.
  EXPECT_FALSE(left("<presence xmlns='jabber:client' from='room@conference.localhost/other' type='unavailable'>"
                    "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/></x></presence>"));
  EXPECT_FALSE(left("<presence xmlns='jabber:client' from='room@conference.localhost/me'>"
                    "<x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>"));
  EXPECT_FALSE(left("<message xmlns='jabber:client' from='room@conference.localhost/me' type='error'/>"));
  // A shared fan-out: the recipient's own head, then the shared rest.
  EXPECT_EQ(room_left("<presence to='abc@guest.test/r'",
                      " from='r2@conference.localhost/me' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>"
                      "<status code='110'/></x></presence>"),
            "r2@conference.localhost");
}

}  // namespace
