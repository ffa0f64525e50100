// Byte encodings (base64, hex) and secure random values. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causerie::util {

std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 decoding (padding required, no whitespace); nullopt on any malformed input.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex_encode(std::string_view bytes);
// RFC 4648 §5 base64url without padding (JWTs, Web Push keys). Decoding also accepts '=' padding at the
// end, as some clients send it; nullopt on any other malformed input.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);
// %xx escapes decoded, every other byte kept ('+' included); nullopt for a '%' not followed by two hex
// digits. (core/web/routes.hpp's percent_decode is the lenient one for URLs.)
std::optional<std::string> percent_decode_strict(std::string_view text);

// Cryptographically secure random bytes (OpenSSL RAND_bytes).
std::string random_bytes(size_t n);
// A random identifier of printable characters, for stream ids, resources, nonces.
std::string random_id(size_t bytes = 12);

}  // namespace causerie::util
