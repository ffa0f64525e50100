// XEP-0363 v1.1 HTTP File Upload (urn:xmpp:http:upload:0): the rules of the upload module as pure
// functions, so they are table-tested without a server: slot URL signatures, Range headers, which
// content types are served inline, file names in URLs. The module itself (upload.cpp) owns the service
// `upload.<host>`, the slots, the files under data_dir/upload/ and their HTTP routes.
//
// Thread rules: pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::upload {

// The signature of a PUT URL: hex HMAC-SHA256 under the server's secret over the path, the announced size
// and the slot's expiry (Unix seconds), so none of them can be changed by whoever holds the URL.
std::string slot_signature(std::string_view secret, std::string_view path, uint64_t size, int64_t expiry);
// Constant-time comparison of a received signature with the expected one.
bool signature_matches(std::string_view secret, std::string_view path, uint64_t size, int64_t expiry,
                       std::string_view received);

// A single byte range of a file of `size` bytes (RFC 9110 §14.1.2), [first, last] inclusive.
struct ByteRange {
  uint64_t first = 0, last = 0;
};
// nullopt: no usable Range (absent, another unit, several ranges: the whole file is served, §14.2 allows
// ignoring it). An unsatisfiable range yields first > last (answered 416).
std::optional<ByteRange> parse_range(std::string_view header, uint64_t size);

// Whether a file of this declared type may be shown inline by a browser: images (not SVG, which runs
// scripts), audio, video, PDF and plain text. Everything else is sent as a download.
bool inline_type(std::string_view content_type);
// The Content-Type a GET answers with: the declared type when inline_type, else application/octet-stream.
std::string served_type(std::string_view content_type);

// The file name as it appears in the URL path: letters, digits, '.', '-' and '_' kept, anything else
// replaced by '_', no leading dot, at most 100 characters; "file" when nothing is left.
std::string url_file_name(std::string_view filename);

}  // namespace causerie::modules::upload
