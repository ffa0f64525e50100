// RFC 8291 "Message Encryption for Web Push": a push message's payload encrypted for one subscription
// (the user agent's P-256 key `p256dh` and 16-octet `auth` secret), with a fresh ephemeral key pair and
// salt for every message, in the aes128gcm coding (RFC 8188) with a single record.
//
// Thread rules: free functions on values; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modules/webpush/ec_key.hpp"

namespace causerie::modules::webpush {

// RFC 8291 §4: "the push message ... MUST NOT be larger than 4096 octets" once encrypted, header
// included; the plaintext that fits after the 86-octet header, the delimiter and the tag is 3993 octets.
inline constexpr size_t kMaxEncryptedSize = 4096;
inline constexpr size_t kMaxPlaintext = kMaxEncryptedSize - 86 - 1 - 16;

struct EncryptionInputs {
  EcKey ua_public;          // the subscription's p256dh
  std::string auth_secret;  // the subscription's auth, 16 octets
  EcKey as_key;             // the application server's ephemeral key pair (§3.1)
  std::string salt;         // 16 random octets
  size_t padding = 0;
};

// §3.3 and §3.4: the IKM, from the ECDH secret and the auth secret.
std::string webpush_ikm(const EcKey& as_key, const EcKey& ua_public, std::string_view auth_secret);

// The message body (§4): nullopt when the plaintext would make it larger than 4096 octets, or the auth
// secret is not 16 octets.
std::optional<std::string> encrypt_message(const EncryptionInputs& in, std::string_view plaintext);

// The same with a fresh ephemeral key and salt (what the server sends).
std::optional<std::string> encrypt_message(const EcKey& ua_public, std::string_view auth_secret, std::string_view plaintext);

}  // namespace causerie::modules::webpush
