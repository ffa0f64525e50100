// A Room driven with XEP-0045 stanzas, its output decoded and checked in order (src/modules/muc/room.hpp).
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/muc/room.hpp"

using namespace causerie;
using namespace causerie::modules::muc;

namespace {

const util::SystemTime kNow = util::from_unix_seconds(1'700'000'000);

struct Sent {
  std::string to;
  xml::Element el;
  bool direct;  // delivered to a session (true) or routed
  bool after_store;

  std::string name() const { return el.name(); }
  std::string type() const { return std::string(el.attr("type")); }
  std::string from() const { return std::string(el.attr("from")); }
  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    if (const auto* x = el.child("x", ns::kMucUser))
      for (const auto* s : x->children("status")) out.emplace_back(s->attr("code"));
    return out;
  }
  const xml::Element* item() const {
    const auto* x = el.child("x", ns::kMucUser);
    return x ? x->child("item") : nullptr;
  }
  bool has_code(const std::string& c) const {
    auto v = codes();
    return std::find(v.begin(), v.end(), c) != v.end();
  }
};

class MucRoomTest : public ::testing::Test {
 protected:
  MucRoomTest() {
    s_.domain = "chat.shakespeare.lit";
    s_.local_hosts = {"shakespeare.lit"};
    s_.secret = "0123456789abcdef";
  }

  static Stanza stanza(const std::string& text) {
    auto el = xml::parse_fragment(text);
    EXPECT_TRUE(el) << text;
    el->set_ns(ns::kClient);
    auto st = Stanza::parse(std::move(*el));
    EXPECT_TRUE(st);
    return std::move(*st);
  }

  std::vector<Sent> decode(RoomOutput& out) {
    std::vector<Sent> v;
    auto add_local = [&](std::vector<Delivery>& ds, bool after) {
      for (auto& d : ds) {
        std::string bytes = d.out.head + *d.out.body;
        auto el = xml::parse_fragment(bytes);
        EXPECT_TRUE(el) << bytes;
        v.push_back(Sent{std::string(el->attr("to")), *el, true, after});
      }
    };
    auto add_routed = [&](std::vector<Stanza>& ss, bool after) {
      for (auto& s : ss) v.push_back(Sent{s.to().str(), s.element(), false, after});
    };
    add_local(out.local, false);
    add_routed(out.routed, false);
    add_local(out.local_after, true);
    add_routed(out.routed_after, true);
    ops_ += out.ops.size();
    return v;
  }

  // Sends a stanza from `who` (a known session) and returns what the room sent.
  std::vector<Sent> send(const std::string& text, uint64_t session) {
    RoomOutput out;
    Stanza st = stanza(text);
    if (!room_) room_ = Room::handle_absent(*Jid::parse("coven@chat.shakespeare.lit"), st, SessionRef{0, session}, kNow, s_, out);
    else room_->handle(st, SessionRef{0, session}, kNow, out);
    return decode(out);
  }

  static std::string join(const std::string& from, const std::string& nick, const std::string& extra = "") {
    return "<presence from='" + from + "' to='coven@chat.shakespeare.lit/" + nick +
           "'><x xmlns='http://jabber.org/protocol/muc'>" + extra + "</x></presence>";
  }

  // crone1 creates an instant room; returns nothing sent.
  void create_instant(const std::string& form_fields = "") {
    send(join("crone1@shakespeare.lit/desktop", "firstwitch"), 1);
    auto r = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='c1'>"
                  "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>" +
                      form_fields + "</x></query></iq>",
                  1);
    ASSERT_FALSE(r.empty());
    ASSERT_EQ(r.back().type(), "result");
  }

  static std::vector<Sent> to(const std::vector<Sent>& v, const std::string& jid) {
    std::vector<Sent> out;
    for (const auto& s : v)
      if (s.to == jid) out.push_back(s);
    return out;
  }

