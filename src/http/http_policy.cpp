#include "http/http_policy.hpp"

#include <algorithm>
#include <cctype>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // never in a URL we build
    out += c;
  }
  out += '"';
}

}  // namespace

bool header_has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string> cors_allow_origin(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return std::nullopt;
  for (const auto& a : allowed) {
    if (a == "*") return std::string("*");
    // Fetch §3.2.5: the serialized origin compares as a string; scheme and host are case-insensitive.
    if (iequals(a, origin)) return std::string(origin);
  }
  return std::nullopt;
}

HeaderList cors_preflight_headers(std::string_view allow_origin, std::string_view requested_headers) {
  HeaderList h;
  h.emplace_back("Access-Control-Allow-Origin", std::string(allow_origin));
  h.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
  // Only simple, credential-free headers are needed by BOSH and pages; echo them when they are such.
  std::string allow = "Content-Type";
  std::string_view rest = requested_headers;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view name = trim(rest.substr(0, comma));
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
    });
    if (token && !iequals(name, "content-type") && !iequals(name, "authorization") && !iequals(name, "cookie")) {
      allow += ", ";
      allow += name;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  h.emplace_back("Access-Control-Allow-Headers", allow);
  h.emplace_back("Access-Control-Max-Age", "86400");
  if (allow_origin != "*") h.emplace_back("Vary", "Origin");
  return h;
}

HeaderList security_headers(bool tls, std::chrono::seconds hsts_max_age) {
  HeaderList h;
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Content-Security-Policy", "frame-ancestors 'none'");
  h.emplace_back("Referrer-Policy", "no-referrer");
  if (tls && hsts_max_age.count() > 0)
    h.emplace_back("Strict-Transport-Security", "max-age=" + std::to_string(hsts_max_age.count()));
  return h;
}

std::string safe_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return {};
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return {};
    for (char c : host.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return {};
    name = {};
    port = host.substr(close + 1);
    if (!port.empty() && port.front() != ':') return {};
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon);
    }
    if (name.empty()) return {};
    for (char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return {};
  }
  if (!port.empty()) {
    port.remove_prefix(1);
    if (port.empty() || port.size() > 5) return {};
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c))) return {};
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Endpoints endpoints_for(bool tls, std::string_view host, std::string_view bosh_path, std::string_view ws_path) {
  Endpoints e;
  e.bosh = std::string(tls ? "https://" : "http://").append(host).append(bosh_path);
  e.websocket = std::string(tls ? "wss://" : "ws://").append(host).append(ws_path);
  return e;
}

std::string host_meta_xrd(const Endpoints& e) {
  std::string out = "<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='";
  out += ns::kXrd;
  out += "'>\n  <Link rel='urn:xmpp:alt-connections:xbosh' href='";
  xml::append_escaped(out, e.bosh, true);
  out += "'/>\n  <Link rel='urn:xmpp:alt-connections:websocket' href='";
  xml::append_escaped(out, e.websocket, true);
  out += "'/>\n</XRD>\n";
  return out;
}

std::string host_meta_json(const Endpoints& e) {
  std::string out = "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:xbosh\",\"href\":";
  json_string(out, e.bosh);
  out += "},{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":";
  json_string(out, e.websocket);
  out += "}]}\n";
  return out;
}

}  // namespace causerie::http
