#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/jid/jid.hpp"

namespace causerie::net {

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Marks the SSL objects of incoming server-to-server streams (their ALPN protocol differs).
int s2s_ex_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  // XEP-0368: direct TLS clients ask for "xmpp-client", servers for "xmpp-server"; browsers on the HTTP
  // listener ask for http/1.1.
  static const unsigned char kClientProtos[] = "\x0bxmpp-client\x08http/1.1";
  static const unsigned char kServerProtos[] = "\x0bxmpp-server";
  bool s2s = SSL_get_ex_data(ssl, s2s_ex_index()) != nullptr;
  const unsigned char* protos = s2s ? kServerProtos : kClientProtos;
  unsigned int protos_len = s2s ? sizeof(kServerProtos) - 1 : sizeof(kClientProtos) - 1;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, protos, protos_len, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// The RFC 7590 / BCP 195 profile both sides share: TLS 1.2 and later, forward-secret AEAD suites only.
SSL_CTX* new_profiled_ctx(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) throw ConfigError("TLS: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!MD5:!RC4:!3DES");
  // TLS 1.3 suites in the order of their cost here (AES-GCM has hardware support on x86 and ARMv8).
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
  SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
  // RELEASE_BUFFERS: an idle connection gives its 16 KiB record buffers back (issue 3, memory per session).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

// Incoming s2s: the handshake accepts any certificate (or none); verify_peer() judges it afterwards.
int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

}  // namespace

SSL_CTX* TlsContext::make_ctx(const std::string& cert, const std::string& key) const {
  SSL_CTX* ctx = new_profiled_ctx(TLS_server_method());
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption by stateless tickets only: a server-side session cache costs memory per session and a
  // lock per handshake. One ticket per handshake (OpenSSL sends two by default, each encrypted and
  // serialized): enough for a client's next reconnect.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>("causerie"), 8);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    SSL_CTX_free(ctx);
    throw ConfigError("TLS certificate " + cert + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    SSL_CTX_free(ctx);
    throw ConfigError("TLS key " + key + ": " + openssl_error());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    throw ConfigError("TLS key " + key + " does not match certificate " + cert);
  }
  return ctx;
}

std::shared_ptr<const TlsContext::Certs> TlsContext::load_certs(const Config& config) const {
  auto certs = std::make_shared<Certs>();
  auto& entries = certs->entries;
  std::vector<std::string> default_hosts;
  for (const auto& h : config.hosts) {
    auto [imported_cert, imported_key] = imported_certificate(config.data_dir, h.name);
    if (!h.certificate.empty()) {
      Entry e{{h.name}, make_ctx(h.certificate, h.key), h.certificate, h.key};
      entries.push_back(std::move(e));
    } else if (std::filesystem::exists(imported_cert) && std::filesystem::exists(imported_key)) {
      // Put there by `causerie cert import` (a Let's Encrypt live directory).
      Entry e{{h.name}, make_ctx(imported_cert, imported_key), imported_cert, imported_key};
      entries.push_back(std::move(e));
    } else {
      default_hosts.push_back(h.name);
    }
  }
  if (!default_hosts.empty()) {
    std::string cert = config.certificate, key = config.key;
    if (cert.empty()) {
      cert = config.data_dir + "/certs/server.crt";
      key = config.data_dir + "/certs/server.key";
      ensure_self_signed(cert, key, default_hosts);
    }
    Entry e{default_hosts, make_ctx(cert, key), cert, key};
    // The default certificate answers connections without SNI: put it first.
    entries.insert(entries.begin(), std::move(e));
  }
  for (auto& e : entries) {
    SSL_CTX_set_tlsext_servername_callback(e.ctx, &TlsContext::on_servername);
    SSL_CTX_set_tlsext_servername_arg(e.ctx, certs.get());
    for (const auto& n : e.names) e.ascii_names.push_back(domain_to_ascii(n).value_or(n));
    e.fingerprint = certificate_fingerprint(e.cert_file);
  }
  return certs;
}

TlsContext::TlsContext(const Config& config) {
  certs_ = load_certs(config);
  trust_ = new_trust_store(config.s2s);
  client_ctx_ = new_profiled_ctx(TLS_client_method());
  // No client-side session cache: every outgoing handshake is full, so verify_peer() always has the chain.
  SSL_CTX_set_session_cache_mode(client_ctx_, SSL_SESS_CACHE_OFF);
}

