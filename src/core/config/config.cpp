#include "core/config/config.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <thread>

#include <toml++/toml.h>

#include "core/jid/jid.hpp"

namespace causerie {

const char* const kEmbeddedDefaultToml = R"toml(
[server]
data_dir = "./data"

[[host]]
name = "localhost"
registration = "open"

[[listener]]
type = "c2s"
address = "127.0.0.1"
port = 5222
tls = "starttls"

[[listener]]
type = "c2s"
address = "::1"
port = 5222
tls = "starttls"

[[listener]]
type = "c2s"
address = "127.0.0.1"
port = 5223
tls = "direct"

[[listener]]
type = "c2s"
address = "::1"
port = 5223
tls = "direct"

[[listener]]
type = "http"
address = "127.0.0.1"
port = 5280
tls = "none"

[[listener]]
type = "http"
address = "::1"
port = 5280
tls = "none"

[[listener]]
type = "http"
address = "127.0.0.1"
port = 5281
tls = "direct"

[[listener]]
type = "http"
address = "::1"
port = 5281
tls = "direct"

[[listener]]
type = "admin"
address = "127.0.0.1"
port = 5282

# Upload URLs on the origin the README sends browsers to, so that the web app at http://localhost:5280/
# (whose CSP allows only its own origin) can share files.
[modules.upload]
url = "http://localhost:5280"
)toml";

bool ContactAddresses::empty() const {
  return abuse.empty() && admin.empty() && feedback.empty() && sales.empty() && security.empty() &&
         status.empty() && support.empty();
}

namespace {
// `domain` is `parent` or one of its subdomains.
bool within(std::string_view domain, std::string_view parent) {
  return domain == parent ||
         (domain.size() > parent.size() && domain.ends_with(parent) && domain[domain.size() - parent.size() - 1] == '.');
}
bool within_any(std::string_view domain, const std::vector<std::string>& parents) {
  for (const auto& p : parents)
    if (within(domain, p)) return true;
  return false;
}
}  // namespace

bool S2sConfig::domain_allowed(std::string_view domain) const {
  if (within_any(domain, deny)) return false;
  return allow.empty() || within_any(domain, allow);
}

bool S2sConfig::insecure_allowed(std::string_view domain) const {
  return !secure_auth || within_any(domain, insecure_domains);
}

std::string Config::http_base_url() const {
  for (const auto& l : listeners) {
    if (l.type != "http") continue;
    std::string host = l.address;
    if (host == "0.0.0.0" || host == "::" || host.empty()) host = hosts.empty() ? "localhost" : hosts.front().name;
    else if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return std::string(l.tls == TlsMode::kDirect ? "https://" : "http://") + host + ":" + std::to_string(l.port);
  }
  return {};
}

