// XEP-0045 v1.35 §5 (roles and affiliations), §7 (entering), §8–§10 (moderator, admin and owner use
// cases): who may do what in a room, as pure functions over roles, affiliations and the configuration.
// No room state here: the room asks, these answer (nullopt = allowed, else the error to return).
// Table-driven tests: tests/unit/muc_privileges_test.cpp. Pure, any thread.
#pragma once

#include <cstddef>
#include <optional>

#include "core/stanza/errors.hpp"
#include "modules/muc/muc_types.hpp"

namespace causerie::modules::muc {

using Denial = std::optional<StanzaErrorCondition>;

struct Actor {
  Role role = Role::kNone;  // kNone when not an occupant
  Affiliation affiliation = Affiliation::kNone;
};

// §5.1.2 "Initial Role Based on Affiliation".
Role default_role(Affiliation a, bool moderated);

// §7.2.6–§7.2.10: may this user enter? (Nickname conflicts need the occupant table: the room checks them.)
struct EntryRequest {
  Affiliation affiliation = Affiliation::kNone;
  bool locked = false;  // created, not yet configured (§10.1.1): only owners enter
  bool members_only = false;
  bool password_protected = false;
  bool password_ok = false;
  size_t occupants = 0;  // distinct occupants (nicks) now
  size_t max_users = 0;  // the room's limit
  size_t hard_max = 0;   // the service's limit, which admins and owners may pass by a small margin
};
Denial check_entry(const EntryRequest& r);
// How far beyond max_users admins and owners may still enter (§7.2.10: "up to some reasonable number").
inline constexpr size_t kPrivilegedMargin = 16;

// §8.2 kick (new role none), §8.3/§8.4 voice, §9.6/§9.7 moderator status.
Denial check_role_change(Actor actor, Role target_role, Affiliation target_affiliation, Role new_role);

// §9.1 ban, §9.3/§9.4 membership, §10.3–§10.7 admin and owner status. owner_count: owners before the change.
Denial check_affiliation_change(Affiliation actor, Affiliation target_current, Affiliation new_affiliation,
                                bool self, size_t owner_count);

// §9.2, §9.5, §10.5, §10.8 (affiliation lists) and §8.5, §9.8 (role lists): who may read a list.
Denial check_list_access(Actor actor, bool occupant, const RoomConfig& c, std::optional<Affiliation> affiliation_list,
                         std::optional<Role> role_list);

// §7.8.2: mediated invitations (members-only rooms restrict them).
Denial check_invite(Actor actor, const RoomConfig& c);

// §7.10 registration with a room: refused (outcasts: forbidden; the room allows none: not-allowed), done
// at once, or sent to the admins and owners for approval (§9.9). Users already on the member list (or
// above) only change their reserved nickname, which needs nobody's approval.
enum class RegistrationPath : uint8_t { kDenied, kImmediate, kNeedsApproval };
struct RegistrationDecision {
  RegistrationPath path = RegistrationPath::kDenied;
  Denial denial;
};
RegistrationDecision check_registration(Affiliation a, const RoomConfig& c);

// §9.9: an approval form submitted by `approver` for a user now `target`. Only admins and owners approve
// (forbidden); a user banned since asking is not let in by an old request (not-allowed).
Denial check_registration_approval(Affiliation approver, Affiliation target);

// §5.1.1 privileges of roles.
bool can_send_groupchat(Role r);                           // "Send Messages to All"
bool can_change_subject(Role r, bool occupants_may);       // "Modify Subject" with muc#roomconfig_changesubject
bool can_send_private(Role r, AllowPm allow);              // muc#roomconfig_allowpm
bool can_see_real_jids(Role viewer, Whois whois);          // §7.2.4 / §7.2.5
bool presence_broadcast(Role r, uint8_t broadcast_roles);  // muc#roomconfig_presencebroadcast

}  // namespace causerie::modules::muc
