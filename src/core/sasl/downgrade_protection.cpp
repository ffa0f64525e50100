#include "core/sasl/downgrade_protection.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include "core/util/encoding.hpp"

namespace causerie::sasl {

namespace {

void append_sorted(std::string& s, std::vector<std::string> names) {
  std::sort(names.begin(), names.end());  // std::string's < compares octets: RFC 4790 i;octet
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += '\x1e';
    s += names[i];
  }
}

}  // namespace

std::string downgrade_protection_hash(ScramHash hash, std::vector<std::string> mechanisms,
                                      std::optional<std::vector<std::string>> channel_bindings) {
  std::string s;
  append_sorted(s, std::move(mechanisms));
  if (channel_bindings) {
    s += '\x1f';
    append_sorted(s, std::move(*channel_bindings));
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), out, &len, hash == ScramHash::kSha1 ? EVP_sha1() : EVP_sha256(), nullptr);
  return util::base64_encode(std::string_view(reinterpret_cast<char*>(out), len));
}

}  // namespace causerie::sasl