const HostConfig* Config::find_host(std::string_view name) const {
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

const ComponentConfig* Config::find_component(std::string_view domain) const {
  for (const auto& c : components)
    if (c.domain == domain) return &c;
  return nullptr;
}

std::string Config::database_path() const { return sqlite_path.empty() ? data_dir + "/causerie.db" : sqlite_path; }

unsigned Config::worker_count() const {
  if (workers) return workers;
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

namespace {

class TomlRaw final : public RawConfig {
 public:
  explicit TomlRaw(toml::table t) : table_(std::move(t)) {}
  std::optional<std::string> get_string(const std::string& path) const override {
    return table_.at_path(path).value<std::string>();
  }
  std::optional<int64_t> get_int(const std::string& path) const override {
    return table_.at_path(path).value<int64_t>();
  }
  std::optional<bool> get_bool(const std::string& path) const override {
    return table_.at_path(path).value<bool>();
  }
  std::optional<std::vector<std::string>> get_strings(const std::string& path) const override {
    const toml::array* arr = table_.at_path(path).as_array();
    if (!arr) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : *arr)
      if (auto s = v.value<std::string>()) out.push_back(*s);
    return out;
  }
  std::vector<std::string> differences(const RawConfig& other) const override {
    std::vector<std::string> out;
    const auto* o = dynamic_cast<const TomlRaw*>(&other);
    if (!o) return {"*"};
    diff(toml::node_view<const toml::node>(table_), toml::node_view<const toml::node>(o->table_), "", out);
    return out;
  }

 private:
  static void diff(toml::node_view<const toml::node> a, toml::node_view<const toml::node> b, const std::string& path,
                   std::vector<std::string>& out) {
    if (a == b) return;
    auto join = [&](std::string_view k) { return path.empty() ? std::string(k) : path + "." + std::string(k); };
    // Tables on both sides, or on one side only (a section added or removed): key by key.
    if ((a.is_table() || !a) && (b.is_table() || !b)) {
      std::vector<std::string> keys;
      if (a) for (const auto& [k, v] : *a.as_table()) keys.emplace_back(k.str());
      if (b)
        for (const auto& [k, v] : *b.as_table())
          if (!a || !a.as_table()->contains(k.str())) keys.emplace_back(k.str());
      for (const auto& k : keys) diff(a[k], b[k], join(k), out);
      return;
    }
    if (path == "host" && a.is_array_of_tables() && b.is_array_of_tables()) {
      auto by_name = [](const toml::array& arr) {
        std::vector<std::pair<std::string, const toml::node*>> v;
        for (const auto& h : arr) v.emplace_back(h.as_table()->at_path("name").value_or(std::string()), &h);
        return v;
      };
      auto av = by_name(*a.as_array()), bv = by_name(*b.as_array());
      auto find = [](const auto& v, const std::string& name) -> const toml::node* {
        for (const auto& [n, node] : v)
          if (n == name) return node;
        return nullptr;
      };
      for (const auto& [name, node] : av) {
        const toml::node* other = find(bv, name);
        if (!other) out.push_back("host[" + name + "]");
        else diff(toml::node_view<const toml::node>(node), toml::node_view<const toml::node>(other), "host[" + name + "]", out);
      }
      for (const auto& [name, node] : bv)
        if (!find(av, name)) out.push_back("host[" + name + "]");
      return;
    }
    out.push_back(path);
  }

  toml::table table_;
};

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw ConfigError("config key '" + key + "': " + why);
}

template <typename T>
T get(const toml::node_view<const toml::node>& n, const std::string& key, T def) {
  if (!n) return def;
  if (auto v = n.value<T>()) return *v;
  bad(key, "wrong type");
}

// An integer in [lo, hi], `def` when absent; out of range: "expected lo to hi[ unit]".
int64_t get_in_range(const toml::node_view<const toml::node>& n, const std::string& key, int64_t def, int64_t lo,
                     int64_t hi, const char* unit = nullptr) {
  int64_t v = get<int64_t>(n, key, def);
  if (v < lo || v > hi)
    bad(key, "expected " + std::to_string(lo) + " to " + std::to_string(hi) + (unit ? std::string(" ") + unit : ""));
  return v;
}

std::vector<std::string> get_strings(const toml::node_view<const toml::node>& n, const std::string& key) {
  std::vector<std::string> out;
  if (!n) return out;
  const toml::array* arr = n.as_array();
  if (!arr) bad(key, "expected an array of strings");
  for (const auto& v : *arr) {
    auto s = v.value<std::string>();
    if (!s) bad(key, "expected an array of strings");
    out.push_back(*s);
  }
  return out;
}

// A domain name, prepared as JIDs are (RFC 7622 §3.2).
std::string get_domain(const toml::node_view<const toml::node>& n, const std::string& key) {
  std::string name = get<std::string>(n, key, "");
  auto prepped = prep_domainpart(name);
  if (name.empty() || !prepped) bad(key, "'" + name + "' is not a valid domain name");
  return *prepped;
}

void check_known(const toml::table& t, const std::string& where, std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : t) {
    bool ok = false;
    for (auto known : keys) ok = ok || k.str() == known;
    if (!ok) bad(where.empty() ? std::string(k.str()) : where + "." + std::string(k.str()), "unknown key");
  }
}

