// WebPushStore: each account's Web Push subscriptions (RFC 8030 §5: a browser's push resource and the
// RFC 8291 keys to encrypt for it), with the kinds of events the account wants pushed there
// (docs/protocol/webpush.md), and the server's VAPID key (RFC 8292), created once and kept.
// An account's subscriptions go with the account (the backend does it, whichever process removes it).
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

// The kinds of events a subscription may get; a subscription keeps the bits it enabled.
enum WebPushKind : uint32_t {
  kWebPushMessages = 1,   // a 1:1 message while the account has no live session
  kWebPushMentions = 2,   // a groupchat message naming the account in a room it is not in
  kWebPushComments = 4,   // a comment on one of its posts
  kWebPushLikes = 8,      // a like (XEP-0470 attachment, Movim "♥" comment) on one of its posts
  kWebPushFollowers = 16, // a new subscriber to its microblog
  kWebPushAll = 31,
};

struct WebPushSubscription {
  std::string account;   // bare JID, prepared
  std::string id;        // the server's handle for it, unique per account
  std::string endpoint;  // the push resource's URL
  std::string p256dh;    // the user agent's public key, 65 octets
  std::string auth;      // the auth secret, 16 octets
  uint32_t kinds = kWebPushAll;
  int64_t created = 0;   // unix seconds
};

class WebPushStore {
 public:
  virtual ~WebPushStore() = default;
  // The account's subscription for `endpoint`, if any.
  virtual std::optional<WebPushSubscription> find_endpoint(std::string_view account, std::string_view endpoint) = 0;
  // Adds a subscription, or replaces the one with the same account and id.
  virtual void put(const WebPushSubscription& sub) = 0;
  // The account's subscriptions, oldest first.
  virtual std::vector<WebPushSubscription> list(std::string_view account) = 0;
  // False when the account has no subscription `id`.
  virtual bool remove(std::string_view account, std::string_view id) = 0;
  // The server's VAPID private key (a P-256 scalar): the stored one, or `candidate`, stored now when
  // there was none (so two first uses agree on one key).
  virtual std::string vapid_key(std::string_view candidate) = 0;
};

}  // namespace causerie::storage
