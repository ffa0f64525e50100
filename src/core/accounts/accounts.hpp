// Account helpers shared by in-band registration (XEP-0077) and the `causerie user` commands:
// password rules and the salted SCRAM keys stored in place of a password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/account_store.hpp"

namespace causerie {

// Why a password is refused, or nullopt when it is acceptable.
std::optional<std::string> password_problem(std::string_view password);

// A new account record with fresh salts for SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802 §3).
storage::Account make_account(const std::string& bare_jid, std::string_view password, uint32_t iterations);

}  // namespace causerie
