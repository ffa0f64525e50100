#include "scenario.hpp"

#include <sched.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace causerie::bench {

LoginSpec Options::login(unsigned i, bool roster, bool presence) const {
  LoginSpec s;
  s.user = user(i);
  s.password = password;
  s.mech = mech;
  s.roster = roster;
  s.presence = presence;
  return s;
}

ProcSample sample_process(int pid) {
  ProcSample s;
  s.wall_ns = now_ns();
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Fields after the parenthesised command name (which may contain spaces): state is field 3,
  // utime field 14, stime field 15.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; field <= 15 && rest >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) stime = std::stoull(f);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoll(line.substr(6));
  s.ok = true;
  return s;
}

int64_t self_rss_kb() { return sample_process(static_cast<int>(getpid())).rss_kb; }

size_t Histogram::index(int64_t us) {
  if (us < 0) us = 0;
  if (us < 1024) return static_cast<size_t>(us);
  auto u = static_cast<uint64_t>(us);
  int exp = 63 - std::countl_zero(u);  // ≥ 10
  auto sub = static_cast<size_t>((u >> (exp - 6)) & 63);
  size_t idx = 1024 + static_cast<size_t>(exp - 10) * 64 + sub;
  return std::min(idx, static_cast<size_t>(1024 + 64 * 40 - 1));
}

int64_t Histogram::value(size_t idx) {
  if (idx < 1024) return static_cast<int64_t>(idx);
  size_t exp = (idx - 1024) / 64 + 10, sub = (idx - 1024) % 64;
  return static_cast<int64_t>((uint64_t{64} + sub) << (exp - 6));
}

void Histogram::record(int64_t us) {
  ++buckets_[index(us)];
  ++count_;
  max_ = std::max(max_, us);
}

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

int64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  auto want = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= want && buckets_[i]) return std::min(value(i), max_);
  }
  return max_;
}

void Json::key(const std::string& k) {
  if (!body_.empty()) body_ += ',';
  body_ += '"' + k + "\":";
}

Json& Json::add(const std::string& k, const std::string& v) {
  key(k);
  body_ += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') body_ += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      body_ += buf;
      continue;
    }
    body_ += c;
  }
  body_ += '"';
  return *this;
}

Json& Json::add(const std::string& k, double v) {
  key(k);
  char buf[64];
  if (!std::isfinite(v)) v = 0;
  std::snprintf(buf, sizeof buf, "%.6g", v);
  body_ += buf;
  return *this;
}

Json& Json::add(const std::string& k, int64_t v) {
  key(k);
  body_ += std::to_string(v);
  return *this;
}

Json& Json::add(const std::string& k, bool v) {
  key(k);
  body_ += v ? "true" : "false";
  return *this;
}

Json& Json::add(const std::string& k, const Json& v) {
  key(k);
  body_ += v.str();
  return *this;
}

void CpuWindow::report(Json& figures, const std::string& what, double count) const {
  if (!a.ok || !b.ok) return;
  double cpu = b.cpu_seconds - a.cpu_seconds;
  if (peer_a.ok && peer_b.ok) {
    double peer = peer_b.cpu_seconds - peer_a.cpu_seconds;
    figures.add("server_a_cores", cpu / seconds()).add("server_b_cores", peer / seconds());
    cpu += peer;
  }
  figures.add("server_cores", cpu / seconds());
  figures.add(what + "_per_core_second", cpu > 0 ? count / cpu : 0.0);
}

