#include "core/component/component_handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/util/encoding.hpp"

namespace causerie::component {

std::string handshake_digest(std::string_view stream_id, std::string_view secret) {
  std::string input;
  input.reserve(stream_id.size() + secret.size());
  input.append(stream_id).append(secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  OPENSSL_cleanse(input.data(), input.size());
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

bool handshake_matches(std::string_view value, std::string_view stream_id, std::string_view secret) {
  std::string expected = handshake_digest(stream_id, secret);
  if (value.size() != expected.size()) return false;
  std::string lowered(value);
  for (char& ch : lowered)
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
  return CRYPTO_memcmp(lowered.data(), expected.data(), expected.size()) == 0;
}

}  // namespace causerie::component
