// `feed-page`: how long a client waits for a page of its news feed (docs/protocol/feed.md,
// urn:causerie:feed:0) when the server stores many posts. u0 (the reader `causerie-bench fill-feed` made:
// it follows the first --feed-follow of --feed-authors accounts, whose microblogs hold --feed-posts posts
// with item ids p0 … p<N-1>, oldest first, post k by author k % authors) keeps --window queries in flight,
// cycling through three kinds:
//   first    the first page (RSM <max/> only), what a client asks for when it opens the feed;
//   people   the first page with the `people` filter (a data form);
//   after    the page after the last entry of a first page (RSM <after/>), the next screenful.
// A query is done when its iq result arrives; its latency runs from the send to the result. Every page
// must hold exactly --page-size entries, the posts expected where they are known from the fill (the
// newest posts of followed authors, newest first), and say it is not complete; anything else invalidates
// the run.
#include <mutex>
#include <unordered_map>

#include "scenario.hpp"

namespace causerie::bench {

namespace {

enum Kind : unsigned { kFirst, kPeople, kAfter, kKinds };
const char* const kKindNames[kKinds] = {"first", "people", "after"};

class FeedPage final : public Scenario, private ConnHandler {
 public:
  explicit FeedPage(const Options& o) : o_(o) {
    // The reader's feed, newest first, as far as two pages reach: the posts k (from the newest down) whose
    // author (k % authors) it follows.
    unsigned authors = std::max(1u, o.feed_authors);
    for (unsigned k = o.feed_posts; k-- > 0 && expected_.size() < 2 * o.page_size;)
      if (k % authors < o.feed_follow) expected_.push_back("p" + std::to_string(k));
  }

  void start(Worker& w) override {
    if (w.index() == 0) w.open(o_.ep, o_.login(0), this);
  }

  void tick(Worker& w) override {
    if (w.index() != 0 || !conn_ || stopping_) return;
    while (in_flight_.size() < o_.window) send_query();
  }

  void control(Report& r) override {
    r.params.add("feed_posts", o_.feed_posts).add("feed_authors", o_.feed_authors).add("feed_follow", o_.feed_follow)
        .add("page_size", o_.page_size).add("window", o_.window).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (expected_.size() < 2 * o_.page_size) {
      r.problem("the filled feed holds fewer than two pages (--feed-posts, --feed-authors, --feed-follow)");
      return;
    }
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
  };

  void send_query() {
    uint64_t n = next_++;
    auto kind = static_cast<Kind>(n % kKinds);
    if (kind == kAfter && after_.empty()) kind = kFirst;  // no first page answered yet
    std::string id = "f" + std::to_string(n);
    std::string q = "<iq type='get' id='" + id + "'><query xmlns='urn:causerie:feed:0'>";
    if (kind == kPeople)
      q += "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:causerie:feed:0"
           "</value></field><field var='filter'><value>people</value></field></x>";
    q += "<set xmlns='http://jabber.org/protocol/rsm'><max>" + std::to_string(o_.page_size) + "</max>";
    if (kind == kAfter) q += "<after>" + after_ + "</after>";
    q += "</set></query></iq>";
    {
      std::lock_guard lock(mu_);
      ++outstanding_;
    }
    in_flight_.emplace(std::move(id), Pending{kind, now_ns()});
    conn_->send(q);
  }

  void on_ready(Conn& c) override {
    conn_ = &c;
    ready_ = true;
  }

  // "" when the page is right, else what is wrong with it.
  std::string check(const Stanza& s, Kind kind) {
    if (s.attr("type") != "result") return "an error";
    const XNode* feed = s.find("feed");
    if (!feed) return "no <feed/>";
    if (feed->attr("complete") == "true") return "complete='true' on a page with more beyond it";
    std::vector<std::string> items;
    std::string last;
    for (size_t i = 0; i < s.size(); ++i) {
      const XNode& x = s.node(i);
      if (x.name == "item") items.emplace_back(x.attr("id"));
      else if (x.name == "last") last = x.text;
    }
    size_t from = kind == kAfter ? o_.page_size : 0;
    if (items.size() != o_.page_size) return std::to_string(items.size()) + " entries";
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i] != expected_[from + i]) return "entry " + std::to_string(i) + " is " + items[i] + ", not " + expected_[from + i];
    if (last.empty()) return "no RSM <last/>";
    if (kind == kFirst) after_ = last;
    return "";
  }

  void on_stanza(Conn&, const Stanza& s) override {
    if (s.name() != "iq") return;
    auto it = in_flight_.find(std::string(s.attr("id")));
    if (it == in_flight_.end()) return;
    Pending p = it->second;
    in_flight_.erase(it);
    int64_t us = (now_ns() - p.sent_ns) / 1000;
    std::string wrong = check(s, p.kind);
    std::lock_guard lock(mu_);
    --outstanding_;
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
  std::vector<std::string> expected_;  // item ids of the reader's first two pages
  std::atomic<bool> ready_{false}, failed_{false}, measuring_{false}, stopping_{false};
  std::atomic<uint64_t> done_{0};
  Conn* conn_ = nullptr;                                 // worker 0's
  std::unordered_map<std::string, Pending> in_flight_;  // worker 0's
  uint64_t next_ = 0;                                    // worker 0's
  std::string after_;                                    // worker 0's: RSM <last/> of a first page
  std::mutex mu_;  // guards what follows, read by control()
  unsigned outstanding_ = 0;
  bool dropped_ = false;
  uint64_t bad_ = 0;
  std::string first_bad_;
  Histogram latency_[kKinds];
  LastError error_;
};

}  // namespace

std::unique_ptr<Scenario> make_feed_page(const Options& o) { return std::make_unique<FeedPage>(o); }

}  // namespace causerie::bench
