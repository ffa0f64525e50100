// The decisions and documents of the Web Push module (docs/protocol/webpush.md), as pure functions with
// table-driven tests: the <subscribe/> request checked, subscriptions and kinds as XML, the JSON payload
// of each event with its RFC 8030 §5 headers (Urgency, Topic), and what a push service's answer means
// for the message and the subscription (RFC 8030 §5, §6.2, §7.2, §8.4).
//
// Thread rules: values and free functions only; any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/router/account_event.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"
#include "modules/webpush/endpoint.hpp"
#include "storage/webpush_store.hpp"

namespace causerie::modules::webpush {

inline constexpr const char* kNs = "urn:causerie:webpush:0";

// "messages mentions comments likes followers" ↔ storage::WebPushKind bits.
std::optional<uint32_t> kind_bit(std::string_view name);
std::vector<std::string> kind_names(uint32_t kinds);

// What decides whether a <subscribe/> is acceptable, from the module's settings.
struct SubscribePolicy {
  std::vector<std::string> insecure_hosts;  // hosts whose http:// endpoints are accepted (tests)
};

// A checked <subscribe endpoint p256dh auth><kind>…</kind>…</subscribe>: the subscription's endpoint,
// keys and kinds (account, id and creation are the module's), or the error to answer.
struct SubscribeRequest {
  std::optional<storage::WebPushSubscription> sub;
  std::optional<PushEndpoint> endpoint;
  StanzaError error{StanzaErrorCondition::kBadRequest};
};
SubscribeRequest parse_subscribe(const xml::Element& subscribe, const SubscribePolicy& policy);

// <subscription xmlns id endpoint created><kind>…</kind>…</subscription>
xml::Element subscription_element(const storage::WebPushSubscription& sub);

// A push about one event: the JSON text the service worker receives (UTF-8, at most `max_text` octets
// of message text, cut on a character boundary) and its headers.
struct PushContent {
  uint32_t kind = 0;     // the storage::WebPushKind bit subscriptions must have enabled
  std::string json;
  std::string urgency;   // RFC 8030 §5.3: "high" for messages and mentions, "normal", "low"
  std::string topic;     // RFC 8030 §5.4: replaces an undelivered push about the same thing
};
PushContent message_content(std::string_view account, std::string_view from, std::string_view body, size_t max_text);
PushContent event_content(const AccountEvent& ev, size_t max_text);

// The first `max` octets of UTF-8 text, never cutting a character.
std::string_view utf8_prefix(std::string_view text, size_t max);

// What an answer from the push service means (RFC 8030 §5: 201 accepted; §8.4 and §7.2: 404 or 410,
// the subscription is gone; §5 and RFC 6585: 429 and 5xx are worth retrying later; other answers —
// 400, 401/403 (VAPID refused), 413 (too large) — will not change by retrying).
enum class PushOutcome { kDelivered, kGone, kRetry, kDrop };
PushOutcome classify(int status);

// The wait before attempt `attempt` + 1 (attempt ≥ 1): first × 2^(attempt−1), or the push service's
// Retry-After (RFC 9110 §10.2.3) when it asked for longer, never more than `max`.
std::chrono::seconds backoff(int attempt, std::optional<std::chrono::seconds> retry_after, std::chrono::seconds first,
                             std::chrono::seconds max);

}  // namespace causerie::modules::webpush
