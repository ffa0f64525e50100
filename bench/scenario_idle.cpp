// `idle`: --sessions authenticated sessions, each with initial presence, held open. The server's
// VmRSS is read before the first connection, 2 s after every session is up ("settled"), and at the
// end of --hold seconds of silence; that last difference divided by the sessions is the memory an idle
// session costs. Every session must survive the hold.
#include <sys/resource.h>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

class Idle final : public Scenario, private ConnHandler {
 public:
  explicit Idle(const Options& o) : o_(o), per_(o.threads) {
    before_ = sample_process(o.server_pid);  // before any worker connects
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);  // already raised as far as allowed by init_client_engine()
    nofile_ = rl.rlim_cur;
    fits_ = o.sessions + kSpareFds <= nofile_;
  }

  void start(Worker& w) override {
    if (!fits_) return;
    PerWorker& p = per_[w.index()];
    // Worker i owns sessions i, i+T, i+2T…; it keeps its share of --concurrency logins in flight.
    for (unsigned s = w.index(); s < o_.sessions; s += o_.threads) p.todo.push_back(s);
    p.in_flight_max = std::max(1u, o_.concurrency / o_.threads);
    fill(w);
  }

  void control(Report& r) override {
    r.params.add("sessions", o_.sessions).add("concurrency", o_.concurrency).add("hold_s", o_.hold);
    if (!fits_) {
      r.figures.add("nofile_limit", static_cast<uint64_t>(nofile_));
      r.problem("RLIMIT_NOFILE is " + std::to_string(nofile_) + " and cannot be raised here (CAP_SYS_RESOURCE "
                "missing?): one process holds at most " + std::to_string(nofile_ - kSpareFds) + " sessions");
      return;
    }
    int64_t t0 = now_ns();
    bool all = wait_until([&] { return sum(per_, &PerWorker::ready) + sum(per_, &PerWorker::failed) >= o_.sessions; },
                          o_.timeout);
    double ramp = static_cast<double>(now_ns() - t0) / 1e9;
    uint64_t ready = sum(per_, &PerWorker::ready);
    sleep_for(2.0);  // presence probes and roster loads done
    ProcSample settled = sample_process(o_.server_pid);
    uint64_t dropped_before_hold = sum(per_, &PerWorker::dropped);
    // Idle means idle for a while: servers may give memory back some time after the last stanza (GC,
    // parser hibernation), so the per-session figure is read at the end of the hold.
    sleep_for(o_.hold);
    ProcSample after = sample_process(o_.server_pid);
    uint64_t dropped = sum(per_, &PerWorker::dropped) - dropped_before_hold;
    r.figures.add("established", ready).add("failed", sum(per_, &PerWorker::failed)).add("ramp_s", ramp)
        .add("logins_per_s_ramp", static_cast<double>(ready) / ramp).add("dropped_during_hold", dropped);
    auto per_session = [&](const ProcSample& s) {
      return ready ? static_cast<double>(s.rss_kb - before_.rss_kb) * 1024.0 / static_cast<double>(ready) : 0.0;
    };
    if (before_.ok && after.ok) {
      r.figures.add("server_rss_before_kb", before_.rss_kb).add("server_rss_settled_kb", settled.rss_kb)
          .add("server_rss_after_kb", after.rss_kb).add("rss_per_session_bytes_settled", per_session(settled))
          .add("rss_per_session_bytes", per_session(after));
    }
    r.figures.add("generator_rss_per_session_bytes",
                  ready ? static_cast<double>(self_rss_kb()) * 1024.0 / static_cast<double>(ready) : 0.0);
    if (!all || ready < o_.sessions)
      r.problem(std::to_string(o_.sessions - ready) + " sessions not established, last error: " + error_.get());
    if (dropped) r.problem(std::to_string(dropped) + " sessions dropped while idle");
  }

 private:
  struct PerWorker {
    std::vector<unsigned> todo;
    size_t next = 0;
    unsigned in_flight = 0, in_flight_max = 1;
    std::atomic<uint64_t> ready{0}, failed{0}, dropped{0};
  };


  void fill(Worker& w) {
    PerWorker& p = per_[w.index()];
    while (p.in_flight < p.in_flight_max && p.next < p.todo.size()) {
      ++p.in_flight;
      w.open(o_.ep, o_.login(p.todo[p.next++], false, true), this);
    }
  }

  void on_ready(Conn& c) override {
    PerWorker& p = per_[c.worker().index()];
    --p.in_flight;
    p.ready.fetch_add(1, std::memory_order_relaxed);
    fill(c.worker());
  }

  void on_stanza(Conn&, const Stanza&) override {}

  void on_closed(Conn& c, bool was_ready, std::string_view why) override {
    PerWorker& p = per_[c.worker().index()];
    if (was_ready) {
      p.dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      --p.in_flight;
      p.failed.fetch_add(1, std::memory_order_relaxed);
      fill(c.worker());
    }
    error_.set(why);
  }

  static constexpr rlim_t kSpareFds = 64;
  Options o_;
  std::vector<PerWorker> per_;
  ProcSample before_;
  rlim_t nofile_ = 0;
  bool fits_ = true;
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_idle(const Options& o) { return std::make_unique<Idle>(o); }

}  // namespace causerie::bench
