// Module: one protocol area (a XEP, or RFC 6121's roster and presence), and ModuleContext: everything a
// module may touch. A module registers its handlers in its constructor, at startup, and lives until
// shutdown; it never reaches into the core beyond this context (DESIGN §3).
//
// Thread rules: handlers run on whatever thread delivers the stanza (a worker, or a storage thread for
// completions); a module's shared state must be safe for that (its own mutex, or per-session state kept
// in a SessionExtension on the session's thread).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "core/accounts/credential_cache.hpp"
#include "core/config/config.hpp"
#include "core/config/live_config.hpp"
#include "core/module/command_registry.hpp"
#include "core/module/disco_registry.hpp"
#include "core/module/stream_extensions.hpp"
#include "core/router/router.hpp"
#include "core/session/session_directory.hpp"
#include "core/util/clock.hpp"
#include "core/web/outbound_http.hpp"
#include "core/web/routes.hpp"
#include "storage/storage_service.hpp"

namespace causerie {

namespace storage {
class StorageService;  // storage/storage_service.hpp: included by the modules that submit jobs
}

// Everything the server shares between modules; built once in app/server.cpp.
struct ServerServices {
  LiveConfig& live_config;
  Router& router;
  SessionRegistry& sessions;
  SessionDispatcher& dispatcher;
  storage::StorageService& storage;
  DiscoRegistry& disco;
  StreamExtensions& streams;
  web::Routes& http;
  CredentialCache& credentials;
  const Clock& clock;
  SessionDirectory& resumable;  // XEP-0198 sessions that may be resumed
  CommandRegistry& commands;    // XEP-0050 ad-hoc commands of the hosts

  // The configuration in force (a reload may publish a newer one; see live_config.hpp): ask again
  // rather than keep what hosts and [limits] said.
  const Config& config() const { return live_config.current(); }
  // Outbound HTTP with SSRF protection (net::HttpFetcher), set by the server before modules are built.
  web::OutboundHttp* outbound_http = nullptr;
};

enum class IqScope { kServer, kAccount };

class ModuleContext {
 public:
  ModuleContext(ServerServices& s, std::string module_name) : s_(s), name_(std::move(module_name)) {}

  const std::string& name() const { return name_; }
  // The configuration in force: a reload (SIGHUP) may change hosts, their settings and [limits], so
  // read them here when needed rather than copying them at startup (other keys never change live).
  const Config& config() const { return s_.config(); }
  const RawConfig& raw_config() const { return *s_.config().raw; }
  Router& router() { return s_.router; }
  SessionRegistry& sessions() { return s_.sessions; }
  SessionDispatcher& dispatcher() { return s_.dispatcher; }
  storage::StorageService& storage() { return s_.storage; }
  DiscoRegistry& disco() { return s_.disco; }
  StreamExtensions& streams() { return s_.streams; }
  web::Routes& http() { return s_.http; }
  CredentialCache& credentials() { return s_.credentials; }
  const Clock& clock() const { return s_.clock; }
  // XEP-0050 ad-hoc commands: register at startup (see command_registry.hpp).
  CommandRegistry& commands() { return s_.commands; }
  // Requests to other web servers (link previews, Web Push): see core/web/outbound_http.hpp. Throws
  // std::logic_error where the server built none (unit tests that do not wire one).
  web::OutboundHttp& outbound_http() {
    if (!s_.outbound_http) throw std::logic_error("no outbound HTTP client in this server");
    return *s_.outbound_http;
  }

  void on_iq(IqScope scope, bool set, std::string ns, IqHandler h, std::string element = {}) {
    (scope == IqScope::kServer ? s_.router.server_iq() : s_.router.account_iq())
        .add(set, std::move(ns), std::move(h), std::move(element));
  }
  void on_preauth_iq(bool set, std::string ns, IqHandler h) { s_.streams.preauth_iq().add(set, std::move(ns), std::move(h)); }
  void hook(StanzaHook point, int priority, StanzaHookFn fn) { s_.router.add_hook(point, priority, std::move(fn)); }
  void on_session(SessionHook point, SessionHookFn fn) { s_.router.add_session_hook(point, std::move(fn)); }
  void on_account_removed(AccountRemovedFn fn) { s_.router.add_account_removed_hook(std::move(fn)); }
  void on_roster_changed(RosterChangedFn fn) { s_.router.add_roster_changed_hook(std::move(fn)); }
  void on_detached_delivery(DetachedDeliveryFn fn) { s_.router.add_detached_delivery_hook(std::move(fn)); }
  void filter_delivery(DeliveryFilterFn fn) { s_.router.add_delivery_filter(std::move(fn)); }
  void on_tick(TickHookFn fn) { s_.router.add_tick_hook(std::move(fn)); }
  void observe_messages(MessageObserverFn fn) { s_.router.add_message_observer(std::move(fn)); }
  void observe_account_events(AccountEventFn fn) { s_.router.add_account_event_observer(std::move(fn)); }
  void add_service(std::string domain, ServiceHandler h) { s_.router.add_service(std::move(domain), std::move(h)); }
  // Called on the main thread when a reload adds a host, after the router serves it: a module that runs
  // a service per host (muc.<host>, …) starts the new host's here, as it did for the others at startup.
  void on_host_added(HostAddedFn fn) { s_.router.add_host_added_hook(std::move(fn)); }
  void add_stream_feature(FeatureStage stage, FeatureFn fn) { s_.streams.add_feature(stage, std::move(fn)); }
  void on_nonza(std::string ns, NonzaHandler h) { s_.streams.add_nonza_handler(std::move(ns), std::move(h)); }
  void filter_output(OutputFilter f) { s_.streams.add_output_filter(std::move(f)); }
  void on_bind2(std::string ns, Bind2Handler h) { s_.streams.add_bind2_feature(std::move(ns), std::move(h)); }
  void on_http(std::string method, std::string path_prefix, web::Handler h, size_t max_body = 0) {
    s_.http.add(std::move(method), std::move(path_prefix), std::move(h), max_body);
  }
  size_t allocate_session_slot() { return s_.streams.allocate_slot(); }
  uint32_t allocate_session_flag() { return s_.streams.allocate_flag(); }

 private:
  ServerServices& s_;
  std::string name_;
};

class Module {
 public:
  virtual ~Module() = default;
  // Server shutdown, before client connections are closed: the last chance to tell clients something
  // (e.g. MUC status 332). Called on the main thread while workers still run.
  virtual void stop() {}
};

}  // namespace causerie
