// Config: the whole server configuration, read once at startup from one TOML file (or the embedded
// default) and immutable afterwards, so every thread may read it without locks.
//
// Bad configuration throws ConfigError with a one-line message naming the key; `causerie check` and
// `causerie run` print it and exit non-zero (DESIGN §4).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace causerie {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// XEP-0157 contact addresses, published in disco#info.
struct ContactAddresses {
  std::vector<std::string> abuse, admin, feedback, sales, security, status, support;
  bool empty() const;
};

// An external service a host tells its users about (XEP-0215, [[host.external_service]]): a STUN or TURN
// server for Jingle calls. With a secret shared with a TURN server (coturn's `static-auth-secret` under
// `use-auth-secret`), users get time-limited credentials in the TURN REST API scheme.
struct ExternalService {
  std::string type;       // stun | stuns | turn | turns
  std::string host;       // a domain name or an IP address
  uint16_t port = 0;      // default 3478 (5349 for stuns and turns)
  std::string transport;  // udp | tcp; default udp (tcp for stuns and turns)
  std::string name;       // shown to users; empty: none
  std::string secret;     // empty: no credentials
  std::chrono::seconds lifetime{86400};  // how long credentials stay valid
};

// Who may create an account on a host (XEP-0077 in-band, XEP-0445 with a token, or the invitation page):
// anyone (`open`), only holders of a valid invitation (`invite`, XEP-0401), nobody (`closed`; accounts
// come from `causerie user add` or an import).
enum class RegistrationPolicy { kClosed, kInvite, kOpen };

struct HostConfig {
  std::string name;  // prepared domainpart
  RegistrationPolicy registration = RegistrationPolicy::kClosed;
  // Whether this host's users (not only its admins) may create invitations for their contacts (XEP-0401).
  bool allow_user_invites = false;
  // authentication = "anonymous": the host offers only SASL ANONYMOUS (RFC 4505, XEP-0175) and each
  // connection gets a temporary random JID whose data is deleted when its session ends (modules/guests).
  bool anonymous = false;
  std::string certificate, key;  // per-host PEM files; empty: the [tls] default
  ContactAddresses contacts;
  std::vector<std::string> admins;  // bare JIDs
  // XEP-0313: archived messages older than this are deleted (0: kept); nullopt: [modules.mam] retention.
  std::optional<std::chrono::seconds> archive_retention;
  std::vector<ExternalService> external_services;
};

enum class TlsMode { kNone, kStartTls, kDirect };

struct ListenerConfig {
  std::string type = "c2s";  // c2s | s2s | http | component | admin (Prometheus /metrics, `causerie status`)
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  TlsMode tls = TlsMode::kStartTls;
};

struct LimitsConfig {
  size_t max_stanza_bytes = 256 * 1024;
  unsigned max_depth = 96;
  std::chrono::seconds unauthenticated_timeout{60};
  size_t max_output_queue_bytes = 8 * 1024 * 1024;
  unsigned auth_failures_before_delay = 3;
  size_t max_offline_messages = 1000;
  size_t max_resources_per_account = 32;
  unsigned registrations_per_hour = 30;  // in-band registrations accepted from one address
  // Guests of anonymous hosts, treated like an unauthenticated abuse source: stanzas a guest session may
  // send per second (burst: twice as many), and rooms (MUC) it may be in at once.
  unsigned guest_stanzas_per_second = 5;
  unsigned guest_max_rooms = 3;
};

// The HTTP listeners' shared settings ([http]): XMPP over WebSocket (RFC 7395) and BOSH (XEP-0124/0206)
// endpoints, host-meta (XEP-0156), CORS, and the limits every HTTP connection is held to.
struct HttpConfig {
  std::string websocket_path = "/xmpp-websocket";
  std::string bosh_path = "/http-bind";
  std::vector<std::string> cors_origins = {"*"};  // allowed Origin values; "*" = any
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  unsigned requests_per_second = 50;  // per connection, with a burst of twice that
  std::chrono::seconds idle_timeout{60};  // keep-alive connections with no request
  std::chrono::seconds hsts_max_age{31536000};  // Strict-Transport-Security on TLS; 0 = not sent
  // Plain HTTP from a loopback address counts as encrypted for SASL (a TLS-terminating reverse proxy on
  // the same machine, or a browser on it): nothing crosses a network.
  bool loopback_is_secure = true;
  std::chrono::seconds websocket_ping{30};  // idle time before the server pings; 0 = never
  std::string websocket_see_other_uri;  // when set, every WebSocket stream is sent there (RFC 7395 §3.6.1)
  std::chrono::seconds bosh_max_wait{60};
  unsigned bosh_max_hold = 1;
  std::chrono::seconds bosh_inactivity{60};
  std::chrono::seconds bosh_max_pause{300};
  std::chrono::seconds bosh_polling{2};
};

