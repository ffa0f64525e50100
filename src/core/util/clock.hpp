// Clock: the server's time, injected (DESIGN §8 "time is injected") so that what depends on it —
// resumption windows, retention, expiry, last activity — is tested by moving a clock, not by waiting.
// SystemClock is the real one; ManualClock starts at the real time and moves only when told to (tests,
// and `[testing] manual_clock`, where an admin-only command moves it). Any thread.
#pragma once

#include <atomic>
#include <chrono>

namespace causerie {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall-clock time (UTC), for what is stored or shown.
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
};

class ManualClock final : public Clock {
 public:
  ManualClock()
      : steady_(std::chrono::steady_clock::now().time_since_epoch().count()),
        wall_(std::chrono::system_clock::now().time_since_epoch().count()) {}
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(steady_.load()));
  }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::system_clock::duration(wall_.load()));
  }
  void advance(std::chrono::nanoseconds d) {
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
  }

 private:
  std::atomic<std::chrono::steady_clock::rep> steady_;
  std::atomic<std::chrono::system_clock::rep> wall_;
};

}  // namespace causerie
