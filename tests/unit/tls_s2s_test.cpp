// TLS between servers (RFC 6120 §5, §13.7; XEP-0368; XEP-0178's certificates): real handshakes over a
// socketpair between two TlsContexts, with a throw-away PKI generated here (keys never leave the temp
// directory): peer verification both ways, SNI, ALPN, and the certificates a peer may present.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "core/util/encoding.hpp"
#include "net/tls_context.hpp"

using namespace causerie;
using namespace causerie::net;

namespace {

// A certificate authority and the certificates it issues, written as PEM files into a temp directory.
class TestPki {
 public:
  struct Issued {
    std::string cert_file, key_file;
    X509* cert = nullptr;
  };
  struct Ca {
    X509* cert = nullptr;
    EVP_PKEY* key = nullptr;
    std::string file;
  };

  TestPki()
      : dir_(std::filesystem::temp_directory_path() /
             ("causerie-tls-" + util::hex_encode(util::random_bytes(6)))) {
    std::filesystem::create_directories(dir_);
  }
  ~TestPki() {
    for (X509* x : certs_) X509_free(x);
    for (EVP_PKEY* k : keys_) EVP_PKEY_free(k);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.string(); }

  Ca make_ca(const std::string& name) {
    Ca ca;
    ca.key = new_key();
    ca.cert = make_cert(ca.key, "CN=" + name, nullptr, nullptr,
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}},
                        -1, 365);
    ca.file = write_cert(ca.cert, name);
    return ca;
  }

  // san: an X509v3 subjectAltName value ("DNS:a.example,otherName:..."), or empty for none.
  Issued issue(const Ca& ca, const std::string& file_name, const std::string& subject, const std::string& san,
               const std::string& eku = "serverAuth,clientAuth", long from_days = -1, long to_days = 30) {
    EVP_PKEY* key = new_key();
    std::vector<std::pair<int, std::string>> exts = {{NID_basic_constraints, "CA:FALSE"},
                                                     {NID_authority_key_identifier, "keyid"}};
    if (!san.empty()) exts.emplace_back(NID_subject_alt_name, san);
    if (!eku.empty()) exts.emplace_back(NID_ext_key_usage, eku);
    Issued out;
    out.cert = make_cert(key, subject, ca.cert, ca.key, exts, from_days, to_days);
    out.cert_file = write_cert(out.cert, file_name);
    out.key_file = (dir_ / (file_name + ".key")).string();
    FILE* f = std::fopen(out.key_file.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    return out;
  }

 private:
  EVP_PKEY* new_key() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    keys_.push_back(k);
    return k;
  }

  X509* make_cert(EVP_PKEY* key, const std::string& subject, X509* issuer, EVP_PKEY* issuer_key,
                  const std::vector<std::pair<int, std::string>>& exts, long from_days, long to_days) {
    X509* x = X509_new();
    certs_.push_back(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    // subject: "CN=..." or "O=..." (one attribute is all the tests need)
    size_t eq = subject.find('=');
    X509_NAME_add_entry_by_txt(name, subject.substr(0, eq).c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(subject.c_str() + eq + 1), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, nullptr, nullptr, 0);
    for (const auto& [nid, value] : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
      EXPECT_NE(ext, nullptr) << value;
      if (!ext) continue;
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
    EXPECT_GT(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
    return x;
  }

  std::string write_cert(X509* x, const std::string& name) {
    std::string file = (dir_ / (name + ".crt")).string();
    FILE* f = std::fopen(file.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    return file;
  }

  std::filesystem::path dir_;
  std::vector<X509*> certs_;
  std::vector<EVP_PKEY*> keys_;
  uint64_t serial_ = 0;
};

// An XMPP server's TLS configuration: hosts with their certificates, trusting `ca_file`.
Config server_config(const TestPki& pki, const std::vector<std::pair<std::string, TestPki::Issued>>& hosts,
                     const std::string& ca_file) {
  Config c;
  c.data_dir = pki.dir();
  c.s2s.ca_file = ca_file;
  for (const auto& [name, issued] : hosts) {
    HostConfig h;
    h.name = name;
    h.certificate = issued.cert_file;
    h.key = issued.key_file;
    c.hosts.push_back(h);
  }
  return c;
}

// Both ends of one TLS connection over a socketpair, driven in turns until both finish the handshake.
class Handshake {
 public:
  Handshake(SSL* client, SSL* server) : client_(client), server_(server) {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    for (int fd : fds_) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    SSL_set_fd(client_, fds_[0]);
    SSL_set_fd(server_, fds_[1]);
    bool client_done = false, server_done = false;
    // Each turn either side moves by at least one flight; a handshake has fewer than ten.
    for (int turn = 0; turn < 20 && !(client_done && server_done) && ok_; ++turn) {
      if (!client_done) client_done = step(client_);
      if (!server_done) server_done = step(server_);
    }
    ok_ = ok_ && client_done && server_done;
  }
  ~Handshake() {
    SSL_free(client_);
    SSL_free(server_);
    close(fds_[0]);
    close(fds_[1]);
  }
  bool ok() const { return ok_; }
  SSL* client() const { return client_; }
  SSL* server() const { return server_; }

 private:
  bool step(SSL* ssl) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) return true;
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      ADD_FAILURE() << "handshake failed: " << buf;
      ok_ = false;
    }
    return false;
  }
  SSL* client_;
  SSL* server_;
  int fds_[2] = {-1, -1};
  bool ok_ = true;
};

