// RateLimiter: a token bucket, `rate` events per second on average with bursts of up to 2×rate, over the
// times it is given. One owner's thread (an HTTP connection, an incoming server stream).
#pragma once

#include <algorithm>
#include <chrono>

namespace causerie {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(unsigned rate) : rate_(rate), tokens_(2.0 * rate) {}

  bool allow(Clock::time_point now) {
    if (last_ != Clock::time_point{}) {
      double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(2.0 * rate_, tokens_ + elapsed * rate_);
    }
    last_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace causerie