TlsContext::~TlsContext() {
  SSL_CTX_free(client_ctx_);
  X509_STORE_free(trust_);
}

TlsContext::Certs::~Certs() {
  for (auto& e : entries) SSL_CTX_free(e.ctx);
}

std::shared_ptr<const TlsContext::Certs> TlsContext::certs() const {
  std::lock_guard l(mutex_);
  return certs_;
}

SSL_CTX* TlsContext::default_ctx() const { return certs()->entries.front().ctx; }

std::vector<std::string> TlsContext::reload(const Config& config) {
  auto fresh = load_certs(config);  // throws, leaving the current set in place
  auto old = certs();
  std::vector<std::string> lines;
  for (const auto& e : fresh->entries) {
    bool changed = true;
    for (const auto& o : old->entries)
      if (o.names == e.names && o.fingerprint == e.fingerprint) changed = false;
    std::string names;
    for (const auto& n : e.names) names += (names.empty() ? "" : ", ") + n;
    lines.push_back(names + ": " + e.cert_file + " (SHA-256 " + e.fingerprint + ")" + (changed ? ", new" : ", unchanged"));
  }
  std::lock_guard l(mutex_);
  retired_.push_back(std::move(certs_));
  certs_ = std::move(fresh);
  return lines;
}

const TlsContext::Entry* TlsContext::Certs::find(std::string_view host_in) const {
  std::string host = domain_to_ascii(host_in).value_or(std::string(host_in));
  for (const auto& e : entries) {
    for (const auto& n : e.ascii_names) {
      // A service subdomain (conference.host, pubsub.host) is covered by the host's *.host SAN.
      if (host == n || (host.size() > n.size() && host.ends_with(n) && host[host.size() - n.size() - 1] == '.'))
        return &e;
    }
  }
  return nullptr;
}

int TlsContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* certs = static_cast<const Certs*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;
  const Entry* e = certs->find(name);
  if (!e) return SSL_TLSEXT_ERR_NOACK;
  if (SSL_get_SSL_CTX(ssl) != e->ctx) SSL_set_SSL_CTX(ssl, e->ctx);
  return SSL_TLSEXT_ERR_OK;
}

SSL* TlsContext::new_ssl() const {
  SSL* ssl = SSL_new(default_ctx());
  if (ssl) SSL_set_accept_state(ssl);
  return ssl;
}

SSL* TlsContext::new_s2s_server_ssl() const {
  SSL* ssl = new_ssl();
  if (!ssl) return nullptr;
  SSL_set_ex_data(ssl, s2s_ex_index(), const_cast<TlsContext*>(this));
  // RFC 6120 §13.7.2 / XEP-0178: the peer's certificate may authenticate it; ask, never require.
  // These settings belong to the SSL, so they survive the SNI callback switching its SSL_CTX.
  SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any_certificate);
  SSL_set_options(ssl, SSL_OP_NO_TICKET);  // TLS 1.2: no ticket (and the session cache is off)
  SSL_set_num_tickets(ssl, 0);             // TLS 1.3: no ticket either
  return ssl;
}

SSL* TlsContext::new_s2s_client_ssl(std::string_view local_domain, std::string_view remote_domain,
                                     bool direct_tls) const {
  SSL* ssl = SSL_new(client_ctx_);
  if (!ssl) return nullptr;
  SSL_set_connect_state(ssl);
  // SNI carries a DNS name in A-labels, never an IP literal (RFC 6066 §3).
  auto sni = domain_to_ascii(remote_domain);
  unsigned char ip[16];
  if (sni && sni->front() != '[' && inet_pton(AF_INET, sni->c_str(), ip) != 1) SSL_set_tlsext_host_name(ssl, sni->c_str());
  if (direct_tls) {
    static const unsigned char kAlpn[] = "\x0bxmpp-server";  // XEP-0368 §3 rules 7 and 9
    SSL_set_alpn_protos(ssl, kAlpn, sizeof(kAlpn) - 1);
  }
  auto certs = this->certs();
  if (const Entry* e = certs->find(local_domain)) {
    STACK_OF(X509)* chain = nullptr;
    SSL_CTX_get0_chain_certs(e->ctx, &chain);
    SSL_use_cert_and_key(ssl, SSL_CTX_get0_certificate(e->ctx), SSL_CTX_get0_privatekey(e->ctx), chain, 1);
  }
  return ssl;
}

