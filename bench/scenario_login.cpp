// `login`: how many sessions per second the server establishes. Each of --concurrency slots loops:
// connect, (STARTTLS or direct TLS), SASL with --mech, bind, close; accounts are cycled through
// u0..u<accounts-1>. A login is counted when its bind result arrives inside the measured interval.
#include <mutex>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

class Login final : public Scenario, private ConnHandler {
 public:
  explicit Login(const Options& o) : o_(o), per_(o.threads) {}

  void start(Worker& w) override {
    unsigned slots = o_.concurrency / o_.threads + (w.index() < o_.concurrency % o_.threads ? 1 : 0);
    for (unsigned i = 0; i < slots; ++i) next(w);
  }

  // Connections that failed are replaced here, not from inside on_closed (no unbounded recursion).
  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (; p.retry > 0; --p.retry) next(w);
  }

  void control(Report& r) override {
    r.params.add("concurrency", o_.concurrency).add("accounts", o_.accounts).add("warmup_s", o_.warmup)
        .add("duration_s", o_.duration);
    auto logins = [&] { return sum(per_, &PerWorker::logins); };
    uint64_t failures_before = 0;
    Measurement m = measure(
        o_, [&] { failures_before = sum(per_, &PerWorker::failures); }, logins, [] {}, [] { return true; },
        &measuring_);
    uint64_t n = m.counted, failed = sum(per_, &PerWorker::failures) - failures_before;
    stopping_ = true;
    Histogram h;
    for (auto& p : per_) {
      std::lock_guard lock(p.mu);
      h.merge(p.latency);
    }
    r.figures.add("logins", n).add("logins_per_s", m.per_second()).add("failures", failed)
        .add("login_ms_p50", static_cast<double>(h.percentile(50)) / 1000.0)
        .add("login_ms_p99", static_cast<double>(h.percentile(99)) / 1000.0);
    m.cpu.report(r.figures, "logins", static_cast<double>(n));
    if (n == 0) r.problem("no login completed");
    if (failed > 0) r.problem(std::to_string(failed) + " logins failed, last: " + error_.get());
  }

 private:
  struct PerWorker {
    std::atomic<uint64_t> logins{0}, failures{0};
    std::mutex mu;
    Histogram latency;
    unsigned next_account = 0;
    unsigned retry = 0;
  };


  void next(Worker& w) {
    if (stopping_) return;
    PerWorker& p = per_[w.index()];
    // Workers take interleaved accounts so two workers never log in the same account at once.
    unsigned acct = (p.next_account++ * o_.threads + w.index()) % std::max(1u, o_.accounts);
    w.open(o_.ep, o_.login(acct), this);
  }

  void on_ready(Conn& c) override {
    PerWorker& p = per_[c.worker().index()];
    if (measuring_) {
      p.logins.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(p.mu);
      p.latency.record((now_ns() - c.started_ns()) / 1000);
    }
    c.close();
  }

  void on_stanza(Conn&, const Stanza&) override {}

  void on_closed(Conn& c, bool was_ready, std::string_view why) override {
    if (!was_ready && why != "closed by us") {
      if (measuring_) per_[c.worker().index()].failures.fetch_add(1, std::memory_order_relaxed);
      error_.set(why);
      ++per_[c.worker().index()].retry;
      return;
    }
    next(c.worker());
  }

  Options o_;
  std::vector<PerWorker> per_;
  std::atomic<bool> measuring_{false}, stopping_{false};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_login(const Options& o) { return std::make_unique<Login>(o); }

}  // namespace causerie::bench
