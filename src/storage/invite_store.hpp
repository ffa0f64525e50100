// InviteStore: the invitations of XEP-0401 (easy user onboarding), redeemed through the invitation web
// page or XEP-0445 pre-authenticated in-band registration. An invitation is a random token with a host,
// its creator (an account, or "" for one made by the command line), how many accounts it may still
// create, an expiry, whether the creator and each invitee become contacts, an optional reserved username,
// and the accounts created with it.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

struct Invite {
  std::string token;       // random, unguessable (the only secret of the invitation)
  std::string host;        // the host accounts are created on
  std::string creator;     // bare JID of the inviter; "" when made by an admin from the command line
  std::string username;    // reserved localpart (XEP-0401 §4.4 account creation); "" = the invitee chooses
  int64_t uses_left = 1;   // accounts it may still create
  int64_t created = 0;     // unix seconds
  int64_t expires = 0;     // unix seconds; 0 = never
  bool add_contact = false;  // creator and each invitee become mutual contacts
  std::vector<std::string> accounts;  // bare JIDs created with it, oldest first
};

class InviteStore {
 public:
  virtual ~InviteStore() = default;
  // False when the token exists already.
  virtual bool create_invite(const Invite& invite) = 0;
  virtual std::optional<Invite> invite(std::string_view token) = 0;
  // The invitations of a host ("" = every host), oldest first.
  virtual std::vector<Invite> invites(std::string_view host) = 0;
  // Deletes an invitation (the accounts it created stay). False when there was none.
  virtual bool revoke_invite(std::string_view token) = 0;
  // Takes one use and records the account; false when the token is unknown or has no use left.
  virtual bool redeem_invite(std::string_view token, std::string_view account, int64_t when) = 0;
  // Deletes the invitations an account created (when the account is removed).
  virtual void revoke_invites_of(std::string_view creator) = 0;
  // Whether a valid invitation (uses left, not expired at `now`) reserves this username on its host.
  virtual bool username_reserved(std::string_view host, std::string_view username, int64_t now) = 0;
};

}  // namespace causerie::storage
