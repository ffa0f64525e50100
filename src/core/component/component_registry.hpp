// ComponentRegistry: the external components of the configuration (XEP-0114) and which connection, if
// any, serves each one now. At startup install() makes each component's domain a service of the router
// (so every stanza to the domain or a JID under it comes here) and lists it in its parent host's
// disco#items (XEP-0030); the core knows nothing more of components.
//
// A stanza for a connected component is queued on its connection's worker; while none is connected,
// requests are bounced with service-unavailable and the rest dropped (when_unreachable()).
//
// One connection per domain. A second component that authenticates for a domain already connected is
// refused with <conflict/> and the first one keeps it: the established one holds state (a gateway's
// legacy sessions, joined channels), a copy started by mistake must not silently take its traffic, and
// two copies that each replaced the other on reconnecting would flap forever. A component that dies
// loses its connection (the kernel closes its socket), so its restart is not refused.
//
// Thread rules: built and installed at startup; attach/detach/connection and the service handlers run on
// any thread (one small mutex over the connection table).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/config/config.hpp"
#include "core/module/client_session.hpp"
#include "core/module/disco_registry.hpp"
#include "core/router/router.hpp"

namespace causerie::component {

class ComponentRegistry {
 public:
  ComponentRegistry(const Config& config, Router& router, SessionDispatcher& dispatcher)
      : config_(config), router_(router), dispatcher_(dispatcher) {}

  // Startup: routing and disco items for every configured component.
  void install(DiscoRegistry& disco);

  // The connection `ref` authenticated for `domain`: false (nothing changed) when another one serves it.
  bool attach(const std::string& domain, SessionRef ref);
  // The connection is gone; a no-op unless `ref` is the one serving `domain`.
  void detach(const std::string& domain, SessionRef ref);
  std::optional<SessionRef> connection(const std::string& domain) const;

 private:
  void to_component(const std::string& domain, Stanza&& stanza);

  const Config& config_;
  Router& router_;
  SessionDispatcher& dispatcher_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, SessionRef> connected_;
};

// What becomes of a stanza for a component that is not connected: iq requests and messages are answered
// with service-unavailable (RFC 6120 §8.3.3.19); answers (iq result or error, error messages) never get
// an error (RFC 6120 §8.3.1); presence of any type is dropped, as RFC 6121 §8.5 drops presence that
// cannot be delivered rather than telling its sender about the recipient's availability.
enum class Unreachable { kBounce, kDrop };
Unreachable when_unreachable(StanzaKind kind, std::string_view type);

// The host whose disco#items list a component: the longest host that `domain` is a subdomain of
// ("irc.example.org" under "example.org"); nullopt when it is under none.
std::optional<std::string> parent_host(std::string_view domain, const std::vector<HostConfig>& hosts);

}  // namespace causerie::component
