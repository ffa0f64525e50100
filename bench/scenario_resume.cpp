// `resume`: how many XEP-0198 resumptions per second the server performs, the reconnection a phone makes
// each time it changes networks. Each of --concurrency slots owns one account (u<slot>): it logs in,
// enables stream management with resumption, then loops: drop the TCP connection (a reset, no stream
// close), connect again, SASL with --mech, <resume previd h/> instead of bind, wait for <resumed/>. A
// resumption counts when its <resumed/> arrives inside the measured interval; its latency runs from the
// new connection's start (TCP, optional TLS, SASL, resume). A <failed/> or any other failure invalidates the
// run: resuming a session that was just detached must always work.
#include <mutex>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

class Resume final : public Scenario, private ConnHandler {
 public:
  explicit Resume(const Options& o) : o_(o), per_(o.threads) {}

  void start(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (unsigned slot = w.index(); slot < o_.concurrency; slot += o_.threads) {
      p.slots.push_back(std::make_unique<Slot>());
      p.slots.back()->account = slot;
    }
    for (auto& s : p.slots) open(w, *s);
  }

  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    std::vector<Slot*> again;
    again.swap(p.reopen);
    for (Slot* s : again) open(w, *s);
  }

  void control(Report& r) override {
    r.params.add("concurrency", o_.concurrency).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (!wait_until([&] { return sum(per_, &PerWorker::enabled) >= o_.concurrency || failed(); }, o_.timeout)) {
      r.problem("only " + std::to_string(sum(per_, &PerWorker::enabled)) + " of " + std::to_string(o_.concurrency) +
                " sessions enabled stream management: " + error_.get());
    }
    auto resumed = [&] { return sum(per_, &PerWorker::resumed); };
    uint64_t failures_before = sum(per_, &PerWorker::failures);
    Measurement m = measure(o_, [] {}, resumed, [&] { stopping_ = true; }, [] { return true; }, &measuring_);
    uint64_t failed_n = sum(per_, &PerWorker::failures) - failures_before;
    Histogram h;
    for (auto& p : per_) {
      std::lock_guard lock(p.mu);
      h.merge(p.latency);
    }
    r.figures.add("resumptions", m.counted).add("resumptions_per_s", m.per_second()).add("failures", failed_n)
        .add("resume_ms_p50", static_cast<double>(h.percentile(50)) / 1000.0)
        .add("resume_ms_p99", static_cast<double>(h.percentile(99)) / 1000.0);
    m.cpu.report(r.figures, "resumptions", static_cast<double>(m.counted));
    if (m.counted == 0) r.problem("no resumption completed");
    if (sum(per_, &PerWorker::failures) > 0)
      r.problem(std::to_string(sum(per_, &PerWorker::failures)) + " connections failed (" + std::to_string(failed_n) +
                " while measuring), last: " + error_.get());
  }

 private:
  struct Slot {
    unsigned account = 0;
    std::string sm_id;  // empty until the first login has enabled stream management
    uint64_t h = 0;
  };
  struct PerWorker {
    std::vector<std::unique_ptr<Slot>> slots;
    std::vector<Slot*> reopen;
    std::atomic<uint64_t> enabled{0}, resumed{0}, failures{0};
    std::mutex mu;
    Histogram latency;
  };

  bool failed() const { return sum(per_, &PerWorker::failures) > 0; }

  void open(Worker& w, Slot& s) {
    if (stopping_) return;
    LoginSpec spec = o_.login(s.account);
    if (s.sm_id.empty()) {
      spec.sm_enable = true;
    } else {
      spec.resume_id = s.sm_id;
      spec.resume_h = s.h;
    }
    w.open(o_.ep, std::move(spec), this, &s);
  }

  void on_ready(Conn& c) override {
    Slot& s = *static_cast<Slot*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    if (s.sm_id.empty()) {
      s.sm_id = c.sm_id();
      p.enabled.fetch_add(1, std::memory_order_relaxed);
    } else if (measuring_) {
      p.resumed.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(p.mu);
      p.latency.record((now_ns() - c.started_ns()) / 1000);
    }
    s.h = c.sm_h();
    c.drop();
  }

  void on_stanza(Conn&, const Stanza&) override {}

  void on_closed(Conn& c, bool, std::string_view why) override {
    Slot& s = *static_cast<Slot*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    if (why != "dropped by us") {
      if (stopping_) return;
      p.failures.fetch_add(1, std::memory_order_relaxed);
      error_.set(why);
      s.sm_id.clear();  // start this slot over with a new session
    }
    p.reopen.push_back(&s);  // from tick: no reconnection from inside a callback of the one closing
  }

  Options o_;
  std::vector<PerWorker> per_;
  std::atomic<bool> measuring_{false}, stopping_{false};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_resume(const Options& o) { return std::make_unique<Resume>(o); }

}  // namespace causerie::bench
