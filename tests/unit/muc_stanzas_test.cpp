// XEP-0045 presence composition and status codes, nickname rules, XEP-0421 occupant ids
// (src/modules/muc/muc_stanzas.hpp).
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/muc/muc_stanzas.hpp"

using namespace causerie;
using namespace causerie::modules::muc;

namespace {

std::vector<std::string> codes_of(const xml::Element& p) {
  std::vector<std::string> out;
  for (const auto* s : p.child("x", ns::kMucUser)->children("status", ns::kMucUser)) out.emplace_back(s->attr("code"));
  return out;
}

TEST(MucStanzas, KickPresenceMatchesTheSpec) {
  // §8.2 "Service Removes Kicked Occupant".
  PresenceSpec spec;
  spec.unavailable = true;
  spec.item.affiliation = Affiliation::kNone;
  spec.item.role = Role::kNone;
  spec.item.actor = "Fluellen";
  spec.item.reason = "Avaunt, you cullion!";
  spec.codes = {307, 110, 307};
  xml::Element p = make_occupant_presence(*Jid::parse("harfleur@chat.shakespeare.lit/pistol"), spec);
  auto want = xml::parse_fragment(
      "<presence xmlns='jabber:client' from='harfleur@chat.shakespeare.lit/pistol' type='unavailable'>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'>"
      "<actor nick='Fluellen'/><reason>Avaunt, you cullion!</reason></item>"
      "<status code='110'/><status code='307'/></x></presence>");
  EXPECT_EQ(xml::to_string(p), xml::to_string(*want));
}

TEST(MucStanzas, PresenceKeepsShowStatusAndDropsClientMucData) {
  auto base = xml::parse_fragment(
      "<presence xmlns='jabber:client' from='hag66@shakespeare.lit/pda' to='coven@chat.shakespeare.lit/thirdwitch' "
      "id='n13mt3l'><show>xa</show><status>gone</status><c xmlns='http://jabber.org/protocol/caps' node='n' ver='v'/>"
      "<x xmlns='http://jabber.org/protocol/muc'><password>secret</password></x>"
      "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/></x>"
      "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></presence>");
  PresenceSpec spec;
  spec.base = &*base;
  spec.item = UserItem{Affiliation::kMember, Role::kParticipant, "hag66@shakespeare.lit/pda", "", "", ""};
  spec.occupant_id = "real";
  xml::Element p = make_occupant_presence(*Jid::parse("coven@chat.shakespeare.lit/thirdwitch"), spec);
  EXPECT_EQ(p.attr("from"), "coven@chat.shakespeare.lit/thirdwitch");
  EXPECT_FALSE(p.has_attr("to"));
  EXPECT_EQ(p.attr("id"), "n13mt3l");
  EXPECT_EQ(p.child_text("show", ns::kClient), "xa");
  EXPECT_TRUE(p.child("c", "http://jabber.org/protocol/caps"));
  EXPECT_FALSE(p.child("x", ns::kMuc));  // the password is never reflected
  EXPECT_EQ(p.children("x", ns::kMucUser).size(), 1u);
  EXPECT_TRUE(codes_of(p).empty());
  EXPECT_EQ(p.children("occupant-id", ns::kOccupantId).size(), 1u);
  EXPECT_EQ(p.child("occupant-id", ns::kOccupantId)->attr("id"), "real");
  const xml::Element* item = p.child("x", ns::kMucUser)->child("item", ns::kMucUser);
  EXPECT_EQ(item->attr("jid"), "hag66@shakespeare.lit/pda");
  EXPECT_EQ(item->attr("affiliation"), "member");
  // Unavailable: only the exit <status/> survives.
  spec.unavailable = true;
  xml::Element u = make_occupant_presence(*Jid::parse("coven@chat.shakespeare.lit/thirdwitch"), spec);
  EXPECT_EQ(u.attr("type"), "unavailable");
  EXPECT_FALSE(u.child("show", ns::kClient));
  EXPECT_EQ(u.child_text("status", ns::kClient), "gone");
}

TEST(MucStanzas, EntryCodes) {
  RoomConfig c;
  EXPECT_TRUE(entry_codes(c, false, false).empty());
  EXPECT_EQ(entry_codes(c, true, true), (std::vector<int>{201, 210}));
  c.whois = Whois::kAnyone;
  c.logging = true;
  EXPECT_EQ(entry_codes(c, false, false), (std::vector<int>{100, 170}));
}

TEST(MucStanzas, DestroyNotice) {
  PresenceSpec spec;
  spec.unavailable = true;
  spec.destroy = DestroyNotice{"coven@chat.shakespeare.lit", "Macbeth doth come.", ""};
  xml::Element p = make_occupant_presence(*Jid::parse("heath@chat.shakespeare.lit/firstwitch"), spec);
  const xml::Element* d = p.child("x", ns::kMucUser)->child("destroy", ns::kMucUser);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->attr("jid"), "coven@chat.shakespeare.lit");
  EXPECT_EQ(d->child_text("reason", ns::kMucUser), "Macbeth doth come.");
}

TEST(MucStanzas, Nicknames) {
  struct Row {
    std::string nick;
    std::optional<StanzaErrorCondition> want;
  };
  std::vector<Row> rows = {
      {"thirdwitch", std::nullopt},
      {"Ünïcødé 魔女 🧙", std::nullopt},
      {"", StanzaErrorCondition::kJidMalformed},
      {"   ", StanzaErrorCondition::kJidMalformed},
      {"\xE3\x80\x80\xC2\xA0", StanzaErrorCondition::kJidMalformed},  // ideographic space, no-break space
      {std::string(64, 'x'), std::nullopt},
      {std::string(65, 'x'), StanzaErrorCondition::kNotAcceptable},
  };
  std::string wide;
  for (int i = 0; i < 64; ++i) wide += "\xE9\xAD\x94";  // 64 characters, 192 bytes: characters count
  rows.push_back({wide, std::nullopt});
  rows.push_back({wide + "\xE9\xAD\x94", StanzaErrorCondition::kNotAcceptable});
  for (const auto& r : rows) {
    auto got = check_nick(r.nick, 64);
    EXPECT_EQ(got ? std::optional(got->condition) : std::nullopt, r.want) << r.nick;
  }
}

TEST(MucStanzas, OccupantIdsAreStableAndPerRoom) {
  std::string a = make_occupant_id("secret", "coven@chat", "hag66@shakespeare.lit");
  EXPECT_EQ(a, make_occupant_id("secret", "coven@chat", "hag66@shakespeare.lit"));
  EXPECT_NE(a, make_occupant_id("secret", "heath@chat", "hag66@shakespeare.lit"));
  EXPECT_NE(a, make_occupant_id("secret", "coven@chat", "crone1@shakespeare.lit"));
  EXPECT_NE(a, make_occupant_id("other", "coven@chat", "hag66@shakespeare.lit"));
  EXPECT_EQ(a.size(), 24u);
}

}  // namespace
