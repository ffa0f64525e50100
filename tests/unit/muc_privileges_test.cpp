// XEP-0045 §5, §7.2, §8–§10 permission rules as tables (src/modules/muc/privileges.hpp).
#include <gtest/gtest.h>

#include "modules/muc/privileges.hpp"

using namespace causerie;
using namespace causerie::modules::muc;

namespace {

using C = StanzaErrorCondition;
constexpr auto OK = std::nullopt;
constexpr Role V = Role::kVisitor, P = Role::kParticipant, M = Role::kModerator, N = Role::kNone;
constexpr Affiliation Out = Affiliation::kOutcast, None = Affiliation::kNone, Mem = Affiliation::kMember,
                      Adm = Affiliation::kAdmin, Own = Affiliation::kOwner;

TEST(MucPrivileges, DefaultRoles) {
  // §5.1.2 "Initial Role Based on Affiliation".
  struct Row { Affiliation a; Role moderated, unmoderated; };
  for (auto [a, mod, unmod] : std::vector<Row>{{None, V, P}, {Mem, P, P}, {Adm, M, M}, {Own, M, M}, {Out, N, N}}) {
    EXPECT_EQ(default_role(a, true), mod) << to_string(a);
    EXPECT_EQ(default_role(a, false), unmod) << to_string(a);
  }
}

TEST(MucPrivileges, Entry) {
  struct Row {
    const char* what;
    EntryRequest r;
    Denial want;
  };
  auto req = [](Affiliation a) {
    EntryRequest r;
    r.affiliation = a;
    r.max_users = 10;
    r.hard_max = 100;
    return r;
  };
  auto with = [&](Affiliation a, auto f) {
    EntryRequest r = req(a);
    f(r);
    return r;
  };
  std::vector<Row> rows = {
      {"open room", req(None), OK},
      {"banned", req(Out), C::kForbidden},
      {"locked, not owner", with(Adm, [](auto& r) { r.locked = true; }), C::kItemNotFound},
      {"locked, owner", with(Own, [](auto& r) { r.locked = true; }), OK},
      {"members-only, none", with(None, [](auto& r) { r.members_only = true; }), C::kRegistrationRequired},
      {"members-only, member", with(Mem, [](auto& r) { r.members_only = true; }), OK},
      {"members-only, banned", with(Out, [](auto& r) { r.members_only = true; }), C::kForbidden},
      {"password missing", with(Mem, [](auto& r) { r.password_protected = true; }), C::kNotAuthorized},
      {"password right", with(None, [](auto& r) { r.password_protected = r.password_ok = true; }), OK},
      {"password, admin", with(Adm, [](auto& r) { r.password_protected = true; }), OK},
      {"full", with(Mem, [](auto& r) { r.occupants = 10; }), C::kServiceUnavailable},
      {"full, admin passes", with(Adm, [](auto& r) { r.occupants = 10; }), OK},
      {"service full", with(Own, [](auto& r) { r.occupants = 100 + kPrivilegedMargin; }), C::kServiceUnavailable},
      {"no room limit, below service", with(None, [](auto& r) { r.max_users = 0; r.occupants = 99; }), OK},
      {"no room limit, service full", with(None, [](auto& r) { r.max_users = 0; r.occupants = 100; }),
       C::kServiceUnavailable},
  };
  for (const auto& row : rows) EXPECT_EQ(check_entry(row.r), row.want) << row.what;
}

TEST(MucPrivileges, RoleChanges) {
  struct Row {
    Actor actor;
    Role target_role;
    Affiliation target_aff;
    Role new_role;
    Denial want;
  };
  std::vector<Row> rows = {
      // §8.2 kick
      {{M, None}, P, None, N, OK},
      {{M, None}, V, None, N, OK},
      {{P, Mem}, V, None, N, C::kForbidden},       // not a moderator
      {{M, None}, P, Mem, N, C::kNotAllowed},      // higher affiliation
      {{M, Mem}, M, Adm, N, C::kNotAllowed},       // member kicking admin
      {{M, Adm}, M, Own, N, C::kNotAllowed},       // admin kicking owner
      {{M, Own}, M, Adm, N, OK},                   // owner kicks admin
      {{M, Mem}, M, Mem, N, C::kNotAllowed},       // a moderator is kicked by admins and owners only
      {{M, Adm}, M, Mem, N, OK},
      // §8.3 / §8.4 voice
      {{M, None}, V, None, P, OK},
      {{M, None}, P, None, V, OK},
      {{V, None}, P, None, V, C::kForbidden},
      {{M, Own}, M, Adm, V, C::kNotAllowed},       // no one removes an admin's voice
      {{M, Own}, M, Own, V, C::kNotAllowed},
      {{M, None}, P, Mem, V, C::kNotAllowed},      // higher affiliation
      {{M, Mem}, M, None, V, C::kNotAllowed},      // moderator to visitor: admins only
      // §9.6 / §9.7 moderator status
      {{M, Adm}, P, None, M, OK},
      {{M, Mem}, P, None, M, C::kForbidden},
      {{M, Own}, M, Mem, P, OK},
      {{M, Mem}, M, None, P, C::kForbidden},
      {{M, Own}, M, Adm, P, C::kNotAllowed},       // never from an admin or owner
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    EXPECT_EQ(check_role_change(r.actor, r.target_role, r.target_aff, r.new_role), r.want) << "row " << i;
  }
}

TEST(MucPrivileges, AffiliationChanges) {
  struct Row {
    Affiliation actor, current, wanted;
    bool self;
    size_t owners;
    Denial want;
  };
  std::vector<Row> rows = {
      {Mem, None, Mem, false, 1, C::kForbidden},   // members edit nothing
      {Adm, None, Mem, false, 1, OK},              // §9.3
      {Adm, Mem, None, false, 1, OK},              // §9.4
      {Adm, None, Out, false, 1, OK},              // §9.1
      {Adm, Mem, Out, false, 1, OK},
      {Adm, Own, Out, false, 1, C::kNotAllowed},   // §9.1: admin bans owner
      {Adm, Adm, Out, false, 1, C::kNotAllowed},
      {Adm, None, Adm, false, 1, C::kForbidden},   // §10.6: owners grant admin
      {Adm, None, Own, false, 1, C::kForbidden},
      {Own, None, Adm, false, 1, OK},
      {Own, Adm, Mem, false, 1, OK},
      {Own, None, Own, false, 1, OK},              // §10.3
      {Own, Own, Adm, false, 2, OK},               // §10.4 with another owner
      {Own, Own, Adm, true, 1, C::kConflict},      // the last owner
      {Own, Own, None, true, 2, OK},
      {Adm, Adm, Out, true, 1, C::kNotAllowed},
      {Own, Own, Out, true, 2, C::kConflict},      // §9.1: nobody bans themselves
      {Own, Mem, Mem, false, 1, OK},               // no change
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    EXPECT_EQ(check_affiliation_change(r.actor, r.current, r.wanted, r.self, r.owners), r.want) << "row " << i;
  }
}

TEST(MucPrivileges, Registration) {
  // §7.10 with our room option; §9.9 approval for members-only rooms (or when the room asks for it).
  using P = RegistrationPath;
  struct Row {
    Affiliation who;
    bool members_only;
    Registration option;
    P path;
    Denial want;
  };
  constexpr auto Auto = Registration::kAuto, Appr = Registration::kApproval, Closed = Registration::kNone;
  std::vector<Row> rows = {
      {None, false, Auto, P::kImmediate, OK},          // open room: a member at once
      {None, true, Auto, P::kNeedsApproval, OK},       // members-only: the admins decide
      {None, false, Appr, P::kNeedsApproval, OK},
      {None, false, Closed, P::kDenied, C::kNotAllowed},
      {Out, false, Auto, P::kDenied, C::kForbidden},   // outcasts never
      {Out, true, Closed, P::kDenied, C::kForbidden},
      {Mem, true, Auto, P::kImmediate, OK},            // members only change their nickname
      {Mem, false, Appr, P::kImmediate, OK},
      {Adm, true, Appr, P::kImmediate, OK},
      {Own, false, Auto, P::kImmediate, OK},
      {Mem, false, Closed, P::kDenied, C::kNotAllowed},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    RoomConfig c;
    c.members_only = rows[i].members_only;
    c.registration = rows[i].option;
    RegistrationDecision d = check_registration(rows[i].who, c);
    EXPECT_EQ(d.path, rows[i].path) << "row " << i;
    EXPECT_EQ(d.denial, rows[i].want) << "row " << i;
  }
  EXPECT_EQ(check_registration_approval(Mem, None), C::kForbidden);
  EXPECT_EQ(check_registration_approval(None, None), C::kForbidden);
  EXPECT_EQ(check_registration_approval(Adm, None), OK);
  EXPECT_EQ(check_registration_approval(Own, None), OK);
  EXPECT_EQ(check_registration_approval(Own, Out), C::kNotAllowed);  // banned since asking
  EXPECT_EQ(check_registration_approval(Adm, Mem), OK);              // moot, not an error
}

TEST(MucPrivileges, ListAccess) {
  RoomConfig semi;  // whois moderators
  RoomConfig open;
  open.whois = Whois::kAnyone;
  struct Row {
    Actor actor;
    bool occupant;
    const RoomConfig* c;
    std::optional<Affiliation> aff;
    std::optional<Role> role;
    Denial want;
  };
  std::vector<Row> rows = {
      {{N, Adm}, false, &semi, Out, {}, OK},
      {{M, Mem}, true, &semi, Out, {}, C::kForbidden},
      {{P, Mem}, true, &semi, Mem, {}, C::kForbidden},  // §5.2.1 ***: not in semi-anonymous rooms
      {{P, Mem}, true, &open, Mem, {}, OK},
      {{P, None}, true, &open, Mem, {}, OK},             // getmemberlist allows every role by default
      {{N, None}, false, &open, Mem, {}, C::kForbidden},
      {{N, Adm}, false, &semi, Own, {}, C::kForbidden},  // §10.5: owners
      {{N, Own}, false, &semi, Adm, {}, OK},
      {{P, None}, true, &open, Own, {}, OK},              // non-anonymous: MAY
      {{M, None}, true, &semi, {}, P, OK},                // §8.5 voice list
      {{P, Adm}, true, &semi, {}, M, C::kForbidden},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    EXPECT_EQ(check_list_access(r.actor, r.occupant, *r.c, r.aff, r.role), r.want) << "row " << i;
  }
  RoomConfig limited = open;
  limited.get_member_list = role_bit(Role::kModerator);
  EXPECT_EQ(check_list_access({P, None}, true, limited, Mem, {}), C::kForbidden);
  EXPECT_EQ(check_list_access({M, None}, true, limited, Mem, {}), OK);
}

TEST(MucPrivileges, Invitations) {
  RoomConfig open, members;
  members.members_only = true;
  EXPECT_EQ(check_invite({V, None}, open), OK);
  EXPECT_EQ(check_invite({N, Own}, open), C::kNotAcceptable);
  EXPECT_EQ(check_invite({P, Mem}, members), C::kForbidden);
  EXPECT_EQ(check_invite({M, Adm}, members), OK);
  members.allow_invites = true;
  EXPECT_EQ(check_invite({P, Mem}, members), OK);
}

TEST(MucPrivileges, RolePrivileges) {
  // §5.1.1 table, with the configuration switches that change it.
  EXPECT_FALSE(can_send_groupchat(V));
  EXPECT_TRUE(can_send_groupchat(P));
  EXPECT_TRUE(can_change_subject(M, false));
  EXPECT_FALSE(can_change_subject(P, false));
  EXPECT_TRUE(can_change_subject(P, true));
  EXPECT_FALSE(can_change_subject(V, true));
  struct Pm { AllowPm allow; bool v, p, m; };
  for (auto [allow, v, p, m] : std::vector<Pm>{{AllowPm::kAnyone, true, true, true},
                                               {AllowPm::kParticipants, false, true, true},
                                               {AllowPm::kModerators, false, false, true},
                                               {AllowPm::kNone, false, false, false}}) {
    EXPECT_EQ(can_send_private(V, allow), v) << to_string(allow);
    EXPECT_EQ(can_send_private(P, allow), p) << to_string(allow);
    EXPECT_EQ(can_send_private(M, allow), m) << to_string(allow);
  }
  EXPECT_TRUE(can_see_real_jids(V, Whois::kAnyone));
  EXPECT_FALSE(can_see_real_jids(P, Whois::kModerators));
  EXPECT_TRUE(can_see_real_jids(M, Whois::kModerators));
  EXPECT_FALSE(can_see_real_jids(M, Whois::kNone));
  EXPECT_TRUE(presence_broadcast(V, kAllRoles));
  EXPECT_FALSE(presence_broadcast(V, role_bit(M) | role_bit(P)));
}

}  // namespace

namespace {

TEST(MucTypes, NamesRoundTrip) {
  for (Role r : {Role::kNone, Role::kVisitor, Role::kParticipant, Role::kModerator})
    EXPECT_EQ(parse_role(to_string(r)), r);
  for (Affiliation a : {Affiliation::kOutcast, Affiliation::kNone, Affiliation::kMember, Affiliation::kAdmin,
                        Affiliation::kOwner})
    EXPECT_EQ(parse_affiliation(to_string(a)), a);
  EXPECT_STREQ(to_string(Affiliation::kOwner), "owner");
  EXPECT_STREQ(to_string(Role::kParticipant), "participant");
  EXPECT_EQ(parse_whois("anyone"), Whois::kAnyone);
  EXPECT_EQ(parse_allow_pm("participants"), AllowPm::kParticipants);
  EXPECT_FALSE(parse_role("king"));
  EXPECT_FALSE(parse_affiliation(""));
}

}  // namespace
