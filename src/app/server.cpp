#include "app/server.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>

#include <spdlog/spdlog.h>

#include <fstream>

#include "app/metrics_page.hpp"
#include "app/control_socket.hpp"
#include "core/component/component_registry.hpp"
#include "core/component/component_stream.hpp"
#include "core/module/module.hpp"
#include "core/s2s/s2s_manager.hpp"
#include "core/stream/auth_throttle.hpp"
#include "core/stream/c2s_stream.hpp"
#include "core/util/encoding.hpp"
#include "core/util/secret_file.hpp"
#include "http/bosh_registry.hpp"
#include "http/http_server.hpp"
#include "modules/all_modules.hpp"
#include "net/http_fetcher.hpp"
#include "net/listener.hpp"
#include "net/s2s_network.hpp"
#include "net/tcp_transport.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage_service.hpp"

namespace causerie {

namespace {
std::vector<std::string> host_names(const Config& c) {
  std::vector<std::string> out;
  for (const auto& h : c.hosts) out.push_back(h.name);
  return out;
}

// XEP-0220 §2.1.1: the dialback secret, from the configuration or kept in the data directory (so that
// keys made before a restart still verify after it).
std::string dialback_secret(const Config& c) {
  if (!c.s2s.dialback_secret.empty()) return c.s2s.dialback_secret;
  return util::load_or_create_secret(c.data_dir + "/s2s_secret", 16);
}

bool federates(const Config& c) {
  for (const auto& l : c.listeners)
    if (l.type == "s2s") return true;
  return false;
}
}  // namespace

struct Server::Impl {
  LiveConfig live;
  // The configuration as started: listeners, data_dir, storage and the other keys that only a restart
  // changes. Hosts, their settings and [limits] are read from `live`, which reloads replace.
  const Config& config;
  std::unique_ptr<Clock> clock;
  SessionDirectory resumable;
  std::unique_ptr<storage::StorageService> storage;
  SessionRegistry sessions;
  // Destroyed after the pool: BOSH sessions still queued on a worker unregister from it.
  http::BoshRegistry bosh_sessions;
  net::WorkerPool pool;
  Router router;
  DiscoRegistry disco;
  StreamExtensions streams;
  web::Routes http_routes;
  CredentialCache credentials;
  CommandRegistry commands;
  // After the pool (its resolvers live on the workers' loops), before the modules that use it.
  std::unique_ptr<net::HttpFetcher> http_fetcher;
  ServerServices services;
  AuthThrottle throttle;
  std::vector<std::unique_ptr<ModuleContext>> contexts;
  std::vector<std::unique_ptr<Module>> modules;
  std::unique_ptr<net::TlsContext> tls;
  std::unique_ptr<net::S2sNetwork> s2s_network;
  std::unique_ptr<s2s::S2sManager> s2s;
  component::ComponentRegistry components;
  std::vector<std::unique_ptr<net::Listener>> listeners;
  std::unique_ptr<http::HttpService> http;
  std::unique_ptr<ControlSocket> control;  // the CLI's way in (XEP-0050 commands as the operator)
  bool running = false;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  std::atomic<uint64_t> reloads_ok{0}, reloads_failed{0};

  explicit Impl(Config c)
      : live(std::move(c)),
        config(live.current()),
        clock(config.manual_clock ? std::unique_ptr<Clock>(std::make_unique<ManualClock>())
                                  : std::unique_ptr<Clock>(std::make_unique<SystemClock>())),
        storage(open_storage(config)),
        sessions(config.limits.max_resources_per_account),
        pool(config.worker_count()),
        router(host_names(config), sessions, pool),
        commands(live, *clock),
        services{live,        router, sessions, pool,      *storage, disco, streams, http_routes,
                 credentials, *clock, resumable, commands},
        throttle(config.limits.auth_failures_before_delay),
        components(config, router, pool) {}

