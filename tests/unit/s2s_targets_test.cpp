// Where to connect for a remote domain: RFC 6120 §3.2, XEP-0368 §3 and §4, RFC 2782 ordering.
#include <gtest/gtest.h>

#include <deque>

#include "net/s2s_targets.hpp"

using namespace causerie::net;

namespace {

SrvResult records(std::vector<SrvRecord> r) {
  return r;
}
SrvResult failed(DnsError e) {
  return tl::unexpected(e);
}
SrvRecord srv(std::string target, uint16_t port, uint16_t priority, uint16_t weight) {
  return SrvRecord{std::move(target), port, priority, weight};
}
S2sTarget starttls(std::string host, uint16_t port) {
  return S2sTarget{std::move(host), port, false};
}
S2sTarget direct(std::string host, uint16_t port) {
  return S2sTarget{std::move(host), port, true};
}

// A random source that answers from a script (and checks it is asked within the sum of weights).
struct Scripted {
  std::deque<uint32_t> answers;
  bool low = true;  // when the script is empty: 0, or the largest allowed value
  uint32_t operator()(uint32_t max) {
    if (answers.empty()) return low ? 0 : max;
    uint32_t v = answers.front();
    answers.pop_front();
    EXPECT_LE(v, max);
    return v;
  }
};

struct Case {
  const char* name;
  SrvResult xmpps, xmpp;
  Scripted random;
  S2sTargetSource source;
  std::vector<S2sTarget> expected;
};

TEST(S2sTargets, Table) {
  // clang-format off
  std::vector<Case> cases = {
      {"no SRV records at all: the domain on 5269 (RFC 6120 §3.2.2)", failed(DnsError::kNotFound),
       failed(DnsError::kNoData), {}, S2sTargetSource::kFallback, {starttls("remote.example", 5269)}},
      {"no answer to either query: fallback too (RFC 6120 §3.2.1 step 9)", failed(DnsError::kTimeout),
       failed(DnsError::kServerFailure), {}, S2sTargetSource::kFallback, {starttls("remote.example", 5269)}},
      {"_xmpp-server is '.': no service", failed(DnsError::kNotFound), records({srv(".", 0, 0, 0)}), {},
       S2sTargetSource::kNoService, {}},
      {"both '.': no service", records({srv(".", 0, 0, 0)}), records({srv(".", 0, 0, 0)}), {},
       S2sTargetSource::kNoService, {}},
      {"_xmpps-server '.' only rules out direct TLS (XEP-0368 §4)", records({srv(".", 0, 0, 0)}),
       records({srv("xmpp.remote.example", 5269, 0, 0)}), {}, S2sTargetSource::kSrv,
       {starttls("xmpp.remote.example", 5269)}},
      {"_xmpps-server '.' and no _xmpp-server records: no A/AAAA fallback (XEP-0368 §4)",
       records({srv(".", 0, 0, 0)}), failed(DnsError::kNotFound), {}, S2sTargetSource::kNoService, {}},
      {"_xmpp-server '.' with _xmpps-server records: direct TLS only", records({srv("tls.remote.example", 443, 1, 0)}),
       records({srv(".", 0, 0, 0)}), {}, S2sTargetSource::kSrv, {direct("tls.remote.example", 443)}},
      {"a failed query does not hide the other's records", records({srv("tls.remote.example", 5270, 1, 0)}),
       failed(DnsError::kTimeout), {}, S2sTargetSource::kSrv, {direct("tls.remote.example", 5270)}},
      {"priorities ascending across both services (XEP-0368 §3 rule 1)",
       records({srv("a.remote.example", 5270, 10, 0), srv("c.remote.example", 5270, 30, 0)}),
       records({srv("b.remote.example", 5269, 20, 0), srv("z.remote.example", 5269, 5, 0)}), {},
       S2sTargetSource::kSrv,
       {starttls("z.remote.example", 5269), direct("a.remote.example", 5270), starttls("b.remote.example", 5269),
        direct("c.remote.example", 5270)}},
      {"weight 0 first, then by running sum: random 0 each time", failed(DnsError::kNotFound),
       records({srv("b", 1, 1, 10), srv("a", 1, 1, 0), srv("c", 1, 1, 20)}), Scripted{{}, true},
       S2sTargetSource::kSrv, {starttls("a", 1), starttls("b", 1), starttls("c", 1)}},
      {"random at the top of the sum picks the last record each time", failed(DnsError::kNotFound),
       records({srv("b", 1, 1, 10), srv("a", 1, 1, 0), srv("c", 1, 1, 20)}), Scripted{{}, false},
       S2sTargetSource::kSrv, {starttls("c", 1), starttls("b", 1), starttls("a", 1)}},
      {"RFC 2782: the first record whose running sum reaches the random number", failed(DnsError::kNotFound),
       records({srv("b", 1, 1, 10), srv("c", 1, 1, 20)}), Scripted{{10, 0}, true}, S2sTargetSource::kSrv,
       {starttls("b", 1), starttls("c", 1)}},
      {"one past b's weight selects c", failed(DnsError::kNotFound),
       records({srv("b", 1, 1, 10), srv("c", 1, 1, 20)}), Scripted{{11, 0}, true}, S2sTargetSource::kSrv,
       {starttls("c", 1), starttls("b", 1)}},
      {"weights mix across services within a priority",
       records({srv("d", 5270, 1, 30)}), records({srv("s", 5269, 1, 10)}), Scripted{{31, 0}, true},
       S2sTargetSource::kSrv, {starttls("s", 5269), direct("d", 5270)}},
      {"weighted order restarts for each priority", failed(DnsError::kNotFound),
       records({srv("p2a", 1, 2, 5), srv("p1a", 1, 1, 5), srv("p1b", 1, 1, 5), srv("p2b", 1, 2, 5)}),
       Scripted{{10, 0, 6, 0}, true}, S2sTargetSource::kSrv,
       {starttls("p1b", 1), starttls("p1a", 1), starttls("p2b", 1), starttls("p2a", 1)}},
      {"a '.' among other records is ignored", failed(DnsError::kNotFound),
       records({srv(".", 0, 0, 0), srv("x", 5269, 1, 0)}), {}, S2sTargetSource::kSrv, {starttls("x", 5269)}},
  };
  // clang-format on
  for (auto& c : cases) {
    S2sTargets t = select_s2s_targets("remote.example", c.xmpps, c.xmpp, std::ref(c.random));
    EXPECT_EQ(t.source, c.source) << c.name;
    EXPECT_EQ(t.targets, c.expected) << c.name;
    EXPECT_TRUE(c.random.answers.empty())
        << c.name << ": the random source was asked fewer times than scripted";
  }
}

TEST(S2sTargets, DefaultRandomKeepsPrioritiesAndEveryRecord) {
  SrvResult xmpps = records({srv("d1", 5270, 1, 50), srv("d2", 5270, 2, 50)});
  SrvResult xmpp = records({srv("s1", 5269, 1, 50), srv("s2", 5269, 2, 0)});
  for (int i = 0; i < 20; ++i) {
    S2sTargets t = select_s2s_targets("remote.example", xmpps, xmpp);
    ASSERT_EQ(t.targets.size(), 4u);
    std::vector<std::string> first{t.targets[0].host, t.targets[1].host},
        second{t.targets[2].host, t.targets[3].host};
    std::sort(first.begin(), first.end());
    std::sort(second.begin(), second.end());
    EXPECT_EQ(first, (std::vector<std::string>{"d1", "s1"}));
    EXPECT_EQ(second, (std::vector<std::string>{"d2", "s2"}));
  }
}

}  // namespace
