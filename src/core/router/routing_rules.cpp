#include "core/router/routing_rules.hpp"

namespace causerie {

MessageType parse_message_type(std::string_view t) {
  if (t == "chat") return MessageType::kChat;
  if (t == "groupchat") return MessageType::kGroupchat;
  if (t == "headline") return MessageType::kHeadline;
  if (t == "error") return MessageType::kError;
  return MessageType::kNormal;
}

namespace {

std::vector<uint32_t> non_negative_available(std::span<const ResourceState> rs) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < rs.size(); ++i)
    if (rs[i].available && rs[i].priority >= 0) out.push_back(i);
  return out;
}

// §8.5.2: the bare-JID rules.
DeliveryDecision to_bare(MessageType type, std::span<const ResourceState> rs) {
  DeliveryDecision d;
  switch (type) {
    case MessageType::kError: d.action = DeliveryAction::kDrop; return d;
    case MessageType::kGroupchat: d.action = DeliveryAction::kBounce; return d;
    default: break;
  }
  d.targets = non_negative_available(rs);
  if (!d.targets.empty()) {
    d.action = DeliveryAction::kDeliver;
  } else {
    // §8.5.2.1.1 last paragraph: only negative resources counts as none (§8.5.2.2).
    d.action = type == MessageType::kHeadline ? DeliveryAction::kDrop : DeliveryAction::kOffline;
  }
  return d;
}

}  // namespace

DeliveryDecision decide_message(MessageType type, bool to_full, int matched, std::span<const ResourceState> rs) {
  if (!to_full) return to_bare(type, rs);
  DeliveryDecision d;
  if (type == MessageType::kError && matched < 0) return d;  // §8.5.3.2.1: silently ignore
  if (matched >= 0) {
    // §8.5.3.1: an exact match gets the stanza, whatever its priority.
    d.action = DeliveryAction::kDeliver;
    d.targets.push_back(static_cast<uint32_t>(matched));
    return d;
  }
  if (type == MessageType::kChat) return to_bare(type, rs);  // §8.5.3.2.1: O/E, D or M/A*
  d.action = DeliveryAction::kBounce;                        // §8.5.3.2.1: normal, groupchat, headline
  return d;
}

DeliveryDecision decide_presence(bool to_full, int matched, std::span<const ResourceState> rs) {
  DeliveryDecision d;
  if (to_full) {
    // §8.5.3.1 / §8.5.3.2.2
    if (matched >= 0) {
      d.action = DeliveryAction::kDeliver;
      d.targets.push_back(static_cast<uint32_t>(matched));
    }
    return d;
  }
  // §8.5.2.1.2: all available resources; §8.5.2.2.2: otherwise silently ignored.
  for (uint32_t i = 0; i < rs.size(); ++i)
    if (rs[i].available) d.targets.push_back(i);
  d.action = d.targets.empty() ? DeliveryAction::kDrop : DeliveryAction::kDeliver;
  return d;
}

DeliveryDecision decide_iq_to_full(bool is_request, int matched) {
  DeliveryDecision d;
  if (matched >= 0) {
    d.action = DeliveryAction::kDeliver;
    d.targets.push_back(static_cast<uint32_t>(matched));
  } else {
    // §8.5.3.2.3: service-unavailable for a request; a response to nobody is dropped (RFC 6120 §8.3.1).
    d.action = is_request ? DeliveryAction::kBounce : DeliveryAction::kDrop;
  }
  return d;
}

}  // namespace causerie
