#include "core/s2s/dialback_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/util/encoding.hpp"

namespace causerie::s2s {

std::string dialback_key(std::string_view secret, std::string_view receiving_server,
                         std::string_view originating_server, std::string_view stream_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hmac_key = util::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
  std::string text;
  text.reserve(receiving_server.size() + originating_server.size() + stream_id.size() + 2);
  text.append(receiving_server).append(1, ' ').append(originating_server).append(1, ' ').append(stream_id);
  HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &len);
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

bool dialback_key_matches(std::string_view key, std::string_view secret, std::string_view receiving_server,
                          std::string_view originating_server, std::string_view stream_id) {
  std::string expected = dialback_key(secret, receiving_server, originating_server, stream_id);
  return key.size() == expected.size() && CRYPTO_memcmp(key.data(), expected.data(), key.size()) == 0;
}

}  // namespace causerie::s2s
