// `msg`: 1:1 chat throughput and latency. --pairs pairs (u(2i), u(2i+1)) both log in on the same
// worker; each direction of a pair keeps --window messages in flight: a message received releases the
// next one from its sender (both ends live in this process, so no acknowledgement crosses the wire).
// Messages go to the bare JID (RFC 6121 §8.5 routing), type chat, with a body "<send time ns>
// <sequence> <padding>": the receiver computes the latency and checks that every sender's sequence
// arrives complete and in order. After the measured interval sending stops and every message in
// flight must arrive (zero loss), within --timeout.
// With --rate R the load is paced instead: each worker sends its share of R msgs/s, spread over its
// pairs, never more than --window in flight per direction: latency at a chosen load (the issue's
// "p99 at half the maximum rate").
// With --peer-port/--peer-domain (federation): u(2i) logs in on the first server and u(2i+1) on the second,
// so every message crosses a server-to-server link, one way or the other. Before the measured run one
// message each way (pair 0) brings the links up, so that no stanza waits in a queue for a connection.
#include <charconv>
#include <mutex>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Phase : int { kSetup, kPrime, kRun, kDrain, kDone };

struct End {
  Conn* conn = nullptr;
  End* peer = nullptr;
  std::string prefix;       // "<message to='peer@domain' type='chat' id='"
  uint64_t next_seq = 0;    // next sequence this end sends
  uint64_t expect_seq = 0;  // next sequence expected from the peer
  unsigned in_flight = 0;   // sent by this end, not yet received by the peer
};

class Msg final : public Scenario, private ConnHandler {
 public:
  explicit Msg(const Options& o) : o_(o), per_(o.threads), padding_(o.body_bytes > 40 ? o.body_bytes - 40 : 1, 'x') {}

