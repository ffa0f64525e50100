// web::HttpUrl: an absolute http(s) URL as the server's outbound client uses it (core/web/outbound_http.hpp),
// parsed strictly: the scheme, a host (a name or an IP literal), a port and the request target, nothing
// else (no user info). Modules use it to key caches and to resolve URLs found in pages; the fetcher
// (net::HttpFetcher) to know where to connect. Pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::web {

// An absolute http(s) URL as the fetcher uses it.
struct HttpUrl {
  bool tls = false;
  std::string host;  // lower case; an IPv6 literal without brackets
  bool host_is_ip = false;
  uint16_t port = 80;
  std::string target = "/";  // path and query, percent-encoded where needed, never empty

  // "host", "host:8080", "[::1]:8080": the Host header (the port only when not the scheme's default).
  std::string authority() const;
  std::string to_string() const;
  bool same_origin(const HttpUrl& o) const { return tls == o.tls && host == o.host && port == o.port; }
};

// Parses an absolute http:// or https:// URL; nullopt for anything else (other schemes, user info, a bad
// host or port, control characters, over 4096 bytes). The fragment is dropped; spaces and non-ASCII
// bytes in the path and query are percent-encoded.
std::optional<HttpUrl> parse_http_url(std::string_view text);
// A redirect's Location (absolute, scheme-relative, absolute-path or relative) against the URL it came from.
std::optional<HttpUrl> resolve_reference(const HttpUrl& base, std::string_view location);

}  // namespace causerie::web