// Name resolution ([dns]): c-ares, on each worker's event loop (src/net/dns_resolver.hpp).
struct DnsServerAddress {
  std::string ip;  // an IPv4 or IPv6 literal, checked at load
  uint16_t port = 53;
};
struct DnsConfig {
  std::vector<DnsServerAddress> servers;  // empty: the system's (/etc/resolv.conf)
  std::chrono::milliseconds timeout{3000};  // per try; c-ares lengthens it for later rounds
  unsigned tries = 2;  // rounds over the servers before a query fails with a timeout
};

// The outbound HTTP client ([http_client], src/net/http_fetcher.hpp) that modules use for link previews,
// the image proxy and Web Push: which non-public destinations it may reach, and its limits.
struct HttpClientConfig {
  // Address blocks (CIDR) the client may connect to although they are not public (loopback, private,
  // ...): for tests and for services on the operator's own network. Empty: public addresses only.
  std::vector<std::string> allow;
  std::string ca_file;  // extra trust anchors (PEM) besides the system store; empty: the system's only
  std::chrono::seconds connect_timeout{5};  // per address tried
  unsigned max_concurrent = 16;             // requests in flight; more wait in a queue
  size_t max_queued = 256;                  // requests waiting; past it, new ones fail at once (kBusy)
  std::string user_agent = "Causerie";
};

// Server-to-server settings ([s2s]): federation policy, limits and timeouts (RFC 6120 §§4-6, 13;
// XEP-0220, XEP-0178, XEP-0288).
struct S2sConfig {
  // PEM file of extra trust anchors for peer certificates, besides the system store (a private CA).
  std::string ca_file;
  bool require_encryption = true;  // RFC 7590: no server-to-server stream without TLS
  // Peers must prove their domain with a certificate that verifies (SASL EXTERNAL, or dialback over such
  // TLS); false allows dialback (XEP-0220) over TLS whose certificate cannot be verified.
  bool secure_auth = true;
  std::vector<std::string> insecure_domains;  // as secure_auth = false, for these domains only
  bool dialback = true;                       // offer and use XEP-0220 dialback where certificates do not suffice
  bool bidi = true;                           // XEP-0288 bidirectional streams
  std::vector<std::string> allow;             // when not empty, only these remote domains (and their subdomains)
  std::vector<std::string> deny;              // never these remote domains (and their subdomains)
  std::chrono::seconds connect_timeout{10};   // per address tried
  std::chrono::seconds queue_timeout{30};     // stanzas waiting for a link are bounced after this
  std::chrono::seconds idle_timeout{600};     // a stream with no traffic either way is closed
  size_t max_queue = 1000;                    // stanzas waiting for one link; more are bounced at once
  size_t max_stanza_bytes = 256 * 1024;       // a larger stanza from a peer ends its stream
  unsigned stanzas_per_second = 1000;         // per incoming stream (burst: twice as many); past it, the stream ends
  unsigned max_incoming_per_domain = 4;       // incoming streams authenticated per (remote, local) domain pair
  std::string dialback_secret;                // empty: random, kept in data_dir/s2s_secret

  // Whether a remote domain may federate with us at all (allow/deny lists, subdomains included).
  bool domain_allowed(std::string_view domain) const;
  // Whether a remote domain may authenticate without a certificate that verifies.
  bool insecure_allowed(std::string_view domain) const;
};

// An external component (XEP-0114, [[component]]): a process that connects to a component listener,
// authenticates with the shared secret and then serves every JID of its domain (a gateway, XEP-0100).
struct ComponentConfig {
  std::string domain;  // prepared domainpart, not one of the hosts
  std::string secret;
  std::string name;    // shown in the parent host's disco#items; empty: none
};

