// DNS expectations of `causerie check`: which SRV records each host needs given the listeners, and the
// verdict on what DNS answered for them, compared with this machine (its interface addresses and the
// addresses and ports its listeners bind). Pure logic: the lookups themselves are check_command's.
// Values; any thread.
//
// The records (RFC 6120 §3.2, XEP-0368 §3):
//  - a STARTTLS c2s listener: _xmpp-client._tcp.<host>; a direct-TLS c2s listener: _xmpps-client._tcp.<host>;
//  - an s2s listener: _xmpp-server._tcp / _xmpps-server._tcp for the host and each service domain
//    (conference.<host>, pubsub.<host>...), which other servers reach on their own.
// Each target's A/AAAA addresses should be this machine's, on a port a listener of that kind serves.
// Without a record, clients and servers fall back to the domain's own addresses on 5222 / 5269
// (RFC 6120 §3.2.2); direct TLS has no fallback. For special-use names (localhost, .test, example.org...),
// which no public DNS serves, problems are warnings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli/check_finding.hpp"
#include "core/config/config.hpp"
#include "net/dns_resolver.hpp"

namespace causerie::check {

struct SrvNeed {
  std::string service;  // "xmpp-client", "xmpps-client", "xmpp-server" or "xmpps-server"
  std::string domain;   // the host, or one of its service domains
  bool server = false;  // served by s2s listeners (else c2s)
  bool direct_tls = false;
  uint16_t fallback_port = 0;  // without SRV records: 5222 or 5269; 0 for direct TLS (no fallback)
  std::string name() const { return "_" + service + "._tcp." + domain; }
  bool operator==(const SrvNeed&) const = default;
};

// The SRV records `host` needs, for its listeners: c2s ones for the host, s2s ones for the host and
// each of `service_domains`.
std::vector<SrvNeed> srv_needs(std::string_view host, const std::vector<std::string>& service_domains,
                               const std::vector<ListenerConfig>& listeners);

// The service domains the modules serve for `host` (MUC's modules.muc.domain, pubsub's
// modules.pubsub.services), which other servers address directly.
std::vector<std::string> service_domains(const Config& config, std::string_view host);

// RFC 6761 / RFC 2606 / RFC 6762 / RFC 8375 names that the public DNS does not serve: localhost, .test,
// .example, .invalid, .local, .home.arpa, .internal, example.com/.net/.org and single labels.
bool is_special_use_domain(std::string_view domain);

// This machine as DNS answers should find it.
struct LocalMachine {
  std::vector<std::string> interface_addresses;  // getifaddrs, in text form
  std::vector<ListenerConfig> listeners;

  // An address of this machine: an interface's, a loopback one, or one a listener binds.
  bool is_local(std::string_view ip) const;
  // Whether a listener of `need`'s kind accepts connections to ip:port (a listener on 0.0.0.0 takes every
  // local IPv4 address, one on :: every local IPv6 address: they are IPv6-only).
  bool serves(const SrvNeed& need, std::string_view ip, uint16_t port) const;
  // Whether a listener of `need`'s kind listens on `port` at all.
  bool has_port(const SrvNeed& need, uint16_t port) const;
};

// Addresses DNS gave for host names (SRV targets, and domains for the fallback).
using AddressAnswers = std::map<std::string, net::AddressResult>;

// The host names judge_srv() needs addresses of, given the SRV answer.
std::vector<std::string> address_lookups(const SrvNeed& need, const net::SrvResult& srv);

// One finding per record found (or one for their absence, or for a failed lookup).
Findings judge_srv(const SrvNeed& need, const net::SrvResult& srv, const AddressAnswers& addresses,
                   const LocalMachine& machine);

}  // namespace causerie::check
