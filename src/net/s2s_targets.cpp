#include "net/s2s_targets.hpp"

#include <algorithm>
#include <random>

namespace causerie::net {

namespace {

// RFC 2782: "a Target of '.' means that the service is decidedly not available at this domain" — as the
// only record of the answer (RFC 6120 §3.2.1 step 3). Among other records a "." is simply ignored.
bool says_unavailable(const SrvResult& r) {
  return r && r->size() == 1 && r->front().target == ".";
}

struct Candidate {
  const SrvRecord* record;
  bool direct_tls;
};

// RFC 2782 "Usage rules": within one priority, pick records at random weighted by their weight, with
// the zero-weight ones placed first so that they have a small chance of being picked when others exist.
void append_weighted(std::vector<Candidate> group, const UniformRandom& random, std::vector<S2sTarget>& out) {
  std::stable_partition(group.begin(), group.end(), [](const Candidate& c) { return c.record->weight == 0; });
  while (!group.empty()) {
    uint32_t sum = 0;
    for (const auto& c : group) sum += c.record->weight;
    uint32_t pick = std::min(random(sum), sum);
    uint32_t running = 0;
    size_t i = 0;
    for (; i + 1 < group.size(); ++i) {
      running += group[i].record->weight;
      if (running >= pick) break;
    }
    out.push_back(S2sTarget{group[i].record->target, group[i].record->port, group[i].direct_tls});
    group.erase(group.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace

S2sTargets select_s2s_targets(std::string_view domain, const SrvResult& xmpps, const SrvResult& xmpp,
                              const UniformRandom& random) {
  std::vector<Candidate> candidates;
  for (auto [answer, direct] : {std::pair{&xmpps, true}, std::pair{&xmpp, false}}) {
    if (!*answer) continue;
    for (const auto& r : **answer)
      if (r.target != "." && r.port != 0) candidates.push_back(Candidate{&r, direct});
  }
  S2sTargets out;
  if (candidates.empty()) {
    if (says_unavailable(xmpps) || says_unavailable(xmpp))
      return out;  // kNoService; XEP-0368 §4: no fallback
    out.source = S2sTargetSource::kFallback;
    out.targets.push_back(S2sTarget{std::string(domain), kS2sDefaultPort, false});
    return out;
  }
  out.source = S2sTargetSource::kSrv;
  // XEP-0368 §3 rule 1: both services' records form one set, ordered by priority across both.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.record->priority < b.record->priority;
  });
  for (size_t begin = 0; begin < candidates.size();) {
    size_t end = begin;
    while (end < candidates.size() && candidates[end].record->priority == candidates[begin].record->priority)
      ++end;
    append_weighted(std::vector<Candidate>(candidates.begin() + static_cast<std::ptrdiff_t>(begin),
                                           candidates.begin() + static_cast<std::ptrdiff_t>(end)),
                    random, out.targets);
    begin = end;
  }
  return out;
}

S2sTargets select_s2s_targets(std::string_view domain, const SrvResult& xmpps, const SrvResult& xmpp) {
  thread_local std::mt19937 engine{std::random_device{}()};
  return select_s2s_targets(domain, xmpps, xmpp, [](uint32_t max) {
    return std::uniform_int_distribution<uint32_t>(0, max)(engine);
  });
}

}  // namespace causerie::net
