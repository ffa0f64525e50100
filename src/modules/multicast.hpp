// XEP-0033 v1.2.1 extended stanza addressing: each local host is a multicast service. A message or
// presence addressed to the host itself with an <addresses/> header is delivered to every 'to', 'cc' and
// 'bcc' address not already marked delivered (§4 "Multicast Usage"), local or remote, with the 'from'
// unchanged (§3).
//
// plan_multicast() is the pure part: it checks the header (§4, §8 errors) and builds what each recipient
// gets; the module (multicast.cpp) routes the copies. Any thread.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/jid/jid.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"

namespace causerie::modules::multicast {

// One copy of the stanza: its recipient and the <addresses/> header it carries.
struct Copy {
  Jid to;
  xml::Element addresses;
};

// The copies for an <addresses/> header, or the error for the whole stanza:
//  - bad-request: an address without a type, with neither jid nor uri (§4), with both, or a header with
//    nothing to deliver;
//  - jid-malformed: a 'jid' that is not a JID, or a 'uri' (not supported here; §4.2 and §8);
//  - not-acceptable: more than `max_recipients` addresses to deliver to (§8).
// Every address delivered gets delivered='true' (§6 "Multicast Usage" step 6); bcc addresses are removed
// (step 7) except the one of each bcc recipient, in its own copy (step 8). Addresses already marked
// delivered are kept and not delivered again; a JID listed twice gets one copy.
tl::expected<std::vector<Copy>, StanzaError> plan_multicast(const xml::Element& addresses, size_t max_recipients);

}  // namespace causerie::modules::multicast
