// The image proxy's pure parts: signed proxy URLs and the checks on what is served.
//
// A proxy URL is <base>/proxy/image?u=<the image URL, percent-encoded>&s=<signature>, the signature being
// HMAC-SHA-256 over the image URL with the server's secret (data_dir/preview_secret), base64url. Only
// the server makes such URLs (for the images of the previews it builds), so the proxy is not open: a URL
// it did not sign gets 403 before anything is fetched.
//
// What comes back is served only if it is an image both by its declared Content-Type (image/*, not SVG,
// which may carry script) and by its first bytes (PNG, JPEG, GIF, WebP, AVIF), under the sniffed type.
// Pure functions: any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::previews {

inline constexpr const char* kProxyPath = "/proxy/image";

std::string sign_url(std::string_view secret, std::string_view url);
bool signature_valid(std::string_view secret, std::string_view url, std::string_view signature);
// `base` without a trailing slash ("https://example.org:5281").
std::string proxy_url(std::string_view base, std::string_view secret, std::string_view image_url);

// The declared Content-Type is an image type the proxy serves (parameters ignored).
bool declared_image(std::string_view content_type);
// The media type the content's magic bytes show, or nullopt when it is none the proxy serves.
std::optional<std::string> sniff_image(std::string_view body);

}  // namespace causerie::modules::previews
