// Client side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802 §3, RFC 7677) for the load generator, without
// channel binding (gs2 flag "n"). The expensive part, SaltedPassword = PBKDF2(password, salt, i), is
// computed once per (hash, password, salt, iterations) and cached process-wide (KeyCache, thread-safe),
// so that logging in a thousand times costs the client a few HMACs each: the server is what we measure.
// One ScramClient per authentication attempt, used by one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causerie::bench {

enum class Hash { kSha1, kSha256 };

struct ClientKeys {
  std::string client_key, stored_key, server_key;  // raw bytes
};

// PBKDF2 once per distinct input; later calls are a map lookup under a mutex.
ClientKeys cached_keys(Hash h, std::string_view password, std::string_view salt, unsigned iterations);

class ScramClient {
 public:
  ScramClient(Hash h, std::string user, std::string password);
  // The initial response to put (base64) in <auth/>.
  std::string client_first();
  // Given the server-first-message, the client-final-message; nullopt when it is malformed.
  std::optional<std::string> client_final(std::string_view server_first);
  // Checks the server-final-message (v=…) from <success/>.
  bool verify_server_final(std::string_view server_final) const;

 private:
  Hash hash_;
  std::string user_, password_, nonce_, client_first_bare_, expected_server_signature_;
};

std::string b64_encode(std::string_view raw);
std::optional<std::string> b64_decode(std::string_view text);

}  // namespace causerie::bench