  void start(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (unsigned pair = w.index(); pair < o_.pairs; pair += o_.threads) {
      auto a = std::make_unique<End>(), b = std::make_unique<End>();
      a->peer = b.get();
      b->peer = a.get();
      const Endpoint& b_ep = o_.has_peer ? o_.peer_ep : o_.ep;
      a->prefix = "<message to='" + o_.bare(2 * pair + 1, b_ep) + "' type='chat' id='m";
      b->prefix = "<message to='" + o_.bare(2 * pair, o_.ep) + "' type='chat' id='m";
      a->conn = w.open(o_.ep, o_.login(2 * pair, false, true), this, a.get());
      b->conn = w.open(b_ep, o_.login(2 * pair + 1, false, true), this, b.get());
      p.ends.push_back(std::move(a));
      p.ends.push_back(std::move(b));
    }
  }

  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    if (phase_ == kPrime && !p.primed && w.index() == 0 && p.ends.size() >= 2) {
      p.primed = true;
      send_one(p, *p.ends[0]);
      send_one(p, *p.ends[1]);
    }
    if (phase_ == kRun && !p.started) {
      p.started = true;
      p.last_tick_ns = now_ns();
      if (o_.rate <= 0)
        for (auto& e : p.ends)
          for (unsigned k = 0; k < o_.window; ++k) send_one(p, *e);
    }
    if (phase_ == kRun && o_.rate > 0 && !p.ends.empty()) pace(p);
    p.sent_pub.store(p.sent, std::memory_order_relaxed);
    p.received_pub.store(p.received, std::memory_order_relaxed);
  }

  void control(Report& r) override {
    if (o_.has_peer) r.params.add("domain", o_.ep.domain).add("peer_domain", o_.peer_ep.domain);
    r.params.add("pairs", o_.pairs).add("window", o_.window).add("rate", o_.rate).add("body_bytes", o_.body_bytes)
        .add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (!wait_until([&] { return ready_ + failed_ >= 2 * o_.pairs; }, o_.timeout) || failed_ > 0) {
      r.problem("only " + std::to_string(ready_.load()) + " of " + std::to_string(2 * o_.pairs) +
                " sessions logged in; last error: " + error_.get());
      return;
    }
    sleep_for(0.5);  // initial presences settle
    if (o_.has_peer) {
      phase_ = kPrime;
      if (!wait_until([&] { return sum(per_, &PerWorker::received_pub) >= 2; }, o_.timeout)) {
        r.problem("the first message each way between the two servers did not arrive within --timeout");
        return;
      }
    }
    auto received = [&] { return sum(per_, &PerWorker::received_pub); };
    Measurement m = measure(o_, [&] { phase_ = kRun; }, received, [&] { phase_ = kDrain; },
                            [&] { return received() >= sum(per_, &PerWorker::sent_pub); }, &measuring_);
    uint64_t sent = sum(per_, &PerWorker::sent_pub), delivered = m.counted;
    bool drained = m.drained;
    uint64_t received_total = received();
    Histogram h;
    uint64_t reordered = 0, bad = 0;
    for (auto& p : per_) {
      std::lock_guard lock(p.mu);
      h.merge(p.latency);
      reordered += p.reordered;
      bad += p.bad;
    }
    r.figures.add("delivered", delivered).add("msgs_per_s", m.per_second())
        .add("latency_ms_p50", static_cast<double>(h.percentile(50)) / 1000.0)
        .add("latency_ms_p99", static_cast<double>(h.percentile(99)) / 1000.0)
        .add("latency_ms_max", static_cast<double>(h.max()) / 1000.0)
        .add("sent_total", sent).add("received_total", received_total)
        .add("lost", sent > received_total ? sent - received_total : 0).add("reordered", reordered)
        .add("dropped_sessions", dropped_.load());
    m.cpu.report(r.figures, "msgs", static_cast<double>(delivered));
    if (!drained || sent != received_total)
      r.problem(std::to_string(sent - std::min(sent, received_total)) + " messages lost (sent " + std::to_string(sent) +
                ", received " + std::to_string(received_total) + ")");
    if (reordered) r.problem(std::to_string(reordered) + " messages out of order");
    if (bad) r.problem(std::to_string(bad) + " unparsable message bodies");
    if (dropped_) r.problem(std::to_string(dropped_.load()) + " sessions dropped: " + error_.get());
    if (delivered == 0) r.problem("no message delivered");
  }

 private:
  struct PerWorker {
    std::vector<std::unique_ptr<End>> ends;
    bool started = false, primed = false;
    int64_t last_tick_ns = 0;
    double budget = 0;  // paced mode: messages this worker may send now
    size_t rr = 0;
    uint64_t sent = 0, received = 0;  // worker-thread counters, published in tick()
    std::atomic<uint64_t> sent_pub{0}, received_pub{0};
    std::mutex mu;  // guards what control() merges
    Histogram latency;
    uint64_t reordered = 0, bad = 0;
  };


  // Paced mode: this worker's share of --rate, round-robin over its ends with a free window slot. A
  // budget that cannot be spent (all windows full) is dropped, not saved up into a burst.
  void pace(PerWorker& p) {
    int64_t now = now_ns();
    p.budget += o_.rate / o_.threads * static_cast<double>(now - p.last_tick_ns) / 1e9;
    p.last_tick_ns = now;
    size_t tried = 0;
    while (p.budget >= 1.0 && tried < p.ends.size()) {
      End& e = *p.ends[p.rr++ % p.ends.size()];
      if (e.conn && e.in_flight < o_.window) {
        send_one(p, e);
        p.budget -= 1.0;
        tried = 0;
      } else {
        ++tried;
      }
    }
    if (p.budget > 1.0) p.budget = 1.0;
  }

  void send_one(PerWorker& p, End& e) {
    if (!e.conn) return;
    ++e.in_flight;
    char num[64];
    auto seq = e.next_seq++;
    std::string m;
    m.reserve(e.prefix.size() + padding_.size() + 96);
    m += e.prefix;
    m.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, seq).ptr - num));
    m += "'><body>";
    m.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, now_ns()).ptr - num));
    m += ' ';
    m.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, seq).ptr - num));
    m += ' ';
    m += padding_;
    m += "</body></message>";
    e.conn->send(m);
    ++p.sent;
  }

  void on_ready(Conn&) override { ++ready_; }

  void on_stanza(Conn& c, const Stanza& s) override {
    if (s.name() != "message") return;
    auto* e = static_cast<End*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    const XNode* body = s.find("body");
    if (!body) return;  // e.g. a server notice
    std::string_view t = body->text;
    int64_t sent_ns = 0;
    uint64_t seq = 0;
    auto r1 = std::from_chars(t.data(), t.data() + t.size(), sent_ns);
    auto r2 = r1.ec == std::errc() && r1.ptr < t.data() + t.size()
                  ? std::from_chars(r1.ptr + 1, t.data() + t.size(), seq)
                  : std::from_chars_result{nullptr, std::errc::invalid_argument};
    ++p.received;
    if (r2.ec != std::errc()) {
      std::lock_guard lock(p.mu);
      ++p.bad;
      return;
    }
    {
      std::lock_guard lock(p.mu);
      if (seq != e->expect_seq) ++p.reordered;
      if (measuring_) p.latency.record((now_ns() - sent_ns) / 1000);
    }
    e->expect_seq = seq + 1;
    --e->peer->in_flight;
    if (phase_ == kRun && o_.rate <= 0) send_one(p, *e->peer);
  }

  void on_closed(Conn& c, bool, std::string_view why) override {
    auto* e = static_cast<End*>(c.user);
    if (e) e->conn = nullptr;
    if (phase_ == kSetup) ++failed_;
    else ++dropped_;
    error_.set(why);
  }

  Options o_;
  std::vector<PerWorker> per_;
  std::string padding_;
  std::atomic<int> phase_{kSetup};
  std::atomic<bool> measuring_{false};
  std::atomic<unsigned> ready_{0}, failed_{0}, dropped_{0};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_msg(const Options& o) { return std::make_unique<Msg>(o); }

}  // namespace causerie::bench