  static std::unique_ptr<storage::StorageService> open_storage(const Config& config) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) throw ConfigError("cannot create data directory " + config.data_dir + ": " + ec.message());
    std::string path = config.database_path();
    unsigned cache_kb = config.sqlite_cache_kb;
    return std::make_unique<storage::StorageService>([path, cache_kb] { return storage::sqlite::open_sqlite(path, cache_kb); });
  }
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {
  Impl& s = *impl_;
  s.http_fetcher = std::make_unique<net::HttpFetcher>(s.pool, s.config);
  s.services.outbound_http = s.http_fetcher.get();
  for (const auto& entry : modules::all_modules()) {
    s.contexts.push_back(std::make_unique<ModuleContext>(s.services, entry.name));
    s.modules.push_back(entry.make(*s.contexts.back()));
  }
  if (s.config.manual_clock) {
    // Tests only: <iq type='set' to='host'><advance xmlns='urn:causerie:testing:clock' seconds='N'/></iq>
    // from any local account moves the clock, then every worker sweeps before the result is sent.
    spdlog::warn("[testing] manual_clock is on: the server's time moves only when told to (tests only)");
    s.router.server_iq().add(true, "urn:causerie:testing:clock", [&s](IqRequest& r) {
      if (!r.from().has_localpart() || !s.router.is_local_host(r.from().domainpart())) {
        r.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
        return;
      }
      int64_t seconds = 0;
      try {
        seconds = std::stoll(std::string(r.payload().attr("seconds")));
      } catch (...) {
        r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "seconds='N' expected"));
        return;
      }
      static_cast<ManualClock&>(*s.clock).advance(std::chrono::seconds(seconds));
      auto reply = std::make_shared<IqResponder>(std::move(r.reply));
      s.pool.sweep_now([reply] { reply->result(); });
    });
  }
  // After the modules, so that a component's domain taken by a module's service fails here.
  s.components.install(s.disco);
  s.tls = std::make_unique<net::TlsContext>(s.config);
  s.http = std::make_unique<http::HttpService>(s.pool, s.services, s.throttle, *s.tls, s.bosh_sessions);
  s.http->set_metrics([&s] {
    return render_metrics_page(MetricsSources{*s.storage, s.started, s.reloads_ok, s.reloads_failed});
  });
  if (federates(s.config)) {
    s.s2s_network = std::make_unique<net::S2sNetwork>(s.pool, s.config, *s.tls);
    s.s2s = std::make_unique<s2s::S2sManager>(s.config, s.router, *s.s2s_network, dialback_secret(s.config));
    s.router.set_remote_handler([m = s.s2s.get()](Stanza& stanza) { return m->route(stanza); });
  }
  for (const auto& l : s.config.listeners) {
    if (l.type == "c2s") {
      s.listeners.push_back(std::make_unique<net::Listener>(
          s.pool, l, [&s, l](net::Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer) {
            net::TlsSetup tls;
            tls.direct = l.tls == TlsMode::kDirect;
            if (l.tls != TlsMode::kNone) tls.make_ssl = [ctx = s.tls.get()] { return ctx->new_ssl(); };
            // The limits in force when the connection arrives (a reload may have changed them since).
            auto conn = std::make_shared<net::TcpTransport>(worker, s.live.current().limits, std::move(socket),
                                                            std::move(peer), std::move(tls));
            conn->set_handler(std::make_unique<C2sStream>(s.services, s.throttle, *conn, worker,
                                                          SessionRef{worker.index(), conn->id()}),
                              true);
            conn->start();
          }));
    } else if (l.type == "s2s") {
      s.listeners.push_back(std::make_unique<net::Listener>(
          s.pool, l, [&s, mode = l.tls](net::Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer) {
            s.s2s_network->accept(worker, std::move(socket), std::move(peer), mode, *s.s2s);
          }));
    } else if (l.type == "component") {
      // XEP-0114: in the clear (the customary listener is on loopback).
      s.listeners.push_back(std::make_unique<net::Listener>(
          s.pool, l, [&s](net::Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer) {
            auto conn = std::make_shared<net::TcpTransport>(worker, s.config.limits, std::move(socket),
                                                            std::move(peer), net::TlsSetup{});
            conn->set_handler(std::make_unique<component::ComponentStream>(s.config, s.router, s.components, *conn,
                                                                           SessionRef{worker.index(), conn->id()}));
            conn->start();
          }));
    } else if (l.type == "http" || l.type == "admin") {
      s.http->add_listener(l);
    }
  }
}

Server::~Server() { stop(); }

void Server::start() {
  Impl& s = *impl_;
  s.pool.start(*s.clock, [&s] { s.router.run_tick_hooks(); });
  for (auto& l : s.listeners) l->start();
  s.http->start();
  s.control = std::make_unique<ControlSocket>(s.live, s.commands);
  s.control->start();
  s.running = true;
  for (const auto& l : s.config.listeners) {
    const char* mode = l.tls == TlsMode::kDirect ? "direct TLS" : l.tls == TlsMode::kStartTls ? "STARTTLS" : "no TLS";
    spdlog::info("listening for {} on {}:{} ({})", l.type, l.address, l.port, mode);
  }
  std::string hosts;
  for (const auto& h : s.config.hosts) hosts += (hosts.empty() ? "" : ", ") + h.name +
             (h.registration == RegistrationPolicy::kOpen     ? " (open registration)"
              : h.registration == RegistrationPolicy::kInvite ? " (registration by invitation)"
                                                              : "");
  spdlog::info("Causerie {} serving {} with {} worker threads, data in {}", CAUSERIE_VERSION, hosts,
               s.config.worker_count(), s.config.data_dir);
  std::ofstream pid(pid_file(s.config), std::ios::trunc);
  pid << getpid() << "\n";
  if (!pid) spdlog::warn("cannot write {}: `causerie cert import` will not reload this server", pid_file(s.config));
}

std::string pid_file(const Config& config) { return config.data_dir + "/causerie.pid"; }

