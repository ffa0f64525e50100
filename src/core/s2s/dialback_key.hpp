// Server dialback keys (XEP-0220 §2.1.1, generated as XEP-0185 recommends). Pure functions, any thread.
//
// key = hex(HMAC-SHA256(hex(SHA256(secret)), Receiving Server + ' ' + Originating Server + ' ' + Stream ID))
//
// The HMAC key is the *hex text* of SHA256(secret): that is what the examples of XEP-0220 §2.1.1 and
// §2.4 compute (both are test vectors in tests/unit/dialback_key_test.cpp) and what other servers send.
// The secret never leaves this server: the Authoritative Server recomputes the key to answer
// <db:verify/>, so it has to be the same on every node that can receive those requests.
#pragma once

#include <string>
#include <string_view>

namespace causerie::s2s {

// The key an Originating Server sends in <db:result/> on a stream with id `stream_id` opened by the
// Receiving Server: lower-case hex, 64 characters.
std::string dialback_key(std::string_view secret, std::string_view receiving_server,
                         std::string_view originating_server, std::string_view stream_id);

// Whether `key` (as received in <db:verify/>) is the key for these inputs; compares in constant time.
bool dialback_key_matches(std::string_view key, std::string_view secret, std::string_view receiving_server,
                          std::string_view originating_server, std::string_view stream_id);

}  // namespace causerie::s2s
