// S2sTargets: the ordered list of places to connect to for a remote domain, from the answers of its two
// SRV lookups (RFC 6120 §3.2, XEP-0368 §3, RFC 2782). Pure logic with no I/O; any thread.
//
//  - Records of _xmpps-server (direct TLS) and _xmpp-server (STARTTLS) are mixed as one set (XEP-0368
//    §3 rule 1): priority ascending across both, then weighted random order within a priority (RFC 2782).
//  - A lone record with target "." means the service is decidedly not available (RFC 2782, RFC 6120
//    §3.2.1 step 3). A "." for _xmpps-server only rules out direct TLS; the _xmpp-server records still
//    count, but there is no A/AAAA fallback after any "." (XEP-0368 §4).
//  - No records at all (no such name, no data, or no answer: RFC 6120 §3.2.1 step 9): the domain itself
//    on 5269 with STARTTLS (RFC 6120 §3.2.2).
// Each target's host is then resolved (DnsResolver::resolve_addresses) and its addresses tried in turn
// before the next target (RFC 6120 §3.2.1 steps 4-7). The certificate must name the domain, not the host.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns_resolver.hpp"

namespace causerie::net {

inline constexpr uint16_t kS2sDefaultPort = 5269;

struct S2sTarget {
  std::string host;
  uint16_t port = 0;
  bool direct_tls = false;  // from _xmpps-server: TLS from the first byte, ALPN "xmpp-server"
  bool operator==(const S2sTarget&) const = default;
};

enum class S2sTargetSource {
  kSrv,        // the SRV records, in order
  kFallback,   // no SRV records: the domain on 5269
  kNoService,  // "." : the domain has no server-to-server service; targets is empty
};

struct S2sTargets {
  std::vector<S2sTarget> targets;
  S2sTargetSource source = S2sTargetSource::kNoService;
};

// A uniform random integer in [0, max] (both ends included), as RFC 2782's weighted selection asks.
using UniformRandom = std::function<uint32_t(uint32_t max)>;

S2sTargets select_s2s_targets(std::string_view domain, const SrvResult& xmpps, const SrvResult& xmpp,
                              const UniformRandom& random);
// The same with a per-thread pseudo-random generator (spreading load needs no cryptographic quality).
S2sTargets select_s2s_targets(std::string_view domain, const SrvResult& xmpps, const SrvResult& xmpp);

}  // namespace causerie::net
