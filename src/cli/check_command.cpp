#include "cli/check_command.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/x509_vfy.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "cli/certificate_check.hpp"
#include "cli/dns_expectations.hpp"
#include "net/dns_resolver.hpp"
#include "net/listen_socket.hpp"
#include "net/tls_context.hpp"

namespace causerie::check {

namespace {

class Report {
 public:
  void add(std::string_view subject, const Finding& f) {
    static constexpr const char* kLabels[] = {"OK   ", "WARN ", "ERROR"};
    std::cout << kLabels[static_cast<int>(f.severity)] << " " << subject << ": " << f.text << "\n";
    if (f.severity == Severity::kError) ++errors_;
    if (f.severity == Severity::kWarn) ++warnings_;
  }
  void add(std::string_view subject, const Findings& fs) {
    for (const auto& f : fs) add(subject, f);
  }
  int finish() {
    std::cout << errors_ << (errors_ == 1 ? " error, " : " errors, ") << warnings_
              << (warnings_ == 1 ? " warning\n" : " warnings\n");
    return errors_ ? 1 : 0;
  }

 private:
  int errors_ = 0, warnings_ = 0;
};

std::vector<std::string> interface_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    else if (i->ifa_addr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
    if (text[0]) out.emplace_back(text);
  }
  freeifaddrs(list);
  return out;
}

std::string listener_name(const ListenerConfig& l) {
  std::string address = l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address;
  const char* tls = l.tls == TlsMode::kDirect ? "direct TLS" : l.tls == TlsMode::kStartTls ? "STARTTLS" : "no TLS";
  return "listener " + address + ":" + std::to_string(l.port) + " (" + l.type + ", " + tls + ")";
}

struct HostPlan {
  const HostConfig* host = nullptr;
  bool special_use = false;
  std::vector<std::string> services;  // when federating
  std::vector<SrvNeed> needs;
  bool look_up = false;
  std::vector<std::optional<net::SrvResult>> answers;
};

Findings certificate_findings(const Config& c, const HostPlan& p, X509_STORE* trust) {
  const HostConfig& h = *p.host;
  std::string cert = h.certificate.empty() ? c.certificate : h.certificate;
  std::string key = h.certificate.empty() ? c.key : h.key;
  if (cert.empty()) {
    // TlsContext generates it at first start (ensure_self_signed); once there it is checked like any other.
    cert = c.data_dir + "/certs/server.crt";
    key = c.data_dir + "/certs/server.key";
    if (!std::filesystem::exists(cert))
      return {{p.special_use ? Severity::kWarn : Severity::kError,
               "no certificate configured ([tls] or [[host]] certificate and key): a self-signed one is generated "
               "in " + c.data_dir + "/certs at first start, which clients and other servers do not trust"}};
  }
  try {
    std::string trust_name = c.s2s.ca_file.empty() ? "the system trust store"
                                                   : "the system trust store and s2s.ca_file " + c.s2s.ca_file;
    return judge_certificate(read_certificate(cert, key, trust, trust_name), h.name, p.services, p.special_use);
  } catch (const ConfigError& e) {
    return {{Severity::kError, e.what()}};
  }
}

// Every SRV lookup at once, then every address the answers name, on one local event loop.
std::optional<std::string> look_up(const Config& c, std::vector<HostPlan>& plans, AddressAnswers& addresses) {
  try {
    boost::asio::io_context io;
    net::DnsResolver resolver(io, c.dns, net::HostsFile::kIgnore);
    for (auto& p : plans) {
      if (!p.look_up) continue;
      p.answers.resize(p.needs.size());
      for (size_t i = 0; i < p.needs.size(); ++i)
        resolver.resolve_srv(p.needs[i].service, p.needs[i].domain,
                             [&p, i](net::SrvResult r) { p.answers[i] = std::move(r); });
    }
    io.run();
    io.restart();
    for (auto& p : plans) {
      if (!p.look_up) continue;
      for (size_t i = 0; i < p.needs.size(); ++i) {
        if (!p.answers[i]) continue;
        for (const auto& name : address_lookups(p.needs[i], *p.answers[i])) {
          if (addresses.count(name)) continue;
          addresses.emplace(name, tl::unexpected(net::DnsError::kTimeout));  // until answered
          resolver.resolve_addresses(name, [&addresses, name](net::AddressResult r) { addresses[name] = std::move(r); });
        }
      }
    }
    io.run();
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace

int run_check(const Config& c) {
  Report report;
  report.add("config " + c.source, Finding{Severity::kOk, std::to_string(c.hosts.size()) + " host(s), " +
                                                              std::to_string(c.listeners.size()) + " listener(s)"});
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec || access(c.data_dir.c_str(), W_OK) != 0)
    report.add("data directory " + c.data_dir, Finding{Severity::kError, "not writable"});
  else
    report.add("data directory " + c.data_dir, Finding{Severity::kOk, "writable"});
  for (const auto& l : c.listeners) {
    try {
      net::ListenSocket::open(l.address, l.port);  // as the server would; closed again at once
      report.add(listener_name(l), Finding{Severity::kOk, "port free"});
    } catch (const ConfigError& e) {
      report.add(listener_name(l), Finding{Severity::kError, e.what()});
    }
  }
  X509_STORE* trust = nullptr;
  try {
    trust = net::new_trust_store(c.s2s);
  } catch (const ConfigError& e) {
    report.add("config " + c.source, Finding{Severity::kError, e.what()});
  }
  bool federates = std::any_of(c.listeners.begin(), c.listeners.end(), [](const auto& l) { return l.type == "s2s"; });
  if (!federates)
    report.add("s2s", Finding{Severity::kOk, "no s2s listener: federation is off, so neither _xmpp-server records "
                                             "nor certificate names for service domains are needed"});

  std::vector<HostPlan> plans;
  for (const auto& h : c.hosts) {
    HostPlan p;
    p.host = &h;
    p.special_use = is_special_use_domain(h.name);
    if (federates) p.services = service_domains(c, h.name);
    p.needs = srv_needs(h.name, p.services, c.listeners);
    // Without [dns] servers a special-use name would go to the public DNS, which cannot know it.
    p.look_up = !p.needs.empty() && !(p.special_use && c.dns.servers.empty());
    plans.push_back(std::move(p));
  }
  AddressAnswers addresses;
  std::optional<std::string> dns_failure;
  if (std::any_of(plans.begin(), plans.end(), [](const HostPlan& p) { return p.look_up; }))
    dns_failure = look_up(c, plans, addresses);

  LocalMachine machine{interface_addresses(), c.listeners};
  for (const auto& p : plans) {
    const std::string& host = p.host->name;
    report.add(host, certificate_findings(c, p, trust));
    if (p.needs.empty()) {
      report.add(host, Finding{Severity::kOk, "no c2s or s2s listener: no SRV records needed"});
    } else if (!p.look_up) {
      report.add(host, Finding{Severity::kWarn, "DNS not checked: " + host + " is a special-use name that the public "
                                                "DNS does not serve ([dns] servers may point at a private zone)"});
    } else if (dns_failure) {
      report.add(host, Finding{federates ? Severity::kError : Severity::kWarn, "DNS not checked: " + *dns_failure});
    } else {
      for (size_t i = 0; i < p.needs.size(); ++i)
        if (p.answers[i]) report.add(host, judge_srv(p.needs[i], *p.answers[i], addresses, machine));
    }
  }
  if (trust) X509_STORE_free(trust);
  return report.finish();
}

}  // namespace causerie::check
