// The HT SASL mechanisms (draft-schmaus-kitten-sasl-ht) that XEP-0484 FAST tokens authenticate with:
// HT-SHA-256-NONE, -UNIQ (tls-unique), -ENDP (tls-server-end-point) and -EXPR (tls-exporter). One round
// trip: the client sends "authcid NUL HMAC(token, "Initiator" || cb-data)", the server answers with
// HMAC(token, "Responder" || cb-data) in its success.
//
// The server keeps only SHA-256(token). RFC 2104 §2 makes that enough: a key longer than the hash's block
// (64 bytes for SHA-256) is first replaced by its hash, so HMAC(token, m) = HMAC(SHA-256(token), m) for
// the tokens we issue, which are always longer (make_fast_token). Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causerie::sasl {

enum class HtBinding { kNone, kUnique, kEndpoint, kExporter };

// "HT-SHA-256-ENDP" → kEndpoint; nullopt for any other name.
std::optional<HtBinding> parse_ht_mechanism(std::string_view name);
const char* ht_mechanism_name(HtBinding b);
// The channel-binding type the mechanism binds to ("" for NONE).
const char* ht_channel_binding_type(HtBinding b);

// A new token: 96 characters of base64url (72 random bytes), longer than SHA-256's block (see above).
std::string make_fast_token();
// What the server stores: SHA-256(token), 32 raw bytes.
std::string fast_token_key(std::string_view token);

struct HtInitialResponse {
  std::string authcid;
  std::string initiator_hash;  // 32 raw bytes
};
// Splits the client's message; nullopt when it is not "authcid NUL 32 bytes".
std::optional<HtInitialResponse> parse_ht_initial_response(std::string_view message);

// HMAC-SHA-256(key, label || cb_data), where key is the token or its stored SHA-256 (same result).
std::string ht_initiator_hash(std::string_view key, std::string_view cb_data);
std::string ht_responder_hash(std::string_view key, std::string_view cb_data);
// Constant-time: does the client's initiator hash prove the token behind `stored_key`?
bool ht_verify(std::string_view stored_key, std::string_view cb_data, std::string_view initiator_hash);

}  // namespace causerie::sasl