int TlsContext::verify_chain(SSL* ssl, int purpose) const {
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (!ctx) return X509_V_ERR_OUT_OF_MEM;
  // The peer's chain as sent (on the server side it lacks the leaf, which is passed on its own).
  int err = X509_V_ERR_UNSPECIFIED;
  if (X509_STORE_CTX_init(ctx, trust_, SSL_get0_peer_certificate(ssl), SSL_get_peer_cert_chain(ssl)) == 1 &&
      X509_STORE_CTX_set_purpose(ctx, purpose) == 1)
    err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return err;
}

PeerCertificate TlsContext::verify_peer(SSL* ssl) const {
  PeerCertificate out;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (!leaf) {
    out.chain_error = "no certificate";
    return out;
  }
  out.present = true;
  out.identities = certificate_identities(leaf);
  bool incoming = SSL_is_server(ssl) == 1;
  int err = verify_chain(ssl, incoming ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
  // COMPAT(public CAs, Let's Encrypt among them): an incoming peer is a server showing its server
  // certificate from the TLS client side, and CAs are dropping clientAuth from server certificates, so
  // a certificate fit for TLS servers is accepted there too.
  if (incoming && err == X509_V_ERR_INVALID_PURPOSE) err = verify_chain(ssl, X509_PURPOSE_SSL_SERVER);
  out.chain_valid = err == X509_V_OK;
  if (!out.chain_valid) out.chain_error = X509_verify_cert_error_string(err);
  return out;
}

std::pair<std::string, std::string> TlsContext::files_for(const std::string& host) const {
  auto certs = this->certs();
  for (const auto& e : certs->entries)
    for (const auto& n : e.names)
      if (n == host) return {e.cert_file, e.key_file};
  return {};
}

std::pair<std::string, std::string> imported_certificate(const std::string& data_dir, const std::string& host) {
  std::string base = data_dir + "/certs/" + host;
  return {base + ".crt", base + ".key"};
}

std::string certificate_fingerprint(const std::string& cert_file) {
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (!f) return {};
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!x) {
    ERR_clear_error();
    return {};
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(x, EVP_sha256(), md, &len);
  X509_free(x);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

X509_STORE* new_trust_store(const S2sConfig& s2s) {
  X509_STORE* store = X509_STORE_new();
  if (!store) throw ConfigError("TLS: " + openssl_error());
  X509_STORE_set_default_paths(store);
  ERR_clear_error();  // a system without a default CA file is not an error here
  if (!s2s.ca_file.empty() && X509_STORE_load_file(store, s2s.ca_file.c_str()) != 1) {
    std::string why = openssl_error();
    X509_STORE_free(store);
    throw ConfigError("s2s.ca_file " + s2s.ca_file + ": " + why);
  }
  return store;
}

void ensure_self_signed(const std::string& cert_file, const std::string& key_file,
                        const std::vector<std::string>& hosts) {
  namespace fs = std::filesystem;
  if (fs::exists(cert_file) && fs::exists(key_file)) return;
  std::error_code ec;
  fs::create_directories(fs::path(cert_file).parent_path(), ec);
  if (ec) throw ConfigError("cannot create " + fs::path(cert_file).parent_path().string() + ": " + ec.message());

  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!pkey || !x) throw ConfigError("cannot generate a certificate: " + openssl_error());
  X509_set_version(x, 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), static_cast<uint64_t>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(hosts.front().c_str()),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Causerie self-signed"),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  std::string san;
  for (const auto& h : hosts) {
    if (!san.empty()) san += ",";
    san += "DNS:" + h + ",DNS:*." + h;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            std::pair{NID_ext_key_usage, std::string("serverAuth,clientAuth")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (!ext) throw ConfigError("cannot build certificate extension: " + openssl_error());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, pkey, EVP_sha256())) throw ConfigError("cannot sign certificate: " + openssl_error());

  mode_t old = umask(077);
  FILE* kf = std::fopen(key_file.c_str(), "w");
  umask(old);
  if (!kf) throw ConfigError("cannot write " + key_file + ": " + std::strerror(errno));
  PEM_write_PrivateKey(kf, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(kf);
  FILE* cf = std::fopen(cert_file.c_str(), "w");
  if (!cf) throw ConfigError("cannot write " + cert_file + ": " + std::strerror(errno));
  PEM_write_X509(cf, x);
  std::fclose(cf);
  X509_free(x);
  EVP_PKEY_free(pkey);
  spdlog::info("generated a self-signed certificate for {} in {}", san, cert_file);
}

CertificateInfo inspect_certificate(const std::string& cert_file, const std::string& key_file) {
  CertificateInfo info;
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (!f) throw ConfigError("certificate " + cert_file + ": " + std::strerror(errno));
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!x) throw ConfigError("certificate " + cert_file + ": not a PEM certificate");
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const unsigned char* d = ASN1_STRING_get0_data(gn->d.dNSName);
      info.dns_names.emplace_back(reinterpret_cast<const char*>(d), static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
    }
  }
  GENERAL_NAMES_free(names);
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(x));
  info.days_left = days;
  X509_free(x);
  // Loading both into a context checks the key and that it matches.
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  bool ok = SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) == 1;
  std::string err = ok ? "" : openssl_error();
  if (ok && SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ok = false;
    err = "key " + key_file + ": " + openssl_error();
  }
  if (ok && SSL_CTX_check_private_key(ctx) != 1) {
    ok = false;
    err = "key " + key_file + " does not match the certificate";
  }
  SSL_CTX_free(ctx);
  if (!ok) throw ConfigError("certificate " + cert_file + ": " + err);
  return info;
}

