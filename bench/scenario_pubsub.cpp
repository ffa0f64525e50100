// `pubsub`: publish-subscribe fan-out (XEP-0060, XEP-0163). --subscribers sessions u0..u(n-1) subscribe
// to one node with their full JID (§6.1, so no presence is involved); --publishers u0..u(p-1), subscribers
// too, each keep --window publishes in flight: a publish is complete when its own notification comes back
// to its publisher (every copy of an item goes to every subscriber, the publisher's among them), which
// bounds the notifications in flight to about publishers × window × subscribers.
//
// --service JID: the node (--node, default "bench") lives on a pubsub service; u0 creates it with
// access_model open, publish_model open, max_items --max-items, deliver_payloads and no presence-based
// delivery (§8.1.3), or, when
// it exists (conflict), configures it so (§8.2). --service pep: the node (default "urn:xmpp:bench:0")
// lives on u0's account (XEP-0163), created and configured the same way (publish_model stays the
// owner's: one publisher), and the others subscribe explicitly to u0's bare JID.
//
// The figure is notifications delivered per second, every copy counted; at the end every subscriber must
// have received every item published (measured interval, warm-up and drain), once; every publish must
// have its iq result.
//
// --followers (Causerie's news feed, docs/protocol/feed.md): the subscribers follow with their bare JID,
// then all but the publisher u0 and the last one (the reader) close their streams before the run, so the
// fan-out goes to 1 000 followers' feeds rather than to sessions (the reader sends no presence: a headline
// to its bare JID reaches none of its resources). One publisher; a publish is released by its iq result.
// The figure is feed entries (items × subscribers) per second and per server core-second; at the end the
// reader's first feed page must hold the newest items published, newest first.
#include <charconv>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Phase : int { kSetup, kLogout, kRun, kDrain, kProbe };

struct Member {
  Conn* conn = nullptr;
  unsigned index = 0;
  bool sub_sent = false, subscribed = false, create_sent = false, closing = false, probe_sent = false;
  uint64_t next = 0;   // next publish sequence (publishers)
  uint64_t got = 0;    // notifications of this run received
};

constexpr std::string_view kPubsub = "http://jabber.org/protocol/pubsub";