  ServiceSettings s_;
  std::unique_ptr<Room> room_;
  size_t ops_ = 0;
};

TEST_F(MucRoomTest, CreationLocksTheRoomUntilConfigured) {
  auto r = send(join("crone1@shakespeare.lit/desktop", "firstwitch"), 1);
  ASSERT_TRUE(room_);
  ASSERT_EQ(r.size(), 2u);  // self-presence, subject
  EXPECT_EQ(r[0].name(), "presence");
  EXPECT_EQ(r[0].codes(), (std::vector<std::string>{"110", "201"}));  // §10.1.1
  EXPECT_EQ(r[0].item()->attr("affiliation"), "owner");
  EXPECT_EQ(r[0].item()->attr("role"), "moderator");
  EXPECT_EQ(r[1].name(), "message");
  EXPECT_TRUE(r[1].el.child("subject"));
  EXPECT_TRUE(r[0].direct);
  // §7.2.11: locked.
  auto denied = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].type(), "error");
  EXPECT_TRUE(denied[0].el.child("error")->child("item-not-found", ns::kStanzas));
  EXPECT_TRUE(room_->locked());
  create_instant();
  EXPECT_FALSE(room_->locked());
}

TEST_F(MucRoomTest, JoinOrderAndJidVisibility) {
  create_instant();
  auto r = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  // §7.1: to the newcomer: the others' presence, then its own (110), then the subject.
  auto mine = to(r, "hag66@shakespeare.lit/pda");
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0].from(), "coven@chat.shakespeare.lit/firstwitch");
  EXPECT_FALSE(mine[0].item()->has_attr("jid"));  // semi-anonymous: participants see no JIDs
  EXPECT_EQ(mine[1].from(), "coven@chat.shakespeare.lit/thirdwitch");
  EXPECT_EQ(mine[1].codes(), (std::vector<std::string>{"110"}));
  EXPECT_EQ(mine[2].name(), "message");
  // The moderator sees the newcomer's real JID (§7.2.5).
  auto crone = to(r, "crone1@shakespeare.lit/desktop");
  ASSERT_EQ(crone.size(), 1u);
  EXPECT_EQ(crone[0].item()->attr("jid"), "hag66@shakespeare.lit/pda");
  EXPECT_TRUE(crone[0].el.child("occupant-id", ns::kOccupantId));
  // Nickname conflict (§7.2.9) from another user; the same user's second resource shares the nick.
  auto conflict = send(join("wiccarocks@shakespeare.lit/laptop", "thirdwitch"), 3);
  ASSERT_EQ(conflict.size(), 1u);
  EXPECT_TRUE(conflict[0].el.child("error")->child("conflict", ns::kStanzas));
  auto second = send(join("hag66@shakespeare.lit/phone", "thirdwitch"), 4);
  EXPECT_FALSE(to(second, "hag66@shakespeare.lit/phone").empty());
  EXPECT_EQ(room_->summary().occupants, 2u);
}

TEST_F(MucRoomTest, NonAnonymousRoomTellsEveryoneAndSays100) {
  create_instant("<field var='muc#roomconfig_whois'><value>anyone</value></field>");
  auto r = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  auto mine = to(r, "hag66@shakespeare.lit/pda");
  EXPECT_EQ(mine[0].item()->attr("jid"), "crone1@shakespeare.lit/desktop");
  EXPECT_EQ(mine[1].codes(), (std::vector<std::string>{"100", "110"}));
}

