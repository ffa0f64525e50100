#include "modules/invites/invites.hpp"

#include "core/util/encoding.hpp"
#include "storage/storage.hpp"

namespace causerie::modules::invites {

namespace {
constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kTokenLength = 26;  // ceil(128 / 5)

std::string localpart_of(std::string_view bare) {
  size_t at = bare.find('@');
  return at == std::string_view::npos ? std::string() : std::string(bare.substr(0, at));
}
}  // namespace

std::string new_token() {
  std::string bytes = util::random_bytes(17);  // 136 bits, of which the first 130 are used
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5 && out.size() < kTokenLength) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  return out;
}

bool plausible_token(std::string_view text) {
  return text.size() == kTokenLength && text.find_first_not_of(kBase32) == std::string_view::npos;
}

InviteState invite_state(const std::optional<storage::Invite>& invite, int64_t now, bool check_expiry) {
  if (!invite) return InviteState::kUnknown;
  if (invite->uses_left <= 0) return InviteState::kUsedUp;
  if (check_expiry && invite->expires != 0 && now >= invite->expires) return InviteState::kExpired;
  return InviteState::kValid;
}

const char* describe(InviteState state) {
  switch (state) {
    case InviteState::kValid: return "valid";
    case InviteState::kUnknown: return "unknown";
    case InviteState::kExpired: return "expired";
    case InviteState::kUsedUp: return "used up";
  }
  return "unknown";
}

std::string invite_uri(const storage::Invite& invite, bool ibr) {
  if (!invite.creator.empty() && invite.add_contact && invite.username.empty())
    return "xmpp:" + invite.creator + "?roster;preauth=" + invite.token + (ibr ? ";ibr=y" : "");
  std::string who = invite.username.empty() ? invite.host : invite.username + "@" + invite.host;
  return "xmpp:" + who + "?register;preauth=" + invite.token;
}

std::string landing_url(std::string_view base_url, std::string_view token) {
  std::string base(base_url);
  while (base.ends_with('/')) base.pop_back();
  return base + "/invite/" + std::string(token);
}

std::string invite_base_url(const Config& config) {
  std::string url = config.raw ? config.raw->get_string("modules.invites.url").value_or("") : "";
  return url.empty() ? config.http_base_url() : url;
}

std::chrono::seconds default_lifetime(const Config& config) {
  std::string text = config.raw ? config.raw->get_string("modules.invites.expire_after").value_or("7d") : "7d";
  auto d = parse_duration(text);
  if (!d) throw ConfigError("config key 'modules.invites.expire_after': expected a duration such as \"7d\" or \"0\"");
  return *d;
}

bool host_takes_invites(const Config& config, std::string_view host) {
  const HostConfig* h = config.find_host(host);
  return h && h->registration != RegistrationPolicy::kClosed;
}

bool reserved_for_another(storage::Storage& db, std::string_view host, std::string_view username,
                          std::string_view token, int64_t now) {
  if (!db.invites().username_reserved(host, username, now)) return false;
  auto own = token.empty() ? std::nullopt : db.invites().invite(token);
  // Reserved by this very invitation: one use of it is the one that may take the name.
  if (own && own->username == username && own->host == host) {
    for (const auto& i : db.invites().invites(host))
      if (i.token != own->token && i.username == username && invite_state(i, now) == InviteState::kValid) return true;
    return false;
  }
  return true;
}

Redeemed redeem(storage::Storage& db, std::string_view token, const storage::Account& account, int64_t now) {
  Redeemed out;
  auto invite = db.invites().invite(token);
  if (invite_state(invite, now, false) != InviteState::kValid) return out;
  std::string host(account.jid.substr(account.jid.find('@') + 1));
  std::string name = localpart_of(account.jid);
  if (host != invite->host || (!invite->username.empty() && invite->username != name)) {
    out.result = Redeemed::Result::kWrongName;
    return out;
  }
  if (reserved_for_another(db, host, name, token, now)) {
    out.result = Redeemed::Result::kTaken;
    return out;
  }
  if (!db.accounts().create(account)) {
    out.result = Redeemed::Result::kTaken;
    return out;
  }
  if (!db.invites().redeem_invite(token, account.jid, now)) {
    // Cannot happen inside the write lane (the use was checked above); leave nothing half done.
    db.accounts().remove(account.jid);
    return out;
  }
  out.result = Redeemed::Result::kCreated;
  if (invite->add_contact && !invite->creator.empty() && invite->creator != account.jid &&
      db.accounts().exists(invite->creator)) {
    out.creator = invite->creator;
    out.creator_item.jid = account.jid;
    out.creator_item.subscription = storage::Subscription::kBoth;
    out.invitee_item.jid = invite->creator;
    out.invitee_item.subscription = storage::Subscription::kBoth;
    out.creator_version = db.roster().put(invite->creator, out.creator_item);
    out.invitee_version = db.roster().put(account.jid, out.invitee_item);
  }
  return out;
}

}  // namespace causerie::modules::invites
