#include "cli/dns_expectations.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>

#include <boost/asio/ip/address.hpp>

#include "core/jid/jid.hpp"

namespace causerie::check {

namespace {

using boost::asio::ip::address;
using boost::asio::ip::make_address;
using net::DnsError;

std::optional<address> parse_ip(std::string_view text) {
  boost::system::error_code ec;
  address a = make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return a;
}

bool listener_matches(const ListenerConfig& l, const SrvNeed& need) {
  if (l.type != (need.server ? "s2s" : "c2s")) return false;
  return (l.tls == TlsMode::kDirect) == need.direct_tls;
}

std::string kind(const SrvNeed& need) {
  return std::string(need.direct_tls ? "direct-TLS " : "STARTTLS ") + (need.server ? "s2s" : "c2s");
}

std::string endpoint(std::string_view ip, uint16_t port) {
  std::string host(ip);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

bool ends_with_label(std::string_view name, std::string_view suffix) {
  return name == suffix || (name.size() > suffix.size() && name.ends_with(suffix) &&
                            name[name.size() - suffix.size() - 1] == '.');
}

// Whether `host:port`, as DNS answered for `host`, reaches a listener of `need`'s kind on this machine.
// `label` opens the line.
Finding judge_target(const SrvNeed& need, const std::string& label, const std::string& host, uint16_t port,
                     const AddressAnswers& answers, const LocalMachine& machine) {
  Severity problem = is_special_use_domain(need.domain) ? Severity::kWarn : Severity::kError;
  auto it = answers.find(host);
  if (it == answers.end() || !it->second) {
    DnsError e = it == answers.end() ? DnsError::kNoData : it->second.error();
    if (e == DnsError::kNotFound || e == DnsError::kNoData)
      return {problem, label + ": " + host + " has no A or AAAA record"};
    return {Severity::kWarn, label + ": the addresses of " + host + " could not be resolved (" + net::to_string(e) +
                                 "): not checked"};
  }
  std::vector<std::string> local, elsewhere, described, unserved;
  for (const auto& ip : *it->second) {
    bool here = machine.is_local(ip);
    (here ? local : elsewhere).push_back(ip);
    described.push_back(ip + (here ? " (this machine)" : " (not this machine)"));
    if (here && !machine.serves(need, ip, port)) unserved.push_back(endpoint(ip, port));
  }
  std::string text = label + ": " + join(described);
  if (!unserved.empty()) return {problem, text + "; no " + kind(need) + " listener on " + join(unserved)};
  if (local.empty()) {
    if (!machine.has_port(need, port))
      return {problem, text + "; no " + kind(need) + " listener uses port " + std::to_string(port)};
    return {Severity::kWarn, text + "; right only if a NAT forwards port " + std::to_string(port) + " to this machine"};
  }
  if (!elsewhere.empty()) return {Severity::kWarn, text + "; " + join(elsewhere) + " will not reach this server"};
  bool all_loopback = std::all_of(local.begin(), local.end(), [](const std::string& ip) {
    auto a = parse_ip(ip);
    return a && a->is_loopback();
  });
  if (all_loopback && !is_special_use_domain(need.domain))
    return {problem, text + "; loopback addresses cannot be reached from other machines"};
  return {Severity::kOk, text};
}

}  // namespace

std::vector<SrvNeed> srv_needs(std::string_view host, const std::vector<std::string>& service_domains,
                               const std::vector<ListenerConfig>& listeners) {
  auto any = [&](const char* type, bool direct) {
    return std::any_of(listeners.begin(), listeners.end(), [&](const ListenerConfig& l) {
      return l.type == type && (l.tls == TlsMode::kDirect) == direct;
    });
  };
  std::vector<SrvNeed> out;
  std::string h(host);
  if (any("c2s", false)) out.push_back({"xmpp-client", h, false, false, 5222});
  if (any("c2s", true)) out.push_back({"xmpps-client", h, false, true, 0});
  std::vector<std::string> domains{h};
  domains.insert(domains.end(), service_domains.begin(), service_domains.end());
  for (const auto& d : domains) {
    if (any("s2s", false)) out.push_back({"xmpp-server", d, true, false, 5269});
    if (any("s2s", true)) out.push_back({"xmpps-server", d, true, true, 0});
  }
  return out;
}

std::vector<std::string> service_domains(const Config& config, std::string_view host) {
  // The defaults and rules of MucModule::read_settings and the pubsub module's load_settings.
  std::vector<std::string> out;
  const RawConfig* raw = config.raw.get();
  auto add = [&](std::string name) {
    if (auto p = prep_domainpart(name); p && std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
  };
  if (!raw || raw->get_bool("modules.muc.enabled").value_or(true)) {
    std::string domain = (raw ? raw->get_string("modules.muc.domain") : std::nullopt).value_or("conference.{host}");
    if (auto p = domain.find("{host}"); p != std::string::npos) domain.replace(p, 6, host);
    add(domain);
  }
  auto pubsub = (raw ? raw->get_strings("modules.pubsub.services") : std::nullopt)
                    .value_or(std::vector<std::string>{"pubsub", "comments", "spaces"});
  for (const auto& prefix : pubsub) add(prefix + "." + std::string(host));
  return out;
}

bool is_special_use_domain(std::string_view domain) {
  std::string d(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (d.find('.') == std::string::npos) return true;  // localhost, and any single label: no public zone
  for (std::string_view suffix : {"localhost", "test", "example", "invalid", "local", "home.arpa", "internal",
                                  "example.com", "example.net", "example.org"})
    if (ends_with_label(d, suffix)) return true;
  return false;
}

bool LocalMachine::is_local(std::string_view ip) const {
  auto a = parse_ip(ip);
  if (!a) return false;
  if (a->is_loopback()) return true;
  for (const auto& i : interface_addresses)
    if (parse_ip(i) == a) return true;
  for (const auto& l : listeners)
    if (parse_ip(l.address) == a) return true;
  return false;
}

bool LocalMachine::serves(const SrvNeed& need, std::string_view ip, uint16_t port) const {
  auto a = parse_ip(ip);
  if (!a) return false;
  for (const auto& l : listeners) {
    if (!listener_matches(l, need) || l.port != port) continue;
    auto bound = parse_ip(l.address);
    if (!bound) continue;
    if (*bound == *a) return true;
    if (bound->is_unspecified() && bound->is_v4() == a->is_v4() && is_local(ip)) return true;
  }
  return false;
}

bool LocalMachine::has_port(const SrvNeed& need, uint16_t port) const {
  return std::any_of(listeners.begin(), listeners.end(),
                     [&](const ListenerConfig& l) { return listener_matches(l, need) && l.port == port; });
}

std::vector<std::string> address_lookups(const SrvNeed& need, const net::SrvResult& srv) {
  std::vector<std::string> out;
  if (srv) {
    for (const auto& r : *srv)
      if (r.target != "." && std::find(out.begin(), out.end(), r.target) == out.end()) out.push_back(r.target);
  } else if ((srv.error() == DnsError::kNotFound || srv.error() == DnsError::kNoData) && need.fallback_port) {
    out.push_back(need.domain);
  }
  return out;
}

Findings judge_srv(const SrvNeed& need, const net::SrvResult& srv, const AddressAnswers& addresses,
                   const LocalMachine& machine) {
  Severity problem = is_special_use_domain(need.domain) ? Severity::kWarn : Severity::kError;
  std::string name = "SRV " + need.name();
  const char* who = need.server ? "servers" : "clients";
  if (!srv) {
    if (srv.error() != DnsError::kNotFound && srv.error() != DnsError::kNoData)
      return {{Severity::kWarn, name + ": lookup failed (" + net::to_string(srv.error()) + "): not checked"}};
    if (!need.fallback_port) {
      std::vector<std::string> ports;
      for (const auto& l : machine.listeners)
        if (listener_matches(l, need)) ports.push_back(std::to_string(l.port));
      return {{Severity::kWarn, name + ": no record; " + who + " will not find direct TLS (port " + join(ports) + ")"}};
    }
    // RFC 6120 §3.2.2: without SRV records, the domain itself on the default port. It works, but the
    // record is what RFC 6120 §3.2.1 asks for.
    Finding f = judge_target(need, name + ": no record, so " + who + " try " + need.domain + ":" +
                                        std::to_string(need.fallback_port),
                             need.domain, need.fallback_port, addresses, machine);
    f.severity = std::max(f.severity, Severity::kWarn);
    return {f};
  }
  std::vector<net::SrvRecord> records = *srv;
  std::sort(records.begin(), records.end(), [](const net::SrvRecord& a, const net::SrvRecord& b) {
    return std::tie(a.priority, b.weight, a.target, a.port) < std::tie(b.priority, a.weight, b.target, b.port);
  });
  Findings out;
  for (const auto& r : records) {
    if (r.target == ".") {
      // RFC 2782: "." says the service is decidedly not available at this domain.
      out.push_back({problem, name + " -> \".\": says there is no such service, but this server has a " + kind(need) +
                                  " listener"});
      continue;
    }
    out.push_back(judge_target(need, name + " -> " + r.target + ":" + std::to_string(r.port), r.target, r.port,
                               addresses, machine));
  }
  return out;
}

}  // namespace causerie::check