TEST_F(MucRoomTest, GroupchatIsReflectedOnceSerializedWithStableId) {
  create_instant();
  send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  auto r = send("<message from='hag66@shakespeare.lit/pda' to='coven@chat.shakespeare.lit' type='groupchat' "
                "id='hysf1v37'><body>Harpier cries</body></message>",
                2);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& m : r) {
    EXPECT_EQ(m.from(), "coven@chat.shakespeare.lit/thirdwitch");
    EXPECT_EQ(m.el.attr("id"), "hysf1v37");
    EXPECT_TRUE(m.el.child("occupant-id", ns::kOccupantId));
  }
  // Not an occupant: not-acceptable (§7.4); visitors: forbidden.
  auto outsider = send("<message from='wiccarocks@shakespeare.lit/laptop' to='coven@chat.shakespeare.lit' "
                       "type='groupchat'><body>hi</body></message>",
                       3);
  ASSERT_EQ(outsider.size(), 1u);
  EXPECT_TRUE(outsider[0].el.child("error")->child("not-acceptable", ns::kStanzas));
}

TEST_F(MucRoomTest, HistoryThenSubjectOnJoin) {
  create_instant();
  for (int i = 0; i < 5; ++i)
    send("<message from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='groupchat'><body>m" +
             std::to_string(i) + "</body></message>",
         1);
  send("<message from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='groupchat'>"
       "<subject>Spells</subject></message>",
       1);
  auto r = to(send(join("hag66@shakespeare.lit/pda", "thirdwitch", "<history maxstanzas='2'/>"), 2),
              "hag66@shakespeare.lit/pda");
  ASSERT_EQ(r.size(), 5u);  // firstwitch, self, two history messages, subject
  EXPECT_EQ(r[2].el.child_text("body"), "m3");
  EXPECT_EQ(r[3].el.child_text("body"), "m4");
  EXPECT_EQ(r[3].el.child("delay", ns::kDelay)->attr("from"), "coven@chat.shakespeare.lit");
  EXPECT_EQ(r[4].el.child_text("subject"), "Spells");
  EXPECT_EQ(r[4].from(), "coven@chat.shakespeare.lit/firstwitch");
}

TEST_F(MucRoomTest, KickGoesToTheKickedFirstThenTheOthersThenTheResult) {
  create_instant();
  send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  auto r = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='kick1'>"
                "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='thirdwitch' role='none'>"
                "<reason>Avaunt</reason></item></query></iq>",
                1);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].to, "hag66@shakespeare.lit/pda");
  EXPECT_EQ(r[0].codes(), (std::vector<std::string>{"110", "307"}));
  EXPECT_EQ(r[0].item()->child("actor")->attr("nick"), "firstwitch");
  EXPECT_EQ(r[0].item()->child_text("reason"), "Avaunt");
  EXPECT_EQ(r[1].to, "crone1@shakespeare.lit/desktop");
  EXPECT_EQ(r[1].codes(), (std::vector<std::string>{"307"}));
  EXPECT_EQ(r[2].type(), "result");
  EXPECT_EQ(room_->summary().occupants, 1u);
}

TEST_F(MucRoomTest, NickChangeSays303ThenTheNewNick) {
  create_instant();
  send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  auto r = send("<presence from='hag66@shakespeare.lit/pda' to='coven@chat.shakespeare.lit/oldhag'/>", 2);
  auto crone = to(r, "crone1@shakespeare.lit/desktop");
  ASSERT_EQ(crone.size(), 2u);
  EXPECT_EQ(crone[0].type(), "unavailable");
  EXPECT_EQ(crone[0].item()->attr("nick"), "oldhag");
  EXPECT_EQ(crone[0].codes(), (std::vector<std::string>{"303"}));
  EXPECT_EQ(crone[1].from(), "coven@chat.shakespeare.lit/oldhag");
  auto self = to(r, "hag66@shakespeare.lit/pda");
  EXPECT_EQ(self[0].codes(), (std::vector<std::string>{"110", "303"}));
  // A PM to the new nick now reaches hag66.
  auto pm = send("<message from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit/oldhag' type='chat'>"
                 "<body>psst</body></message>",
                 1);
  ASSERT_EQ(pm.size(), 1u);
  EXPECT_EQ(pm[0].to, "hag66@shakespeare.lit/pda");
  EXPECT_EQ(pm[0].from(), "coven@chat.shakespeare.lit/firstwitch");
  EXPECT_TRUE(pm[0].el.child("x", ns::kMucUser));
}

