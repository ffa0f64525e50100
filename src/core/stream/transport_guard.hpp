// TransportGuard: the bounds every stream transport (TCP, WebSocket, BOSH) applies the same way: the
// deadline for a stream to become established (limits.unauthenticated_timeout), giving an idle parser's
// memory back once a stream has been quiet for a whole sweep period, and the output queue bound
// (DESIGN §1 back-pressure). Pure state over times it is given; one transport's thread.
#pragma once

#include <chrono>
#include <cstddef>

#include "core/config/config.hpp"

namespace causerie {

class TransportGuard {
 public:
  using Clock = std::chrono::steady_clock;

  TransportGuard(const LimitsConfig& limits, Clock::time_point started) : limits_(limits), started_(started) {}

  // The stream carries stanzas now (bound client, authenticated peer).
  void established() { established_ = true; }
  bool is_established() const { return established_; }
  // Input arrived.
  void input() { active_ = true; }

  enum class Sweep {
    kNothing,
    kTimedOut,  // not established within limits.unauthenticated_timeout: end the stream
    kIdle,      // established and quiet since the last sweep: the parser may hibernate
  };
  // Called at each of the worker's sweeps.
  Sweep sweep(Clock::time_point now) {
    bool quiet = !active_;
    active_ = false;
    if (!established_) return now - started_ > limits_.unauthenticated_timeout ? Sweep::kTimedOut : Sweep::kNothing;
    return quiet ? Sweep::kIdle : Sweep::kNothing;
  }

  // Whether `queued_bytes` of output may wait for a peer that reads slowly; past it, the peer is cut off
  // rather than growing our memory.
  bool output_fits(size_t queued_bytes) const { return queued_bytes <= limits_.max_output_queue_bytes; }
  size_t output_limit() const { return limits_.max_output_queue_bytes; }
  const LimitsConfig& limits() const { return limits_; }

 private:
  const LimitsConfig& limits_;
  Clock::time_point started_;
  bool established_ = false;
  bool active_ = false;
};

}  // namespace causerie
