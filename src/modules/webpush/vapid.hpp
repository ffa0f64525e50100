// RFC 8292 VAPID: the application server identifies itself to push services with an ES256-signed JWT
// (RFC 7519, RFC 7515) whose "aud" is the push resource's origin, "exp" at most 24 hours ahead and "sub"
// a contact (mailto: or https:), sent as `Authorization: vapid t=<JWT>, k=<public key>` (§3).
//
// Thread rules: free functions on values; any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "modules/webpush/ec_key.hpp"

namespace causerie::modules::webpush {

// §2: "the exp claim MUST NOT be more than 24 hours from the time of the request"; 12 h leaves room
// for a push service's clock that runs ahead.
inline constexpr std::chrono::hours kVapidLifetime{12};

struct VapidClaims {
  std::string aud;  // the endpoint's origin
  std::chrono::system_clock::time_point exp;
  std::string sub;  // "mailto:…" or "https:…"; may be empty (then left out)
};

// header.claims.signature, each base64url (RFC 7515 §7.1 compact serialization).
std::string vapid_jwt(const EcKey& key, const VapidClaims& claims);
// The Authorization header's value (§3): "vapid t=<jwt>, k=<base64url of the public point>".
std::string vapid_authorization(const EcKey& key, const VapidClaims& claims);

// A JSON string literal (RFC 8259 §7) of UTF-8 text: what the JWT claims and push payloads are made of.
std::string json_string(std::string_view text);

}  // namespace causerie::modules::webpush
