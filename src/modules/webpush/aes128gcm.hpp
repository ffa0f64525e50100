// RFC 8188 "Encrypted Content-Encoding for HTTP", the aes128gcm coding, as Web Push uses it (RFC 8291
// §4: one record, the key id carrying the sender's public key), and the HKDF-SHA-256 (RFC 5869) both
// RFCs derive their keys with.
//
// Thread rules: free functions on values; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::webpush {

// RFC 5869 §2.2 and §2.3 with SHA-256 (`length` ≤ 32: one block is all these RFCs need).
std::string hkdf_extract(std::string_view salt, std::string_view ikm);
std::string hkdf_expand(std::string_view prk, std::string_view info, size_t length);

struct Aes128gcmParams {
  std::string ikm;    // input keying material (RFC 8291: the IKM of §3.4)
  std::string salt;   // 16 octets, random for each message (§2.1)
  uint32_t record_size = 4096;  // rs (§2.1): at least 18
  std::string key_id;           // at most 255 octets
  size_t padding = 0;           // zero octets after the delimiter (§2: hides the length)
};

// The whole content body (§2.1 header, then the single record): nullopt when the plaintext, its
// delimiter, padding and the 16-octet tag do not fit in one record of `record_size`, or the parameters
// are out of range. The record is the last one, so its delimiter is 0x02 (§2).
std::optional<std::string> aes128gcm_encrypt_record(const Aes128gcmParams& p, std::string_view plaintext);

// The CEK and nonce of §2.2 and §2.3 for one salt and IKM (the nonce of record 0), for tests and logs.
struct ContentKeys {
  std::string prk, cek, nonce;
};
ContentKeys aes128gcm_keys(std::string_view salt, std::string_view ikm);

}  // namespace causerie::modules::webpush
