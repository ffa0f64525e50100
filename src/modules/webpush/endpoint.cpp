#include "modules/webpush/endpoint.hpp"

#include <algorithm>
#include <charconv>

namespace causerie::modules::webpush {

namespace {

constexpr size_t kMaxUrl = 1024;

std::optional<PushEndpoint> refuse(std::string* error, const char* why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

std::string PushEndpoint::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string o = (https ? "https://" : "http://") + h;
  if (port != (https ? 443 : 80)) o += ":" + std::to_string(port);
  return o;
}

std::optional<PushEndpoint> PushEndpoint::parse(std::string_view url, std::string* error) {
  if (url.size() > kMaxUrl) return refuse(error, "the endpoint URL is too long");
  for (char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return refuse(error, "the endpoint URL has spaces, controls or non-ASCII characters");
  PushEndpoint e;
  e.url = std::string(url);
  std::string_view rest = url;
  auto starts_icase = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() && std::equal(p.begin(), p.end(), s.begin(), [](char a, char b) {
             return a == (b >= 'A' && b <= 'Z' ? b + 32 : b);
           });
  };
  if (starts_icase(rest, "https://")) {
    rest.remove_prefix(8);
  } else if (starts_icase(rest, "http://")) {
    e.https = false;
    e.port = 80;
    rest.remove_prefix(7);
  } else {
    return refuse(error, "the endpoint must be an https URL");
  }
  if (rest.find('#') != std::string_view::npos) return refuse(error, "the endpoint URL has a fragment");
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  e.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (e.target.front() == '?') e.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return refuse(error, "the endpoint URL has user information");
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return refuse(error, "the endpoint URL has a malformed IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return refuse(error, "the endpoint URL has a malformed authority");
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return refuse(error, "the endpoint URL has no host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == ':';
    if (!ok) return refuse(error, "the endpoint URL's host has characters a host name cannot have");
  }
  e.host.assign(host);
  std::transform(e.host.begin(), e.host.end(), e.host.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
  if (!port.empty()) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535)
      return refuse(error, "the endpoint URL has an invalid port");
    e.port = static_cast<uint16_t>(v);
  }
  return e;
}

}  // namespace causerie::modules::webpush
