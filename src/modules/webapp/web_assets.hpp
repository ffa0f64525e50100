// The web app's files (web/, built by web/build.mjs), embedded in the binary: each path with its content
// type, body, an optional gzip copy, whether its name carries a content hash (cacheable for ever) and an
// ETag. The table is generated at build time (web_assets.cpp in the build directory) and read-only.
#pragma once

#include <span>
#include <string_view>

namespace causerie::modules::webapp {

struct WebAsset {
  std::string_view path;  // "/index.html", "/app/main-HASH.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip;  // empty: no compressed copy
  bool immutable;
  std::string_view etag;  // quoted
};

std::span<const WebAsset> web_assets();

}  // namespace causerie::modules::webapp
