#include "modules/muc/muc_types.hpp"

#include <array>

namespace causerie::modules::muc {

namespace {

// The XMPP words for each enum, indexed by its value (the enums are declared in this order).
constexpr std::array<const char*, 4> kRoles = {"none", "visitor", "participant", "moderator"};
constexpr std::array<const char*, 5> kAffiliations = {"outcast", "none", "member", "admin", "owner"};
constexpr std::array<const char*, 3> kWhois = {"moderators", "anyone", "none"};
constexpr std::array<const char*, 4> kAllowPm = {"anyone", "participants", "moderators", "none"};
constexpr std::array<const char*, 3> kRegistration = {"auto", "approval", "none"};

template <typename E, size_t N>
const char* name(const std::array<const char*, N>& names, E e) {
  size_t i = static_cast<size_t>(e);
  return i < N ? names[i] : names[0];
}

template <typename E, size_t N>
std::optional<E> parse(const std::array<const char*, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

const char* to_string(Role r) { return name(kRoles, r); }
const char* to_string(Affiliation a) { return name(kAffiliations, a); }
const char* to_string(Whois w) { return name(kWhois, w); }
const char* to_string(AllowPm p) { return name(kAllowPm, p); }
const char* to_string(Registration r) { return name(kRegistration, r); }
std::optional<Role> parse_role(std::string_view s) { return parse<Role>(kRoles, s); }
std::optional<Affiliation> parse_affiliation(std::string_view s) { return parse<Affiliation>(kAffiliations, s); }
std::optional<Whois> parse_whois(std::string_view s) { return parse<Whois>(kWhois, s); }
std::optional<AllowPm> parse_allow_pm(std::string_view s) { return parse<AllowPm>(kAllowPm, s); }
std::optional<Registration> parse_registration(std::string_view s) {
  return parse<Registration>(kRegistration, s);
}

}  // namespace causerie::modules::muc
