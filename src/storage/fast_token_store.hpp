// FastTokenStore: XEP-0484 (FAST) tokens of each account, per client (the XEP-0388 <user-agent id>).
// A token is never stored: `key` is its SHA-256, which is all the HT mechanisms need (core/sasl/ht.hpp
// explains why: tokens are longer than the hash's block, so HMAC keys itself with that hash). Each client
// has at most two slots, as XEP-0484 §"Server-side handling of multiple active tokens" suggests: the
// token it uses now ('current') and one issued but not used yet ('fresh'); using the fresh one makes it
// current and drops the older one. Changing an account's credentials or removing it drops its tokens
// (the backend does it with the change, whichever process makes it).
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

struct FastToken {
  std::string id;         // a public handle, to list and revoke a token without knowing it
  std::string account;    // bare JID, prepared
  std::string client;     // the client's XEP-0388 user-agent id
  std::string mechanism;  // the HT mechanism it is bound to (XEP-0484 §"Client authenticates using FAST")
  std::string key;        // SHA-256 of the token, raw bytes
  int64_t expiry = 0;     // unix seconds
  int64_t created = 0;    // unix seconds
  bool fresh = false;     // issued and never used yet
  std::string software;   // the <user-agent> description, for listings
  std::string device;
};

class FastTokenStore {
 public:
  virtual ~FastTokenStore() = default;
  // Puts `token` into its client's fresh slot (an unused token issued before is replaced).
  virtual void issue(const FastToken& token) = 0;
  // The client's tokens: at most one fresh and one current.
  virtual std::vector<FastToken> for_client(std::string_view account, std::string_view client) = 0;
  // The fresh token `id` was used: it becomes the client's current token, and the previous one goes.
  // False when `id` is not a fresh token of that client.
  virtual bool promote(std::string_view account, std::string_view client, std::string_view id) = 0;
  // Every token of the account (oldest first).
  virtual std::vector<FastToken> list(std::string_view account) = 0;
  // Revokes one token; false when the account has no token `id`.
  virtual bool revoke(std::string_view account, std::string_view id) = 0;
  // Revokes every token of the account; returns how many there were.
  virtual size_t revoke_all(std::string_view account) = 0;
};

}  // namespace causerie::storage
