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
#include "page_scenario.hpp"

namespace causerie::bench {

namespace {

enum Kind : unsigned { kFirst, kPeople, kAfter, kKinds };

class FeedPage final : public PageScenario {
 public:
  explicit FeedPage(const Options& o) : PageScenario(o, {"first", "people", "after"}) {
    // The reader's feed, newest first, as far as two pages reach: the posts k (from the newest down) whose
    // author (k % authors) it follows.
    unsigned authors = std::max(1u, o.feed_authors);
    for (unsigned k = o.feed_posts; k-- > 0 && expected_.size() < 2 * o.page_size;)
      if (k % authors < o.feed_follow) expected_.push_back("p" + std::to_string(k));
  }

  void control(Report& r) override {
    r.params.add("feed_posts", o_.feed_posts).add("feed_authors", o_.feed_authors).add("feed_follow", o_.feed_follow)
        .add("page_size", o_.page_size).add("window", o_.window).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    if (expected_.size() < 2 * o_.page_size) {
      r.problem("the filled feed holds fewer than two pages (--feed-posts, --feed-authors, --feed-follow)");
      return;
    }
    measure_pages(r);
  }

 private:
  void send_query() override {
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
    send(std::move(id), kind, q);
  }

  // "" when the page is right, else what is wrong with it.
  std::string check(const Stanza& s, unsigned kind) {
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
    if (s.name() == "iq") answered(s.attr("id"), [&](unsigned kind) { return check(s, kind); });
  }

  std::vector<std::string> expected_;  // item ids of the reader's first two pages
  uint64_t next_ = 0;                  // worker 0's
  std::string after_;                  // worker 0's: RSM <last/> of a first page
};

}  // namespace

std::unique_ptr<Scenario> make_feed_page(const Options& o) { return std::make_unique<FeedPage>(o); }

}  // namespace causerie::bench
