// The admin listener's /metrics page: every counter of core/util/metrics.hpp plus what is read at
// scrape time (storage queues, memory, uptime, build, reloads), in the Prometheus text format 0.0.4.
// Runs on the scraping connection's worker; reads only atomics, the storage queues' sizes (under their
// locks, briefly) and /proc.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace causerie {

namespace storage {
class StorageService;
}

struct MetricsSources {
  const storage::StorageService& storage;
  std::chrono::system_clock::time_point started;
  const std::atomic<uint64_t>& reloads_ok;
  const std::atomic<uint64_t>& reloads_failed;
};

std::string render_metrics_page(const MetricsSources& sources);

// Resident set size of this process from /proc/self/statm, in bytes (0 if unreadable).
uint64_t resident_bytes();

}  // namespace causerie
