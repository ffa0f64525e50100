#include "app/server.hpp"

#include <csignal>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/module/module.hpp"
#include "core/stream/auth_throttle.hpp"
#include "http/bosh_registry.hpp"
#include "http/http_server.hpp"
#include "modules/all_modules.hpp"
#include "net/listener.hpp"
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
}  // namespace

struct Server::Impl {
  Config config;
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
  ServerServices services;
  AuthThrottle throttle;
  std::vector<std::unique_ptr<ModuleContext>> contexts;
  std::vector<std::unique_ptr<Module>> modules;
  std::unique_ptr<net::TlsContext> tls;
  std::vector<std::unique_ptr<net::C2sListener>> listeners;
  std::unique_ptr<http::HttpService> http;
  bool running = false;

  explicit Impl(Config c)
      : config(std::move(c)),
        storage(open_storage(config)),
        sessions(config.limits.max_resources_per_account),
        pool(config.worker_count()),
        router(host_names(config), sessions, pool),
        services{config, router, sessions, pool, *storage, disco, streams, http_routes, credentials},
        throttle(config.limits.auth_failures_before_delay) {}

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
  for (const auto& entry : modules::all_modules()) {
    s.contexts.push_back(std::make_unique<ModuleContext>(s.services, entry.name));
    s.modules.push_back(entry.make(*s.contexts.back()));
  }
  s.tls = std::make_unique<net::TlsContext>(s.config);
  s.http = std::make_unique<http::HttpService>(s.pool, s.services, s.throttle, *s.tls, s.bosh_sessions);
  for (const auto& l : s.config.listeners) {
    if (l.type == "c2s") s.listeners.push_back(std::make_unique<net::C2sListener>(s.pool, s.services, s.throttle, *s.tls, l));
    else if (l.type == "http") s.http->add_listener(l);
  }
}

Server::~Server() { stop(); }

void Server::start() {
  Impl& s = *impl_;
  s.pool.start();
  for (auto& l : s.listeners) l->start();
  s.http->start();
  s.running = true;
  for (const auto& l : s.config.listeners) {
    const char* mode = l.tls == TlsMode::kDirect ? "direct TLS" : l.tls == TlsMode::kStartTls ? "STARTTLS" : "no TLS";
    spdlog::info("listening for {} on {}:{} ({})", l.type, l.address, l.port, mode);
  }
  std::string hosts;
  for (const auto& h : s.config.hosts) hosts += (hosts.empty() ? "" : ", ") + h.name + (h.registration_open ? " (open registration)" : "");
  spdlog::info("Causerie {} serving {} with {} worker threads, data in {}", CAUSERIE_VERSION, hosts,
               s.config.worker_count(), s.config.data_dir);
}

void Server::stop() {
  Impl& s = *impl_;
  if (!s.running) return;
  s.running = false;
  spdlog::info("shutting down");
  for (auto& l : s.listeners) l->stop();
  s.http->stop();
  for (auto& m : s.modules) m->stop();
  s.pool.shutdown_connections();
  // Give the <system-shutdown/> errors a moment to reach the clients.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  s.pool.stop();
  s.storage->stop();
}

void block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Server::wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

}  // namespace causerie
