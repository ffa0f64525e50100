// Router: decides where every stanza goes (RFC 6120 §10, RFC 6121 §8) and runs the module hooks on the way.
//
//   from_client()  stanza a local client sent ─► kFromClient hooks ─► route()
//   route()        no 'to' / local domain / local account / service domain / remote
//                  (a stanza from a local account runs the kFromAccount hooks first)
//   deliver_to_account()  kToAccount hooks ─► iq tables or §8.5 rules ─► sessions, or kOffline hooks;
//                  a message that reached the account is then shown to the message observers
//
// Registration (hooks, iq handlers, services) happens at startup, before workers run; afterwards the
// tables are read-only and every method may be called from any thread without locks. Hooks and
// handlers run on the calling thread.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/module/client_session.hpp"
#include "core/router/account_event.hpp"
#include "core/router/iq.hpp"
#include "core/router/session_registry.hpp"
#include "core/util/published.hpp"

namespace causerie::storage {
struct RosterItem;  // storage/roster_store.hpp
}

namespace causerie {

enum class HookResult { kContinue, kHandled };

enum class StanzaHook {
  kFromClient,  // every stanza a bound local client sends, 'from' stamped, before routing
  kToAccount,   // every stanza addressed to a local account (bare or full JID), before delivery
  kToServer,    // message or presence addressed to a local domain itself
  kOffline,     // a message for a local account that no session should receive now (RFC 6121 §8.5.2.2)
  // A stanza from a local account (user@local-host, bare or full) to someone, as route() takes it: what a
  // client sent (after kFromClient; origin set) and what the server sends on an account's behalf
  // (presence broadcasts and probes, iq answers, errors; origin nullptr).
  kFromAccount,
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
  kResumed,    // a new stream took the session over (XEP-0198 §5), after what was unacknowledged was resent
  kDetached,   // the session's stream went and the session waits, bound, to be resumed (XEP-0198 §5)
  kCount
};
using SessionHookFn = std::function<void(ClientSession&)>;
// Periodic work (retention, expiry): runs on one worker thread at each of its sweeps (every ~2 s) and
// right after a test clock moves (`[testing] manual_clock`). Must not block: it submits storage jobs.
using TickHookFn = std::function<void()>;
// A stanza handed to a session whose stream is detached (XEP-0198: the connection went and the session
// waits to be resumed): kept for the stream that resumes it, seen by nobody now. Runs on the session's
// thread, with the session; `out` is the serialized stanza (messages only).
using DetachedDeliveryFn = std::function<void(ClientSession&, const OutStanza&)>;
// An account of this server was removed by this process (XEP-0077 cancellation); gets its bare JID.
using AccountRemovedFn = std::function<void(const std::string& bare)>;
// A roster item was written outside the roster module's own handlers (XEP-0401: an invitation made two
// accounts contacts), already committed: the roster module pushes it (RFC 6121 §2.1.6). Any thread.
using RosterChangedFn = std::function<void(const std::string& owner, const storage::RosterItem& item, int64_t version)>;
using AccountEventFn = std::function<void(const AccountEvent&)>;
// A veto over what a module delivers straight to local sessions, past the stanza hooks (fan-outs such
// as PEP notifications): false when a stanza from `from` must not reach the local account `to_bare`.
using DeliveryFilterFn = std::function<bool(const Jid& from, std::string_view to_bare)>;
// Told of every message that reached a local account through the RFC 6121 §8.5 rules, after it was
// handed to the sessions in `delivered` (empty: no session gets it now, and it is about to go to the
// kOffline hooks): for modules that copy messages elsewhere (XEP-0280 carbons). Runs on the routing thread.
using MessageObserverFn = std::function<void(const Stanza& message, std::span<const SessionRef> delivered)>;

using ServiceHandler = std::function<void(Stanza&&, ClientSession* origin)>;

struct HostConfig;
// A reload added a host (main thread; see ModuleContext::on_host_added).
using HostAddedFn = std::function<void(const HostConfig&)>;
// Takes (moves from) a stanza for a domain that is not ours; returns false, leaving it, when it cannot.
using RemoteHandler = std::function<bool(Stanza&)>;

class Router {
 public:
  Router(std::vector<std::string> local_hosts, SessionRegistry& registry, SessionDispatcher& dispatcher);

  // --- startup-time registration ---
  void add_hook(StanzaHook point, int priority, StanzaHookFn fn);
  void add_session_hook(SessionHook point, SessionHookFn fn);
  void add_account_removed_hook(AccountRemovedFn fn) { account_removed_hooks_.push_back(std::move(fn)); }
  void add_roster_changed_hook(RosterChangedFn fn) { roster_changed_hooks_.push_back(std::move(fn)); }
  void add_detached_delivery_hook(DetachedDeliveryFn fn) { detached_hooks_.push_back(std::move(fn)); }
  void add_delivery_filter(DeliveryFilterFn fn) { delivery_filters_.push_back(std::move(fn)); }
  void add_tick_hook(TickHookFn fn) { tick_hooks_.push_back(std::move(fn)); }
  void add_message_observer(MessageObserverFn fn) { message_observers_.push_back(std::move(fn)); }
  void add_account_event_observer(AccountEventFn fn) { account_event_observers_.push_back(std::move(fn)); }
  IqTable& server_iq() { return server_iq_; }    // iq to a local domain
  IqTable& account_iq() { return account_iq_; }  // iq to a local account's bare JID, or with no 'to'
  // Every stanza to `domain` or a JID under it goes to `handler`. Throws ConfigError for a domain that is
  // a host or already a service.
  void add_service(std::string domain, ServiceHandler handler);
  void set_remote_handler(RemoteHandler handler) { remote_ = std::move(handler); }
  void add_host_added_hook(HostAddedFn fn) { host_added_hooks_.push_back(std::move(fn)); }

