#include "core/web/outbound_http.hpp"

#include <strings.h>

namespace causerie::web {

const char* to_string(OutboundFailure f) {
  switch (f) {
    case OutboundFailure::kNone: return "none";
    case OutboundFailure::kBadUrl: return "bad-url";
    case OutboundFailure::kRefused: return "refused";
    case OutboundFailure::kDns: return "dns";
    case OutboundFailure::kConnect: return "connect";
    case OutboundFailure::kTls: return "tls";
    case OutboundFailure::kTimeout: return "timeout";
    case OutboundFailure::kTooLarge: return "too-large";
    case OutboundFailure::kProtocol: return "protocol";
    case OutboundFailure::kTooManyRedirects: return "too-many-redirects";
    case OutboundFailure::kBusy: return "busy";
  }
  return "?";
}

std::string OutboundResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

}  // namespace causerie::web