class TlsS2sTest : public ::testing::Test {
 protected:
  TlsS2sTest() : ca_(pki_.make_ca("Causerie Test CA")) {
    a_ = pki_.issue(ca_, "a", "CN=a.example", "DNS:a.example");
    b_ = pki_.issue(ca_, "b", "O=Example B", "DNS:b.example,DNS:*.b.example");
  }
  TlsContext context(const std::string& host, const TestPki::Issued& cert) {
    return TlsContext(server_config(pki_, {{host, cert}}, ca_.file));
  }

  TestPki pki_;
  TestPki::Ca ca_;
  TestPki::Issued a_, b_;
};

TEST_F(TlsS2sTest, BothSidesVerifyEachOther) {
  TlsContext a = context("a.example", a_);
  TlsContext b = context("b.example", b_);
  Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", false), b.new_s2s_server_ssl());
  ASSERT_TRUE(hs.ok());
  EXPECT_STREQ(SSL_get_servername(hs.server(), TLSEXT_NAMETYPE_host_name), "b.example");
  EXPECT_GE(SSL_version(hs.client()), TLS1_2_VERSION);

  PeerCertificate server = a.verify_peer(hs.client());
  EXPECT_TRUE(server.present);
  EXPECT_TRUE(server.chain_valid) << server.chain_error;
  EXPECT_EQ(server.identities.dns_ids, (std::vector<std::string>{"b.example", "*.b.example"}));
  EXPECT_TRUE(server.authenticates("b.example"));
  EXPECT_TRUE(server.authenticates("conference.b.example"));
  EXPECT_FALSE(server.authenticates("a.example"));

  PeerCertificate client = b.verify_peer(hs.server());
  EXPECT_TRUE(client.present) << "the server asked for the peer's certificate";
  EXPECT_TRUE(client.chain_valid) << client.chain_error;
  EXPECT_TRUE(client.authenticates("a.example"));
  EXPECT_FALSE(client.authenticates("b.example"));
}

TEST_F(TlsS2sTest, DirectTlsNegotiatesXmppServerAlpn) {
  TlsContext a = context("a.example", a_);
  TlsContext b = context("b.example", b_);
  Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", true), b.new_s2s_server_ssl());
  ASSERT_TRUE(hs.ok());
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(hs.client(), &proto, &len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(proto), len), "xmpp-server");
}

