// Router: decides where every stanza goes (RFC 6120 §10, RFC 6121 §8) and runs the module hooks on the way.
//
//   from_client()  stanza a local client sent ─► kFromClient hooks ─► route()
//   route()        no 'to' / local domain / local account / service domain / remote
//   deliver_to_account()  kToAccount hooks ─► iq tables or §8.5 rules ─► sessions, or kOffline hooks
//
// Registration (hooks, iq handlers, services) happens at startup, before workers run; afterwards the
// tables are read-only and every method may be called from any thread without locks. Hooks and
// handlers run on the calling thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/module/client_session.hpp"
#include "core/router/iq.hpp"
#include "core/router/session_registry.hpp"

namespace causerie {

enum class HookResult { kContinue, kHandled };

enum class StanzaHook {
  kFromClient,  // every stanza a bound local client sends, 'from' stamped, before routing
  kToAccount,   // every stanza addressed to a local account (bare or full JID), before delivery
  kToServer,    // message or presence addressed to a local domain itself
  kOffline,     // a message for a local account that no session should receive now (RFC 6121 §8.5.2.2)
  kCount
};

struct StanzaEvent {
  Stanza& stanza;
  ClientSession* origin;  // the sending local client, on this thread; nullptr otherwise
};
using StanzaHookFn = std::function<HookResult(StanzaEvent&)>;

enum class SessionHook {
  kBound,      // a resource was bound
  kAvailable,  // the session sent its initial presence (RFC 6121 §4.2)
  kClosed,     // the session ended (after unbinding)
  kCount
};
using SessionHookFn = std::function<void(ClientSession&)>;

using ServiceHandler = std::function<void(Stanza&&, ClientSession* origin)>;
// Takes (moves from) a stanza for a domain that is not ours; returns false, leaving it, when it cannot.
using RemoteHandler = std::function<bool(Stanza&)>;

class Router {
 public:
  Router(std::vector<std::string> local_hosts, SessionRegistry& registry, SessionDispatcher& dispatcher);

  // --- startup-time registration ---
  void add_hook(StanzaHook point, int priority, StanzaHookFn fn);
  void add_session_hook(SessionHook point, SessionHookFn fn);
  IqTable& server_iq() { return server_iq_; }    // iq to a local domain
  IqTable& account_iq() { return account_iq_; }  // iq to a local account's bare JID, or with no 'to'
  void add_service(std::string domain, ServiceHandler handler);
  void set_remote_handler(RemoteHandler handler) { remote_ = std::move(handler); }

  // --- any thread ---
  void from_client(Stanza stanza, ClientSession& origin);
  void route(Stanza stanza, ClientSession* origin = nullptr);
  void deliver_to_account(Stanza stanza, ClientSession* origin = nullptr);
  // Sends stanza to one session, bypassing the delivery rules (the caller already chose it).
  void deliver_to_session(SessionRef ref, const xml::Element& stanza);
  void bounce(const Stanza& original, const StanzaError& error);
  void run_session_hooks(SessionHook point, ClientSession& session) const;
  // A responder whose answer is routed like any stanza.
  IqResponder responder_for(const Stanza& iq);

  bool is_local_host(std::string_view domain) const;
  bool is_service(std::string_view domain) const { return services_.count(std::string(domain)) != 0; }
  const std::vector<std::string>& local_hosts() const { return hosts_; }
  SessionRegistry& registry() { return registry_; }
  SessionDispatcher& dispatcher() { return dispatcher_; }

 private:
  bool run_hooks(StanzaHook point, Stanza& stanza, ClientSession* origin) const;
  void dispatch_iq(IqTable& first, IqTable* fallback, Stanza stanza, ClientSession* origin);
  void deliver_message(Stanza stanza, ClientSession* origin);

  struct Hook {
    int priority;
    StanzaHookFn fn;
  };
  std::vector<std::string> hosts_;
  SessionRegistry& registry_;
  SessionDispatcher& dispatcher_;
  std::vector<Hook> hooks_[static_cast<size_t>(StanzaHook::kCount)];
  std::vector<SessionHookFn> session_hooks_[static_cast<size_t>(SessionHook::kCount)];
  IqTable server_iq_, account_iq_;
  std::unordered_map<std::string, ServiceHandler> services_;
  RemoteHandler remote_;
};

}  // namespace causerie
