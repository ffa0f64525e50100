// Certificate checks of `causerie check`, as `prosodyctl check certs` makes them: which of a host's names
// its certificate covers (the host for clients and servers, its service domains for servers: RFC 6120
// §13.7.1.2 DNS-ID, SRV-ID or XmppAddr, with RFC 9525 wildcards), whether its chain verifies against the
// trust store peers are checked against (the system's plus s2s.ca_file), and how long it stays valid.
// read_certificate() reads the files (OpenSSL); judge_certificate() is pure. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/check_finding.hpp"
#include "core/stream/certificate_identities.hpp"

typedef struct x509_store_st X509_STORE;

namespace causerie::check {

// A certificate under 14 days from its end is a warning (Let's Encrypt renews at 30 days left).
inline constexpr long kWarnDaysLeft = 14;

struct CertificateFacts {
  std::string file;
  CertificateIdentities identities;
  bool chain_checked = false;  // false when there was no trust store to check against
  std::string trust_name;      // what the chain was checked against, for people to read
  std::string chain_error;     // empty when the chain verifies; the certificate's own dates are judged apart
  long long seconds_left = 0;  // until the certificate's notAfter; negative once it has expired
  long long seconds_to_start = 0;  // until its notBefore; positive while it is not valid yet
  std::string not_after, not_before;  // "2027-02-06 12:00 UTC"
  std::string key_file;
  bool key_readable_by_all = false;
};

// Reads the certificate chain (leaf first, as `certificate` keys hold it) and its key. Throws ConfigError
// when they cannot be loaded or do not match. `trust` may be null (nothing to verify the chain against);
// `trust_name` says what it holds.
CertificateFacts read_certificate(const std::string& cert_file, const std::string& key_file, X509_STORE* trust,
                                  std::string_view trust_name);

// The findings for `host`. `service_domains` are the names servers also reach it by (empty when the
// server does not federate). Problems that only matter to the world (chain, service names) are
// warnings for special-use domains; a certificate that does not name the host, or out of its dates, is
// always an error.
Findings judge_certificate(const CertificateFacts& facts, std::string_view host,
                           const std::vector<std::string>& service_domains, bool special_use);

}  // namespace causerie::check
