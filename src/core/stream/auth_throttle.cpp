#include "core/stream/auth_throttle.hpp"

#include <algorithm>

namespace causerie {

void AuthThrottle::expire(Clock::time_point now) {
  if (now - last_sweep_ < std::chrono::minutes(1)) return;
  last_sweep_ = now;
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.last > kForgetAfter; });
}

std::chrono::milliseconds AuthThrottle::record_failure(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  expire(now);
  Entry& e = entries_[address];
  if (now - e.last > kForgetAfter) e.failures = 0;
  e.failures++;
  e.last = now;
  if (e.failures <= free_failures_) return std::chrono::milliseconds(0);
  // 250 ms, 500 ms, 1 s, … capped.
  unsigned over = std::min(e.failures - free_failures_ - 1, 10u);
  return std::min(std::chrono::milliseconds(250LL << over), kMaxDelay);
}

unsigned AuthThrottle::failures(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(address);
  if (it == entries_.end() || now - it->second.last > kForgetAfter) return 0;
  return it->second.failures;
}

}  // namespace causerie