class Pubsub final : public Scenario, private ConnHandler {
 public:
  explicit Pubsub(const Options& o) : o_(o), per_(o.threads) {
    pep_ = o_.service == "pep";
    if (pep_ || o_.followers) o_.publishers = 1;  // only the owner publishes to its PEP node (XEP-0163 §4)
    o_.publishers = std::max(1u, std::min(o_.publishers, o_.subscribers));
    if (o_.node.empty()) o_.node = o_.followers ? "urn:xmpp:microblog:0" : pep_ ? "urn:xmpp:bench:0" : "bench";
    reader_ = o_.subscribers - 1;
    service_ = pep_ ? o_.bare(0) : o_.service;
    // Item ids carry a token of this run: items left on the node by an earlier run do not count.
    token_ = "r" + std::to_string(static_cast<uint64_t>(now_ns()) % 1'000'000'007ull);
    std::string to = pep_ ? "" : " to='" + service_ + "'";
    publish_prefix_ = "<iq type='set'" + to + " id='p'><pubsub xmlns='" + std::string(kPubsub) +
                      "'><publish node='" + o_.node + "'><item id='" + token_ + "-";
    // ~200 bytes of Atom entry (RFC 4287).
    payload_ = "'><entry xmlns='http://www.w3.org/2005/Atom'><title>Bench item</title>"
               "<updated>2026-12-02T12:00:00Z</updated><author><name>causerie-bench</name></author>"
               "<summary>A small entry of about two hundred bytes, as a feed would publish.</summary>"
               "</entry></item></publish></pubsub></iq>";
  }

  void start(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (unsigned i = w.index(); i < o_.subscribers; i += o_.threads) {
      auto m = std::make_unique<Member>();
      m->index = i;
      p.members.push_back(std::move(m));
    }
    for (auto& m : p.members) m->conn = w.open(o_.ep, o_.login(m->index, false, false), this, m.get());
  }

  void tick(Worker& w) override {
    PerWorker& p = per_[w.index()];
    for (auto& m : p.members) {
      if (!m->conn || !m->conn->ready()) continue;
      if (m->index == 0 && !m->create_sent) {
        m->create_sent = true;
        create(*m);
      }
      if (node_ready_ && !m->sub_sent) {
        m->sub_sent = true;
        m->conn->send("<iq type='set' to='" + service_ + "' id='sub1'><pubsub xmlns='" + std::string(kPubsub) +
                      "'><subscribe node='" + o_.node + "' jid='" + subscriber_jid(*m) + "'/></pubsub></iq>");
      }
      if (phase_ == kLogout && !m->closing && m->index != 0 && m->index != reader_) {
        m->closing = true;
        m->conn->close();
        continue;
      }
      if (phase_ == kProbe && m->index == reader_ && !m->probe_sent) {
        m->probe_sent = true;
        ++probe_queries_;
        m->conn->send("<iq type='get' id='feed1'><query xmlns='urn:causerie:feed:0'><set xmlns='http://jabber.org/"
                      "protocol/rsm'><max>" + std::to_string(probe_k_.load()) + "</max></set></query></iq>");
      }
    }
    if (phase_ == kRun && !p.started) {
      p.started = true;
      for (auto& m : p.members)
        if (m->index < o_.publishers)
          for (unsigned k = 0; k < o_.window; ++k) publish(p, *m);
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (auto& m : p.members) {
      lo = std::min(lo, m->got);
      hi = std::max(hi, m->got);
    }
    p.min_got.store(p.members.empty() ? 0 : lo, std::memory_order_relaxed);
    p.max_got.store(hi, std::memory_order_relaxed);
    p.sent_pub.store(p.sent, std::memory_order_relaxed);
    p.got_pub.store(p.got, std::memory_order_relaxed);
    p.results_pub.store(p.results, std::memory_order_relaxed);
  }

  void control(Report& r) override {
    r.params.add("subscribers", o_.subscribers).add("publishers", o_.publishers).add("window", o_.window)
        .add("service", o_.service).add("node", o_.node).add("max_items", o_.max_items)
        .add("warmup_s", o_.warmup).add("duration_s", o_.duration).add("followers", o_.followers);
    if (!wait_until([&] { return subscribed_ + failed_ >= o_.subscribers || setup_failed_; }, o_.timeout) ||
        failed_ > 0 || setup_failed_) {
      r.problem("only " + std::to_string(subscribed_.load()) + " of " + std::to_string(o_.subscribers) +
                " subscribed; last error: " + error_.get());
      return;
    }
    if (o_.followers) {
      if (o_.subscribers < 2) return r.problem("--followers needs at least 2 subscribers (a publisher and a reader)");
      phase_ = kLogout;
      if (!wait_until([&] { return logged_out_ + 2 >= o_.subscribers; }, o_.timeout))
        return r.problem("only " + std::to_string(logged_out_.load()) + " followers logged out");
    }
    sleep_for(0.5);
    auto results = [&] { return sum(per_, &PerWorker::results_pub); };
    // Followers: every published item is a feed entry for each of them (checked on the reader's feed below).
    auto delivered = [&] { return o_.followers ? results() * o_.subscribers : sum(per_, &PerWorker::got_pub); };
    auto published = [&] { return sum(per_, &PerWorker::sent_pub); };
    auto expected = [&] { return published() * o_.subscribers; };
    Measurement m = measure(o_, [&] { phase_ = kRun; }, delivered, [&] { phase_ = kDrain; },
                            [&] { return delivered() >= expected() && results() >= published(); });
    uint64_t items = published();
    r.figures.add("items_published", items).add("publish_results", results());
    report_fanout(r, m, delivered(), expected(), o_.followers ? "feed entry" : "notification");
    r.figures.add(o_.followers ? "feed_entries_per_s" : "notifications_per_s", m.per_second());
    if (o_.followers) probe(r, items);
    else check_subscribers(r, items);
    if (results() != items) r.problem(std::to_string(items - std::min(items, results())) + " publishes without a result");
    if (publish_errors_) r.problem(std::to_string(publish_errors_.load()) + " publish errors: " + error_.get());
    if (dropped_) r.problem(std::to_string(dropped_.load()) + " sessions dropped: " + error_.get());
  }

 private:
  struct PerWorker {
    std::vector<std::unique_ptr<Member>> members;
    bool started = false;
    uint64_t sent = 0, got = 0, results = 0;
    std::atomic<uint64_t> sent_pub{0}, got_pub{0}, results_pub{0}, min_got{0}, max_got{0};
  };

  std::string config_form() const {
    std::string f = "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>"
                    "http://jabber.org/protocol/pubsub#node_config</value></field>"
                    "<field var='pubsub#access_model'><value>open</value></field>"
                    "<field var='pubsub#max_items'><value>" + std::to_string(o_.max_items) + "</value></field>"
                    "<field var='pubsub#deliver_payloads'><value>1</value></field>"
                    // Subscribers send no presence: delivery must not wait for it (ejabberd's PEP nodes
                    // default to presence-based delivery).
                    "<field var='pubsub#presence_based_delivery'><value>0</value></field>";
    if (!pep_) f += "<field var='pubsub#publish_model'><value>open</value></field>";
    return f + "</x>";
  }

  std::string to_attr() const { return pep_ ? "" : " to='" + service_ + "'"; }
  std::string subscriber_jid(const Member& m) const { return o_.followers ? o_.bare(m.index) : m.conn->jid(); }

  void check_subscribers(Report& r, uint64_t items) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (auto& p : per_) {
      if (p.members.empty()) continue;
      lo = std::min(lo, p.min_got.load());
      hi = std::max(hi, p.max_got.load());
    }
    r.figures.add("per_subscriber_min", lo).add("per_subscriber_max", hi);
    if (lo != items || hi != items)
      r.problem("each subscriber should have " + std::to_string(items) + " items; got between " + std::to_string(lo) +
                " and " + std::to_string(hi));
  }

  // The reader's first feed page must list the newest items published (one publisher: ids token-0-k),
  // newest first. Feed rows may be written after the publish result (docs/protocol/feed.md): the reader
  // asks again on each answer that does not match yet, until the deadline.
  void probe(Report& r, uint64_t items) {
    uint64_t k = std::min<uint64_t>(items, 20);
    for (uint64_t i = 0; i < k; ++i) probe_want_ += token_ + "-0-" + std::to_string(items - 1 - i) + ' ';
    probe_k_ = k;
    int64_t t0 = now_ns();
    phase_ = kProbe;
    bool matched = wait_until([&] { return probe_done_ || probe_failed_; }, o_.timeout) && probe_done_;
    r.figures.add("feed_page_checked", k).add("feed_queries", probe_queries_.load())
        .add("feed_settled_ms", static_cast<double>(now_ns() - t0) / 1e6);
    if (!matched) {
      std::lock_guard lock(probe_mu_);
      r.problem("the reader's feed page is not the newest items: want [" + probe_want_ + "], got [" + probe_got_ + "]");
    }
  }

  void create(Member& m) {
    m.conn->send("<iq type='set'" + to_attr() + " id='create1'><pubsub xmlns='" + std::string(kPubsub) +
                 "'><create node='" + o_.node + "'/><configure>" + config_form() + "</configure></pubsub></iq>");
  }

  void publish(PerWorker& p, Member& m) {
    if (!m.conn) return;
    std::string s;
    s.reserve(publish_prefix_.size() + payload_.size() + 24);
    s.append(publish_prefix_).append(std::to_string(m.index)).append("-").append(std::to_string(m.next++)).append(payload_);
    m.conn->send(s);
    ++p.sent;
  }

  void setup_error(const Stanza& s, const std::string& what) {
    std::string cond = "?";
    if (const XNode* e = s.find("error"))
      for (size_t i = 1; i < s.size(); ++i)
        if (s.node(i).depth == e->depth + 1) {
          cond = s.node(i).name;
          break;
        }
    error_.set(what + " refused: " + cond);
  }

  void on_ready(Conn&) override {}

  void on_stanza(Conn& c, const Stanza& s) override {
    auto* m = static_cast<Member*>(c.user);
    PerWorker& p = per_[c.worker().index()];
    std::string_view name = s.name();
    if (name == "message") {
      const XNode* item = s.find("item");
      if (!item || !s.find("event")) return;
      std::string_view id = item->attr("id");
      if (id.size() <= token_.size() + 1 || id.compare(0, token_.size(), token_) != 0 || id[token_.size()] != '-') return;
      ++m->got;
      ++p.got;
      unsigned from = 0;
      std::string_view rest = id.substr(token_.size() + 1);
      std::from_chars(rest.data(), rest.data() + rest.size(), from);
      if (from == m->index && phase_ == kRun) publish(p, *m);
      return;
    }
    if (name != "iq") return;
    std::string_view id = s.attr("id"), type = s.attr("type");
    if (id == "p") {
      if (type == "result") {
        ++p.results;
        if (o_.followers && phase_ == kRun) publish(p, *m);
      } else {
        ++publish_errors_;
        setup_error(s, "publish");
      }
      return;
    }
    if (id == "feed1") {
      std::string got;
      if (type != "result") got = "error";
      for (size_t i = 0; i < s.size(); ++i)
        if (s.node(i).name == "item") got += std::string(s.node(i).attr("id")) + ' ';
      std::lock_guard lock(probe_mu_);
      probe_got_ = got;
      if (got == probe_want_) probe_done_ = true;
      else if (type != "result") probe_failed_ = true;
      else m->probe_sent = false;  // not there yet: ask again
      return;
    }
    if (id == "create1" || id == "cfg1") {
      if (type == "result") {
        node_ready_ = true;
        return;
      }
      // The node exists (an earlier run): configure it as this run wants (§8.2.4).
      if (id == "create1" && s.find("conflict")) {
        c.send("<iq type='set'" + to_attr() + " id='cfg1'><pubsub xmlns='" + std::string(kPubsub) +
               "#owner'><configure node='" + o_.node + "'>" + config_form() + "</configure></pubsub></iq>");
        return;
      }
      setup_error(s, id == "create1" ? "node creation" : "node configuration");
      setup_failed_ = true;
      return;
    }
    if (id == "sub1") {
      const XNode* sub = s.find("subscription");
      if (type == "result" && (!sub || sub->attr("subscription").empty() || sub->attr("subscription") == "subscribed")) {
        m->subscribed = true;
        ++subscribed_;
      } else {
        if (type == "result") error_.set("subscription is '" + std::string(sub->attr("subscription")) + "'");
        else setup_error(s, "subscription");
        ++failed_;
      }
    }
  }

  void on_closed(Conn& c, bool was_ready, std::string_view why) override {
    auto* m = static_cast<Member*>(c.user);
    if (m) m->conn = nullptr;
    if (m && m->closing) {
      ++logged_out_;
      return;
    }
    if (!was_ready || !m || !m->subscribed) ++failed_;
    else ++dropped_;
    error_.set(why);
  }

  Options o_;
  bool pep_ = false;
  std::string service_, token_, publish_prefix_, payload_;
  unsigned reader_ = 0;                 // --followers: the follower that stays to read its feed
  std::string probe_want_;  // item ids, newest first: written before kProbe, read by the reader's worker after
  std::atomic<uint64_t> probe_k_{0}, probe_queries_{0};
  std::mutex probe_mu_;
  std::string probe_got_;
  std::atomic<bool> probe_done_{false}, probe_failed_{false};
  std::vector<PerWorker> per_;
  std::atomic<int> phase_{kSetup};
  std::atomic<bool> node_ready_{false}, setup_failed_{false};
  std::atomic<unsigned> subscribed_{0}, failed_{0}, dropped_{0}, publish_errors_{0}, logged_out_{0};
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_pubsub(const Options& o) { return std::make_unique<Pubsub>(o); }

}  // namespace causerie::bench