TEST_F(TlsS2sTest, SniChoosesTheHostCertificateAndStillAsksForThePeers) {
  TestPki::Issued c = pki_.issue(ca_, "c", "CN=c.example", "DNS:c.example,DNS:*.c.example");
  TlsContext a = context("a.example", a_);
  TlsContext bc(server_config(pki_, {{"b.example", b_}, {"c.example", c}}, ca_.file));
  for (const char* remote : {"c.example", "conference.c.example"}) {
    Handshake hs(a.new_s2s_client_ssl("a.example", remote, false), bc.new_s2s_server_ssl());
    ASSERT_TRUE(hs.ok());
    PeerCertificate server = a.verify_peer(hs.client());
    EXPECT_TRUE(server.authenticates(remote)) << remote;
    EXPECT_FALSE(server.authenticates("b.example")) << remote;
    EXPECT_TRUE(bc.verify_peer(hs.server()).authenticates("a.example")) << remote;
  }
}

TEST_F(TlsS2sTest, OutgoingCertificateIsTheLocalDomainsOrItsParentHosts) {
  TestPki::Issued c = pki_.issue(ca_, "c", "CN=c.example", "DNS:c.example,DNS:*.c.example");
  TlsContext ac(server_config(pki_, {{"a.example", a_}, {"c.example", c}}, ca_.file));
  TlsContext b = context("b.example", b_);
  for (const char* local : {"c.example", "pubsub.c.example"}) {
    Handshake hs(ac.new_s2s_client_ssl(local, "b.example", false), b.new_s2s_server_ssl());
    ASSERT_TRUE(hs.ok());
    PeerCertificate client = b.verify_peer(hs.server());
    EXPECT_TRUE(client.authenticates(local)) << local;
    EXPECT_FALSE(client.authenticates("a.example")) << local;
  }
}

TEST_F(TlsS2sTest, UnverifiablePeersStillCompleteTheHandshakeWithTheReason) {
  TestPki::Ca other = pki_.make_ca("Other CA");
  TestPki::Issued expired =
      pki_.issue(ca_, "expired", "CN=b.example", "DNS:b.example", "serverAuth,clientAuth", -30, -1);
  TestPki::Issued foreign = pki_.issue(other, "foreign", "CN=b.example", "DNS:b.example");
  TestPki::Issued wrong_use =
      pki_.issue(ca_, "wrong-use", "CN=b.example", "DNS:b.example", "emailProtection");
  struct Case {
    const TestPki::Issued* cert;
    const char* reason;
  };
  for (auto [cert, reason] :
       {Case{&expired, "certificate has expired"}, Case{&foreign, "unable to get local issuer certificate"},
        Case{&wrong_use, "unsuitable certificate purpose"}}) {
    TlsContext a = context("a.example", a_);
    TlsContext b = context("b.example", *cert);
    Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", false), b.new_s2s_server_ssl());
    ASSERT_TRUE(hs.ok()) << reason;
    PeerCertificate server = a.verify_peer(hs.client());
    EXPECT_TRUE(server.present);
    EXPECT_FALSE(server.chain_valid) << reason;
    EXPECT_EQ(server.chain_error, reason);
    EXPECT_TRUE(server.identities.identifies_server("b.example")) << "names are read even from a bad chain";
    EXPECT_FALSE(server.authenticates("b.example")) << reason;
    // The other direction is unaffected.
    EXPECT_TRUE(b.verify_peer(hs.server()).authenticates("a.example")) << reason;
  }
}

TEST_F(TlsS2sTest, WithoutTheConfiguredCaNothingIsTrusted) {
  TlsContext a(server_config(pki_, {{"a.example", a_}}, ""));  // system store only
  TlsContext b = context("b.example", b_);
  Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", false), b.new_s2s_server_ssl());
  ASSERT_TRUE(hs.ok());
  PeerCertificate server = a.verify_peer(hs.client());
  EXPECT_FALSE(server.chain_valid);
  EXPECT_EQ(server.chain_error, "unable to get local issuer certificate");
}

TEST_F(TlsS2sTest, IncomingPeersMayPresentServerOnlyCertificates) {
  // COMPAT: a server certificate without clientAuth, shown by a peer connecting to us.
  TestPki::Issued server_only =
      pki_.issue(ca_, "a-server-only", "CN=a.example", "DNS:a.example", "serverAuth");
  TlsContext a = context("a.example", server_only);
  TlsContext b = context("b.example", b_);
  Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", false), b.new_s2s_server_ssl());
  ASSERT_TRUE(hs.ok());
  PeerCertificate client = b.verify_peer(hs.server());
  EXPECT_TRUE(client.chain_valid) << client.chain_error;
  EXPECT_TRUE(client.authenticates("a.example"));
}

