// `mam-page`: how long a client waits for one page of its message archive (XEP-0313) when the archive is
// large. u0 (whose archive holds --archive-size messages with stanza ids m0 … m<N-1>, oldest first, as
// `causerie-bench fill-archive` writes them) keeps --window queries in flight, cycling through four kinds:
//   newest   the last page (RSM <before/>, XEP-0059 §2.5), what a client asks for when it opens;
//   before   the page before m<k> (form field before-id, RSM <before/>), k random in the middle half;
//   after    the page after m<k> (form field after-id), whose first message must be m<k+1>;
//   with     the newest page of the conversation with --with-jid (form field with).
// A query is done when its iq result arrives; its latency runs from the send to the result. Every query
// must bring exactly --page-size messages (the archive is filled so that every page is full) with the
// expected first message where it is known; anything else invalidates the run.
#include <charconv>
#include <mutex>
#include <unordered_map>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Kind : unsigned { kNewest, kBefore, kAfter, kWith, kKinds };
const char* const kKindNames[kKinds] = {"newest", "before", "after", "with"};

class MamPage final : public Scenario, private ConnHandler {
 public:
  explicit MamPage(const Options& o) : o_(o) {
    with_ = o.with_jid.empty() ? o.bare(1) : o.with_jid;
  }

  void start(Worker& w) override {
    if (w.index() == 0) w.open(o_.ep, o_.login(0), this);
  }

  void tick(Worker& w) override {
    if (w.index() != 0 || !conn_ || stopping_) return;
    while (in_flight_.size() < o_.window) send_query();
  }

  void control(Report& r) override {
    r.params.add("archive_size", o_.archive_size).add("page_size", o_.page_size).add("window", o_.window)
        .add("with", with_).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (!wait_until([&] { return ready_ || failed_; }, o_.timeout) || failed_) {
      r.problem("u0 did not log in: " + error_.get());
      return;
    }
    Measurement m = measure(
        o_, [] {}, [&] { return done_.load(); }, [&] { stopping_ = true; },
        [&] {
          std::lock_guard lock(mu_);
          return outstanding_ == 0 || dropped_;
        },
        &measuring_);
    std::lock_guard lock(mu_);
    Histogram all;
    for (const auto& h : latency_) all.merge(h);
    r.figures.add("queries", m.counted).add("queries_per_s", m.per_second())
        .add("page_ms_p50", static_cast<double>(all.percentile(50)) / 1000.0)
        .add("page_ms_p99", static_cast<double>(all.percentile(99)) / 1000.0)
        .add("page_ms_max", static_cast<double>(all.max()) / 1000.0);
    for (unsigned k = 0; k < kKinds; ++k) {
      std::string n = kKindNames[k];
      r.figures.add(n + "_ms_p50", static_cast<double>(latency_[k].percentile(50)) / 1000.0)
          .add(n + "_ms_p99", static_cast<double>(latency_[k].percentile(99)) / 1000.0);
    }
    m.cpu.report(r.figures, "queries", static_cast<double>(m.counted));
    if (m.counted == 0) r.problem("no query answered");
    if (bad_) r.problem(std::to_string(bad_) + " queries answered wrongly, e.g. " + first_bad_);
    if (!m.drained) r.problem(std::to_string(outstanding_) + " queries unanswered after sending stopped");
    if (dropped_) r.problem("u0's session dropped: " + error_.get());
  }

 private:
  struct Pending {
    Kind kind;
    int64_t sent_ns;
    unsigned got = 0;
    std::string first;     // stanza id of the first result
    std::string expected;  // "" when any first id is right
  };

  uint64_t random() {
    rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_ >> 33;
  }

  void send_query() {
    uint64_t n = next_++;
    auto kind = static_cast<Kind>(n % kKinds);
    std::string id = "q" + std::to_string(n);
    Pending p{kind, now_ns()};
    std::string form, rsm = "<set xmlns='http://jabber.org/protocol/rsm'><max>" + std::to_string(o_.page_size) + "</max>";
    auto field = [](const char* var, const std::string& value) {
      return std::string("<field var='") + var + "'><value>" + value + "</value></field>";
    };
    unsigned quarter = o_.archive_size / 4;
    unsigned k = quarter + static_cast<unsigned>(random() % std::max(1u, o_.archive_size / 2));
    switch (kind) {
      case kNewest: rsm += "<before/>"; break;
      case kBefore:
        form = field("before-id", "m" + std::to_string(k));
        rsm += "<before/>";
        p.expected = "m" + std::to_string(k - o_.page_size);
        break;
      case kAfter:
        form = field("after-id", "m" + std::to_string(k));
        p.expected = "m" + std::to_string(k + 1);
        break;
      case kWith:
        form = field("with", with_);
        rsm += "<before/>";
        break;
      case kKinds: break;
    }
    rsm += "</set>";
    std::string q = "<iq type='set' id='" + id + "'><query xmlns='urn:xmpp:mam:2' queryid='" + id + "'>";
    if (!form.empty())
      q += "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value>"
           "</field>" + form + "</x>";
    q += rsm + "</query></iq>";
    {
      std::lock_guard lock(mu_);
      ++outstanding_;
    }
    in_flight_.emplace(std::move(id), std::move(p));
    conn_->send(q);
  }

  void on_ready(Conn& c) override {
    conn_ = &c;
    ready_ = true;
  }

  void on_stanza(Conn&, const Stanza& s) override {
    if (s.name() == "message") {
      const XNode* res = s.find("result");
      if (!res) return;
      auto it = in_flight_.find(std::string(res->attr("queryid")));
      if (it == in_flight_.end()) return;
      if (it->second.got++ == 0) it->second.first = std::string(res->attr("id"));
      return;
    }
    if (s.name() != "iq") return;
    auto it = in_flight_.find(std::string(s.attr("id")));
    if (it == in_flight_.end()) return;
    Pending p = std::move(it->second);
    in_flight_.erase(it);
    int64_t us = (now_ns() - p.sent_ns) / 1000;
    std::lock_guard lock(mu_);
    --outstanding_;
    std::string wrong;
    if (s.attr("type") != "result") wrong = "an error";
    else if (p.got != o_.page_size) wrong = std::to_string(p.got) + " messages";
    else if (!p.expected.empty() && p.first != p.expected) wrong = "first " + p.first + ", not " + p.expected;
    if (!wrong.empty()) {
      if (!bad_++) first_bad_ = std::string(kKindNames[p.kind]) + " page: " + wrong;
      return;
    }
    if (measuring_) {
      latency_[p.kind].record(us);
      done_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void on_closed(Conn&, bool was_ready, std::string_view why) override {
    conn_ = nullptr;
    std::lock_guard lock(mu_);
    if (was_ready) dropped_ = true;
    else failed_ = true;
    error_.set(why);
  }

  Options o_;
  std::string with_;
  std::atomic<bool> ready_{false}, failed_{false}, measuring_{false}, stopping_{false};
  std::atomic<uint64_t> done_{0};
  Conn* conn_ = nullptr;                                 // worker 0's
  std::unordered_map<std::string, Pending> in_flight_;  // worker 0's
  uint64_t next_ = 0, rng_ = 0x9e3779b97f4a7c15ULL;      // worker 0's
  std::mutex mu_;  // guards what follows, read by control()
  unsigned outstanding_ = 0;
  bool dropped_ = false;
  uint64_t bad_ = 0;
  std::string first_bad_;
  Histogram latency_[kKinds];
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_mam_page(const Options& o) { return std::make_unique<MamPage>(o); }

}  // namespace causerie::bench
