// `s2s-links`: how fast two servers set up server-to-server links. One user (u0) on the first server pings
// (XEP-0199) --remote-domains domains d0.<suffix> … d(N-1).<suffix>, all served by a second server that has
// not talked to the first one yet, with --window pings in flight. Each ping needs a new link for a new domain
// pair: DNS (SRV), TCP, TLS, authentication (SASL EXTERNAL or dialback) one way, and the answer the other way
// (over the same stream with XEP-0288, else over a stream the second server opens). A link counts when its
// ping's result is back; links/s is their number over the time from the first ping sent to the last answer,
// and the server CPU (both servers, --server-pid and --peer-pid) over that interval gives links per server
// core-second. Every ping must get a result: an error (remote-server-not-found, -timeout…) invalidates the run.
// Run it once per pair of freshly started servers: a second run would find the links already up.
#include <charconv>
#include <mutex>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Phase : int { kSetup, kRun, kDone };

class S2sLinks final : public Scenario, private ConnHandler {
 public:
  explicit S2sLinks(const Options& o) : o_(o), sent_at_(o.remote_domains, 0) {}

  void start(Worker& w) override {
    if (w.index() == 0) w.open(o_.ep, o_.login(0, false, true), this);
  }

  void tick(Worker& w) override {
    if (w.index() != 0 || phase_ != kRun || !conn_) return;
    while (next_ < o_.remote_domains && in_flight_ < o_.window) {
      unsigned i = next_++;
      ++in_flight_;
      sent_at_[i] = now_ns();
      if (i == 0) {
        std::lock_guard lock(mu_);
        first_sent_ns_ = sent_at_[i];
      }
      conn_->send("<iq type='get' id='l" + std::to_string(i) + "' to='d" + std::to_string(i) + "." +
                  o_.remote_suffix + "'><ping xmlns='urn:xmpp:ping'/></iq>");
    }
  }

  void control(Report& r) override {
    r.params.add("remote_domains", o_.remote_domains).add("remote_suffix", o_.remote_suffix)
        .add("window", o_.window).add("domain", o_.ep.domain);
    if (!wait_until([&] { return ready_ || failed_; }, o_.timeout) || failed_) {
      r.problem("u0 did not log in: " + error_.get());
      return;
    }
    CpuWindow cpu;
    cpu.begin(o_.server_pid, o_.peer_pid);
    phase_ = kRun;
    bool all = wait_until([&] { return answered_ >= o_.remote_domains || dropped_; }, o_.timeout);
    cpu.end(o_.server_pid, o_.peer_pid);
    phase_ = kDone;
    sleep_for(0.05);  // the worker has seen kDone: what it wrote is complete
    std::lock_guard lock(mu_);
    double seconds = static_cast<double>(last_answer_ns_ - first_sent_ns_) / 1e9;
    r.figures.add("links", results_).add("errors", errors_).add("answered", answered_.load())
        .add("links_per_s", seconds > 0 ? static_cast<double>(results_) / seconds : 0.0).add("elapsed_s", seconds)
        .add("setup_ms_p50", static_cast<double>(latency_.percentile(50)) / 1000.0)
        .add("setup_ms_p99", static_cast<double>(latency_.percentile(99)) / 1000.0)
        .add("setup_ms_max", static_cast<double>(latency_.max()) / 1000.0);
    cpu.report(r.figures, "links", static_cast<double>(results_));
    if (!all || answered_ < o_.remote_domains)
      r.problem(std::to_string(o_.remote_domains - answered_) + " of " + std::to_string(o_.remote_domains) +
                " pings unanswered within --timeout");
    if (errors_) r.problem(std::to_string(errors_) + " pings answered with an error, e.g. " + first_error_);
    if (dropped_) r.problem("u0's session dropped: " + error_.get());
  }

 private:
  void on_ready(Conn& c) override {
    conn_ = &c;
    ready_ = true;
  }

  void on_stanza(Conn&, const Stanza& s) override {
    if (s.name() != "iq") return;
    std::string_view id = s.attr("id"), type = s.attr("type");
    unsigned i = 0;
    if (id.size() < 2 || id[0] != 'l' ||
        std::from_chars(id.data() + 1, id.data() + id.size(), i).ec != std::errc() || i >= o_.remote_domains)
      return;
    std::lock_guard lock(mu_);
    last_answer_ns_ = now_ns();
    latency_.record((last_answer_ns_ - sent_at_[i]) / 1000);
    if (type == "result") {
      ++results_;
    } else {
      ++errors_;
      if (first_error_.empty()) {
        const XNode* err = s.find("error");
        first_error_ = "d" + std::to_string(i) + ": ";
        // The condition is the error's first child element (RFC 6120 §8.3.2).
        size_t k = 1;
        while (err && k < s.size() && &s.node(k) != err) ++k;
        for (++k; err && k < s.size() && s.node(k).depth > err->depth; ++k)
          if (s.node(k).depth == err->depth + 1) {
            first_error_ += s.node(k).name;
            break;
          }
      }
    }
    --in_flight_;
    ++answered_;
  }

  void on_closed(Conn&, bool was_ready, std::string_view why) override {
    conn_ = nullptr;
    if (was_ready) dropped_ = true;
    else failed_ = true;
    error_.set(why);
  }

  Options o_;
  std::atomic<int> phase_{kSetup};
  std::atomic<bool> ready_{false}, failed_{false}, dropped_{false};
  Conn* conn_ = nullptr;          // worker 0's
  unsigned next_ = 0, in_flight_ = 0;  // worker 0's
  std::vector<int64_t> sent_at_;  // worker 0's, per remote domain
  std::atomic<unsigned> answered_{0};
  std::mutex mu_;  // guards what follows, read by control()
  int64_t first_sent_ns_ = 0, last_answer_ns_ = 0;
  uint64_t results_ = 0, errors_ = 0;
  std::string first_error_;
  Histogram latency_;
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_s2s_links(const Options& o) { return std::make_unique<S2sLinks>(o); }

}  // namespace causerie::bench