void parse_http(const toml::node_view<const toml::node>& http, Config& c) {
  if (auto* t = http.as_table())
    check_known(*t, "http", {"websocket_path", "bosh_path", "cors_origins", "max_header_size", "max_body_size",
                             "requests_per_second", "idle_timeout", "hsts_max_age", "loopback_is_secure",
                             "websocket_ping", "websocket_see_other_uri", "bosh_max_wait", "bosh_max_hold",
                             "bosh_inactivity", "bosh_max_pause", "bosh_polling"});
  HttpConfig& h = c.http;
  auto path = [&](const char* key, const std::string& def) {
    std::string v = get<std::string>(http[key], std::string("http.") + key, def);
    if (v.size() < 2 || v.front() != '/' || v.find_first_of("?# \t") != std::string::npos)
      bad(std::string("http.") + key, "expected an absolute path such as \"" + def + "\"");
    return v;
  };
  auto number = [&](const char* key, int64_t def, int64_t min, int64_t max) {
    int64_t v = get<int64_t>(http[key], std::string("http.") + key, def);
    if (v < min || v > max)
      bad(std::string("http.") + key, "expected " + std::to_string(min) + " to " + std::to_string(max));
    return v;
  };
  h.websocket_path = path("websocket_path", h.websocket_path);
  h.bosh_path = path("bosh_path", h.bosh_path);
  if (h.websocket_path == h.bosh_path) bad("http.bosh_path", "must differ from http.websocket_path");
  if (http["cors_origins"]) h.cors_origins = get_strings(http["cors_origins"], "http.cors_origins");
  h.max_header_bytes = static_cast<size_t>(number("max_header_size", 8 * 1024, 1024, 1 << 20));
  h.max_body_bytes = static_cast<size_t>(number("max_body_size", 1 << 20, 4096, 64 << 20));
  if (h.max_body_bytes < c.limits.max_stanza_bytes)
    bad("http.max_body_size", "must be at least limits.max_stanza_size, or BOSH could not carry a full stanza");
  h.requests_per_second = static_cast<unsigned>(number("requests_per_second", 50, 1, 100000));
  h.idle_timeout = std::chrono::seconds(number("idle_timeout", 60, 1, 3600));
  h.hsts_max_age = std::chrono::seconds(number("hsts_max_age", 31536000, 0, 1LL << 31));
  h.loopback_is_secure = get<bool>(http["loopback_is_secure"], "http.loopback_is_secure", true);
  h.websocket_ping = std::chrono::seconds(number("websocket_ping", 30, 0, 3600));
  h.websocket_see_other_uri = get<std::string>(http["websocket_see_other_uri"], "http.websocket_see_other_uri", "");
  h.bosh_max_wait = std::chrono::seconds(number("bosh_max_wait", 60, 1, 3600));
  h.bosh_max_hold = static_cast<unsigned>(number("bosh_max_hold", 1, 0, 16));
  h.bosh_inactivity = std::chrono::seconds(number("bosh_inactivity", 60, 1, 3600));
  h.bosh_max_pause = std::chrono::seconds(number("bosh_max_pause", 300, 0, 86400));
  h.bosh_polling = std::chrono::seconds(number("bosh_polling", 2, 0, 3600));
}

