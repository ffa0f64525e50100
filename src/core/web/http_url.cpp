#include "core/web/http_url.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace causerie::web {

namespace {

constexpr size_t kMaxUrl = 4096;

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Percent-encodes what may not appear raw in a request target; refuses control characters (which could
// split the request line or a header).
std::optional<std::string> clean_target(std::string_view t) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : t) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return std::nullopt;
    if (c >= 0x80 || c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' ||
        c == '|' || c == '}') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  if (out.empty() || out[0] != '/') out.insert(0, "/");
  return out;
}

// An IP literal in its canonical text form ("::ffff:127.0.0.1"), or nullopt for anything else.
std::optional<std::string> canonical_ip(std::string_view text, bool v6) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  unsigned char bytes[16];
  int family = v6 ? AF_INET6 : AF_INET;
  if (inet_pton(family, s.c_str(), bytes) != 1) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, buf, sizeof buf);
  return std::string(buf);
}

bool starts_with_scheme(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
    ++i;
  return i > 0 && i < s.size() && s[i] == ':' && std::isalpha(static_cast<unsigned char>(s[0]));
}

}  // namespace

std::string HttpUrl::authority() const {
  std::string h = host_is_ip && host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string HttpUrl::to_string() const { return (tls ? "https://" : "http://") + authority() + target; }

std::optional<HttpUrl> parse_http_url(std::string_view text) {
  if (text.size() > kMaxUrl) return std::nullopt;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  HttpUrl u;
  auto lower_prefix = [&](std::string_view p) {
    if (text.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(text[i])) != p[i]) return false;
    return true;
  };
  if (lower_prefix("https://")) {
    u.tls = true;
    u.port = 443;
    text.remove_prefix(8);
  } else if (lower_prefix("http://")) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  size_t end = text.find_first_of("/?");
  std::string_view authority = text.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view() : text.substr(end);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials in URLs
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto ip = canonical_ip(authority.substr(1, close - 1), true);
    if (!ip) return std::nullopt;  // no zone ids, no IPvFuture
    u.host = *ip;
    u.host_is_ip = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.empty() || host.size() > 253) return std::nullopt;
    for (char c : host) {
      if (!host_char(c)) return std::nullopt;
      u.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (auto ip = canonical_ip(u.host, false)) {
      u.host = *ip;
      u.host_is_ip = true;
    }
  }
  if (authority.find(':') != std::string_view::npos && port_text.empty() && authority.back() != ']') {
    // "host:" is the default port (RFC 3986 §3.2.3)
  } else if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) return std::nullopt;
    u.port = static_cast<uint16_t>(port);
  }
  auto target = clean_target(rest);
  if (!target) return std::nullopt;
  u.target = std::move(*target);
  return u;
}

std::optional<HttpUrl> resolve_reference(const HttpUrl& base, std::string_view loc) {
  while (!loc.empty() && (loc.front() == ' ' || loc.front() == '\t')) loc.remove_prefix(1);
  while (!loc.empty() && (loc.back() == ' ' || loc.back() == '\t')) loc.remove_suffix(1);
  if (loc.empty() || loc.size() > kMaxUrl) return std::nullopt;
  if (starts_with_scheme(loc)) return parse_http_url(loc);
  if (loc.starts_with("//")) return parse_http_url(std::string(base.tls ? "https:" : "http:") + std::string(loc));
  if (auto hash = loc.find('#'); hash != std::string_view::npos) loc = loc.substr(0, hash);
  std::string path_only = base.target.substr(0, base.target.find('?'));
  std::string target;
  if (loc.empty()) target = base.target;
  else if (loc.front() == '/') target = std::string(loc);
  else if (loc.front() == '?') target = path_only + std::string(loc);
  else target = path_only.substr(0, path_only.rfind('/') + 1) + std::string(loc);
  auto cleaned = clean_target(target);
  if (!cleaned) return std::nullopt;
  HttpUrl u = base;
  u.target = std::move(*cleaned);
  return u;
}

}  // namespace causerie::web
