// `presence`: presence broadcast. --users accounts u0..u(users-1), each with a roster of --roster-size
// contacts with subscription "both" (a ring: u(i±1)…u(i±size/2), made by `causerie-bench accounts`),
// all online (roster get, then initial presence). Each user then keeps --window presence updates in
// flight: an update (alternating away/available, with a <status/> marker) releases the next one when
// the server reflects it back to its sender (RFC 6121 §4.4.2). Every update must reach all
// roster_size contacts: deliveries/s is what the figure counts, and the total is checked at the end.
#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Phase : int { kSetup, kRun, kDrain };

struct User {
  Conn* conn = nullptr;
  std::string bare;
  uint64_t next = 0;
  bool ready = false;
};

class Presence final : public Scenario, private ConnHandler {
 public:
  explicit Presence(const Options& o) : o_(o), per_(o.threads) {}

  void start(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (unsigned i = w.index(); i < o_.users; i += o_.threads) {
      auto u = std::make_unique<User>();
      u->bare = o_.bare(i);
      p.users.push_back(std::move(u));
    }
    fill(w);
  }

  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    if (phase_ == kRun && !p.started) {
      p.started = true;
      for (auto& u : p.users)
        for (unsigned k = 0; k < o_.window; ++k) update(p, *u);
    }
    p.updates_pub.store(p.updates, std::memory_order_relaxed);
    p.deliveries_pub.store(p.deliveries, std::memory_order_relaxed);
  }

  void control(Report& r) override {
    r.params.add("users", o_.users).add("roster_size", o_.roster_size).add("window", o_.window)
        .add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (!wait_until([&] { return ready_ + failed_ >= o_.users; }, o_.timeout) || failed_ > 0) {
      r.problem("only " + std::to_string(ready_.load()) + " of " + std::to_string(o_.users) +
                " users logged in; last error: " + error_.get());
      return;
    }
    sleep_for(2.0);  // initial presence broadcasts and probes settle
    auto delivered = [&] { return sum(per_, &PerWorker::deliveries_pub); };
    auto expected = [&] { return sum(per_, &PerWorker::updates_pub) * o_.roster_size; };
    Measurement m = measure(o_, [&] { phase_ = kRun; }, delivered, [&] { phase_ = kDrain; },
                            [&] { return delivered() >= expected(); });
    r.figures.add("updates_total", sum(per_, &PerWorker::updates_pub));
    report_fanout(r, m, delivered(), expected(), "presence");
    if (dropped_) r.problem(std::to_string(dropped_.load()) + " sessions dropped: " + error_.get());
  }

 private:
  struct PerWorker {
    std::vector<std::unique_ptr<User>> users;
    size_t next = 0;
    unsigned in_flight = 0;
    bool started = false;
    uint64_t updates = 0, deliveries = 0;
    std::atomic<uint64_t> updates_pub{0}, deliveries_pub{0};
  };

  // Logins in flight are bounded (a thousand simultaneous roster loads would measure something else).
  void fill(Worker& w) {
    PerWorker& p = per_[w.index()];
    unsigned max = std::max(1u, o_.concurrency / o_.threads);
    while (p.in_flight < max && p.next < p.users.size()) {
      User* u = p.users[p.next].get();
      unsigned index = w.index() + static_cast<unsigned>(p.next) * o_.threads;
      ++p.next;
      ++p.in_flight;
      u->conn = w.open(o_.ep, o_.login(index, true, true), this, u);
    }
  }

  void update(PerWorker& p, User& u) {
    if (!u.conn || !u.ready) return;
    uint64_t n = u.next++;
    u.conn->send(n % 2 == 0 ? "<presence><show>away</show><status>b" + std::to_string(n) + "</status></presence>"
                            : "<presence><status>b" + std::to_string(n) + "</status></presence>");
    ++p.updates;
  }

  void on_ready(Conn& c) override {
    PerWorker& p = per_[c.worker().index()];
    --p.in_flight;
    ++ready_;
    static_cast<User*>(c.user)->ready = true;
    fill(c.worker());
  }

  void on_stanza(Conn& c, const Stanza& s) override {
    if (s.name() != "presence") return;
    const XNode* status = s.find("status");
    if (!status || status->text.empty() || status->text[0] != 'b') return;  // not a measured update
    auto* u = static_cast<User*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    std::string_view from = s.attr("from");
    bool own = from.substr(0, from.find('/')) == u->bare;
    if (!own) {
      ++p.deliveries;
    } else if (phase_ == kRun) {
      update(p, *u);
    }
  }

  void on_closed(Conn& c, bool was_ready, std::string_view why) override {
    if (auto* u = static_cast<User*>(c.user)) u->conn = nullptr;
    if (!was_ready) ++failed_;
    else ++dropped_;
    error_.set(why);
  }

  Options o_;
  std::vector<PerWorker> per_;
  std::atomic<int> phase_{kSetup};
  std::atomic<unsigned> ready_{0}, failed_{0}, dropped_{0};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_presence(const Options& o) { return std::make_unique<Presence>(o); }

}  // namespace causerie::bench
