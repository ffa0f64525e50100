// The delivery rules of RFC 6121 §8.5 for a stanza addressed to a local account, as pure functions
// over a snapshot of the account's sessions. Table-tested in tests/unit/routing_rules_test.cpp.
//
// Choices where the RFC allows several (§8.5.4 table): messages to the bare JID go to all non-negative
// available resources ("A"); a chat message to an unknown full JID is treated as addressed to the bare
// JID; normal/groupchat/headline to an unknown full JID are bounced with service-unavailable ("E").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace causerie {

enum class MessageType : uint8_t { kNormal, kChat, kGroupchat, kHeadline, kError };
// RFC 6121 §5.2.2: a missing or unknown type is "normal".
MessageType parse_message_type(std::string_view type);

// One bound session of the account, as the router sees it.
struct ResourceState {
  int priority = 0;
  bool available = false;  // has sent available presence and not yet unavailable (RFC 6121 §4.2)
};

enum class DeliveryAction : uint8_t {
  kDeliver,  // to `targets`
  kOffline,  // store for later delivery (XEP-0160), or bounce if storage is refused
  kBounce,   // return service-unavailable to the sender
  kDrop,     // silently ignore
};

struct DeliveryDecision {
  DeliveryAction action = DeliveryAction::kDrop;
  std::vector<uint32_t> targets;  // indexes into the resources span
};

// A message to a local account that exists. matched: index of the session whose resource equals the
// 'to' resourcepart, or -1 (none, or the 'to' is a bare JID when to_full is false).
DeliveryDecision decide_message(MessageType type, bool to_full, int matched, std::span<const ResourceState> resources);

// Presence without type, or type 'unavailable' (subscriptions and probes belong to the IM module).
DeliveryDecision decide_presence(bool to_full, int matched, std::span<const ResourceState> resources);

// An iq addressed to a full JID (an iq to the bare JID is answered by the server on the user's behalf).
DeliveryDecision decide_iq_to_full(bool is_request, int matched);

}  // namespace causerie
