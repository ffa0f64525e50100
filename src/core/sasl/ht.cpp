#include "core/sasl/ht.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/util/encoding.hpp"

namespace causerie::sasl {

namespace {

constexpr size_t kHashSize = 32;

std::string hmac_sha256(std::string_view key, std::string_view label, std::string_view data) {
  std::string message(label);
  message += data;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::optional<HtBinding> parse_ht_mechanism(std::string_view name) {
  if (name == "HT-SHA-256-NONE") return HtBinding::kNone;
  if (name == "HT-SHA-256-UNIQ") return HtBinding::kUnique;
  if (name == "HT-SHA-256-ENDP") return HtBinding::kEndpoint;
  if (name == "HT-SHA-256-EXPR") return HtBinding::kExporter;
  return std::nullopt;
}

const char* ht_mechanism_name(HtBinding b) {
  switch (b) {
    case HtBinding::kNone: return "HT-SHA-256-NONE";
    case HtBinding::kUnique: return "HT-SHA-256-UNIQ";
    case HtBinding::kEndpoint: return "HT-SHA-256-ENDP";
    case HtBinding::kExporter: return "HT-SHA-256-EXPR";
  }
  return "HT-SHA-256-NONE";
}

const char* ht_channel_binding_type(HtBinding b) {
  switch (b) {
    case HtBinding::kNone: return "";
    case HtBinding::kUnique: return "tls-unique";
    case HtBinding::kEndpoint: return "tls-server-end-point";
    case HtBinding::kExporter: return "tls-exporter";
  }
  return "";
}

std::string make_fast_token() { return util::random_id(72); }  // 96 characters of base64url

std::string fast_token_key(std::string_view token) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::optional<HtInitialResponse> parse_ht_initial_response(std::string_view message) {
  size_t nul = message.find('\0');
  if (nul == std::string_view::npos || nul == 0) return std::nullopt;
  std::string_view hash = message.substr(nul + 1);
  if (hash.size() != kHashSize) return std::nullopt;
  return HtInitialResponse{std::string(message.substr(0, nul)), std::string(hash)};
}

std::string ht_initiator_hash(std::string_view key, std::string_view cb_data) {
  return hmac_sha256(key, "Initiator", cb_data);
}

std::string ht_responder_hash(std::string_view key, std::string_view cb_data) {
  return hmac_sha256(key, "Responder", cb_data);
}

bool ht_verify(std::string_view stored_key, std::string_view cb_data, std::string_view initiator_hash) {
  if (stored_key.size() != kHashSize || initiator_hash.size() != kHashSize) return false;
  std::string expected = ht_initiator_hash(stored_key, cb_data);
  return CRYPTO_memcmp(expected.data(), initiator_hash.data(), kHashSize) == 0;
}

}  // namespace causerie::sasl
