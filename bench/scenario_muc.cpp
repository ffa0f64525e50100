// `muc`: group chat fan-out (XEP-0045). --occupants users u0..u(n-1) join one room (--room) with their
// user name as nickname; u0 joins first and configures it as an instant room (§10.1.2), then the others
// join. --senders occupants each keep --window groupchat messages in flight: a sender's message comes
// back to it like to every occupant (§7.4), and that reflection releases its next one. Every message
// reaches all occupants; deliveries/s counts each copy received, and the total is checked at the end.
#include <charconv>
#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Phase : int { kSetup, kRun, kDrain };

struct Occupant {
  Conn* conn = nullptr;
  unsigned index = 0;
  bool joined = false, join_sent = false;
  uint64_t next = 0;
};

class Muc final : public Scenario, private ConnHandler {
 public:
  explicit Muc(const Options& o) : o_(o), per_(o.threads) {}

  void start(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (unsigned i = w.index(); i < o_.occupants; i += o_.threads) {
      auto u = std::make_unique<Occupant>();
      u->index = i;
      p.occupants.push_back(std::move(u));
    }
    for (auto& u : p.occupants) u->conn = w.open(o_.ep, o_.login(u->index, false, true), this, u.get());
  }

  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    // u0 (worker 0) creates the room; everyone else joins once it is open.
    for (auto& u : p.occupants) {
      if (!u->conn || !u->conn->ready() || u->joined || u->join_sent) continue;
      if (u->index == 0 || room_open_) join(*u);
    }
    if (phase_ == kRun && !p.started) {
      p.started = true;
      for (auto& u : p.occupants)
        if (u->index < o_.senders)
          for (unsigned k = 0; k < o_.window; ++k) say(p, *u);
    }
    p.sent_pub.store(p.sent, std::memory_order_relaxed);
    p.got_pub.store(p.got, std::memory_order_relaxed);
  }

  void control(Report& r) override {
    r.params.add("occupants", o_.occupants).add("senders", o_.senders).add("window", o_.window)
        .add("room", o_.room).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (!wait_until([&] { return joined_ + failed_ >= o_.occupants; }, o_.timeout) || failed_ > 0) {
      r.problem("only " + std::to_string(joined_.load()) + " of " + std::to_string(o_.occupants) +
                " occupants joined; last error: " + error_.get());
      return;
    }
    sleep_for(1.0);  // join presences settle
    auto delivered = [&] { return sum(per_, &PerWorker::got_pub); };
    auto expected = [&] { return sum(per_, &PerWorker::sent_pub) * o_.occupants; };
    Measurement m = measure(o_, [&] { phase_ = kRun; }, delivered, [&] { phase_ = kDrain; },
                            [&] { return delivered() >= expected(); });
    r.figures.add("messages_total", sum(per_, &PerWorker::sent_pub));
    report_fanout(r, m, delivered(), expected(), "groupchat");
    if (dropped_) r.problem(std::to_string(dropped_.load()) + " sessions dropped: " + error_.get());
  }

 private:
  struct PerWorker {
    std::vector<std::unique_ptr<Occupant>> occupants;
    bool started = false;
    uint64_t sent = 0, got = 0;
    std::atomic<uint64_t> sent_pub{0}, got_pub{0};
  };

  std::string nick_jid(const Occupant& u) const { return o_.room + "/" + o_.user(u.index); }

  void join(Occupant& u) {
    u.conn->send("<presence to='" + nick_jid(u) + "'><x xmlns='http://jabber.org/protocol/muc'>"
                 "<history maxstanzas='0'/></x></presence>");
    u.join_sent = true;
  }

  void say(PerWorker& p, Occupant& u) {
    if (!u.conn) return;
    u.conn->send("<message to='" + o_.room + "' type='groupchat'><body>b " + std::to_string(u.next++) +
                 "</body></message>");
    ++p.sent;
  }

  void on_ready(Conn&) override {}

  void on_stanza(Conn& c, const Stanza& s) override {
    auto* u = static_cast<Occupant*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    std::string_view name = s.name();
    if (name == "message" && s.attr("type") == "groupchat") {
      const XNode* body = s.find("body");
      if (!body || body->text.rfind("b ", 0) != 0) return;
      ++p.got;
      if (phase_ == kRun && s.attr("from") == nick_jid(*u)) say(p, *u);
      return;
    }
    if (u->joined) return;
    if (name == "presence" && s.attr("from") == nick_jid(*u)) {
      if (s.attr("type") == "error") {
        c.close();
        return;
      }
      // Our own presence in the room (status 110) means we are in (§7.2.3). A new room also says 201.
      bool created = false, self = false;
      for (size_t i = 1; i < s.size(); ++i) {
        if (s.node(i).name != "status") continue;
        if (s.node(i).attr("code") == "110") self = true;
        if (s.node(i).attr("code") == "201") created = true;
      }
      if (!self) return;
      if (created) {
        // §10.1.2: accept the default configuration (an instant room) before others join.
        c.send("<iq type='set' id='cfg1' to='" + o_.room + "'><query xmlns='http://jabber.org/protocol/muc#owner'>"
               "<x xmlns='jabber:x:data' type='submit'/></query></iq>");
        return;
      }
      u->joined = true;
      if (u->index == 0) room_open_ = true;
      ++joined_;
      return;
    }
    if (name == "iq" && s.attr("id") == "cfg1") {
      if (s.attr("type") != "result") {
        c.close();
        return;
      }
      u->joined = true;
      room_open_ = true;
      ++joined_;
    }
  }

  void on_closed(Conn& c, bool was_ready, std::string_view why) override {
    auto* u = static_cast<Occupant*>(c.user);
    if (u) u->conn = nullptr;
    if (!was_ready || !u || !u->joined) ++failed_;
    else ++dropped_;
    error_.set(why);
  }

  Options o_;
  std::vector<PerWorker> per_;
  std::atomic<int> phase_{kSetup};
  std::atomic<bool> room_open_{false};
  std::atomic<unsigned> joined_{0}, failed_{0}, dropped_{0};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_muc(const Options& o) { return std::make_unique<Muc>(o); }

}  // namespace causerie::bench