std::vector<std::pair<std::string, std::string>> channel_bindings(SSL* ssl) {
  std::vector<std::pair<std::string, std::string>> out;
  bool tls13 = SSL_version(ssl) >= TLS1_3_VERSION;
  if (tls13 || SSL_get_extms_support(ssl) == 1) {
    // RFC 9266 §2: label "EXPORTER-Channel-Binding", no context, 32 bytes.
    unsigned char buf[32];
    static const char kLabel[] = "EXPORTER-Channel-Binding";
    if (SSL_export_keying_material(ssl, buf, sizeof buf, kLabel, sizeof(kLabel) - 1, nullptr, 0, 0) == 1)
      out.emplace_back("tls-exporter", std::string(reinterpret_cast<char*>(buf), sizeof buf));
  }
  if (X509* cert = SSL_get_certificate(ssl)) {
    // RFC 5929 §4.1: the certificate's signature hash, with MD5 and SHA-1 upgraded to SHA-256.
    int md_nid = NID_sha256;
    int pknid = 0;
    if (X509_get_signature_info(cert, &md_nid, &pknid, nullptr, nullptr) != 1 || md_nid == NID_md5 ||
        md_nid == NID_sha1 || md_nid == NID_undef)
      md_nid = NID_sha256;
    const EVP_MD* md = EVP_get_digestbynid(md_nid);
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (md && X509_digest(cert, md, buf, &len) == 1)
      out.emplace_back("tls-server-end-point", std::string(reinterpret_cast<char*>(buf), len));
  }
  if (!tls13) {
    // RFC 5929 §3.1: the first Finished of the latest handshake: the client's, unless resumed.
    unsigned char buf[64];
    size_t len = SSL_session_reused(ssl) ? SSL_get_finished(ssl, buf, sizeof buf) : SSL_get_peer_finished(ssl, buf, sizeof buf);
    if (len > 0 && len <= sizeof buf) out.emplace_back("tls-unique", std::string(reinterpret_cast<char*>(buf), len));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> compat_channel_bindings(SSL* ssl) {
  std::vector<std::pair<std::string, std::string>> out;
  if (SSL_version(ssl) < TLS1_3_VERSION) return out;
  unsigned char buf[64];
  size_t len = SSL_session_reused(ssl) ? SSL_get_finished(ssl, buf, sizeof buf) : SSL_get_peer_finished(ssl, buf, sizeof buf);
  if (len > 0 && len <= sizeof buf) out.emplace_back("tls-unique", std::string(reinterpret_cast<char*>(buf), len));
  return out;
}

}  // namespace causerie::net
