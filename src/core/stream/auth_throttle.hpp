// AuthThrottle: slows down repeated SASL failures from one address (RFC 6120 §6.4.5 leaves the policy to
// us; we answer every failure beyond the first few later and later, up to a cap, and forget an address
// after a quiet period). Any thread: one mutex, taken only on failures and on new attempts.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace causerie {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit AuthThrottle(unsigned free_failures = 3) : free_failures_(free_failures) {}
  // A reload's new [limits] auth_failures_before_delay.
  void set_free_failures(unsigned n) {
    std::lock_guard lock(mutex_);
    free_failures_ = n;
  }

  // Records a failure and returns how long to wait before answering it.
  std::chrono::milliseconds record_failure(const std::string& address, Clock::time_point now = Clock::now());
  // Failures currently counted for an address.
  unsigned failures(const std::string& address, Clock::time_point now = Clock::now());

  static constexpr std::chrono::milliseconds kMaxDelay{8000};
  static constexpr std::chrono::minutes kForgetAfter{10};

 private:
  struct Entry {
    unsigned failures = 0;
    Clock::time_point last;
  };
  void expire(Clock::time_point now);
  unsigned free_failures_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  Clock::time_point last_sweep_{};
};

}  // namespace causerie
