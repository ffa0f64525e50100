// Wall-clock time in the XEP-0082 profiles (always UTC). Pure functions, any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::util {

using SystemTime = std::chrono::system_clock::time_point;

// XEP-0082 DateTime, e.g. 2026-11-22T01:50:46.123Z (milliseconds only when non-zero).
std::string format_datetime(SystemTime t);
// Accepts the XEP-0082 DateTime profile, with or without fractions, Z or ±hh:mm.
std::optional<SystemTime> parse_datetime(std::string_view s);
int64_t unix_seconds(SystemTime t);
SystemTime from_unix_seconds(int64_t s);

}  // namespace causerie::util
