// A server secret kept in the data directory (HMAC keys of upload slots and proxy URLs, the s2s dialback
// secret): made once, then read back at every start, so what was signed before a restart still verifies.
#pragma once

#include <cstddef>
#include <string>

namespace causerie::util {

// The first line of `path` when it holds at least `min_length` characters; otherwise a new secret (64 hex
// characters from 32 random bytes) written there, readable by the owner only. Throws ConfigError when it
// cannot be written.
std::string load_or_create_secret(const std::string& path, size_t min_length = 32);

}  // namespace causerie::util
