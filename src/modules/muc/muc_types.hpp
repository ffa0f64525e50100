// XEP-0045 v1.35: the vocabulary of multi-user chat — roles (§5.1), affiliations (§5.2) and the room
// configuration (§10.1.3, the muc#roomconfig FORM_TYPE of §16.5.3) — as plain values. Pure, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::muc {

// Ordered by privilege, so comparisons mean "at least".
enum class Role : uint8_t { kNone, kVisitor, kParticipant, kModerator };
enum class Affiliation : uint8_t { kOutcast, kNone, kMember, kAdmin, kOwner };

const char* to_string(Role r);
const char* to_string(Affiliation a);
std::optional<Role> parse_role(std::string_view s);
std::optional<Affiliation> parse_affiliation(std::string_view s);

// Bits for role sets (presence broadcast, member-list access).
constexpr uint8_t role_bit(Role r) { return static_cast<uint8_t>(1u << static_cast<unsigned>(r)); }
constexpr uint8_t kAllRoles = role_bit(Role::kVisitor) | role_bit(Role::kParticipant) | role_bit(Role::kModerator);

// muc#roomconfig_whois: who sees occupants' real JIDs. kNone is the deprecated fully-anonymous room
// (status code 174), kept because a room may be switched to it.
enum class Whois : uint8_t { kModerators, kAnyone, kNone };
// muc#roomconfig_allowpm: who may send private messages.
enum class AllowPm : uint8_t { kAnyone, kParticipants, kModerators, kNone };

// Registration with the room (§7.10), our own room option: kAuto registers at once in an open room and asks
// the admins and owners for approval (§9.9) in a members-only room; kApproval always asks; kNone refuses.
enum class Registration : uint8_t { kAuto, kApproval, kNone };

const char* to_string(Whois w);
const char* to_string(AllowPm p);
const char* to_string(Registration r);
std::optional<Whois> parse_whois(std::string_view s);
std::optional<AllowPm> parse_allow_pm(std::string_view s);
std::optional<Registration> parse_registration(std::string_view s);

struct RoomConfig {
  std::string name;         // muc#roomconfig_roomname
  std::string description;  // muc#roomconfig_roomdesc
  std::string lang;         // muc#roomconfig_lang
  bool is_public = true;    // muc#roomconfig_publicroom (listed in disco#items)
  bool persistent = false;
  bool moderated = false;
  bool members_only = false;
  bool password_protected = false;
  std::string password;  // muc#roomconfig_roomsecret
  Whois whois = Whois::kModerators;
  bool change_subject = false;  // occupants (not only moderators) may change the subject
  bool allow_invites = false;   // members may invite others into a members-only room
  AllowPm allow_pm = AllowPm::kAnyone;
  bool logging = false;         // muc#roomconfig_enablelogging (status 170)
  uint32_t max_users = 0;       // 0: the service maximum
  uint32_t history_fetch = 20;  // muc#maxhistoryfetch
  uint8_t presence_broadcast = kAllRoles;
  uint8_t get_member_list = kAllRoles;
  Registration registration = Registration::kAuto;
  // muc#roomconfig_enablearchiving: groupchat messages go into the room's XEP-0313 archive. On by
  // default, as Prosody's muc_log_by_default; stored rooms from before the option have it on too.
  bool archiving = true;

  bool operator==(const RoomConfig&) const = default;
};

}  // namespace causerie::modules::muc
