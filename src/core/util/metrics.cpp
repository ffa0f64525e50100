#include "core/util/metrics.hpp"

#include <deque>
#include <mutex>

namespace causerie::metrics {

namespace {
struct Registry {
  std::mutex mutex;
  std::deque<Slot> slots;  // a deque never moves its elements: threads keep pointers to theirs
};
// Never destroyed: threads that outlive static destruction (detached workers at exit) may still count.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}
}  // namespace

Slot* detail::register_slot() {
  Registry& r = registry();
  std::lock_guard l(r.mutex);
  return &r.slots.emplace_back();
}

Counter sessions_counter(Transport t) {
  switch (t) {
    case Transport::kWebSocket: return Counter::kSessionsWebSocket;
    case Transport::kBosh: return Counter::kSessionsBosh;
    case Transport::kTcp: break;
  }
  return Counter::kSessionsTcp;
}

size_t commit_bucket(double seconds) {
  size_t i = 0;
  while (i < kCommitBuckets.size() && seconds > kCommitBuckets[i]) ++i;
  return i;
}

void observe_commit(double seconds, size_t jobs) {
  add(Counter::kStorageWriteJobs, static_cast<int64_t>(jobs));
  add(static_cast<Counter>(static_cast<size_t>(Counter::kCommitBucket0) + commit_bucket(seconds)));
  add(Counter::kCommitSumMicros, static_cast<int64_t>(seconds * 1e6));
  add(Counter::kCommitCount);
}

int64_t total(Counter c) {
  Registry& r = registry();
  std::lock_guard l(r.mutex);
  int64_t sum = 0;
  for (const Slot& s : r.slots) sum += s.values[static_cast<size_t>(c)].load(std::memory_order_relaxed);
  return sum;
}

}  // namespace causerie::metrics
