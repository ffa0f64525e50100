#include "modules/muc/muc_types.hpp"

namespace causerie::modules::muc {

const char* to_string(Role r) {
  switch (r) {
    case Role::kNone: return "none";
    case Role::kVisitor: return "visitor";
    case Role::kParticipant: return "participant";
    case Role::kModerator: return "moderator";
  }
  return "none";
}

const char* to_string(Affiliation a) {
  switch (a) {
    case Affiliation::kOutcast: return "outcast";
    case Affiliation::kNone: return "none";
    case Affiliation::kMember: return "member";
    case Affiliation::kAdmin: return "admin";
    case Affiliation::kOwner: return "owner";
  }
  return "none";
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "none") return Role::kNone;
  if (s == "visitor") return Role::kVisitor;
  if (s == "participant") return Role::kParticipant;
  if (s == "moderator") return Role::kModerator;
  return std::nullopt;
}

std::optional<Affiliation> parse_affiliation(std::string_view s) {
  if (s == "outcast") return Affiliation::kOutcast;
  if (s == "none") return Affiliation::kNone;
  if (s == "member") return Affiliation::kMember;
  if (s == "admin") return Affiliation::kAdmin;
  if (s == "owner") return Affiliation::kOwner;
  return std::nullopt;
}

const char* to_string(Whois w) {
  switch (w) {
    case Whois::kModerators: return "moderators";
    case Whois::kAnyone: return "anyone";
    case Whois::kNone: return "none";
  }
  return "moderators";
}

const char* to_string(AllowPm p) {
  switch (p) {
    case AllowPm::kAnyone: return "anyone";
    case AllowPm::kParticipants: return "participants";
    case AllowPm::kModerators: return "moderators";
    case AllowPm::kNone: return "none";
  }
  return "anyone";
}

std::optional<Whois> parse_whois(std::string_view s) {
  if (s == "moderators") return Whois::kModerators;
  if (s == "anyone") return Whois::kAnyone;
  if (s == "none") return Whois::kNone;
  return std::nullopt;
}

std::optional<AllowPm> parse_allow_pm(std::string_view s) {
  if (s == "anyone") return AllowPm::kAnyone;
  if (s == "participants") return AllowPm::kParticipants;
  if (s == "moderators") return AllowPm::kModerators;
  if (s == "none") return AllowPm::kNone;
  return std::nullopt;
}

}  // namespace causerie::modules::muc
