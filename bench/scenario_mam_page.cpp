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
#include <unordered_map>

#include "page_scenario.hpp"

namespace causerie::bench {

namespace {

enum Kind : unsigned { kNewest, kBefore, kAfter, kWith, kKinds };

class MamPage final : public PageScenario {
 public:
  explicit MamPage(const Options& o) : PageScenario(o, {"newest", "before", "after", "with"}) {
    with_ = o.with_jid.empty() ? o.bare(1) : o.with_jid;
  }

  void control(Report& r) override {
    r.params.add("archive_size", o_.archive_size).add("page_size", o_.page_size).add("window", o_.window)
        .add("with", with_).add("warmup_s", o_.warmup).add("duration_s", o_.duration);
    measure_pages(r);
  }

 private:
  struct Results {
    unsigned got = 0;
    std::string first;     // stanza id of the first result
    std::string expected;  // "" when any first id is right
  };

  uint64_t random() {
    rng_ = rng_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_ >> 33;
  }

  void send_query() override {
    uint64_t n = next_++;
    auto kind = static_cast<Kind>(n % kKinds);
    std::string id = "q" + std::to_string(n);
    Results res;
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
        res.expected = "m" + std::to_string(k - o_.page_size);
        break;
      case kAfter:
        form = field("after-id", "m" + std::to_string(k));
        res.expected = "m" + std::to_string(k + 1);
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
    results_[id] = std::move(res);
    send(std::move(id), kind, q);
  }

  void on_stanza(Conn&, const Stanza& s) override {
    if (s.name() == "message") {
      const XNode* res = s.find("result");
      if (!res) return;
      auto it = results_.find(std::string(res->attr("queryid")));
      if (it == results_.end()) return;
      if (it->second.got++ == 0) it->second.first = std::string(res->attr("id"));
      return;
    }
    if (s.name() != "iq") return;
    auto it = results_.find(std::string(s.attr("id")));
    if (it == results_.end()) return;
    Results res = std::move(it->second);
    results_.erase(it);
    answered(s.attr("id"), [&](unsigned) -> std::string {
      if (s.attr("type") != "result") return "an error";
      if (res.got != o_.page_size) return std::to_string(res.got) + " messages";
      if (!res.expected.empty() && res.first != res.expected) return "first " + res.first + ", not " + res.expected;
      return "";
    });
  }

  std::string with_;
  std::unordered_map<std::string, Results> results_;  // worker 0's, by query id
  uint64_t next_ = 0, rng_ = 0x9e3779b97f4a7c15ULL;  // worker 0's
};

}  // namespace

std::unique_ptr<Scenario> make_mam_page(const Options& o) { return std::make_unique<MamPage>(o); }

}  // namespace causerie::bench
