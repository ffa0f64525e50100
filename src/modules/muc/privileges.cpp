#include "modules/muc/privileges.hpp"

namespace causerie::modules::muc {

namespace {
using C = StanzaErrorCondition;
}

Role default_role(Affiliation a, bool moderated) {
  switch (a) {
    case Affiliation::kOwner:
    case Affiliation::kAdmin: return Role::kModerator;
    case Affiliation::kMember: return Role::kParticipant;
    case Affiliation::kNone: return moderated ? Role::kVisitor : Role::kParticipant;
    case Affiliation::kOutcast: return Role::kNone;
  }
  return Role::kNone;
}

Denial check_entry(const EntryRequest& r) {
  bool privileged = r.affiliation >= Affiliation::kAdmin;
  if (r.locked && r.affiliation != Affiliation::kOwner) return C::kItemNotFound;  // §7.2.11
  if (r.affiliation == Affiliation::kOutcast) return C::kForbidden;             // §7.2.8
  if (r.members_only && r.affiliation < Affiliation::kMember) return C::kRegistrationRequired;  // §7.2.7
  // §7.2.6. Admins and owners set the password; they are not asked for it.
  if (r.password_protected && !r.password_ok && !privileged) return C::kNotAuthorized;
  // §7.2.10: full, except for admins and owners, up to a margin.
  if (r.max_users && r.occupants >= r.max_users && !privileged) return C::kServiceUnavailable;
  if (r.occupants >= r.hard_max + (privileged ? kPrivilegedMargin : 0)) return C::kServiceUnavailable;
  return std::nullopt;
}

Denial check_role_change(Actor actor, Role target_role, Affiliation target_affiliation, Role new_role) {
  // §8: "MUST be denied if … does not match … one of the moderators": forbidden.
  if (actor.role != Role::kModerator) return C::kForbidden;
  bool actor_admin = actor.affiliation >= Affiliation::kAdmin;
  switch (new_role) {
    case Role::kModerator:
      // §9.6: granting moderator status is an admin's privilege.
      return actor_admin ? Denial() : Denial(C::kForbidden);
    case Role::kParticipant:
      if (target_role == Role::kModerator) {
        // §9.7: revoking moderator status: admins only, never from an admin or owner.
        if (!actor_admin) return C::kForbidden;
        if (target_affiliation >= Affiliation::kAdmin) return C::kNotAllowed;
      }
      return std::nullopt;  // §8.3 granting voice
    case Role::kVisitor:
      // §8.4: "MUST NOT allow the voice privileges of an admin or owner to be removed by anyone", nor
      // from someone of a higher affiliation than the moderator's.
      if (target_affiliation >= Affiliation::kAdmin) return C::kNotAllowed;
      if (target_affiliation > actor.affiliation) return C::kNotAllowed;
      // §5.1.3: a moderator is turned into a visitor only by an admin or owner.
      if (target_role == Role::kModerator && !actor_admin) return C::kNotAllowed;
      return std::nullopt;
    case Role::kNone:
      // §8.2: "A user cannot be kicked by a moderator with a lower affiliation"; §5.1.3: moderators are
      // kicked only by admins and owners.
      if (target_affiliation > actor.affiliation) return C::kNotAllowed;
      if (target_role == Role::kModerator && !actor_admin) return C::kNotAllowed;
      return std::nullopt;
  }
  return C::kBadRequest;
}

Denial check_affiliation_change(Affiliation actor, Affiliation target_current, Affiliation new_affiliation, bool self,
                                size_t owner_count) {
  if (actor < Affiliation::kAdmin) return C::kForbidden;  // §9 preamble
  bool high_new = new_affiliation >= Affiliation::kAdmin;
  bool high_current = target_current >= Affiliation::kAdmin;
  if (actor != Affiliation::kOwner) {
    // §9.1: an admin banning (or otherwise changing) an admin or owner: not-allowed; §10.6/§10.3: only
    // owners grant admin or owner status: forbidden.
    if (high_current && new_affiliation != target_current) return C::kNotAllowed;
    if (high_new && new_affiliation != target_current) return C::kForbidden;
  }
  if (self && new_affiliation == Affiliation::kOutcast) return C::kConflict;  // §9.1: no banning oneself
  // §10.4: the last owner cannot give up ownership.
  if (target_current == Affiliation::kOwner && new_affiliation != Affiliation::kOwner && owner_count <= 1)
    return C::kConflict;
  return std::nullopt;
}

Denial check_list_access(Actor actor, bool occupant, const RoomConfig& c, std::optional<Affiliation> affiliation_list,
                         std::optional<Role> role_list) {
  bool non_anonymous = c.whois == Whois::kAnyone;
  if (role_list) return actor.role == Role::kModerator ? Denial() : Denial(C::kForbidden);  // §8.5, §9.8
  if (!affiliation_list) return C::kBadRequest;
  switch (*affiliation_list) {
    case Affiliation::kOutcast:  // §9.2
      return actor.affiliation >= Affiliation::kAdmin ? Denial() : Denial(C::kForbidden);
    case Affiliation::kMember:
      // §9.5: admins; in non-anonymous rooms also members, and occupants whose role may
      // (muc#roomconfig_getmemberlist). Semi-anonymous rooms keep the list from mere members (§5.2.1 ***).
      if (actor.affiliation >= Affiliation::kAdmin) return std::nullopt;
      if (non_anonymous && (actor.affiliation == Affiliation::kMember ||
                            (occupant && (c.get_member_list & role_bit(actor.role)))))
        return std::nullopt;
      return C::kForbidden;
    case Affiliation::kAdmin:
    case Affiliation::kOwner:
      // §10.5/§10.8: owners; in non-anonymous rooms the service "MAY process the request" for others.
      if (actor.affiliation == Affiliation::kOwner) return std::nullopt;
      if (non_anonymous && (occupant || actor.affiliation >= Affiliation::kMember)) return std::nullopt;
      return C::kForbidden;
    case Affiliation::kNone:
      return C::kBadRequest;
  }
  return C::kBadRequest;
}

Denial check_invite(Actor actor, const RoomConfig& c) {
  if (actor.role == Role::kNone) return C::kNotAcceptable;
  if (!c.members_only) return std::nullopt;
  // §9.5: in members-only rooms invitations belong to admins, or to members when the room allows it.
  if (actor.affiliation >= Affiliation::kAdmin) return std::nullopt;
  if (actor.affiliation == Affiliation::kMember && c.allow_invites) return std::nullopt;
  return C::kForbidden;
}

RegistrationDecision check_registration(Affiliation a, const RoomConfig& c) {
  if (a == Affiliation::kOutcast) return {RegistrationPath::kDenied, C::kForbidden};
  // §7.10: "If the user ... is not allowed to register with the room ... not-allowed".
  if (c.registration == Registration::kNone) return {RegistrationPath::kDenied, C::kNotAllowed};
  if (a >= Affiliation::kMember) return {RegistrationPath::kImmediate, std::nullopt};
  // §7.10 "MAY request that the submission be approved by a room admin/owner": a members-only room is
  // entered only from its member list, which registering would otherwise open to anyone.
  if (c.registration == Registration::kApproval || c.members_only)
    return {RegistrationPath::kNeedsApproval, std::nullopt};
  return {RegistrationPath::kImmediate, std::nullopt};
}

Denial check_registration_approval(Affiliation approver, Affiliation target) {
  if (approver < Affiliation::kAdmin) return C::kForbidden;
  if (target == Affiliation::kOutcast) return C::kNotAllowed;
  return std::nullopt;
}

bool can_send_groupchat(Role r) { return r >= Role::kParticipant; }

bool can_change_subject(Role r, bool occupants_may) {
  return r == Role::kModerator || (occupants_may && r >= Role::kParticipant);
}

bool can_send_private(Role r, AllowPm allow) {
  switch (allow) {
    case AllowPm::kAnyone: return r >= Role::kVisitor;
    case AllowPm::kParticipants: return r >= Role::kParticipant;
    case AllowPm::kModerators: return r == Role::kModerator;
    case AllowPm::kNone: return false;
  }
  return false;
}

bool can_see_real_jids(Role viewer, Whois whois) {
  switch (whois) {
    case Whois::kAnyone: return viewer >= Role::kVisitor;
    case Whois::kModerators: return viewer == Role::kModerator;
    case Whois::kNone: return false;
  }
  return false;
}

bool presence_broadcast(Role r, uint8_t broadcast_roles) { return (broadcast_roles & role_bit(r)) != 0; }

}  // namespace causerie::modules::muc