TEST_F(TlsS2sTest, APeerWithoutCertificateIsAccepted) {
  TlsContext b = context("b.example", b_);
  SSL_CTX* bare = SSL_CTX_new(TLS_client_method());
  SSL* client = SSL_new(bare);
  SSL_CTX_free(bare);  // the SSL keeps its own reference
  SSL_set_connect_state(client);
  SSL_set_tlsext_host_name(client, "b.example");
  Handshake hs(client, b.new_s2s_server_ssl());
  ASSERT_TRUE(hs.ok());
  PeerCertificate peer = b.verify_peer(hs.server());
  EXPECT_FALSE(peer.present);
  EXPECT_FALSE(peer.chain_valid);
  EXPECT_FALSE(peer.authenticates("a.example"));
}

TEST_F(TlsS2sTest, ClientStreamsAreNotAskedForCertificates) {
  TlsContext a = context("a.example", a_);
  TlsContext b = context("b.example", b_);
  Handshake hs(a.new_s2s_client_ssl("a.example", "b.example", false), b.new_ssl());
  ASSERT_TRUE(hs.ok());
  EXPECT_FALSE(b.verify_peer(hs.server()).present);
}

TEST_F(TlsS2sTest, IdentitiesReadFromCertificates) {
  struct Case {
    const char* name;
    std::string subject, san;
    const char* domain;
    bool match;
  };
  const Case cases[] = {
      {"san-dns", "O=Example", "DNS:example.com", "example.com", true},
      {"san-wildcard", "O=Example", "DNS:*.example.com", "chat.example.com", true},
      {"san-wildcard-apex", "O=Example", "DNS:*.example.com", "example.com", false},
      {"san-wildcard-deep", "O=Example", "DNS:*.example.com", "a.chat.example.com", false},
      {"srv-id", "O=Example", "otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-server.example.com", "example.com",
       true},
      {"srv-id-client", "O=Example", "otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-client.example.com",
       "example.com", false},
      {"xmppaddr", "O=Example", "otherName:1.3.6.1.5.5.7.8.5;UTF8:example.com", "example.com", true},
      {"cn-only", "CN=example.com", "", "example.com", true},
      {"cn-beside-san", "CN=example.com", "DNS:other.example", "example.com", false},
      {"cn-beside-xmppaddr", "CN=example.com", "otherName:1.3.6.1.5.5.7.8.5;UTF8:other.example",
       "example.com", false},
  };
  for (const auto& c : cases) {
    TestPki::Issued cert = pki_.issue(ca_, c.name, c.subject, c.san);
    CertificateIdentities ids = certificate_identities(cert.cert);
    EXPECT_EQ(ids.identifies_server(c.domain), c.match) << c.name;
  }
  TestPki::Issued all = pki_.issue(
      ca_, "all", "CN=Example Internet Services",
      "otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_xmpp-server.example.net,DNS:Example.NET,DNS:*.example.net,"
      "otherName:1.3.6.1.5.5.7.8.5;UTF8:chat.example.net,URI:https://example.net/");
  CertificateIdentities ids = certificate_identities(all.cert);
  EXPECT_EQ(ids.dns_ids, (std::vector<std::string>{"example.net", "*.example.net"}));
  EXPECT_EQ(ids.srv_ids, (std::vector<std::string>{"_xmpp-server.example.net"}));
  EXPECT_EQ(ids.xmpp_addrs, (std::vector<std::string>{"chat.example.net"}));
  EXPECT_EQ(ids.uri_ids, (std::vector<std::string>{"https://example.net/"}));
  EXPECT_EQ(ids.common_names, (std::vector<std::string>{"example internet services"}));
}

TEST_F(TlsS2sTest, AnUnreadableCaFileIsAConfigError) {
  try {
    TlsContext t(server_config(pki_, {{"a.example", a_}}, pki_.dir() + "/missing.pem"));
    ADD_FAILURE() << "accepted a missing CA file";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("s2s.ca_file"), std::string::npos) << e.what();
  }
}

}  // namespace
