// The search service search.<host>: XEP-0055 v1.3 jabber:iq:search over the users who chose to be listed,
// and XEP-0433 channel search (channel_search.hpp) over the host's public rooms and open communities.
//
// Opt-in: a user is listed only after registering with the service (XEP-0077 on search.<host>, which
// clients such as Gajim and Psi offer from their service discovery window): the registration's <nick/>
// is the name shown, the user's vCard (XEP-0054: FN, N/GIVEN, N/FAMILY, NICKNAME, EMAIL) adds what to
// search by; <remove/> unlists. Only this server's own accounts may search.
//
// These are the pure parts (matching, result forms); the module glue is directory.cpp. Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"

namespace causerie::modules::directory {

inline constexpr const char* kSearch = "jabber:iq:search";

// A listed user as a search sees it.
struct Entry {
  std::string jid;   // bare
  std::string nick;  // the registration's, else the vCard's NICKNAME
  std::string first, last, full_name, email;
};
// `listing` is the stored registration (the chosen nick), `vcard` the stored vCard XML ("" when none).
Entry make_entry(std::string jid, std::string_view listing, std::string_view vcard);

// What to look for: case-insensitive fragments, all of which must match (empty: not asked).
struct Query {
  std::string nick, first, last, name, email, jid;
  bool empty() const { return nick.empty() && first.empty() && last.empty() && name.empty() && email.empty() && jid.empty(); }
};
// A search request (§2 fields, or the §3 data form with FORM_TYPE jabber:iq:search); bad-request when it
// asks nothing or is malformed. `form` tells which shape the answer must take.
struct Request {
  Query query;
  bool form = false;
};
tl::expected<Request, StanzaError> parse_request(const xml::Element& query);
bool matches(const Entry& e, const Query& q);

// The <query xmlns='jabber:iq:search'/> a get returns: instructions, the §2 fields and the §3 form.
xml::Element search_fields();
// The answer to a search: §2 <item/>s, or a §3 result form with <reported/> fields and one <item/> each.
xml::Element results(const std::vector<Entry>& found, bool form);

}  // namespace causerie::modules::directory
