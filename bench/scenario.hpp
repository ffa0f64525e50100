// Scenario framework of the load generator: common options, the process sampler (/proc), a latency
// histogram, a one-line JSON writer, and the Runner that drives a Scenario over N worker threads.
//
// A scenario is a class with three parts, registered by name in scenarios.cpp:
//   start(Worker&)  on each worker thread: open that worker's share of the connections;
//   tick(Worker&)   on each worker thread, once per loop iteration: send what the phase asks for;
//   control(Report&) on the main thread: wait for readiness, run the timed phases, fill the report.
// The Runner stops the workers when control() returns. Every phase is bounded by a deadline, so a
// scenario ends even when a server stops answering.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client.hpp"

namespace causerie::bench {

struct Options {
  std::string server_name = "causerie";
  int server_pid = 0;  // 0: no server-side CPU/RSS figures
  Endpoint ep;
  // Federation scenarios: a second server (its clients' endpoint and domain, its process). Its CPU is added
  // to the first one's in server_cores, since every stanza between the two costs both.
  Endpoint peer_ep;  // set from ep, --peer-port and --peer-domain
  int peer_pid = 0;
  bool has_peer = false;
  Mech mech = Mech::kScramSha1;
  unsigned threads = 0;  // 0: the CPUs in our affinity mask
  std::string user_prefix = "u";
  std::string password = "bench-password";
  double warmup = 1.0, duration = 5.0;  // seconds
  double timeout = 60.0;                // bound on every set-up phase (connecting, draining)
  unsigned concurrency = 100;  // logins in flight (login, idle ramp)
  unsigned accounts = 1000;    // login: accounts cycled through
  unsigned sessions = 1000;    // idle
  double hold = 5.0;           // idle: seconds the sessions are held after measuring
  unsigned pairs = 100;        // msg
  unsigned window = 10;        // msg: messages in flight per direction of a pair; presence: updates per user
  unsigned body_bytes = 64;    // msg: body size
  double rate = 0;             // msg: paced total msgs/s (0: as fast as the window allows)
  // Poll without sleeping: on a shared loopback box, waking a sleeping generator thread costs the server's
  // send() a cross-core wake-up (an IPI, dear under a hypervisor) that a client on another machine would
  // not cost it. Used for latency at a paced load; the generator then always shows one busy core.
  bool busy_poll = false;
  unsigned users = 1000;       // presence: users (each with a ring roster of roster_size contacts)
  unsigned roster_size = 100;
  unsigned occupants = 500;    // muc: room size
  unsigned senders = 5;        // muc: occupants sending, each with --window messages in flight
  std::string room = "bench@conference.localhost";
  unsigned subscribers = 1000;  // pubsub: subscribed sessions, u0..u(n-1)
  unsigned publishers = 1;      // pubsub: u0..u(p-1) publish, each with --window publishes in flight
  std::string service = "pubsub.localhost";  // pubsub: service JID, or "pep": u0's bare JID
  std::string node;             // pubsub: default "bench" (service) or "urn:xmpp:bench:0" (pep)
  unsigned max_items = 10;      // pubsub: the node's max_items
  // pubsub: the subscribers follow with their bare JID and log out before the run (all but the publisher
  // and one reader): the fan-out goes to followers' news feeds, not to sessions (Causerie's feed).
  bool followers = false;
  unsigned remote_domains = 100;         // s2s-links: remote domains d0.<suffix>… pinged once each
  std::string remote_suffix = "b.bench";
  unsigned archive_size = 1000000;  // mam-page: messages in u0's archive (ids m0…, fill-archive)
  unsigned page_size = 50;          // mam-page: RSM <max/>
  std::string with_jid;             // mam-page: the 'with' filter (default u1@<domain>)
  // feed-page: what fill-feed stored (the reader u0 follows u1…u<follow> of u1…u<authors>; post k is by
  // author k % authors), from which the pages' expected posts are known.
  unsigned feed_posts = 1000000, feed_authors = 2000, feed_follow = 500;

  std::string user(unsigned i) const { return user_prefix + std::to_string(i); }
  std::string bare(unsigned i) const { return user(i) + "@" + ep.domain; }
  std::string bare(unsigned i, const Endpoint& e) const { return user(i) + "@" + e.domain; }
  LoginSpec login(unsigned i, bool roster = false, bool presence = false) const;
};

// What /proc says about a process.
struct ProcSample {
  int64_t wall_ns = 0;
  double cpu_seconds = 0;  // utime + stime, all threads
  int64_t rss_kb = 0;      // VmRSS
  bool ok = false;
};
ProcSample sample_process(int pid);
int64_t self_rss_kb();

// Log-linear histogram of microseconds: exact below 1 024 µs, ~1.5 % buckets above.
class Histogram {
 public:
  void record(int64_t us);
  void merge(const Histogram& o);
  int64_t percentile(double p) const;  // µs
  int64_t max() const { return max_; }
  uint64_t count() const { return count_; }

