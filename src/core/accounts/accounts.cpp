#include "core/accounts/accounts.hpp"

#include <ctime>

#include "core/util/encoding.hpp"

namespace causerie {

std::optional<std::string> password_problem(std::string_view password) {
  if (password.empty()) return "the password is empty";
  if (password.size() > 1023) return "the password is longer than 1023 bytes";
  if (!sasl::saslprep(password)) return "the password contains characters that are not allowed (RFC 4013)";
  return std::nullopt;
}

storage::Account make_account(const std::string& bare_jid, std::string_view password, uint32_t iterations) {
  storage::Account a;
  a.jid = bare_jid;
  a.created = static_cast<int64_t>(std::time(nullptr));
  a.sha1 = sasl::derive_scram_credentials(sasl::ScramHash::kSha1, password, util::random_bytes(16), iterations);
  a.sha256 = sasl::derive_scram_credentials(sasl::ScramHash::kSha256, password, util::random_bytes(16), iterations);
  return a;
}

}  // namespace causerie
