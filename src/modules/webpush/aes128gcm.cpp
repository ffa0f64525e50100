#include "modules/webpush/aes128gcm.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace causerie::modules::webpush {

namespace {

constexpr size_t kTagSize = 16;
constexpr size_t kHeaderFixed = 21;  // salt (16) + rs (4) + idlen (1)

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[32];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw std::runtime_error("webpush: HMAC-SHA-256 failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string hkdf_extract(std::string_view salt, std::string_view ikm) { return hmac_sha256(salt, ikm); }

std::string hkdf_expand(std::string_view prk, std::string_view info, size_t length) {
  if (length > 32) throw std::invalid_argument("hkdf_expand: one block only");
  std::string t(info);
  t.push_back('\x01');  // T(1) = HMAC(PRK, info || 0x01)
  return hmac_sha256(prk, t).substr(0, length);
}

ContentKeys aes128gcm_keys(std::string_view salt, std::string_view ikm) {
  ContentKeys k;
  k.prk = hkdf_extract(salt, ikm);
  // §2.2 and §2.3: the info strings end with one zero octet.
  k.cek = hkdf_expand(k.prk, std::string_view("Content-Encoding: aes128gcm\0", 28), 16);
  k.nonce = hkdf_expand(k.prk, std::string_view("Content-Encoding: nonce\0", 24), 12);
  return k;
}

std::optional<std::string> aes128gcm_encrypt_record(const Aes128gcmParams& p, std::string_view plaintext) {
  if (p.salt.size() != 16 || p.key_id.size() > 255 || p.record_size < 18) return std::nullopt;
  // §2: a record is the plaintext, the delimiter, padding, then the tag; all within rs.
  if (plaintext.size() + 1 + p.padding + kTagSize > p.record_size) return std::nullopt;
  ContentKeys keys = aes128gcm_keys(p.salt, p.ikm);

  std::string out;
  out.reserve(kHeaderFixed + p.key_id.size() + plaintext.size() + 1 + p.padding + kTagSize);
  out += p.salt;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((p.record_size >> shift) & 0xff));
  out.push_back(static_cast<char>(p.key_id.size()));
  out += p.key_id;

  std::string record(plaintext);
  record.push_back('\x02');  // the last (here the only) record
  record.append(p.padding, '\0');

  // §2.3: the nonce of record 0 is NONCE XOR 0, i.e. NONCE itself.
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string sealed(record.size() + kTagSize, '\0');
  int len = 0, fin = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(keys.cek.data()),
                               reinterpret_cast<const unsigned char*>(keys.nonce.data())) == 1 &&
            EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(sealed.data()), &len,
                              reinterpret_cast<const unsigned char*>(record.data()), static_cast<int>(record.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(sealed.data()) + len, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                                sealed.data() + record.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || static_cast<size_t>(len + fin) != record.size()) throw std::runtime_error("webpush: AES-128-GCM failed");
  out += sealed;
  return out;
}

}  // namespace causerie::modules::webpush
