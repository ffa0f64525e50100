#include "core/router/router.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/config/config.hpp"
#include "core/router/routing_rules.hpp"

namespace causerie {

Router::Router(std::vector<std::string> local_hosts, SessionRegistry& registry, SessionDispatcher& dispatcher)
    : domains_(Domains{std::move(local_hosts), {}}), registry_(registry), dispatcher_(dispatcher) {}

namespace {
// Whether `domain` is a subdomain of one of `hosts` (muc.example.org under example.org).
bool under_any(const std::string& domain, const std::vector<std::string>& hosts) {
  for (const auto& h : hosts)
    if (domain.size() > h.size() && domain.ends_with(h) && domain[domain.size() - h.size() - 1] == '.') return true;
  return false;
}
}  // namespace

void Router::set_local_hosts(std::vector<std::string> hosts) {
  domains_.update([&hosts](Domains& d) {
    // A service stays when it is under a host still served, or under none (a name configured apart).
    std::erase_if(d.services, [&](const auto& s) { return under_any(s.first, d.hosts) && !under_any(s.first, hosts); });
    d.hosts = std::move(hosts);
  });
}

void Router::add_hook(StanzaHook point, int priority, StanzaHookFn fn) {
  auto& list = hooks_[static_cast<size_t>(point)];
  list.push_back(Hook{priority, std::move(fn)});
  std::stable_sort(list.begin(), list.end(), [](const Hook& a, const Hook& b) { return a.priority > b.priority; });
}

void Router::add_session_hook(SessionHook point, SessionHookFn fn) {
  session_hooks_[static_cast<size_t>(point)].push_back(std::move(fn));
}

void Router::add_service(std::string domain, ServiceHandler handler) {
  // Two services on one domain (a component named like the MUC service, two pubsub names alike) would
  // leave one of them unreachable: a configuration error, said at startup.
  if (is_local_host(domain)) throw ConfigError("'" + domain + "' is a host; it cannot also be a service");
  if (is_service(domain)) throw ConfigError("two services are configured on the domain '" + domain + "'");
  domains_.update([&](Domains& d) { d.services.emplace(std::move(domain), std::move(handler)); });
}

bool Router::is_local_host(std::string_view domain) const {
  for (const auto& h : domains().hosts)
    if (h == domain) return true;
  return false;
}

bool Router::run_hooks(StanzaHook point, Stanza& stanza, ClientSession* origin) const {
  StanzaEvent ev{stanza, origin};
  for (const auto& h : hooks_[static_cast<size_t>(point)])
    if (h.fn(ev) == HookResult::kHandled) return true;
  return false;
}

void Router::run_session_hooks(SessionHook point, ClientSession& session) const {
  for (const auto& fn : session_hooks_[static_cast<size_t>(point)]) fn(session);
}

IqResponder Router::responder_for(const Stanza& iq) {
  return IqResponder(iq, [this](Stanza&& reply) { route(std::move(reply)); });
}

void Router::bounce(const Stanza& original, const StanzaError& error) {
  auto reply = make_error_reply(original.element(), error);
  if (!reply) return;
  // Routed without a 'from' check: the error comes from the address the sender tried to reach.
  route(Stanza(std::move(*reply), original.to(), original.from()));
}

void Router::from_client(Stanza stanza, ClientSession& origin) {
  if (run_hooks(StanzaHook::kFromClient, stanza, &origin)) return;
  route(std::move(stanza), &origin);
}

void Router::dispatch_iq(IqTable& first, IqTable* fallback, Stanza stanza, ClientSession* origin) {
  std::string_view type = stanza.type();
  if (type != "get" && type != "set") return;  // a result or error for the server itself: nothing to do
  IqTable* table = &first;
  if (fallback && !first.find(stanza) && fallback->find(stanza)) table = fallback;
  IqRequest req{std::move(stanza), IqResponder(), origin};
  req.reply = responder_for(req.stanza);
  try {
    table->dispatch(req);
  } catch (const std::exception& e) {
    // DESIGN §4: a bug in one handler must not take the server down; the responder still answers.
    spdlog::error("iq handler failed: {}", e.what());
  }
}

void Router::route(Stanza stanza, ClientSession* origin) {
  const Jid& to = stanza.to();
  if (!hooks_[static_cast<size_t>(StanzaHook::kFromAccount)].empty() && !to.empty() && stanza.from().has_localpart() &&
      is_local_host(stanza.from().domainpart()) && run_hooks(StanzaHook::kFromAccount, stanza, origin))
    return;
  if (to.empty()) {
    // RFC 6120 §10.3: no 'to' means the sender's own account (or, for iq, the server on its behalf).
    const Jid& from = stanza.from();
    if (from.empty() || !from.has_localpart()) return;
    switch (stanza.kind()) {
      case StanzaKind::kIq:
        dispatch_iq(account_iq_, &server_iq_, std::move(stanza), origin);
        return;
      case StanzaKind::kMessage:
        stanza.set_to(from.bare());
        deliver_to_account(std::move(stanza), origin);
        return;
      default:
        return;  // presence broadcast is the IM module's (kFromClient); anything else is dropped
    }
  }
  std::string_view domain = to.domainpart();
  if (is_local_host(domain)) {
    if (to.has_localpart()) {
      deliver_to_account(std::move(stanza), origin);
    } else if (stanza.is_iq()) {
      dispatch_iq(server_iq_, nullptr, std::move(stanza), origin);
    } else {
      run_hooks(StanzaHook::kToServer, stanza, origin);
    }
    return;
  }
  const auto& services = domains().services;
  if (auto it = services.find(std::string(domain)); it != services.end()) {
    it->second(std::move(stanza), origin);
    return;
  }
  if (remote_ && remote_(stanza)) return;
  bounce(stanza, StanzaError(StanzaErrorCondition::kRemoteServerNotFound, "federation with remote domains is not available"));
}

void Router::deliver_to_session(SessionRef ref, const xml::Element& stanza) {
  dispatcher_.deliver(ref, serialize_out(stanza));
}

void Router::deliver_to_account(Stanza stanza, ClientSession* origin) {
  if (run_hooks(StanzaHook::kToAccount, stanza, origin)) return;
  const Jid& to = stanza.to();
  switch (stanza.kind()) {
    case StanzaKind::kIq: {
      if (to.is_bare()) {
        // RFC 6121 §8.5.2.1.3: the server answers on the account's behalf.
        dispatch_iq(account_iq_, nullptr, std::move(stanza), origin);
        return;
      }
      auto target = registry_.find(to);
      bool request = stanza.type() == "get" || stanza.type() == "set";
      DeliveryDecision d = decide_iq_to_full(request, target ? 0 : -1);
      if (d.action == DeliveryAction::kDeliver) deliver_to_session(target->ref, stanza.element());
      else if (d.action == DeliveryAction::kBounce) bounce(stanza, StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    }
    case StanzaKind::kMessage:
      deliver_message(std::move(stanza), origin);
      return;
    case StanzaKind::kPresence: {
      std::string_view type = stanza.type();
      if (!type.empty() && type != "unavailable" && type != "error") return;  // subscriptions, probes: IM module
      auto resources = registry_.resources(to.bare_view());
      std::vector<ResourceState> states;
      int matched = -1;
      for (size_t i = 0; i < resources.size(); ++i) {
        states.push_back({resources[i].priority, resources[i].available});
        if (to.has_resource() && resources[i].resource == to.resourcepart()) matched = static_cast<int>(i);
      }
      if (type == "error" && matched < 0) return;
      DeliveryDecision d = decide_presence(to.has_resource(), matched, states);
      if (d.action != DeliveryAction::kDeliver) return;
      OutStanza out = serialize_out(stanza.element());
      for (uint32_t i : d.targets) dispatcher_.deliver(resources[i].ref, out);
      return;
    }
    default:
      return;
  }
}

void Router::observe_message(const Stanza& stanza, std::span<const SessionRef> delivered) const {
  for (const auto& fn : message_observers_) {
    try {
      fn(stanza, delivered);
    } catch (const std::exception& e) {
      // DESIGN §4: a module's bug must not stop the delivery that already happened.
      spdlog::error("message observer failed: {}", e.what());
    }
  }
}

void Router::deliver_message(Stanza stanza, ClientSession* origin) {
  const Jid& to = stanza.to();
  // Decide under the registry's shard lock, keeping only the session references (no string copies).
  DeliveryDecision d;
  SessionRef small[4];
  std::vector<SessionRef> many;
  size_t count = 0;
  registry_.inspect(to.bare_view(), [&](const std::vector<BoundResource>& resources) {
    ResourceState states_small[8];
    std::vector<ResourceState> states_big;
    ResourceState* states = states_small;
    if (resources.size() > 8) {
      states_big.resize(resources.size());
      states = states_big.data();
    }
    int matched = -1;
    for (size_t i = 0; i < resources.size(); ++i) {
      states[i] = {resources[i].priority, resources[i].available};
      if (to.has_resource() && resources[i].resource == to.resourcepart()) matched = static_cast<int>(i);
    }
    d = decide_message(parse_message_type(stanza.type()), to.has_resource(), matched,
                       std::span<const ResourceState>(states, resources.size()));
    count = d.targets.size();
    if (count > 4) many.reserve(count);
    for (size_t k = 0; k < count; ++k) {
      if (count <= 4) small[k] = resources[d.targets[k]].ref;
      else many.push_back(resources[d.targets[k]].ref);
    }
  });
  switch (d.action) {
    case DeliveryAction::kDeliver: {
      OutStanza out = serialize_out(stanza.element());
      const SessionRef* refs = count <= 4 ? small : many.data();
      for (size_t k = 0; k + 1 < count; ++k) dispatcher_.deliver(refs[k], out);
      if (count) dispatcher_.deliver(refs[count - 1], std::move(out));
      observe_message(stanza, std::span<const SessionRef>(refs, count));
      return;
    }
    case DeliveryAction::kOffline:
      // Observers first: the offline hooks take the stanza.
      observe_message(stanza, {});
      if (run_hooks(StanzaHook::kOffline, stanza, origin)) return;
      bounce(stanza, StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    case DeliveryAction::kBounce:
      bounce(stanza, StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    case DeliveryAction::kDrop:
      return;
  }
}

}  // namespace causerie