TEST_F(MucRoomTest, BanAndMembersOnly) {
  create_instant("<field var='muc#roomconfig_persistentroom'><value>1</value></field>");
  size_t before = ops_;
  auto r = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='b'>"
                "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' "
                "jid='earlofcambridge@shakespeare.lit'><reason>Treason</reason></item></query></iq>",
                1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].after_store);  // a persistent room answers once the ban is stored
  EXPECT_GT(ops_, before);
  auto banned = send(join("earlofcambridge@shakespeare.lit/stabber", "cambridge"), 5);
  EXPECT_TRUE(banned[0].el.child("error")->child("forbidden", ns::kStanzas));
  // §9.1: nobody bans themselves.
  auto self = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='s'>"
                   "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' "
                   "jid='crone1@shakespeare.lit'/></query></iq>",
                   1);
  EXPECT_TRUE(self[0].el.child("error")->child("conflict", ns::kStanzas));
  // Members-only switched on: the non-member leaves with 322 (§10.2).
  send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  auto sw = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='m'>"
                 "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
                 "<field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>",
                 1);
  auto hag = to(sw, "hag66@shakespeare.lit/pda");
  ASSERT_FALSE(hag.empty());
  EXPECT_EQ(hag[0].type(), "unavailable");
  EXPECT_EQ(hag[0].codes(), (std::vector<std::string>{"110", "322"}));
  auto again = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  EXPECT_TRUE(again[0].el.child("error")->child("registration-required", ns::kStanzas));
}

TEST_F(MucRoomTest, CreatorLeavingAnUnconfiguredRoomDestroysIt) {
  send(join("crone1@shakespeare.lit/desktop", "firstwitch"), 1);
  auto r = send("<presence from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit/firstwitch' "
                "type='unavailable'/>",
                1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].el.child("x", ns::kMucUser)->child("destroy"));  // §10.1.3
  EXPECT_TRUE(room_->destroyed());
}

TEST_F(MucRoomTest, LastSessionLeavingDestroysATemporaryRoom) {
  create_instant();
  send(join("crone1@shakespeare.lit/phone", "firstwitch"), 7);  // multi-session
  auto r = send("<presence from='crone1@shakespeare.lit/phone' to='coven@chat.shakespeare.lit/firstwitch' "
                "type='unavailable'/>",
                7);
  // Only the leaving session hears it left; the other session stays, and sees its own presence again.
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].to, "crone1@shakespeare.lit/phone");
  EXPECT_EQ(r[0].type(), "unavailable");
  for (const auto& s : to(r, "crone1@shakespeare.lit/desktop")) EXPECT_NE(s.type(), "unavailable");
  EXPECT_FALSE(room_->destroyed());
  RoomOutput out;
  room_->session_gone(*Jid::parse("crone1@shakespeare.lit/desktop"), SessionRef{0, 1}, out);
  EXPECT_TRUE(room_->destroyed());
}

TEST_F(MucRoomTest, SelfPingAndIqsToOccupants) {
  create_instant();
  send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  // XEP-0410: answered by the room for the occupant's own nick…
  auto self = send("<iq from='hag66@shakespeare.lit/pda' to='coven@chat.shakespeare.lit/thirdwitch' type='get' "
                   "id='s2c1'><ping xmlns='urn:xmpp:ping'/></iq>",
                   2);
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].type(), "result");
  // …not-acceptable for a non-occupant…
  auto out = send("<iq from='wiccarocks@shakespeare.lit/laptop' to='coven@chat.shakespeare.lit/thirdwitch' "
                  "type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
                  3);
  EXPECT_TRUE(out[0].el.child("error")->child("not-acceptable", ns::kStanzas));
  // …and passed on, from the requester's nick, for another occupant; the answer comes back.
  auto fwd = send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit/thirdwitch' "
                  "type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>",
                  1);
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0].to, "hag66@shakespeare.lit/pda");
  EXPECT_EQ(fwd[0].from(), "coven@chat.shakespeare.lit/firstwitch");
  std::string id(fwd[0].el.attr("id"));
  auto back = send("<iq from='hag66@shakespeare.lit/pda' to='coven@chat.shakespeare.lit/firstwitch' type='result' "
                   "id='" + id + "'><query xmlns='jabber:iq:version'><name>x</name></query></iq>",
                   2);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].to, "crone1@shakespeare.lit/desktop");
  EXPECT_EQ(back[0].el.attr("id"), "v1");
  EXPECT_EQ(back[0].from(), "coven@chat.shakespeare.lit/thirdwitch");
}