void parse_s2s(const toml::node_view<const toml::node>& s2s, Config& c) {
  if (auto* t = s2s.as_table())
    check_known(*t, "s2s", {"ca_file", "require_encryption", "secure_auth", "insecure_domains", "dialback", "bidi",
                            "allow", "deny", "connect_timeout", "queue_timeout", "idle_timeout", "max_queue",
                            "max_stanza_size", "stanzas_per_second", "max_incoming_per_domain", "dialback_secret"});
  S2sConfig& s = c.s2s;
  auto number = [&](const char* key, int64_t def, int64_t min, int64_t max) {
    int64_t v = get<int64_t>(s2s[key], std::string("s2s.") + key, def);
    if (v < min || v > max) bad(std::string("s2s.") + key, "expected " + std::to_string(min) + " to " + std::to_string(max));
    return v;
  };
  auto domains = [&](const char* key) {
    std::vector<std::string> out;
    for (const auto& d : get_strings(s2s[key], std::string("s2s.") + key)) {
      auto prepared = prep_domainpart(d);
      if (!prepared) bad(std::string("s2s.") + key, "'" + d + "' is not a domain");
      out.push_back(*prepared);
    }
    return out;
  };
  s.ca_file = get<std::string>(s2s["ca_file"], "s2s.ca_file", "");
  s.require_encryption = get<bool>(s2s["require_encryption"], "s2s.require_encryption", true);
  s.secure_auth = get<bool>(s2s["secure_auth"], "s2s.secure_auth", true);
  s.insecure_domains = domains("insecure_domains");
  s.dialback = get<bool>(s2s["dialback"], "s2s.dialback", true);
  s.bidi = get<bool>(s2s["bidi"], "s2s.bidi", true);
  s.allow = domains("allow");
  s.deny = domains("deny");
  s.connect_timeout = std::chrono::seconds(number("connect_timeout", 10, 1, 600));
  s.queue_timeout = std::chrono::seconds(number("queue_timeout", 30, 1, 3600));
  s.idle_timeout = std::chrono::seconds(number("idle_timeout", 600, 1, 86400));
  s.max_queue = static_cast<size_t>(number("max_queue", 1000, 1, 1000000));
  s.max_stanza_bytes = static_cast<size_t>(number("max_stanza_size", 256 * 1024, 1024, 64 << 20));
  s.stanzas_per_second = static_cast<unsigned>(number("stanzas_per_second", 1000, 1, 1000000));
  s.max_incoming_per_domain = static_cast<unsigned>(number("max_incoming_per_domain", 4, 1, 1000));
  s.dialback_secret = get<std::string>(s2s["dialback_secret"], "s2s.dialback_secret", "");
  if (!s.dialback_secret.empty() && s.dialback_secret.size() < 16) bad("s2s.dialback_secret", "use at least 16 characters");
}

void parse_http_client(const toml::node_view<const toml::node>& hc, Config& c) {
  if (auto* t = hc.as_table())
    check_known(*t, "http_client", {"allow", "ca_file", "connect_timeout", "max_concurrent", "max_queued", "user_agent"});
  // The blocks are checked by net::AddressPolicy when the server builds its client (one parser for both).
  c.http_client.allow = get_strings(hc["allow"], "http_client.allow");
  c.http_client.ca_file = get<std::string>(hc["ca_file"], "http_client.ca_file", "");
  int64_t t = get_in_range(hc["connect_timeout"], "http_client.connect_timeout", 5, 1, 120, "seconds");
  c.http_client.connect_timeout = std::chrono::seconds(t);
  int64_t n = get_in_range(hc["max_concurrent"], "http_client.max_concurrent", 16, 1, 1024);
  c.http_client.max_concurrent = static_cast<unsigned>(n);
  int64_t q = get_in_range(hc["max_queued"], "http_client.max_queued", 256, 0, 100000);
  c.http_client.max_queued = static_cast<size_t>(q);
  c.http_client.user_agent = get<std::string>(hc["user_agent"], "http_client.user_agent", "Causerie");
  for (char ch : c.http_client.user_agent)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) bad("http_client.user_agent", "control characters");
}

void parse_dns(const toml::node_view<const toml::node>& dns, Config& c) {
  if (auto* t = dns.as_table()) check_known(*t, "dns", {"servers", "timeout_ms", "tries"});
  for (const auto& text : get_strings(dns["servers"], "dns.servers")) {
    auto server = parse_dns_server(text);
    if (!server)
      bad("dns.servers", "'" + text + "' is not an IP address with an optional port (\"192.0.2.1:53\", \"[2001:db8::1]:53\")");
    c.dns.servers.push_back(*server);
  }
  int64_t timeout = get_in_range(dns["timeout_ms"], "dns.timeout_ms", 3000, 10, 60000);
  c.dns.timeout = std::chrono::milliseconds(timeout);
  int64_t tries = get_in_range(dns["tries"], "dns.tries", 2, 1, 10);
  c.dns.tries = static_cast<unsigned>(tries);
}