  // --- reload (main thread) ---
  // The hosts served from now on. The services under a host no longer served (muc.<host>, …) go with it;
  // its sessions are the caller's to end. Stanzas being routed meanwhile see the old set or the new one.
  void set_local_hosts(std::vector<std::string> hosts);
  void host_added(const HostConfig& host) const {
    for (const auto& fn : host_added_hooks_) fn(host);
  }

  // --- any thread ---
  void from_client(Stanza stanza, ClientSession& origin);
  void route(Stanza stanza, ClientSession* origin = nullptr);
  void deliver_to_account(Stanza stanza, ClientSession* origin = nullptr);
  // Sends stanza to one session, bypassing the delivery rules (the caller already chose it).
  void deliver_to_session(SessionRef ref, const xml::Element& stanza);
  void bounce(const Stanza& original, const StanzaError& error);
  void run_session_hooks(SessionHook point, ClientSession& session) const;
  // Whether every delivery filter lets a stanza from `from` reach the local account `to_bare`: asked by
  // modules that deliver to sessions themselves.
  bool may_deliver(const Jid& from, std::string_view to_bare) const {
    for (const auto& fn : delivery_filters_)
      if (!fn(from, to_bare)) return false;
    return true;
  }
  // Called by a detached session for each message it keeps for resumption (see DetachedDeliveryFn).
  void detached_delivery(ClientSession& session, const OutStanza& out) const {
    for (const auto& fn : detached_hooks_) fn(session, out);
  }
  bool has_detached_delivery_hooks() const { return !detached_hooks_.empty(); }
  // Tells modules that keep per-account state in memory that an account is gone (after its storage).
  void account_removed(const std::string& bare) const {
    for (const auto& fn : account_removed_hooks_) fn(bare);
  }
  // Tells the roster module of a committed roster change it did not make (see RosterChangedFn).
  void roster_changed(const std::string& owner, const storage::RosterItem& item, int64_t version) const {
    for (const auto& fn : roster_changed_hooks_) fn(owner, item, version);
  }
  // Tells the account-event observers (see AccountEvent).
  void account_event(const AccountEvent& ev) const {
    for (const auto& fn : account_event_observers_) fn(ev);
  }
  bool has_account_event_observers() const { return !account_event_observers_.empty(); }
  // Runs the periodic hooks (the network layer calls it from one worker's sweep).
  void run_tick_hooks() const {
    for (const auto& fn : tick_hooks_) fn();
  }
  // A responder whose answer is routed like any stanza.
  IqResponder responder_for(const Stanza& iq);

  bool is_local_host(std::string_view domain) const;
  bool is_service(std::string_view domain) const { return domains().services.count(std::string(domain)) != 0; }
  // Stays valid after a reload (it is then the previous set).
  const std::vector<std::string>& local_hosts() const { return domains().hosts; }
  SessionRegistry& registry() { return registry_; }
  SessionDispatcher& dispatcher() { return dispatcher_; }

 private:
  bool run_hooks(StanzaHook point, Stanza& stanza, ClientSession* origin) const;
  void dispatch_iq(IqTable& first, IqTable* fallback, Stanza stanza, ClientSession* origin);
  void deliver_message(Stanza stanza, ClientSession* origin);
  void observe_message(const Stanza& stanza, std::span<const SessionRef> delivered) const;

  struct Hook {
    int priority;
    StanzaHookFn fn;
  };
  // The domains served here: the hosts and the modules' services. Read on every stanza from any thread,
  // changed at startup and by reloads (Published: no lock for readers, no table freed under them).
  struct Domains {
    std::vector<std::string> hosts;
    std::unordered_map<std::string, ServiceHandler> services;
  };
  const Domains& domains() const { return domains_.get(); }
  Published<Domains> domains_;
  std::vector<HostAddedFn> host_added_hooks_;
  SessionRegistry& registry_;
  SessionDispatcher& dispatcher_;
  std::vector<Hook> hooks_[static_cast<size_t>(StanzaHook::kCount)];
  std::vector<SessionHookFn> session_hooks_[static_cast<size_t>(SessionHook::kCount)];
  std::vector<AccountRemovedFn> account_removed_hooks_;
  std::vector<RosterChangedFn> roster_changed_hooks_;
  std::vector<DetachedDeliveryFn> detached_hooks_;
  std::vector<DeliveryFilterFn> delivery_filters_;
  std::vector<TickHookFn> tick_hooks_;
  std::vector<MessageObserverFn> message_observers_;
  std::vector<AccountEventFn> account_event_observers_;
  IqTable server_iq_, account_iq_;
  RemoteHandler remote_;
};

}  // namespace causerie
