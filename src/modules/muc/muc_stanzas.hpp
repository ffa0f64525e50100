// XEP-0045 v1.35 §7–§10 and §15.2: the stanzas a room composes — occupant presence with its muc#user
// <x/> (item, actor, reason, status codes, destroy), the status codes of a self-presence on entering —
// and XEP-0421 v0.1 occupant ids, plus the nickname rules of §17.1. Pure functions, any thread; tests:
// tests/unit/muc_stanzas_test.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/jid/jid.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"
#include "modules/muc/muc_types.hpp"

namespace causerie::modules::muc {

// The <item/> of a muc#user <x/> (§7.2.3, §9.1, …).
struct UserItem {
  Affiliation affiliation = Affiliation::kNone;
  Role role = Role::kNone;
  std::string jid;    // real full JID; empty when the recipient may not see it
  std::string nick;   // the new nickname (303) — empty otherwise
  std::string actor;  // nick of who kicked or banned, may be empty
  std::string reason;
};

// §10.9 <destroy/> in the unavailable presence of a destroyed room.
struct DestroyNotice {
  std::string jid;  // alternate venue
  std::string reason;
  std::string password;
};

struct PresenceSpec {
  const xml::Element* base = nullptr;  // the occupant's own presence (show, status, extensions), or none
  bool unavailable = false;
  UserItem item;
  std::vector<int> codes;  // status codes; written sorted and unique
  std::optional<DestroyNotice> destroy;
  std::string occupant_id;  // XEP-0421; empty: none
};

// A presence from `from` (an occupant JID), without 'to'. From `base` it keeps everything but addressing,
// 'type', any muc, muc#user or occupant-id element the client put there (§17.3 rule 6, XEP-0421 §5).
xml::Element make_occupant_presence(const Jid& from, const PresenceSpec& spec);

// A muc#user <x/> holding only status codes (configuration change notices, §10.2.1).
xml::Element make_status_x(const std::vector<int>& codes);

// §7.2.3 ff.: codes of the self-presence when entering (110 is added by the caller for every
// self-presence): 100 non-anonymous, 170 logged, 201 just created, 210 nickname changed by the service.
std::vector<int> entry_codes(const RoomConfig& c, bool created, bool nick_modified);

// Removes client-supplied elements a room must not reflect, and replaces <occupant-id/> (XEP-0421 §5).
void strip_client_muc_elements(xml::Element& stanza);
void set_occupant_id(xml::Element& stanza, std::string_view id);

// §17.1: nicknames are non-empty, not only spaces (nor other invisible characters), and — our bound —
// at most `max_chars` characters. The argument is already resourceprep'd (it came from a Jid).
std::optional<StanzaError> check_nick(std::string_view nick, size_t max_chars);

// XEP-0421 §5.1: stable per (room, user), unique, and pseudonymous: HMAC-SHA-256 under the service's
// secret of the room and the user's bare JID, so ids differ between rooms and cannot be recomputed
// without the secret. Base64, 24 characters.
std::string make_occupant_id(std::string_view secret, std::string_view room, std::string_view bare_jid);

}  // namespace causerie::modules::muc
