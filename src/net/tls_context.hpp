// TlsContext: the server's TLS configuration (OpenSSL 3, TLS 1.2+), one SSL_CTX per certificate, chosen
// by SNI; plus the channel-binding data SCRAM -PLUS needs. Built at startup; SSL objects it creates are
// then used by one connection's thread. A missing certificate for the default configuration is generated
// (self-signed, SANs host and *.host) under data_dir/certs.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace causerie::net {

class TlsContext {
 public:
  explicit TlsContext(const Config& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL, in accept state. Caller owns it (SSL_free).
  SSL* new_ssl() const;

  // The default context (SNI switches from it to a host's own), for TLS layers that build their SSL
  // objects themselves (Asio's ssl::stream in src/http). Owned by this TlsContext; SSL_CTX_up_ref to keep it.
  SSL_CTX* default_ctx() const { return entries_.front().ctx; }

  // Certificate files in use for a host (after generation), for `causerie check` and logs.
  std::pair<std::string, std::string> files_for(const std::string& host) const;

 private:
  struct Entry {
    std::vector<std::string> names;  // hosts served by this certificate
    SSL_CTX* ctx = nullptr;
    std::string cert_file, key_file;
  };
  static int on_servername(SSL* ssl, int* alert, void* arg);
  SSL_CTX* make_ctx(const std::string& cert, const std::string& key) const;
  std::vector<Entry> entries_;
};

// Generates a self-signed EC P-256 certificate for `hosts` (SANs: each host and *.host) unless both
// files already exist. Throws ConfigError on failure.
void ensure_self_signed(const std::string& cert_file, const std::string& key_file,
                        const std::vector<std::string>& hosts);

// Checks that a certificate and key load and match, and reports the names the certificate covers and
// the days until it expires. Throws ConfigError with a clear message.
struct CertificateInfo {
  std::vector<std::string> dns_names;
  long days_left = 0;
};
CertificateInfo inspect_certificate(const std::string& cert_file, const std::string& key_file);
// RFC 6125 / RFC 9525 §6.3: does a DNS-ID (possibly "*.example.com") match a host name?
bool dns_name_matches(const std::string& pattern, const std::string& host);

// Channel bindings available on an established TLS connection, in order of preference:
// tls-exporter (RFC 9266; TLS 1.3, or TLS 1.2 with extended master secret), tls-server-end-point
// (RFC 5929 §4) and, on TLS 1.2, tls-unique (RFC 5929 §3).
std::vector<std::pair<std::string, std::string>> channel_bindings(SSL* ssl);
// tls-unique computed on TLS 1.3 the way TLS 1.2 defines it (client Finished); see COMPAT in c2s_sasl.cpp.
std::vector<std::pair<std::string, std::string>> compat_channel_bindings(SSL* ssl);

}  // namespace causerie::net
