#include "modules/webpush/message_encryption.hpp"

#include "core/util/encoding.hpp"
#include "modules/webpush/aes128gcm.hpp"

namespace causerie::modules::webpush {

std::string webpush_ikm(const EcKey& as_key, const EcKey& ua_public, std::string_view auth_secret) {
  std::string ecdh_secret = as_key.ecdh(ua_public);
  // §3.4: PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret);
  //       key_info = "WebPush: info" || 0x00 || ua_public || as_public;
  //       IKM = HMAC-SHA-256(PRK_key, key_info || 0x01).
  std::string prk_key = hkdf_extract(auth_secret, ecdh_secret);
  std::string key_info("WebPush: info", 13);
  key_info.push_back('\0');
  key_info += ua_public.public_point();
  key_info += as_key.public_point();
  return hkdf_expand(prk_key, key_info, 32);
}

std::optional<std::string> encrypt_message(const EncryptionInputs& in, std::string_view plaintext) {
  if (in.auth_secret.size() != 16) return std::nullopt;
  Aes128gcmParams p;
  p.ikm = webpush_ikm(in.as_key, in.ua_public, in.auth_secret);
  p.salt = in.salt;
  p.record_size = 4096;
  p.key_id = in.as_key.public_point();  // §4: the keyid is the sender's public key
  p.padding = in.padding;
  auto body = aes128gcm_encrypt_record(p, plaintext);
  if (!body || body->size() > kMaxEncryptedSize) return std::nullopt;
  return body;
}

std::optional<std::string> encrypt_message(const EcKey& ua_public, std::string_view auth_secret,
                                           std::string_view plaintext) {
  EncryptionInputs in{ua_public, std::string(auth_secret), EcKey::generate(), util::random_bytes(16), 0};
  return encrypt_message(in, plaintext);
}

}  // namespace causerie::modules::webpush
