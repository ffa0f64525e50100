#include "modules/previews/image_proxy.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

#include "core/util/encoding.hpp"

namespace causerie::modules::previews {

namespace {

std::string base64url(std::string_view bytes) {
  std::string s = util::base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string sign_url(std::string_view secret, std::string_view url) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(url.data()),
       url.size(), mac, &len);
  return base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

bool signature_valid(std::string_view secret, std::string_view url, std::string_view signature) {
  std::string want = sign_url(secret, url);
  return signature.size() == want.size() && CRYPTO_memcmp(want.data(), signature.data(), want.size()) == 0;
}

std::string proxy_url(std::string_view base, std::string_view secret, std::string_view image_url) {
  return std::string(base) + kProxyPath + "?u=" + percent_encode(image_url) + "&s=" + sign_url(secret, image_url);
}

bool declared_image(std::string_view ct) {
  std::string t;
  for (char c : ct.substr(0, ct.find(';'))) {
    if (c == ' ' || c == '\t') continue;
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return t == "image/png" || t == "image/jpeg" || t == "image/jpg" || t == "image/pjpeg" || t == "image/gif" ||
         t == "image/webp" || t == "image/avif";
}

std::optional<std::string> sniff_image(std::string_view b) {
  if (b.starts_with("\x89PNG\r\n\x1a\n")) return "image/png";
  if (b.starts_with("\xff\xd8\xff")) return "image/jpeg";
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return "image/gif";
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return "image/webp";
  // ISO BMFF: size, "ftyp", major brand (HEIF images other than AVIF are not served: browsers lack them)
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp" && (b.substr(8, 4) == "avif" || b.substr(8, 4) == "avis"))
    return "image/avif";
  return std::nullopt;
}

}  // namespace causerie::modules::previews
