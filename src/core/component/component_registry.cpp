#include "core/component/component_registry.hpp"

#include <spdlog/spdlog.h>

namespace causerie::component {

Unreachable when_unreachable(StanzaKind kind, std::string_view type) {
  switch (kind) {
    case StanzaKind::kIq: return type == "get" || type == "set" ? Unreachable::kBounce : Unreachable::kDrop;
    case StanzaKind::kMessage: return type == "error" ? Unreachable::kDrop : Unreachable::kBounce;
    default: return Unreachable::kDrop;
  }
}

std::optional<std::string> parent_host(std::string_view domain, const std::vector<HostConfig>& hosts) {
  const HostConfig* best = nullptr;
  for (const auto& h : hosts) {
    if (domain.size() <= h.name.size() + 1 || !domain.ends_with(h.name)) continue;
    if (domain[domain.size() - h.name.size() - 1] != '.') continue;
    if (!best || h.name.size() > best->name.size()) best = &h;
  }
  if (!best) return std::nullopt;
  return best->name;
}

void ComponentRegistry::install(DiscoRegistry& disco) {
  for (const auto& c : config_.components) {
    std::string domain = c.domain;
    router_.add_service(domain, [this, domain](Stanza&& st, ClientSession*) { to_component(domain, std::move(st)); });
    if (auto host = parent_host(domain, config_.hosts)) disco.add_server_item(DiscoItem{*host, domain, c.name});
    else spdlog::info("component {} is not under any host: no host lists it in its disco#items", domain);
  }
}

bool ComponentRegistry::attach(const std::string& domain, SessionRef ref) {
  std::lock_guard lock(mutex_);
  return connected_.try_emplace(domain, ref).second;
}

void ComponentRegistry::detach(const std::string& domain, SessionRef ref) {
  std::lock_guard lock(mutex_);
  auto it = connected_.find(domain);
  if (it != connected_.end() && it->second == ref) connected_.erase(it);
}

std::optional<SessionRef> ComponentRegistry::connection(const std::string& domain) const {
  std::lock_guard lock(mutex_);
  auto it = connected_.find(domain);
  if (it == connected_.end()) return std::nullopt;
  return it->second;
}

void ComponentRegistry::to_component(const std::string& domain, Stanza&& stanza) {
  if (auto ref = connection(domain)) {
    // Addresses as prepared (RFC 7622), whatever the sender wrote: components compare them as strings
    // and leave the preparation to the server (biboumi's documentation says so of itself).
    stanza.set_to(Jid(stanza.to()));
    stanza.set_from(Jid(stanza.from()));
    dispatcher_.deliver(*ref, serialize_out(stanza.element()));
    return;
  }
  if (when_unreachable(stanza.kind(), stanza.type()) == Unreachable::kBounce)
    router_.bounce(stanza, StanzaError(StanzaErrorCondition::kServiceUnavailable, "the service " + domain + " is not connected"));
}

}  // namespace causerie::component
