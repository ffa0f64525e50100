// How the web app's files are answered over HTTP: the page at "/", its assets, caching (hashed names for a
// year, the rest revalidated by ETag), gzip when the client accepts it, and the strict Content-Security-
// Policy the app runs under (its own origin only: scripts, styles, images, the WebSocket). Pure functions,
// any thread.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/web/routes.hpp"
#include "modules/webapp/web_assets.hpp"

namespace causerie::modules::webapp {

// The file served at `path` ("/" is the app's page), or nullptr.
const WebAsset* find_asset(std::span<const WebAsset> assets, std::string_view path);

// The answer to a GET of `asset` with the request's headers (If-None-Match, Accept-Encoding).
web::Response asset_response(const WebAsset& asset, const web::Request& req);

inline constexpr std::string_view kAppCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; font-src 'self'; media-src 'self' blob:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

}  // namespace causerie::modules::webapp
