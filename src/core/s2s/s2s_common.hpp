// What the incoming and outgoing server-to-server streams share: the translation of stanzas between the
// jabber:server namespace on the wire and jabber:client inside the server (stanza.hpp), the checks a
// stanza from a peer passes before it is routed, and the small nonzas both sides write. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "core/router/out_stanza.hpp"
#include "core/stanza/errors.hpp"
#include "core/stanza/stanza.hpp"

namespace causerie::s2s {

// Rewrites jabber:server to jabber:client on the element and every descendant that has it (a forwarded
// stanza that says jabber:client keeps it).
void to_client_namespace(xml::Element& el);

// A stanza that arrived on a server stream, as routing needs it: jabber:client, 'from' and 'to' parsed.
// RFC 6120 §4.9.3.8: both addresses are required between servers (improper-addressing otherwise);
// a malformed one is jid-malformed (as a stream error between servers: improper-addressing too).
tl::expected<Stanza, StreamErrorCondition> accept_stanza(xml::Element&& el);

// Bytes of a nonza (or stream error) as the transport takes them.
OutStanza nonza(std::string bytes);

// <db:result/> and <db:verify/> (XEP-0220 §2.1, §2.2), written with the stream's db: prefix.
std::string db_element(std::string_view name, std::string_view from, std::string_view to, std::string_view id,
                       std::string_view type, std::string_view key);

}  // namespace causerie::s2s