void parse_components(const toml::node_view<const toml::node>& node, Config& c) {
  if (!node) return;
  const toml::array* list = node.as_array();
  if (!list) bad("component", "expected [[component]] tables");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = "component[" + std::to_string(i) + "]";
    const toml::table* t = list->get(i)->as_table();
    if (!t) bad(where, "expected a table");
    check_known(*t, where, {"domain", "secret", "name"});
    ComponentConfig cc;
    cc.domain = get_domain((*t)["domain"], where + ".domain");
    if (c.find_host(cc.domain)) bad(where + ".domain", "'" + cc.domain + "' is a [[host]]; a component needs a domain of its own");
    if (c.find_component(cc.domain)) bad(where + ".domain", "component '" + cc.domain + "' is listed twice");
    cc.secret = get<std::string>((*t)["secret"], where + ".secret", "");
    if (cc.secret.empty()) bad(where + ".secret", "required: the password the component authenticates with");
    cc.name = get<std::string>((*t)["name"], where + ".name", "");
    c.components.push_back(std::move(cc));
  }
  bool has_listener = false;
  for (const auto& l : c.listeners) has_listener = has_listener || l.type == "component";
  if (!c.components.empty() && !has_listener)
    c.listeners.push_back(ListenerConfig{"component", kDefaultComponentAddress, kDefaultComponentPort, TlsMode::kNone});
}

// [[host.external_service]] (XEP-0215): STUN and TURN servers, and the secret TURN credentials come from.
void parse_external_services(const toml::node_view<const toml::node>& node, const std::string& key, HostConfig& hc) {
  if (!node) return;
  const toml::array* list = node.as_array();
  if (!list) bad(key, "expected [[host.external_service]] tables");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = key + "[" + std::to_string(i) + "]";
    const toml::table* t = list->get(i)->as_table();
    if (!t) bad(where, "expected a table");
    check_known(*t, where, {"type", "host", "port", "transport", "name", "secret", "lifetime"});
    ExternalService es;
    es.type = get<std::string>((*t)["type"], where + ".type", "");
    if (es.type != "stun" && es.type != "stuns" && es.type != "turn" && es.type != "turns")
      bad(where + ".type", "expected \"stun\", \"stuns\", \"turn\" or \"turns\"");
    bool secure = es.type == "stuns" || es.type == "turns";
    es.host = get<std::string>((*t)["host"], where + ".host", "");
    if (es.host.empty() || es.host.find_first_of(" \t/@") != std::string::npos)
      bad(where + ".host", "required: the server's domain name or IP address");
    int64_t port = get_in_range((*t)["port"], where + ".port", secure ? 5349 : 3478, 1, 65535);
    es.port = static_cast<uint16_t>(port);
    es.transport = get<std::string>((*t)["transport"], where + ".transport", secure ? "tcp" : "udp");
    if (es.transport != "udp" && es.transport != "tcp") bad(where + ".transport", "expected \"udp\" or \"tcp\"");
    if (secure && es.transport != "tcp") bad(where + ".transport", es.type + " runs over TLS, so over \"tcp\"");
    es.name = get<std::string>((*t)["name"], where + ".name", "");
    es.secret = get<std::string>((*t)["secret"], where + ".secret", "");
    if (!es.secret.empty() && es.type.starts_with("stun"))
      bad(where + ".secret", "only TURN servers take credentials");
    int64_t lifetime = get_in_range((*t)["lifetime"], where + ".lifetime", 86400, 60, 30 * 86400, "seconds");
    if ((*t)["lifetime"] && es.secret.empty()) bad(where + ".lifetime", "only credentials from a secret have a lifetime");
    es.lifetime = std::chrono::seconds(lifetime);
    for (const auto& other : hc.external_services)
      if (other.type == es.type && other.host == es.host && other.port == es.port && other.transport == es.transport)
        bad(where, "the same " + es.type + " service is listed twice");
    hc.external_services.push_back(std::move(es));
  }
}