 private:
  static size_t index(int64_t us);
  static int64_t value(size_t idx);
  std::vector<uint64_t> buckets_ = std::vector<uint64_t>(1024 + 64 * 40, 0);
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

// One JSON object built key by key; nested objects by Json values.
class Json {
 public:
  Json& add(const std::string& key, const std::string& v);
  Json& add(const std::string& key, const char* v) { return add(key, std::string(v)); }
  Json& add(const std::string& key, double v);
  Json& add(const std::string& key, int64_t v);
  Json& add(const std::string& key, uint64_t v) { return add(key, static_cast<int64_t>(v)); }
  Json& add(const std::string& key, unsigned v) { return add(key, static_cast<int64_t>(v)); }
  Json& add(const std::string& key, int v) { return add(key, static_cast<int64_t>(v)); }
  Json& add(const std::string& key, bool v);
  Json& add(const std::string& key, const Json& v);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(const std::string& k);
  std::string body_;
};

// What control() reports: parameters, figures, and whether the run is valid (zero loss etc.).
struct Report {
  Json params, figures;
  bool ok = true;
  std::vector<std::string> problems;
  void problem(const std::string& p) {
    ok = false;
    problems.push_back(p);
  }
};

// The server's CPU over a measured interval, and the efficiency figure derived from it. With a peer
// (federation scenarios) both servers are sampled and their CPU summed.
struct CpuWindow {
  ProcSample a, b, peer_a, peer_b;
  void begin(int pid, int peer = 0) {
    a = sample_process(pid);
    peer_a = sample_process(peer);
  }
  void end(int pid, int peer = 0) {
    b = sample_process(pid);
    peer_b = sample_process(peer);
  }
  double seconds() const { return static_cast<double>(b.wall_ns - a.wall_ns) / 1e9; }
  // Adds server_cores and <what>_per_core_second (deliveries / server CPU seconds) to the figures; with a
  // peer, server_cores is the sum and server_a_cores / server_b_cores the parts.
  void report(Json& figures, const std::string& what, double count) const;
};

// Sum of one per-worker counter over all workers.
template <class PerWorker>
uint64_t sum(const std::vector<PerWorker>& per, std::atomic<uint64_t> PerWorker::*field) {
  uint64_t t = 0;
  for (const auto& p : per) t += (p.*field).load(std::memory_order_relaxed);
  return t;
}

// The last connection error any worker saw, quoted in the report's problems.
class LastError {
 public:
  void set(std::string_view why) {
    std::lock_guard lock(mu_);
    text_ = std::string(why);
  }
  std::string get() const {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

// The measured part of a throughput scenario, on the main thread: go() starts sending; after the
// warm-up, count() is read around --duration together with the server's CPU (`measuring` is true in
// between); then stop() ends sending and done() is awaited, at most min(--timeout, 30 s).
struct Measurement {
  uint64_t counted = 0;
  bool drained = false;
  CpuWindow cpu;
  double per_second() const { return static_cast<double>(counted) / cpu.seconds(); }
};
Measurement measure(const Options& o, const std::function<void()>& go, const std::function<uint64_t()>& count,
                    const std::function<void()>& stop, const std::function<bool()>& done,
                    std::atomic<bool>* measuring = nullptr);

// Figures and checks of a fan-out scenario (presence, muc): every copy must have arrived.
void report_fanout(Report& r, const Measurement& m, uint64_t got, uint64_t want, const std::string& what);

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual void start(Worker& w) = 0;
  virtual void tick(Worker& w) {}
  virtual void control(Report& r) = 0;
};

using ScenarioFactory = std::function<std::unique_ptr<Scenario>(const Options&)>;

struct ScenarioInfo {
  const char* name;
  const char* what;
  ScenarioFactory make;
};
const std::vector<ScenarioInfo>& scenarios();

// Runs one scenario; prints its JSON line on stdout. Returns the process exit code (0 = valid run).
int run_scenario(const std::string& name, const Options& opts);

// Helpers for control(): sleep in small steps until pred() or the deadline; true if pred() held.
bool wait_until(const std::function<bool()>& pred, double seconds);
void sleep_for(double seconds);

// Factories, one per scenario file.
std::unique_ptr<Scenario> make_login(const Options& o);
std::unique_ptr<Scenario> make_idle(const Options& o);
std::unique_ptr<Scenario> make_msg(const Options& o);
std::unique_ptr<Scenario> make_presence(const Options& o);
std::unique_ptr<Scenario> make_muc(const Options& o);
std::unique_ptr<Scenario> make_pubsub(const Options& o);
std::unique_ptr<Scenario> make_s2s_links(const Options& o);
std::unique_ptr<Scenario> make_resume(const Options& o);
std::unique_ptr<Scenario> make_mam_page(const Options& o);
std::unique_ptr<Scenario> make_feed_page(const Options& o);

}  // namespace causerie::bench
