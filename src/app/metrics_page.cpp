#include "app/metrics_page.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/util/metrics.hpp"
#include "core/util/prometheus_text.hpp"
#include "storage/storage_service.hpp"

// jemalloc's control interface, when the binary links it (the server does; unit tests do not): a weak
// reference stays null without it.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen) __attribute__((weak));

namespace causerie {

uint64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

namespace {

double counted(metrics::Counter c) { return static_cast<double>(metrics::total(c)); }

// jemalloc statistics are cached until the epoch moves; moving it costs a walk over the arenas (a few
// microseconds), paid per scrape only.
bool jemalloc_stats(size_t& allocated, size_t& resident) {
  if (!mallctl) return false;
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return false;
  len = sizeof allocated;
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return false;
  len = sizeof resident;
  return mallctl("stats.resident", &resident, &len, nullptr, 0) == 0;
}

}  // namespace

std::string render_metrics_page(const MetricsSources& s) {
  using metrics::Counter;
  PrometheusText p;
  p.family("causerie_build_info", "gauge", "The version of this server (the value is always 1).");
  p.sample("causerie_build_info", {{"version", CAUSERIE_VERSION}}, 1);
  double started = std::chrono::duration<double>(s.started.time_since_epoch()).count();
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  p.family("causerie_start_time_seconds", "gauge", "When the server started, in seconds since the Unix epoch.");
  p.sample("causerie_start_time_seconds", static_cast<double>(static_cast<int64_t>(started)));
  p.family("causerie_uptime_seconds", "gauge", "Seconds since the server started.");
  p.sample("causerie_uptime_seconds", static_cast<double>(static_cast<int64_t>(now - started)));

  p.family("causerie_sessions", "gauge", "Bound client sessions with a stream, by the transport of that stream.");
  p.sample("causerie_sessions", {{"transport", "tcp"}}, counted(Counter::kSessionsTcp));
  p.sample("causerie_sessions", {{"transport", "websocket"}}, counted(Counter::kSessionsWebSocket));
  p.sample("causerie_sessions", {{"transport", "bosh"}}, counted(Counter::kSessionsBosh));
  p.family("causerie_sessions_detached", "gauge",
           "Client sessions without a stream, waiting to be resumed (XEP-0198 stream management).");
  p.sample("causerie_sessions_detached", counted(Counter::kSessionsDetached));

  p.family("causerie_stanzas_received_total", "counter", "Stanzas received from clients, servers and components.");
  p.sample("causerie_stanzas_received_total", {{"kind", "message"}}, counted(Counter::kInMessage));
  p.sample("causerie_stanzas_received_total", {{"kind", "presence"}}, counted(Counter::kInPresence));
  p.sample("causerie_stanzas_received_total", {{"kind", "iq"}}, counted(Counter::kInIq));
  p.family("causerie_stanzas_sent_total", "counter", "Stanzas sent to client sessions, other servers and components.");
  p.sample("causerie_stanzas_sent_total", {{"kind", "message"}}, counted(Counter::kOutMessage));
  p.sample("causerie_stanzas_sent_total", {{"kind", "presence"}}, counted(Counter::kOutPresence));
  p.sample("causerie_stanzas_sent_total", {{"kind", "iq"}}, counted(Counter::kOutIq));

  p.family("causerie_s2s_connections", "gauge", "Server-to-server connections, incoming and outgoing.");
  p.sample("causerie_s2s_connections", {{"direction", "in"}}, counted(Counter::kS2sIn));
  p.sample("causerie_s2s_connections", {{"direction", "out"}}, counted(Counter::kS2sOut));

  p.family("causerie_storage_queue_depth", "gauge", "Storage jobs waiting, by lane.");
  p.sample("causerie_storage_queue_depth", {{"lane", "write"}}, static_cast<double>(s.storage.write_queue_depth()));
  p.sample("causerie_storage_queue_depth", {{"lane", "read"}}, static_cast<double>(s.storage.read_queue_depth()));
  p.family("causerie_storage_write_jobs_total", "counter", "Storage write jobs committed or failed in a transaction.");
  p.sample("causerie_storage_write_jobs_total", counted(Counter::kStorageWriteJobs));
  p.family("causerie_storage_commit_duration_seconds", "histogram",
           "Time from BEGIN to a finished COMMIT of one group-commit transaction (fsync included).");
  int64_t cumulative = 0;
  for (size_t i = 0; i <= metrics::kCommitBuckets.size(); ++i) {
    cumulative += metrics::total(static_cast<Counter>(static_cast<size_t>(Counter::kCommitBucket0) + i));
    std::string le = i < metrics::kCommitBuckets.size() ? PrometheusText::format_value(metrics::kCommitBuckets[i]) : "+Inf";
    p.sample("causerie_storage_commit_duration_seconds_bucket", {{"le", le}}, static_cast<double>(cumulative));
  }
  p.sample("causerie_storage_commit_duration_seconds_sum", counted(Counter::kCommitSumMicros) / 1e6);
  p.sample("causerie_storage_commit_duration_seconds_count", counted(Counter::kCommitCount));

  p.family("causerie_resident_memory_bytes", "gauge", "Resident set size of the process (/proc/self/statm).");
  p.sample("causerie_resident_memory_bytes", static_cast<double>(resident_bytes()));
  size_t allocated = 0, resident = 0;
  if (jemalloc_stats(allocated, resident)) {
    p.family("causerie_allocator_allocated_bytes", "gauge", "Bytes allocated by the application (jemalloc stats.allocated).");
    p.sample("causerie_allocator_allocated_bytes", static_cast<double>(allocated));
    p.family("causerie_allocator_resident_bytes", "gauge", "Bytes in pages the allocator holds resident (jemalloc stats.resident).");
    p.sample("causerie_allocator_resident_bytes", static_cast<double>(resident));
  }

  p.family("causerie_config_reloads_total", "counter", "Configuration reloads (SIGHUP), by result.");
  p.sample("causerie_config_reloads_total", {{"result", "ok"}}, static_cast<double>(s.reloads_ok.load()));
  p.sample("causerie_config_reloads_total", {{"result", "failed"}}, static_cast<double>(s.reloads_failed.load()));
  return p.text();
}

}  // namespace causerie