Config parse(const toml::table& root, const std::string& source) {
  Config c;
  c.source = source;
  check_known(root, "", {"server", "tls", "c2s", "testing", "s2s", "dns", "http_client", "limits", "storage", "http", "host",
                         "listener", "component", "modules"});
  auto server = root["server"];
  if (auto* t = server.as_table())
    check_known(*t, "server", {"data_dir", "log_level", "workers", "scram_iterations", "hide_os_version"});
  c.data_dir = get<std::string>(server["data_dir"], "server.data_dir", c.data_dir);
  c.log_level = get<std::string>(server["log_level"], "server.log_level", c.log_level);
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (auto l : kLevels) level_ok = level_ok || c.log_level == l;
  if (!level_ok) bad("server.log_level", "expected one of trace, debug, info, warn, error, critical, off");
  int64_t workers = get<int64_t>(server["workers"], "server.workers", 0);
  if (workers < 0 || workers > 256) bad("server.workers", "expected 0 (one per core) to 256");
  c.workers = static_cast<unsigned>(workers);
  int64_t iters = get<int64_t>(server["scram_iterations"], "server.scram_iterations", 4096);
  if (iters < 4096 || iters > 10000000) bad("server.scram_iterations", "expected 4096 to 10000000 (RFC 7677 §4)");
  c.scram_iterations = static_cast<uint32_t>(iters);
  c.hide_os_version = get<bool>(server["hide_os_version"], "server.hide_os_version", false);

  auto tls = root["tls"];
  if (auto* t = tls.as_table()) check_known(*t, "tls", {"certificate", "key"});
  c.certificate = get<std::string>(tls["certificate"], "tls.certificate", "");
  c.key = get<std::string>(tls["key"], "tls.key", "");
  if (c.certificate.empty() != c.key.empty()) bad("tls", "certificate and key must be given together");

  auto c2s = root["c2s"];
  if (auto* t = c2s.as_table()) check_known(*t, "c2s", {"require_encryption", "resumption_timeout", "max_unacked", "fast_token_lifetime"});
  c.require_encryption = get<bool>(c2s["require_encryption"], "c2s.require_encryption", true);
  {
    int64_t t = get<int64_t>(c2s["resumption_timeout"], "c2s.resumption_timeout", 300);
    if (t < 0 || t > 86400) bad("c2s.resumption_timeout", "expected 0 (no resumption) to 86400 seconds");
    c.resumption_timeout = std::chrono::seconds(t);
    int64_t n = get_in_range(c2s["max_unacked"], "c2s.max_unacked", 10000, 10, 1000000);
    c.max_unacked = static_cast<size_t>(n);
    int64_t days = get_in_range(c2s["fast_token_lifetime"], "c2s.fast_token_lifetime", 30, 1, 3650, "days");
    c.fast_token_lifetime = std::chrono::hours(24 * days);
  }
  auto testing = root["testing"];
  if (auto* t = testing.as_table()) check_known(*t, "testing", {"manual_clock"});
  c.manual_clock = get<bool>(testing["manual_clock"], "testing.manual_clock", false);

  parse_s2s(root["s2s"], c);

  parse_dns(root["dns"], c);
  parse_http_client(root["http_client"], c);

  auto lim = root["limits"];
  if (auto* t = lim.as_table())
    check_known(*t, "limits", {"max_stanza_size", "max_depth", "unauthenticated_timeout", "output_queue",
                               "auth_failures_before_delay", "max_offline_messages", "max_resources",
                               "registrations_per_hour", "guest_stanzas_per_second", "guest_max_rooms"});
  auto positive = [&](const char* key, int64_t def, int64_t min, int64_t max) {
    int64_t v = get<int64_t>(lim[key], std::string("limits.") + key, def);
    if (v < min || v > max)
      bad(std::string("limits.") + key, "expected " + std::to_string(min) + " to " + std::to_string(max));
    return v;
  };
  c.limits.max_stanza_bytes = static_cast<size_t>(positive("max_stanza_size", 256 * 1024, 10000, 64 << 20));
  c.limits.max_depth = static_cast<unsigned>(positive("max_depth", 96, 8, 10000));
  c.limits.unauthenticated_timeout = std::chrono::seconds(positive("unauthenticated_timeout", 60, 1, 3600));
  c.limits.max_output_queue_bytes = static_cast<size_t>(positive("output_queue", 8 << 20, 65536, 1LL << 32));
  c.limits.auth_failures_before_delay = static_cast<unsigned>(positive("auth_failures_before_delay", 3, 0, 1000));
  c.limits.max_offline_messages = static_cast<size_t>(positive("max_offline_messages", 1000, 0, 1000000));
  c.limits.max_resources_per_account = static_cast<size_t>(positive("max_resources", 32, 1, 10000));
  c.limits.registrations_per_hour = static_cast<unsigned>(positive("registrations_per_hour", 30, 0, 1000000));
  c.limits.guest_stanzas_per_second = static_cast<unsigned>(positive("guest_stanzas_per_second", 5, 1, 100000));
  c.limits.guest_max_rooms = static_cast<unsigned>(positive("guest_max_rooms", 3, 0, 10000));

  parse_http(root["http"], c);

  auto storage = root["storage"];
  if (auto* t = storage.as_table()) check_known(*t, "storage", {"backend", "path", "cache_kb"});
  c.storage = get<std::string>(storage["backend"], "storage.backend", "sqlite");
  if (c.storage != "sqlite") bad("storage.backend", "only \"sqlite\" is available in this build");
  c.sqlite_path = get<std::string>(storage["path"], "storage.path", "");
  c.sqlite_cache_kb = static_cast<unsigned>(get<int64_t>(storage["cache_kb"], "storage.cache_kb", 256));
  if (c.sqlite_cache_kb < 64 || c.sqlite_cache_kb > 4194304) bad("storage.cache_kb", "must be between 64 and 4194304 (KiB)");

  const toml::array* hosts = root["host"].as_array();
  if (!hosts || hosts->empty()) bad("host", "at least one [[host]] with a name is required");
  for (size_t i = 0; i < hosts->size(); ++i) {
    std::string where = "host[" + std::to_string(i) + "]";
    const toml::table* h = hosts->get(i)->as_table();
    if (!h) bad(where, "expected a table");
    check_known(*h, where, {"name", "registration", "allow_user_invites", "authentication", "certificate", "key", "contact",
                           "admins", "archive_retention", "external_service"});
    HostConfig hc;
    hc.name = get_domain((*h)["name"], where + ".name");
    if (c.find_host(hc.name)) bad(where + ".name", "host '" + hc.name + "' is listed twice");
    // XEP-0479 advises against open registration: only the embedded localhost default opens it.
    std::string reg = get<std::string>((*h)["registration"], where + ".registration", "closed");
    if (reg == "open") hc.registration = RegistrationPolicy::kOpen;
    else if (reg == "invite") hc.registration = RegistrationPolicy::kInvite;
    else if (reg == "closed") hc.registration = RegistrationPolicy::kClosed;
    else bad(where + ".registration", "expected \"open\", \"invite\" or \"closed\"");
    hc.allow_user_invites = get<bool>((*h)["allow_user_invites"], where + ".allow_user_invites", false);
    std::string auth = get<std::string>((*h)["authentication"], where + ".authentication", "internal");
    if (auth != "internal" && auth != "anonymous") bad(where + ".authentication", "expected \"internal\" or \"anonymous\"");
    hc.anonymous = auth == "anonymous";
    // Guests cannot have accounts: an anonymous host has no registration (XEP-0175 §2).
    if (hc.anonymous && hc.registration != RegistrationPolicy::kClosed)
      bad(where + ".registration", "an anonymous host cannot take registrations");
    hc.certificate = get<std::string>((*h)["certificate"], where + ".certificate", "");
    hc.key = get<std::string>((*h)["key"], where + ".key", "");
    if (hc.certificate.empty() != hc.key.empty()) bad(where, "certificate and key must be given together");
    hc.admins = get_strings((*h)["admins"], where + ".admins");
    if (auto r = (*h)["archive_retention"]) {
      std::string text = get<std::string>(r, where + ".archive_retention", "");
      hc.archive_retention = parse_duration(text);
      if (!hc.archive_retention) bad(where + ".archive_retention", "expected a duration such as \"30d\", \"12h\" or \"0\" (kept)");
    }
    for (const auto& a : hc.admins)
      if (!Jid::parse(a)) bad(where + ".admins", "'" + a + "' is not a valid JID");
    if (auto* ct = (*h)["contact"].as_table()) {
      check_known(*ct, where + ".contact", {"abuse", "admin", "feedback", "sales", "security", "status", "support"});
      auto cv = (*h)["contact"];
      hc.contacts.abuse = get_strings(cv["abuse"], where + ".contact.abuse");
      hc.contacts.admin = get_strings(cv["admin"], where + ".contact.admin");
      hc.contacts.feedback = get_strings(cv["feedback"], where + ".contact.feedback");
      hc.contacts.sales = get_strings(cv["sales"], where + ".contact.sales");
      hc.contacts.security = get_strings(cv["security"], where + ".contact.security");
      hc.contacts.status = get_strings(cv["status"], where + ".contact.status");
      hc.contacts.support = get_strings(cv["support"], where + ".contact.support");
    }
    parse_external_services((*h)["external_service"], where + ".external_service", hc);
    c.hosts.push_back(std::move(hc));
  }

  if (const toml::array* ls = root["listener"].as_array()) {
    for (size_t i = 0; i < ls->size(); ++i) {
      std::string where = "listener[" + std::to_string(i) + "]";
      const toml::table* l = ls->get(i)->as_table();
      if (!l) bad(where, "expected a table");
      check_known(*l, where, {"type", "address", "port", "tls"});
      ListenerConfig lc;
      lc.type = get<std::string>((*l)["type"], where + ".type", "c2s");
      if (lc.type != "c2s" && lc.type != "s2s" && lc.type != "http" && lc.type != "component" && lc.type != "admin")
        bad(where + ".type", "expected \"c2s\", \"s2s\", \"http\", \"component\" or \"admin\"");
      lc.address = get<std::string>((*l)["address"], where + ".address", "127.0.0.1");
      int64_t port = get_in_range((*l)["port"], where + ".port", 0, 1, 65535);
      lc.port = static_cast<uint16_t>(port);
      std::string mode = get<std::string>((*l)["tls"], where + ".tls", lc.type == "http" || lc.type == "component" || lc.type == "admin" ? "none" : "starttls");
      if (mode == "none") lc.tls = TlsMode::kNone;
      else if (mode == "starttls") lc.tls = TlsMode::kStartTls;
      else if (mode == "direct") lc.tls = TlsMode::kDirect;
      else bad(where + ".tls", "expected \"none\", \"starttls\" or \"direct\"");
      if (lc.type == "http" && lc.tls == TlsMode::kStartTls) bad(where + ".tls", "http listeners are \"none\" or \"direct\"");
      // XEP-0114 streams have no features, so no STARTTLS; components are meant to run on the same machine.
      if (lc.type == "component" && lc.tls != TlsMode::kNone) bad(where + ".tls", "component listeners are \"none\"");
      // The admin listener (metrics, status) is meant for loopback or a private network; TLS is a reverse
      // proxy's job there.
      if (lc.type == "admin" && lc.tls != TlsMode::kNone) bad(where + ".tls", "admin listeners are \"none\"");
      c.listeners.push_back(lc);
    }
  }
  parse_components(root["component"], c);
  c.raw = std::make_shared<TomlRaw>(root);
  return c;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty() || text == "0") return std::chrono::seconds(0);
  int64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > 1'000'000'000) return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  if (i == 0 || i + 1 != text.size()) return std::nullopt;
  switch (text[i]) {
    case 's': return std::chrono::seconds(n);
    case 'm': return std::chrono::seconds(n * 60);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'd': return std::chrono::seconds(n * 86400);
    case 'w': return std::chrono::seconds(n * 7 * 86400);
    default: return std::nullopt;
  }
}