namespace {
// What a reload changes live: the hosts (added, removed, their settings), [limits] and the certificates,
// taken from `fresh`; everything else stays as running (and is reported as waiting for a restart).
// A host that is or stops being anonymous keeps its running form: guests are set up at startup.
struct ReloadPlan {
  Config next;
  std::vector<std::string> added, removed, restart;
};

ReloadPlan plan_reload(const Config& running, const Config& fresh, const Router& router) {
  ReloadPlan p{running, {}, {}, {}};
  p.next.limits = fresh.limits;
  p.next.certificate = fresh.certificate;
  p.next.key = fresh.key;
  p.next.hosts.clear();
  for (const auto& h : fresh.hosts) {
    const HostConfig* old = running.find_host(h.name);
    if (old && old->anonymous != h.anonymous) {
      p.next.hosts.push_back(*old);
      p.restart.push_back("host[" + h.name + "].authentication");
      continue;
    }
    if (!old) {
      if (h.anonymous) {
        p.restart.push_back("host[" + h.name + "]");
        continue;
      }
      if (router.is_service(h.name) || running.find_component(h.name))
        throw ConfigError("host '" + h.name + "' is already the domain of a service or component");
      p.added.push_back(h.name);
    }
    p.next.hosts.push_back(h);
  }
  for (const auto& h : running.hosts)
    if (!fresh.find_host(h.name)) p.removed.push_back(h.name);
  if (p.next.hosts.empty()) throw ConfigError("no host would be left to serve");
  for (const auto& key : running.raw->differences(*fresh.raw)) {
    bool live = key.starts_with("limits.") || key == "limits" || key == "tls.certificate" || key == "tls.key" ||
                key.starts_with("host[");
    if (!live && std::find(p.restart.begin(), p.restart.end(), key) == p.restart.end()) p.restart.push_back(key);
  }
  return p;
}
}  // namespace

bool Server::reload() {
  Impl& s = *impl_;
  const Config& running = s.live.current();
  spdlog::info("SIGHUP: reloading {}", running.source);
  ReloadPlan plan;
  try {
    Config fresh = running.source == "<embedded default>" ? embedded_default_config() : load_config_file(running.source);
    plan = plan_reload(running, fresh, s.router);
  } catch (const std::exception& e) {
    ++s.reloads_failed;
    spdlog::error("reload: {}; nothing changed", e.what());
    return false;
  }
  // The certificates of the hosts to be served, as the new file names them ([tls] and each [[host]]'s
  // certificate and key), plus whatever `causerie cert import` put in data_dir/certs. First, so that a
  // broken certificate leaves everything as it was.
  try {
    for (const auto& line : s.tls->reload(plan.next)) spdlog::info("reload: certificate for {}", line);
  } catch (const std::exception& e) {
    ++s.reloads_failed;
    spdlog::error("reload: {}; nothing changed", e.what());
    return false;
  }
  const Config& now = s.live.publish(std::move(plan.next));
  s.router.set_local_hosts(host_names(now));
  s.sessions.set_max_resources(now.limits.max_resources_per_account);
  s.throttle.set_free_failures(now.limits.auth_failures_before_delay);
  for (const auto& name : plan.added) {
    try {
      s.router.host_added(*now.find_host(name));  // the modules start its services (muc.<host>, …)
      spdlog::info("reload: now serving {}", name);
    } catch (const std::exception& e) {
      spdlog::error("reload: {} is served, but not all its services: {}", name, e.what());
    }
  }
  // RFC 6120 §4.9.3.6: the sessions of a host no longer served end with <host-gone/>; others stay.
  for (const auto& name : plan.removed) {
    std::vector<SessionRef> gone;
    s.sessions.for_each([&](std::string_view bare, const BoundResource& r) {
      if (bare.ends_with("@" + name)) gone.push_back(r.ref);
    });
    for (const auto& ref : gone)
      s.pool.with_session(ref, [](ClientSession& cs) { cs.close(StreamErrorCondition::kHostGone, "this host is no longer served here"); });
    spdlog::info("reload: no longer serving {} ({} session(s) ended)", name, gone.size());
  }
  for (const auto& key : plan.restart) spdlog::warn("reload: '{}' changed: takes effect after a restart", key);
  ++s.reloads_ok;
  spdlog::info("reload done: hosts, limits and certificates in use; {} other change(s) wait for a restart",
               plan.restart.size());
  return true;
}

void Server::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  spdlog::info("shutting down");
  if (s.control) s.control->stop();
  for (auto& l : s.listeners) l->stop();
  s.http->stop();
  for (auto& m : s.modules) m->stop();
  s.pool.shutdown_connections(true);
  // Give the <system-shutdown/> errors a moment to reach the clients, and the unavailable presence their
  // sessions' ends caused a moment to reach other servers, before the server-to-server streams close.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s.pool.shutdown_connections(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  s.pool.stop();
  s.storage->stop();
  std::error_code ec;
  std::filesystem::remove(pid_file(s.config), ec);
}

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Server::wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGHUP) {
      // On this (main) thread: the workers go on serving while files load.
      reload();
      continue;
    }
    spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return;
  }
}

}  // namespace causerie