// Where a component listener listens when components are configured and no [[listener]] of type
// "component" is given: loopback, XEP-0114's customary port.
inline constexpr const char* kDefaultComponentAddress = "127.0.0.1";
inline constexpr uint16_t kDefaultComponentPort = 5347;

// Access to a module's own section ([modules.<name>] or any dotted path), for keys the core does not know.
class RawConfig {
 public:
  virtual ~RawConfig() = default;
  virtual std::optional<std::string> get_string(const std::string& path) const = 0;
  virtual std::optional<int64_t> get_int(const std::string& path) const = 0;
  virtual std::optional<bool> get_bool(const std::string& path) const = 0;
  virtual std::optional<std::vector<std::string>> get_strings(const std::string& path) const = 0;
  // The keys whose values differ from `other`'s (a reload's report): dotted paths, hosts by name
  // ("host[example.org].certificate", "host[new.example]" for a host only one side has), other arrays
  // of tables as a whole ("listener").
  virtual std::vector<std::string> differences(const RawConfig& other) const = 0;
};

struct Config {
  std::string source = "<embedded default>";  // the file it came from
  std::string data_dir = "./data";
  std::string log_level = "info";
  unsigned workers = 0;  // 0: one per core
  uint32_t scram_iterations = 4096;
  bool require_encryption = true;  // c2s: no SASL before TLS
  // XEP-0198: how long a session whose connection broke waits to be resumed (0: no resumption), and how
  // many stanzas a client may leave unacknowledged.
  std::chrono::seconds resumption_timeout{300};
  size_t max_unacked = 10000;
  // XEP-0484 FAST tokens live this long (c2s.fast_token_lifetime, in days); past half of it a login with
  // the token gets a new one (rotation).
  std::chrono::seconds fast_token_lifetime{std::chrono::hours(24 * 30)};
  // Tests only: the server's clock moves when an admin tells it to (urn:causerie:testing:clock).
  bool manual_clock = false;
  bool hide_os_version = false;
  std::string certificate, key;  // default certificate; empty: self-signed under data_dir/certs
  std::string storage = "sqlite";
  std::string sqlite_path;  // empty: data_dir/causerie.db
  // SQLite's page cache per connection (the server has two). Small by default: the kernel keeps the
  // file cached anyway, and at 2 MB (SQLite's default) the two caches were ~0.2 KB per session of a
  // 10 000-session server's RSS (issue 3). Raise it for large pubsub archives.
  unsigned sqlite_cache_kb = 256;
  std::vector<HostConfig> hosts;
  std::vector<ListenerConfig> listeners;
  std::vector<ComponentConfig> components;
  LimitsConfig limits;
  HttpConfig http;
  DnsConfig dns;
  HttpClientConfig http_client;
  S2sConfig s2s;
  std::shared_ptr<const RawConfig> raw;

  const HostConfig* find_host(std::string_view name) const;
  // The base URL of the first HTTP listener ("http://127.0.0.1:5280"; a wildcard address gives the first
  // host's name), for links the server hands out when no public URL is configured; "" without one.
  std::string http_base_url() const;
  const ComponentConfig* find_component(std::string_view domain) const;
  std::string database_path() const;
  unsigned worker_count() const;
};

// Parses a DNS server address: "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:53".
std::optional<DnsServerAddress> parse_dns_server(std::string_view text);

// Parses a TOML file; throws ConfigError.
Config load_config_file(const std::string& path);
// A duration as configured: a whole number and a unit, "45s", "90m", "12h", "30d", "2w"; "0" or "" is
// zero. nullopt when malformed.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Parses TOML text (tests, embedded default); throws ConfigError.
Config load_config_text(std::string_view toml, const std::string& source_name);
// What `causerie run` uses without --config: host localhost, open registration (also by invitation),
// data in ./data, c2s on 5222 (STARTTLS) and 5223 (direct TLS), HTTP on 5280 (plain) and 5281 (TLS),
// admin on 127.0.0.1:5282.
Config embedded_default_config();
extern const char* const kEmbeddedDefaultToml;

}  // namespace causerie