std::optional<DnsServerAddress> parse_dns_server(std::string_view text) {
  DnsServerAddress out;
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // brackets are for IPv6 only
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // one colon: IPv4 and port (a bare IPv6 address has several)
    port = text.substr(colon + 1);
    if (port.empty()) return std::nullopt;
  }
  out.ip = std::string(host);
  unsigned char buf[16];
  bool v6 = out.ip.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, out.ip.c_str(), buf) != 1) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) return std::nullopt;
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

namespace {
[[noreturn]] void throw_parse_error(const toml::parse_error& e, const std::string& source) {
  std::string where = source;
  if (e.source().begin.line) where += ":" + std::to_string(e.source().begin.line);
  throw ConfigError(where + ": " + std::string(e.description()));
}
}  // namespace

// Debian's toml++ is built with exceptions (TOML_EXCEPTIONS=1): parse errors arrive as toml::parse_error.
Config load_config_text(std::string_view text, const std::string& source_name) {
  toml::table t;
  try {
    t = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw_parse_error(e, source_name);
  }
  return parse(t, source_name);
}

Config load_config_file(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw_parse_error(e, path);
  }
  return parse(t, path);
}

Config embedded_default_config() { return load_config_text(kEmbeddedDefaultToml, "<embedded default>"); }

}  // namespace causerie
