// SCRAM (RFC 5802, RFC 7677): server side of SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants,
// plus the derivation of the salted keys we store instead of passwords.
//
// ScramServer is a three-step state machine so that the credential lookup between step 1 and 2 can
// happen off the network thread. One instance per authentication attempt, used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace causerie::sasl {

enum class ScramHash { kSha1, kSha256 };

struct ScramCredentials {
  std::string salt;  // raw bytes
  uint32_t iterations = 0;
  std::string stored_key;  // raw bytes: H(ClientKey)
  std::string server_key;  // raw bytes: HMAC(SaltedPassword, "Server Key")
};

// RFC 5802 §3 key derivation. The password is normalised first (SASLprep, RFC 4013).
ScramCredentials derive_scram_credentials(ScramHash h, std::string_view password, std::string_view salt,
                                          uint32_t iterations);
// SASLprep of a password; nullopt when it contains prohibited characters.
std::optional<std::string> saslprep(std::string_view password);
// Constant-time: does `password` produce these credentials?
bool verify_password(ScramHash h, const ScramCredentials& creds, std::string_view password);

// RFC 6120 §6.5 SASL failure conditions we use.
enum class SaslError { kNotAuthorized, kMalformedRequest, kInvalidAuthzid, kEncryptionRequired, kAborted,
                       kInvalidMechanism, kTemporaryAuthFailure, kCredentialsExpired, kAccountDisabled };
const char* to_string(SaslError e);

class ScramServer {
 public:
  // channel_bindings: the binding types this connection can offer (e.g. {"tls-exporter", data}); empty on
  // a plain connection. plus: whether the client chose the -PLUS mechanism.
  ScramServer(ScramHash h, bool plus, std::vector<std::pair<std::string, std::string>> channel_bindings,
              std::string server_nonce = {});

  // Step 1: returns the (unprepared) username the client named.
  tl::expected<std::string, SaslError> receive_client_first(std::string_view message);
  // Step 2: the server-first-message. Without credentials (unknown user) a made-up salt is used and the
  // exchange fails only at the end, so that usernames cannot be probed.
  std::string server_first(const std::optional<ScramCredentials>& creds, uint32_t default_iterations = 4096);
  // Step 3: on success, the server-final-message (v=…) for <success/>.
  tl::expected<std::string, SaslError> receive_client_final(std::string_view message);

  const std::string& authzid() const { return authzid_; }
  // XEP-0474: the base64 hash to send as the "h" attribute of the server-first-message (before step 2).
  void set_downgrade_protection(std::string hash) { ssdp_hash_ = std::move(hash); }

 private:
  ScramHash hash_;
  bool plus_;
  std::vector<std::pair<std::string, std::string>> bindings_;
  std::string server_nonce_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::string authzid_;
  std::string cb_data_;  // binding data the client committed to (empty unless p=…)
  std::optional<ScramCredentials> creds_;
  std::string ssdp_hash_;
  int step_ = 0;
};

// SASL PLAIN (RFC 4616): splits "[authzid] NUL authcid NUL passwd".
struct PlainMessage {
  std::string authzid, authcid, password;
};
std::optional<PlainMessage> parse_plain(std::string_view message);

}  // namespace causerie::sasl
