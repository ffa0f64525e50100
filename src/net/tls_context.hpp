// TlsContext: the server's TLS configuration (OpenSSL 3, TLS 1.2+), one SSL_CTX per certificate, chosen
// by SNI; plus the channel-binding data SCRAM -PLUS needs. Built at startup; SSL objects it creates are
// then used by one connection's thread. A missing certificate for the default configuration is generated
// (self-signed, SANs host and *.host) under data_dir/certs.
//
// Server-to-server streams use it both ways: outgoing connections get a client SSL (SNI, our domain's
// certificate for SASL EXTERNAL), incoming ones a server SSL that asks for the peer's certificate; in
// both, verify_peer() checks the peer's chain after the handshake against the trust store (the system's
// plus [s2s] ca_file) and reports its identities (certificate_identities.hpp). The handshake itself never
// fails for a missing or unverifiable peer certificate: dialback may still authenticate the stream.
// Every method may be called from any thread. reload() (SIGHUP) swaps the set of certificates: SSL
// objects made afterwards use the new ones, connections made before keep theirs. Replaced sets are kept
// until the context is destroyed (a few kilobytes each), since a connection that has not finished its
// handshake still reaches its set through the SNI callback.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.hpp"
#include "core/stream/certificate_identities.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_store_st X509_STORE;

namespace causerie::net {

class TlsContext {
 public:
  explicit TlsContext(const Config& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL, in accept state. Caller owns it (SSL_free).
  SSL* new_ssl() const;
  // For an incoming server-to-server stream (STARTTLS on 5269, or direct TLS, XEP-0368): as new_ssl(),
  // and it also requests the peer's certificate without requiring one, selects ALPN "xmpp-server", and
  // never resumes a session (a resumed session lacks the peer's chain that verify_peer() checks).
  SSL* new_s2s_server_ssl() const;
  // For an outgoing server-to-server stream from our `local_domain` to `remote_domain`, in connect state:
  // SNI is the remote domain (XEP-0368 §3 rule 6), our certificate is local_domain's (or its parent
  // host's, for a service subdomain) so the peer can offer SASL EXTERNAL (XEP-0178), and with direct TLS
  // the ALPN protocol is "xmpp-server". The server's certificate is checked afterwards by verify_peer().
  SSL* new_s2s_client_ssl(std::string_view local_domain, std::string_view remote_domain, bool direct_tls) const;
  // After a completed handshake, on either side: the peer's certificate and its chain checked against the
  // trust store (system store plus s2s.ca_file).
  PeerCertificate verify_peer(SSL* ssl) const;

  // The current default context (SNI switches from it to a host's own), for TLS layers that build their
  // SSL objects themselves (Asio's ssl::stream in src/http). Owned by this TlsContext (for as long as it
  // lives, reloads included); SSL_CTX_up_ref to keep it. Another value after a reload.
  SSL_CTX* default_ctx() const;

  // Certificate files in use for a host (after generation), for `causerie check` and logs.
  std::pair<std::string, std::string> files_for(const std::string& host) const;

  // Loads the certificates of `config`'s hosts again (the files may have been renewed, or the hosts or
  // their files changed) and, when all of them load, uses them for new connections. Throws ConfigError,
  // leaving the current ones in use, when one does not. Returns one line per certificate in use now:
  // its hosts, file, SHA-256 fingerprint and whether it changed.
  std::vector<std::string> reload(const Config& config);

 private:
  struct Entry {
    std::vector<std::string> names;  // hosts served by this certificate
    SSL_CTX* ctx = nullptr;
    std::string cert_file, key_file;
    std::vector<std::string> ascii_names;  // names in A-labels, as SNI sends them
    std::string fingerprint;               // SHA-256 of the certificate loaded
  };
  // One generation of server certificates (the SNI callback's argument).
  struct Certs {
    std::vector<Entry> entries;
    ~Certs();
    // The entry serving `host` (lower case), or one of its parents for a service subdomain; nullptr if none.
    const Entry* find(std::string_view host) const;
  };
  static int on_servername(SSL* ssl, int* alert, void* arg);
  SSL_CTX* make_ctx(const std::string& cert, const std::string& key) const;
  std::shared_ptr<const Certs> load_certs(const Config& config) const;
  std::shared_ptr<const Certs> certs() const;
  int verify_chain(SSL* ssl, int purpose) const;
  mutable std::mutex mutex_;
  std::shared_ptr<const Certs> certs_;
  std::vector<std::shared_ptr<const Certs>> retired_;
  SSL_CTX* client_ctx_ = nullptr;  // outgoing s2s connections
  X509_STORE* trust_ = nullptr;    // system store plus s2s.ca_file
};

// The trust anchors peer certificates are checked against: the system's store plus [s2s] ca_file (a
// private CA). Throws ConfigError when ca_file cannot be loaded. Caller owns it (X509_STORE_free).
X509_STORE* new_trust_store(const S2sConfig& s2s);

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

// Where `causerie cert import` puts a host's certificate chain and key: data_dir/certs/<host>.crt and .key.
// A host without `certificate` in its [[host]] table uses them when both exist, before [tls].
std::pair<std::string, std::string> imported_certificate(const std::string& data_dir, const std::string& host);

// The SHA-256 fingerprint of a PEM certificate file's first certificate, as "AB:CD:…"; empty if unreadable.
std::string certificate_fingerprint(const std::string& cert_file);

// Channel bindings available on an established TLS connection, in order of preference:
// tls-exporter (RFC 9266; TLS 1.3, or TLS 1.2 with extended master secret), tls-server-end-point
// (RFC 5929 §4) and, on TLS 1.2, tls-unique (RFC 5929 §3).
std::vector<std::pair<std::string, std::string>> channel_bindings(SSL* ssl);
// tls-unique computed on TLS 1.3 the way TLS 1.2 defines it (client Finished); see COMPAT in c2s_sasl.cpp.
std::vector<std::pair<std::string, std::string>> compat_channel_bindings(SSL* ssl);

}  // namespace causerie::net
