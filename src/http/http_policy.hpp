// HTTP policy: the pure decisions of the HTTP listener, apart from any I/O so they can be tested as
// tables — header token lists, CORS (Fetch standard §3.2), the security headers every response carries,
// a Host header we are willing to echo, XEP-0156 host-meta documents, and the per-connection request
// rate limit. Free functions and values; any thread.
#pragma once

#include "core/util/rate_limiter.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causerie::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Whether a comma-separated header value ("Upgrade, keep-alive", "xmpp, mqtt") holds `token`,
// case-insensitively.
bool header_has_token(std::string_view list, std::string_view token);

// The Access-Control-Allow-Origin value for a request from `origin`, or nullopt when that origin is not
// allowed (or the request carries no Origin). `allowed` holds origins ("https://app.example") or "*".
std::optional<std::string> cors_allow_origin(const std::vector<std::string>& allowed, std::string_view origin);

// Headers answering a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin.
HeaderList cors_preflight_headers(std::string_view allow_origin, std::string_view requested_headers);

// Headers on every response: no MIME sniffing, no framing by other sites, no referrer leaks, and HSTS
// when the response goes over TLS (RFC 6797 §7.2: never over plain HTTP).
HeaderList security_headers(bool tls, std::chrono::seconds hsts_max_age);

// The Host header if it is a plausible "name[:port]" or "[v6]:port" (so it may be echoed into URLs),
// else "".
std::string safe_host(std::string_view host_header);

// XEP-0156 §3: the XRD and JRD documents advertising our BOSH and WebSocket endpoints.
struct Endpoints {
  std::string bosh;       // "https://host:5281/http-bind"
  std::string websocket;  // "wss://host:5281/xmpp-websocket"
};
Endpoints endpoints_for(bool tls, std::string_view host, std::string_view bosh_path, std::string_view ws_path);
std::string host_meta_xrd(const Endpoints& e);
std::string host_meta_json(const Endpoints& e);

// Each HTTP connection has a token bucket; a client over it is answered 429 and disconnected.
using RateLimiter = causerie::RateLimiter;

}  // namespace causerie::http
