// SASL failure throttling: free failures, then growing delays, capped, forgotten after a quiet period.
#include <gtest/gtest.h>

#include "core/stream/auth_throttle.hpp"

using causerie::AuthThrottle;
using namespace std::chrono_literals;

TEST(AuthThrottle, DelaysGrowAfterTheFreeFailuresAndAreCapped) {
  AuthThrottle t(3);
  auto now = AuthThrottle::Clock::time_point{} + 1h;
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 0ms);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 0ms);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 0ms);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 250ms);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 500ms);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), 1000ms);
  for (int i = 0; i < 20; ++i) t.record_failure("198.51.100.7", now);
  EXPECT_EQ(t.record_failure("198.51.100.7", now), AuthThrottle::kMaxDelay);
  // Another address is not affected.
  EXPECT_EQ(t.record_failure("203.0.113.9", now), 0ms);
  // After a quiet period the address starts over.
  auto later = now + AuthThrottle::kForgetAfter + 1s;
  EXPECT_EQ(t.failures("198.51.100.7", later), 0u);
  EXPECT_EQ(t.record_failure("198.51.100.7", later), 0ms);
}
