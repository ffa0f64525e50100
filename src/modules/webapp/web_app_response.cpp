#include "modules/webapp/web_app_response.hpp"

#include <cstdlib>
#include <string>

namespace causerie::modules::webapp {
namespace {

// Whether an Accept-Encoding header lists `coding` (or "*") with a q-value above zero (RFC 9110 §12.5.3).
bool accepts(std::string_view header, std::string_view coding) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    size_t semi = part.find(';');
    std::string_view name = part.substr(0, semi);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name != coding && name != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string params(part.substr(semi + 1));
    size_t q = params.find("q=");
    return q == std::string::npos || std::strtod(params.c_str() + q + 2, nullptr) > 0;
  }
  return false;
}

// If-None-Match: "*" or a list of entity tags (weak comparison for GET, RFC 9110 §13.1.2).
bool etag_matches(std::string_view header, std::string_view etag) {
  return header == "*" || (!header.empty() && header.find(etag) != std::string_view::npos);
}

}  // namespace

const WebAsset* find_asset(std::span<const WebAsset> assets, std::string_view path) {
  if (path == "/" || path.empty()) path = "/index.html";
  for (const auto& a : assets)
    if (a.path == path) return &a;
  return nullptr;
}

web::Response asset_response(const WebAsset& asset, const web::Request& req) {
  web::Response r;
  r.content_type = std::string(asset.content_type);
  r.headers.emplace_back("ETag", std::string(asset.etag));
  r.headers.emplace_back("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  if (asset.content_type.starts_with("text/html")) r.headers.emplace_back("Content-Security-Policy", std::string(kAppCsp));
  if (asset.path == "/sw.js") r.headers.emplace_back("Service-Worker-Allowed", "/");
  if (etag_matches(req.header("if-none-match"), asset.etag)) {
    r.status = 304;
    return r;
  }
  if (!asset.gzip.empty() && accepts(req.header("accept-encoding"), "gzip")) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = std::string(asset.gzip);
  } else {
    r.body = std::string(asset.body);
  }
  return r;
}

}  // namespace causerie::modules::webapp
