// metrics: the server's operational counters and gauges (issue 14 item 8), read by the admin listener's
// Prometheus page. Each thread that counts gets a slot of its own (registered on its first count and kept
// until exit), and only that thread writes to it: a count is a relaxed load and store on a cache line no
// other thread writes, so the stanza path pays no locked instruction and no sharing. A scrape sums the
// slots with relaxed loads (any thread): counters may be a few events behind, never torn.
//
// Gauges (sessions, s2s connections) are counted the same way, as +1/-1 from whichever thread sees the
// change; only their sum over all slots means something.
//
// Process-wide: one server per process. Thread rules: add()/observe_commit() on any thread (its own
// slot); total()/commit_histogram() on any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace causerie::metrics {

enum class Counter : uint8_t {
  // Stanzas received from clients, servers and components (after the stream accepted them).
  kInMessage, kInPresence, kInIq,
  // Stanzas written to client sessions and to remote servers.
  kOutMessage, kOutPresence, kOutIq,
  // Gauges: bound client sessions by the transport of their stream, and sessions waiting for
  // XEP-0198 resumption without one.
  kSessionsTcp, kSessionsWebSocket, kSessionsBosh, kSessionsDetached,
  // Gauges: server-to-server streams.
  kS2sIn, kS2sOut,
  // Storage write lane: jobs in the transactions it ran.
  kStorageWriteJobs,
  // Commit latency histogram (seconds; buckets below), its sum in microseconds and its count.
  kCommitBucket0, kCommitBucketLast = kCommitBucket0 + 12, kCommitSumMicros, kCommitCount,
  kCount
};

// Upper bounds (seconds) of the commit latency buckets; the last bucket is +Inf.
inline constexpr std::array<double, 12> kCommitBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

// The transport a client session's stream runs on.
enum class Transport : uint8_t { kTcp, kWebSocket, kBosh };
Counter sessions_counter(Transport t);

struct alignas(64) Slot {
  std::array<std::atomic<int64_t>, static_cast<size_t>(Counter::kCount)> values{};
};

namespace detail {
Slot* register_slot();
inline thread_local Slot* t_slot = nullptr;
}  // namespace detail

inline void add(Counter c, int64_t n = 1) {
  Slot* s = detail::t_slot;
  if (!s) s = detail::t_slot = detail::register_slot();
  auto& v = s->values[static_cast<size_t>(c)];
  v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// A stanza in or out, by causerie::StanzaKind's value (kMessage 0, kPresence 1, kIq 2; kOther, 3, is not
// counted). Inline: it runs for every stanza.
inline void count_stanza(bool in, uint8_t stanza_kind) {
  if (stanza_kind > 2) return;
  auto base = static_cast<uint8_t>(in ? Counter::kInMessage : Counter::kOutMessage);
  add(static_cast<Counter>(base + stanza_kind));
}

// One write transaction took `seconds` and carried `jobs` jobs (the storage write lane).
void observe_commit(double seconds, size_t jobs);

// The sum over every slot.
int64_t total(Counter c);

// Index of the bucket a commit of `seconds` falls in (kCommitBuckets.size() for +Inf). Pure.
size_t commit_bucket(double seconds);

}  // namespace causerie::metrics
