// XEP-0313 v1.1 message archives: the pure decisions of the mam module, apart from its I/O so that
// tables of stanzas test them (DESIGN §3): which messages an account's archive keeps (§5.1.1 with the
// XEP-0334 hints), which stanza ids (XEP-0359) a message may carry, what the XEP-0441 preferences say
// for a correspondent, the query form (§4.1) and its translation to a storage query, retractions
// (XEP-0424) and their tombstones. Any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/jid/jid.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/element.hpp"
#include "storage/archive_store.hpp"

namespace causerie::modules::mam {

// §5.1.1: chat and normal messages with a <body/> (and retractions, XEP-0424 §5), unless XEP-0334 says
// no-store / no-permanent-store; a <store/> hint archives any chat or normal message. Never errors,
// groupchat (the room keeps those) or headlines.
bool should_archive(const xml::Element& message);

// The text the full-text index gets: the <body/> children, joined.
std::string body_text(const xml::Element& message);

// XEP-0359 §4 rule 2 and §6: removes every <stanza-id/> whose 'by' satisfies `ours` (an address we
// would vouch for). Returns the id of the one removed whose 'by' is `keep_by` ("" if none), so the
// caller can tell an internal re-route of its own stanza from a forgery.
std::string strip_stanza_ids(xml::Element& message, const std::function<bool(std::string_view by)>& ours,
                             std::string_view keep_by = {});
void add_stanza_id(xml::Element& message, std::string_view by, std::string_view id);
// A new stanza id for a message archived at `now_ms` (XEP-0359 §4: unique and unpredictable): the time
// in 9 base32hex digits, then 72 random bits. Ids of one archive thus sort about as their messages do,
// so the stanza id index (archive_messages.sid) is written at its end, like the archive, not at a random page.
std::string new_archive_id(int64_t now_ms);

// XEP-0441 §2.3: whether a message to or from `target` goes into an archive with these preferences.
enum class Decision { kArchive, kSkip, kAskRoster };
Decision decide(const storage::ArchivePrefs& prefs, const Jid& target);
bool list_matches(const std::vector<std::string>& list, const Jid& target);

// <prefs xmlns='urn:xmpp:mam:2'/> both ways; parse_prefs fails with bad-request.
xml::Element prefs_element(const storage::ArchivePrefs& prefs);
tl::expected<storage::ArchivePrefs, StanzaError> parse_prefs(const xml::Element& prefs);

// The form a client may fill (§4.1.6), with the full-text field this server adds.
inline constexpr const char* kFulltextField = "{urn:xmpp:fulltext:0}fulltext";
xml::DataForm query_form();

// A parsed <query/>: the storage query and what the answer needs.
struct ParsedQuery {
  storage::ArchiveQuery query;
  std::string queryid;
  bool flip = false;  // <flip-page/>: send the page newest first
};
// Form fields, RSM (XEP-0059: max capped to max_page, default_page without one; <before/> pages from the
// end; <index/> is not supported) and <flip-page/>. Errors: bad-request, jid-malformed,
// feature-not-implemented (an unknown field, §4.1.6; RSM index).
tl::expected<ParsedQuery, StanzaError> parse_query(const xml::Element& query, size_t default_page, size_t max_page);

// XEP-0424: the id a chat or normal message retracts ("" if it is no retraction).
std::string retracted_id(const xml::Element& message);
// The tombstone that replaces a retracted message (XEP-0424 §4): its attributes kept, its content
// replaced by <retracted id='the retraction's id' stamp='…'/>.
xml::Element tombstone(const xml::Element& original, std::string_view retraction_id, std::string_view stamp);

// XEP-0425 §"Tombstones": what replaces a message a room moderator retracted — its attributes and its
// author's <occupant-id/> kept, its content replaced by <retracted stamp><moderated by>…</moderated>
// <reason/></retracted>. `moderated` is the <moderated/> element (urn:xmpp:message-moderate:1).
xml::Element moderated_tombstone(const xml::Element& original, const xml::Element& moderated, std::string_view reason,
                                 std::string_view stamp);

// §4.2: one result of a query, <message from><result queryid id><forwarded><delay/>…</forwarded></result>
// </message>, without 'to'; nullopt when the archived XML cannot be read.
std::optional<xml::Element> result_message(std::string_view from, std::string_view queryid,
                                           const storage::ArchivedMessage& m);
// §4.3: the <fin/> that ends a query's answer.
xml::Element fin_element(const storage::ArchivePage& page);

}  // namespace causerie::modules::mam
