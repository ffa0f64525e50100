#include "modules/webpush/webpush_rules.hpp"

#include <openssl/sha.h>

#include <algorithm>

#include "core/util/encoding.hpp"
#include "modules/webpush/ec_key.hpp"
#include "modules/webpush/vapid.hpp"

namespace causerie::modules::webpush {

namespace {

struct KindName {
  const char* name;
  uint32_t bit;
};
constexpr KindName kKinds[] = {
    {"messages", storage::kWebPushMessages}, {"mentions", storage::kWebPushMentions},
    {"comments", storage::kWebPushComments}, {"likes", storage::kWebPushLikes},
    {"followers", storage::kWebPushFollowers},
};

SubscribeRequest refuse(StanzaErrorCondition c, std::string text) {
  SubscribeRequest r;
  r.error = StanzaError(c, std::move(text));
  return r;
}

std::string topic_of(std::string_view what) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(what.data()), what.size(), digest);
  // §5.4: at most 32 characters of the base64url alphabet.
  return util::base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest)).substr(0, 32);
}

}  // namespace

std::optional<uint32_t> kind_bit(std::string_view name) {
  for (const auto& k : kKinds)
    if (name == k.name) return k.bit;
  return std::nullopt;
}

std::vector<std::string> kind_names(uint32_t kinds) {
  std::vector<std::string> out;
  for (const auto& k : kKinds)
    if (kinds & k.bit) out.emplace_back(k.name);
  return out;
}

SubscribeRequest parse_subscribe(const xml::Element& s, const SubscribePolicy& policy) {
  std::string why;
  auto endpoint = PushEndpoint::parse(s.attr("endpoint"), &why);
  if (!endpoint) return refuse(StanzaErrorCondition::kBadRequest, "bad endpoint: " + why);
  if (!endpoint->https &&
      std::find(policy.insecure_hosts.begin(), policy.insecure_hosts.end(), endpoint->host) == policy.insecure_hosts.end())
    return refuse(StanzaErrorCondition::kNotAcceptable, "the endpoint must be an https URL");
  // The browser's PushSubscription.getKey() values, base64url (RFC 8291 §3.1, §3.2).
  auto p256dh = util::base64url_decode(s.attr("p256dh"));
  if (!p256dh || !EcKey::from_public(*p256dh))
    return refuse(StanzaErrorCondition::kBadRequest, "p256dh must be an uncompressed P-256 point, base64url");
  auto auth = util::base64url_decode(s.attr("auth"));
  if (!auth || auth->size() != 16)
    return refuse(StanzaErrorCondition::kBadRequest, "auth must be 16 octets, base64url");
  uint32_t kinds = 0;
  bool listed = false;
  for (const auto& c : s.nodes()) {
    if (c.is_text() || c.ns() != kNs) continue;
    if (c.name() != "kind") return refuse(StanzaErrorCondition::kBadRequest, "unknown element <" + c.name() + "/>");
    listed = true;
    auto bit = kind_bit(c.text());
    if (!bit)
      return refuse(StanzaErrorCondition::kBadRequest,
                    "unknown kind '" + c.text() + "': the kinds are messages, mentions, comments, likes, followers");
    kinds |= *bit;
  }
  SubscribeRequest r;
  storage::WebPushSubscription sub;
  sub.endpoint = endpoint->url;
  sub.p256dh = std::move(*p256dh);
  sub.auth = std::move(*auth);
  sub.kinds = listed ? kinds : storage::kWebPushAll;  // no <kind/>: everything
  r.sub = std::move(sub);
  r.endpoint = std::move(endpoint);
  return r;
}

xml::Element subscription_element(const storage::WebPushSubscription& sub) {
  xml::Element e("subscription", kNs);
  e.set_attr("id", sub.id).set_attr("endpoint", sub.endpoint).set_attr("created", std::to_string(sub.created));
  for (const auto& k : kind_names(sub.kinds)) e.add_child("kind", kNs).add_text(k);
  return e;
}

std::string_view utf8_prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  // Back off continuation octets (10xxxxxx) so the cut falls before a character's first octet.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

PushContent message_content(std::string_view account, std::string_view from, std::string_view body, size_t max_text) {
  PushContent c;
  c.kind = storage::kWebPushMessages;
  c.json = "{\"type\":\"message\",\"account\":" + json_string(account) + ",\"from\":" + json_string(from) +
           ",\"body\":" + json_string(utf8_prefix(body, max_text)) + "}";
  c.urgency = "high";
  std::string_view bare = from.substr(0, from.find('/'));
  c.topic = topic_of(std::string("message ") + std::string(account) + " " + std::string(bare));
  return c;
}

PushContent event_content(const AccountEvent& ev, size_t max_text) {
  PushContent c;
  const char* type = "";
  switch (ev.kind) {
    case AccountEvent::Kind::kRoomMention:
      c.kind = storage::kWebPushMentions, c.urgency = "high", type = "mention";
      break;
    case AccountEvent::Kind::kComment:
      c.kind = storage::kWebPushComments, c.urgency = "normal", type = "comment";
      break;
    case AccountEvent::Kind::kLike:
      c.kind = storage::kWebPushLikes, c.urgency = "low", type = "like";
      break;
    case AccountEvent::Kind::kFollower:
      c.kind = storage::kWebPushFollowers, c.urgency = "low", type = "follower";
      break;
  }
  c.json = std::string("{\"type\":\"") + type + "\",\"account\":" + json_string(ev.account) +
           ",\"from\":" + json_string(ev.actor);
  if (ev.kind == AccountEvent::Kind::kRoomMention) {
    c.json += ",\"room\":" + json_string(ev.service);
  } else {
    c.json += ",\"service\":" + json_string(ev.service) + ",\"node\":" + json_string(ev.node);
    if (!ev.item.empty()) c.json += ",\"item\":" + json_string(ev.item);
  }
  if (!ev.text.empty()) c.json += ",\"body\":" + json_string(utf8_prefix(ev.text, max_text));
  c.json += "}";
  // Mentions collapse per room, likes and comments per post, followers per account.
  c.topic = topic_of(std::string(type) + " " + ev.account + " " + ev.service + " " + ev.node);
  return c;
}

PushOutcome classify(int status) {
  if (status >= 200 && status < 300) return PushOutcome::kDelivered;
  if (status == 404 || status == 410) return PushOutcome::kGone;
  if (status == 429 || status >= 500 || status <= 0) return PushOutcome::kRetry;  // ≤ 0: no answer at all
  return PushOutcome::kDrop;
}

std::chrono::seconds backoff(int attempt, std::optional<std::chrono::seconds> retry_after, std::chrono::seconds first,
                             std::chrono::seconds max) {
  std::chrono::seconds wait = first;
  for (int i = 1; i < attempt && wait < max; ++i) wait *= 2;
  if (retry_after && *retry_after > wait) wait = *retry_after;
  return std::min(wait, max);
}

}  // namespace causerie::modules::webpush
