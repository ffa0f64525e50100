// TransportGuard: the establishment deadline, idle detection and output bound every transport applies,
// driven by the times the test gives it.
#include <gtest/gtest.h>

#include "core/stream/transport_guard.hpp"

using namespace causerie;
using namespace std::chrono_literals;

TEST(TransportGuard, UnestablishedStreamTimesOutAfterTheLimit) {
  LimitsConfig limits;
  limits.unauthenticated_timeout = 60s;
  TransportGuard::Clock::time_point t0{};
  TransportGuard g(limits, t0);
  EXPECT_EQ(g.sweep(t0 + 30s), TransportGuard::Sweep::kNothing);
  g.input();  // input does not extend the deadline: authentication must finish in time
  EXPECT_EQ(g.sweep(t0 + 61s), TransportGuard::Sweep::kTimedOut);
}

TEST(TransportGuard, EstablishedStreamIsIdleOnlyAfterAQuietPeriod) {
  LimitsConfig limits;
  TransportGuard::Clock::time_point t0{};
  TransportGuard g(limits, t0);
  g.established();
  g.input();
  EXPECT_EQ(g.sweep(t0 + 1h), TransportGuard::Sweep::kNothing);  // input since the last sweep
  EXPECT_EQ(g.sweep(t0 + 2h), TransportGuard::Sweep::kIdle);     // none since
  g.input();
  EXPECT_EQ(g.sweep(t0 + 3h), TransportGuard::Sweep::kNothing);
}

TEST(TransportGuard, OutputBound) {
  LimitsConfig limits;
  limits.max_output_queue_bytes = 1000;
  TransportGuard g(limits, {});
  EXPECT_TRUE(g.output_fits(1000));
  EXPECT_FALSE(g.output_fits(1001));
}