// §7.10 / §9.9: registration as stanzas.
std::string reg_iq(const std::string& from, const std::string& type, const std::string& body) {
  return "<iq from='" + from + "' to='coven@chat.shakespeare.lit' type='" + type + "' id='r'>"
         "<query xmlns='jabber:iq:register'>" + body + "</query></iq>";
}
std::string reg_form(const std::string& nick) {
  return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
         "http://jabber.org/protocol/muc#register</value></field><field var='muc#register_roomnick'><value>" +
         nick + "</value></field></x>";
}

TEST_F(MucRoomTest, RegistrationInAnOpenRoomMakesAMemberWithAReservedNick) {
  create_instant();
  send(join("hag66@shakespeare.lit/pda", "hag"), 2);
  auto get = send(reg_iq("hag66@shakespeare.lit/pda", "get", ""), 2);
  ASSERT_EQ(get.size(), 1u);
  const auto* q = get[0].el.child("query", ns::kRegister);
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->child("registered", ns::kRegister));
  EXPECT_TRUE(q->child("x", ns::kDataForms));
  auto set = send(reg_iq("hag66@shakespeare.lit/pda", "set", reg_form("thirdwitch")), 2);
  // The affiliation change is broadcast (§7.10 "Service Sends Notice of Membership"), then the result.
  ASSERT_GE(set.size(), 3u);
  auto crone = to(set, "crone1@shakespeare.lit/desktop");
  ASSERT_EQ(crone.size(), 1u);
  EXPECT_EQ(crone[0].from(), "coven@chat.shakespeare.lit/hag");
  EXPECT_EQ(crone[0].item()->attr("affiliation"), "member");
  EXPECT_EQ(set.back().type(), "result");
  // Already registered: <registered/> and the nickname.
  auto again = send(reg_iq("hag66@shakespeare.lit/pda", "get", ""), 2);
  q = again[0].el.child("query", ns::kRegister);
  ASSERT_TRUE(q && q->child("registered", ns::kRegister));
  EXPECT_EQ(q->child_text("username", ns::kRegister), "thirdwitch");
  // §7.2.9: the reserved nick is nobody else's; §7.10: nor can another user register it.
  auto taken = send(join("wiccarocks@shakespeare.lit/laptop", "thirdwitch"), 3);
  EXPECT_TRUE(taken[0].el.child("error")->child("conflict", ns::kStanzas));
  auto dup = send(reg_iq("wiccarocks@shakespeare.lit/laptop", "set", reg_form("thirdwitch")), 3);
  EXPECT_TRUE(dup[0].el.child("error")->child("conflict", ns::kStanzas));
  // Cancelling: back to no affiliation, the nickname free again.
  auto rm = send(reg_iq("hag66@shakespeare.lit/pda", "set", "<remove/>"), 2);
  EXPECT_EQ(rm.back().type(), "result");
  auto none = send(reg_iq("hag66@shakespeare.lit/pda", "set", "<remove/>"), 2);
  EXPECT_TRUE(none[0].el.child("error")->child("registration-required", ns::kStanzas));
  auto free = send(reg_iq("wiccarocks@shakespeare.lit/laptop", "set", reg_form("thirdwitch")), 3);
  EXPECT_EQ(free.back().type(), "result");
}

