// DnsResolver: asynchronous DNS lookups (SRV, A and AAAA) with c-ares, on one worker's io_context.
//
// c-ares owns its sockets; the resolver watches them through that io_context (never closing them) and
// drives c-ares's timeouts with a timer, so a lookup never blocks the thread. Each worker that needs
// names has its own resolver: every method must be called on the io_context's thread, and every
// callback runs there too, always later than the call that asked (never from inside it). Destroying the
// resolver abandons pending lookups: their callbacks are never called.
//
// Servers come from [dns] (DnsConfig); with none configured, from /etc/resolv.conf. Names are domains
// in prepared form (JID domainparts); the resolver converts them to A-labels itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace causerie::net {

enum class DnsError {
  kNotFound,       // NXDOMAIN: the name does not exist
  kNoData,         // the name exists but has no record of the type asked
  kTimeout,        // no answer from any server after every try
  kServerFailure,  // SERVFAIL, REFUSED, or no server could be reached
  kBadResponse,    // an answer that could not be parsed
  kBadName,        // the name cannot be asked (not a valid domain)
};
const char* to_string(DnsError e);

// One SRV resource record (RFC 2782). A target of "." means "decidedly not available" (see s2s_targets).
struct SrvRecord {
  std::string target;  // lower case, without the trailing dot; "." for the root
  uint16_t port = 0;
  uint16_t priority = 0;
  uint16_t weight = 0;
  bool operator==(const SrvRecord&) const = default;
};

using SrvResult = tl::expected<std::vector<SrvRecord>, DnsError>;
// IP addresses in text form ("192.0.2.1", "2001:db8::1"), both families, in the order to try them
// (RFC 6724 destination address selection, as c-ares sorts them).
using AddressResult = tl::expected<std::vector<std::string>, DnsError>;

// Where addresses come from: DNS after /etc/hosts (as connecting to a server should), or DNS alone (as
// other machines see a name: `causerie check`, where a local hosts entry would hide a wrong record).
enum class HostsFile { kConsult, kIgnore };

class DnsResolver {
 public:
  // Throws ConfigError when c-ares cannot start (e.g. no usable resolv.conf and no servers).
  DnsResolver(boost::asio::io_context& io, const DnsConfig& config, HostsFile hosts = HostsFile::kConsult);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // SRV records of _<service>._tcp.<domain>, e.g. service "xmpp-server" (RFC 6120 §3.2.1).
  void resolve_srv(std::string_view service, std::string_view domain, std::function<void(SrvResult)> done);
  // Both server-to-server services at once, _xmpps-server (XEP-0368) and _xmpp-server; one callback
  // when both answers are in.
  void resolve_s2s_srv(std::string_view domain, std::function<void(SrvResult xmpps, SrvResult xmpp)> done);
  // A and AAAA records of a host (also /etc/hosts unless HostsFile::kIgnore; an IP literal resolves to
  // itself).
  void resolve_addresses(std::string_view host, std::function<void(AddressResult)> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace causerie::net