bool wait_until(const std::function<bool()>& pred, double seconds) {
  int64_t deadline = now_ns() + static_cast<int64_t>(seconds * 1e9);
  while (!pred()) {
    if (now_ns() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void sleep_for(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

Measurement measure(const Options& o, const std::function<void()>& go, const std::function<uint64_t()>& count,
                    const std::function<void()>& stop, const std::function<bool()>& done, std::atomic<bool>* measuring) {
  Measurement m;
  go();
  sleep_for(o.warmup);
  m.cpu.begin(o.server_pid, o.peer_pid);
  uint64_t a = count();
  if (measuring) *measuring = true;
  sleep_for(o.duration);
  if (measuring) *measuring = false;
  m.cpu.end(o.server_pid, o.peer_pid);
  m.counted = count() - a;
  stop();
  sleep_for(0.05);  // every worker has seen the stop
  m.drained = wait_until(done, std::min(o.timeout, 30.0));
  sleep_for(0.1);   // anything extra (duplicates) would show now
  return m;
}

void report_fanout(Report& r, const Measurement& m, uint64_t got, uint64_t want, const std::string& what) {
  r.figures.add("deliveries", m.counted).add("deliveries_per_s", m.per_second()).add("deliveries_total", got)
      .add("deliveries_expected", want).add("lost", want > got ? want - got : 0);
  m.cpu.report(r.figures, "deliveries", static_cast<double>(m.counted));
  if (!m.drained || got != want)
    r.problem(what + " deliveries: expected " + std::to_string(want) + ", got " + std::to_string(got));
  if (m.counted == 0) r.problem("no " + what + " delivered");
}

const std::vector<ScenarioInfo>& scenarios() {
  static const std::vector<ScenarioInfo> list = {
      {"login", "sessions/s: connect, (TLS), SASL, bind, close; --concurrency logins in flight", make_login},
      {"idle", "--sessions authenticated sessions with presence; server RSS per session", make_idle},
      {"msg", "--pairs pairs chatting, --window messages in flight per direction; msgs/s, latency, loss", make_msg},
      {"presence", "--users with ring rosters of --roster-size online contacts; presence deliveries/s", make_presence},
      {"muc", "--occupants in one room (--room), --senders with --window messages in flight; deliveries/s",
       make_muc},
      {"pubsub", "--subscribers on one node (--service JID or pep), --publishers with --window publishes in flight; "
                 "notifications/s", make_pubsub},
      {"s2s-links", "one user pings --remote-domains domains d<i>.<--remote-suffix> served by another server, "
                    "--window in flight: new server-to-server links/s", make_s2s_links},
      {"resume", "--concurrency sessions with XEP-0198 resumption: drop TCP, reconnect, SASL, resume; "
                 "resumptions/s", make_resume},
      {"mam-page", "XEP-0313 pages of --page-size from u0's archive (newest, by before-id/after-id in the middle, "
                   "with a 'with' filter), --window queries in flight; latency p50/p99", make_mam_page},
      {"feed-page", "pages of --page-size from u0's news feed (urn:causerie:feed:0; first, 'people' filter, RSM after) "
                    "after fill-feed, --window queries in flight; latency p50/p99", make_feed_page},
  };
  return list;
}

int run_scenario(const std::string& name, const Options& given) {
  const ScenarioInfo* info = nullptr;
  for (const auto& s : scenarios())
    if (name == s.name) info = &s;
  if (!info) {
    std::cerr << "causerie-bench: unknown scenario '" << name << "'\n";
    return 2;
  }
  Options opts = given;
  if (opts.threads == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    opts.threads = sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<unsigned>(CPU_COUNT(&set)) : 1;
  }
  init_client_engine();
  std::unique_ptr<Scenario> sc = info->make(opts);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < opts.threads; ++i) {
    threads.emplace_back([&, i] {
      Worker w(i);
      sc->start(w);
      w.run([&] { return !stop.load(std::memory_order_relaxed); }, [&] { sc->tick(w); }, opts.busy_poll);
      w.abort_all();
    });
  }
  Report r;
  int64_t t0 = now_ns();
  sc->control(r);
  stop = true;
  for (auto& t : threads) t.join();

  Json line;
  line.add("server", opts.server_name).add("scenario", name);
  Json params = r.params;
  params.add("threads", opts.threads).add("transport", to_string(opts.ep.transport))
      .add("tls", to_string(opts.ep.tls)).add("mech", to_string(opts.mech));
  if (opts.busy_poll) params.add("busy_poll", true);
  line.add("params", params).add("figures", r.figures);
  line.add("generator_rss_kb", self_rss_kb());
  line.add("elapsed_s", static_cast<double>(now_ns() - t0) / 1e9);
  line.add("ok", r.ok);
  std::string problems;
  for (const auto& p : r.problems) problems += (problems.empty() ? "" : "; ") + p;
  if (!problems.empty()) line.add("problems", problems);
  std::cout << line.str() << std::endl;
  return r.ok ? 0 : 1;
}

}  // namespace causerie::bench