TEST_F(MucRoomTest, RegistrationRefusals) {
  create_instant("<field var='{urn:causerie:muc}registration'><value>none</value></field>");
  auto closed = send(reg_iq("hag66@shakespeare.lit/pda", "get", ""), 2);
  EXPECT_TRUE(closed[0].el.child("error")->child("not-allowed", ns::kStanzas));
  send("<iq from='crone1@shakespeare.lit/desktop' to='coven@chat.shakespeare.lit' type='set' id='b'>"
       "<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' "
       "jid='earlofcambridge@shakespeare.lit'/></query></iq>",
       1);
  auto banned = send(reg_iq("earlofcambridge@shakespeare.lit/x", "set", reg_form("cambridge")), 5);
  EXPECT_TRUE(banned[0].el.child("error")->child("forbidden", ns::kStanzas));
  auto no_form = send(reg_iq("hag66@shakespeare.lit/pda", "set", ""), 2);
  EXPECT_TRUE(no_form[0].el.child("error")->child("bad-request", ns::kStanzas));
}

TEST_F(MucRoomTest, MembersOnlyRegistrationGoesToTheOwnersForApproval) {
  create_instant("<field var='muc#roomconfig_membersonly'><value>1</value></field>");
  auto set = send(reg_iq("hag66@shakespeare.lit/pda", "set", reg_form("thirdwitch")), 2);
  auto forms = to(set, "crone1@shakespeare.lit");  // the owner's account, routed
  ASSERT_EQ(forms.size(), 1u);
  EXPECT_FALSE(forms[0].direct);
  const auto* x = forms[0].el.child("x", ns::kDataForms);
  ASSERT_TRUE(x);
  auto form = xml::DataForm::parse(*x);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->value("muc#jid"), "hag66@shakespeare.lit");
  EXPECT_EQ(form->value("muc#register_roomnick"), "thirdwitch");
  auto hag = to(set, "hag66@shakespeare.lit/pda");
  ASSERT_EQ(hag.size(), 1u);
  EXPECT_EQ(hag[0].type(), "result");  // §7.10: the request was received
  // Still no member; asking again at once is refused (the admins have it).
  auto in = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  EXPECT_TRUE(in[0].el.child("error")->child("registration-required", ns::kStanzas));
  auto twice = send(reg_iq("hag66@shakespeare.lit/pda", "set", reg_form("thirdwitch")), 2);
  EXPECT_TRUE(twice[0].el.child("error")->child("policy-violation", ns::kStanzas));
  // Only an admin or owner may answer.
  form->type = "submit";
  form->field("muc#register_allow")->values = {"1"};
  auto answer = [&](const std::string& from, uint64_t session) {
    xml::Element m("message", ns::kClient);
    m.set_attr("from", from);
    m.set_attr("to", "coven@chat.shakespeare.lit");
    m.add(form->to_element());
    return send(xml::to_string(m), session);
  };
  auto sneaky = answer("hag66@shakespeare.lit/pda", 2);
  ASSERT_EQ(sneaky.size(), 1u);
  EXPECT_TRUE(sneaky[0].el.child("error")->child("forbidden", ns::kStanzas));
  // The owner approves: hag66 is a member with the nickname, and invited (§9.5).
  auto ok = answer("crone1@shakespeare.lit/desktop", 1);
  auto invite = to(ok, "hag66@shakespeare.lit");
  ASSERT_EQ(invite.size(), 1u);
  EXPECT_TRUE(invite[0].el.child("x", ns::kMucUser)->child("invite"));
  auto joined = send(join("hag66@shakespeare.lit/pda", "thirdwitch"), 2);
  EXPECT_EQ(to(joined, "hag66@shakespeare.lit/pda")[0].name(), "presence");
  EXPECT_FALSE(joined[0].el.child("error"));
}

}  // namespace
