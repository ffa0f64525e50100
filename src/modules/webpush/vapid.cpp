#include "modules/webpush/vapid.hpp"

#include <cstdio>

#include "core/util/encoding.hpp"

namespace causerie::modules::webpush {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out += '"';
  return out;
}

std::string vapid_jwt(const EcKey& key, const VapidClaims& claims) {
  std::string header = R"({"typ":"JWT","alg":"ES256"})";
  long long exp = std::chrono::duration_cast<std::chrono::seconds>(claims.exp.time_since_epoch()).count();
  std::string body = "{\"aud\":" + json_string(claims.aud) + ",\"exp\":" + std::to_string(exp);
  if (!claims.sub.empty()) body += ",\"sub\":" + json_string(claims.sub);
  body += "}";
  std::string signing_input = util::base64url_encode(header) + "." + util::base64url_encode(body);
  return signing_input + "." + util::base64url_encode(key.sign_es256(signing_input));
}

std::string vapid_authorization(const EcKey& key, const VapidClaims& claims) {
  return "vapid t=" + vapid_jwt(key, claims) + ", k=" + util::base64url_encode(key.public_point());
}

}  // namespace causerie::modules::webpush
