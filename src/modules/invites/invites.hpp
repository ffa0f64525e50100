// XEP-0401 v0.6.0 (easy user onboarding) and XEP-0445 v0.2 (pre-authenticated in-band registration): the
// rules of invitations as plain functions, shared by in-band registration (register.cpp), the invitation
// web page (invite_page.cpp, invites_module.cpp) and the `causerie invite` commands: tokens, the xmpp:
// URIs and links an invitation is handed out as, whether a token may be used, and the storage job that
// creates an invited account (and, for a user invitation, makes inviter and invitee mutual contacts).
//
// Thread rules: pure functions, any thread; redeem() runs on the storage write lane.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "storage/account_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/roster_store.hpp"

namespace causerie::storage {
class Storage;
}

namespace causerie::modules::invites {

// A fresh token: 128 random bits as 26 lowercase base32 letters and digits (XEP-0401 §4.1: "a securely
// generated random alpha-numeric string").
std::string new_token();
// Whether text could be a token we made (so nothing else reaches storage or a page).
bool plausible_token(std::string_view text);

enum class InviteState { kValid, kUnknown, kExpired, kUsedUp };
// Whether an invitation may be used now. XEP-0445 §4: expiry is checked when the token is presented
// (the <preauth/> iq, the page), not again when the account is created in the same session.
InviteState invite_state(const std::optional<storage::Invite>& invite, int64_t now, bool check_expiry = true);
const char* describe(InviteState state);

// The XEP-0401 URIs: `xmpp:host?register;preauth=T` (§4.4; `xmpp:user@host?…` with a reserved name,
// whoever made it) and, for an invitation from a user that leaves the name to the invitee,
// `xmpp:inviter?roster;preauth=T;ibr=y` (§4.1; ibr=y only when the host lets invitees register).
std::string invite_uri(const storage::Invite& invite, bool ibr);
// The landing page: `<base>/invite/<token>`.
std::string landing_url(std::string_view base_url, std::string_view token);
// The base URL of invitation links: [modules.invites] url, else the first HTTP listener; "" without both.
std::string invite_base_url(const Config& config);
// How long a new invitation lasts by default: [modules.invites] expire_after (7 days); 0 = never.
std::chrono::seconds default_lifetime(const Config& config);
// Whether the host lets invitations create accounts at all (its policy is `invite` or `open`).
bool host_takes_invites(const Config& config, std::string_view host);

// The outcome of creating an account with an invitation, in one write job.
struct Redeemed {
  enum class Result { kCreated, kInvalid, kTaken, kWrongName } result = Result::kInvalid;
  std::string creator;  // the inviter, when the two became contacts
  storage::RosterItem creator_item, invitee_item;  // their new roster items (RFC 6121 'both')
  int64_t creator_version = 0, invitee_version = 0;
  bool contacts() const { return result == Result::kCreated && !creator.empty(); }
};
// Takes one use of `token`, creates `account` on the invitation's host and, when the invitation says so,
// makes its creator and the new account contacts with a subscription both ways (XEP-0401 §4.5). The
// account must be on the invitation's host; the name must be the reserved one when there is one, and no
// other valid invitation may reserve it. Expiry is not checked here (see invite_state).
Redeemed redeem(storage::Storage& db, std::string_view token, const storage::Account& account, int64_t now);
// Whether `username` is held by a valid invitation other than `token` (XEP-0445 §5: a reserved name).
bool reserved_for_another(storage::Storage& db, std::string_view host, std::string_view username,
                          std::string_view token, int64_t now);

}  // namespace causerie::modules::invites
