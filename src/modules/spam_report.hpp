// XEP-0377 v0.4.1 Blocking Command Reports: a <report/> inside an XEP-0191 <block/> item, read into a
// SpamReport, and the message that takes it to the host's admins (the blocking module sends it once the
// block is stored). Pure functions, table-tested.
//
// Thread rules: values and free functions only; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::modules::spam_report {

inline constexpr const char* kNs = "urn:xmpp:reporting:1";
inline constexpr const char* kSpam = "urn:xmpp:reporting:spam";
inline constexpr const char* kAbuse = "urn:xmpp:reporting:abuse";
inline constexpr const char* kStanzaIdNs = "urn:xmpp:sid:0";  // XEP-0359
// What the server advertises (§2): the namespace, and the reason features of earlier versions of the
// XEP (0.2), which clients written against them look for.
inline constexpr const char* kFeatures[] = {kNs, "urn:xmpp:reporting:reason:spam:0",
                                            "urn:xmpp:reporting:reason:abuse:0"};

struct StanzaId {
  std::string id, by;
};

struct SpamReport {
  std::string reporter;  // bare JID of the account that blocked
  std::string reported;  // the blocked JID
  std::string reason;    // a reason URN (§3: spam, abuse, or another registered one)
  std::vector<std::string> texts;       // the user's words, each with its xml:lang when given ("[fr] …")
  std::vector<StanzaId> stanza_ids;     // §5: archived messages the user points at
  xml::Element original;                // the <report/> as sent
};

// The <report/> of a <block/> item, if it has one. `error` is set (and the result empty) for a report
// without its required 'reason' (§3: "MUST include a reason").
struct Parsed {
  std::optional<SpamReport> report;
  std::string error;
};
Parsed parse(const xml::Element& item, std::string_view reporter, std::string_view reported);

// A readable line for the log and the admins: who reported whom, why, the text and stanza ids.
std::string describe(const SpamReport& r);

// The message to one admin: from the host, type normal, a subject, describe() as body and the original
// <report/> element for software that reads it.
xml::Element admin_message(const SpamReport& r, std::string_view host, std::string_view admin);

}  // namespace causerie::modules::spam_report
