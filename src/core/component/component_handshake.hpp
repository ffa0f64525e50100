// The XEP-0114 (v1.6) handshake value: lower-case hex of SHA1(stream id + shared secret) (§3, steps 1–4).
// Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

namespace causerie::component {

// What a component sends in <handshake/> on a stream whose id is `stream_id`: 40 lower-case hex digits.
std::string handshake_digest(std::string_view stream_id, std::string_view secret);

// Whether `value` (the text of the component's <handshake/>) is that digest. Hex digits are compared
// without regard to case (§3 step 4 asks the component for lower case; upper case carries the same
// hash), in constant time.
bool handshake_matches(std::string_view value, std::string_view stream_id, std::string_view secret);

}  // namespace causerie::component
