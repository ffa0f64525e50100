// PushEndpoint: a push subscription's endpoint URL (RFC 8030 §4, the push resource), split into what
// delivery needs: the origin VAPID signs for (RFC 8292 §2: aud), and the host, port and target of the
// POST. Only absolute http(s) URLs with a host are accepted; user info and fragments are refused.
//
// Thread rules: a value; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::webpush {

struct PushEndpoint {
  std::string url;     // as given
  bool https = true;
  std::string host;    // lower-cased; an IPv6 literal without its brackets
  uint16_t port = 443;
  std::string target;  // path and query, "/" at least

  // RFC 6454 §6.2 ASCII serialization: scheme "://" host [":" port unless the scheme's default].
  std::string origin() const;

  // nullopt with `error` set for anything else than an absolute http(s) URL with a host (at most 1024
  // characters: what a browser's push service hands out is far shorter).
  static std::optional<PushEndpoint> parse(std::string_view url, std::string* error = nullptr);
};

}  // namespace causerie::modules::webpush
