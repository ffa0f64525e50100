// Guest access (XEP-0175 v1.2, SASL ANONYMOUS of RFC 4505): the rules applied to the sessions of hosts
// whose authentication is "anonymous". The stream (core/stream/c2s_sasl.cpp) creates a random account for
// each such connection; this module keeps guests local and small, and deletes the account with all its
// data when the session ends (after any XEP-0198 resumption window).
//
// These are the pure decisions, apart from the module's glue (guests.cpp), so they can be tested alone.
// Any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/stanza/errors.hpp"
#include "core/stanza/stanza.hpp"

namespace causerie::modules::guests {

// What happens to a stanza a guest sends. `is_ours(domain)`: a host or service domain of this server.
enum class Outbound {
  kAllow,
  kRemote,    // to another server: refused (XEP-0175 §3: guests do not federate here)
  kRegister,  // XEP-0077 registration of any kind: refused, a guest has no account to keep
};
template <typename IsOurs>
Outbound classify_outbound(const Stanza& st, IsOurs&& is_ours) {
  if (!st.to().empty() && !is_ours(st.to().domainpart())) return Outbound::kRemote;
  if (st.is_iq() && (st.type() == "get" || st.type() == "set") && st.element().child("query", "jabber:iq:register"))
    return Outbound::kRegister;
  return Outbound::kAllow;
}

// The error a refused stanza is answered with.
StanzaError refusal(Outbound verdict);

// A presence a guest sends to `room@service/nick` at a service domain: entering (available) or leaving a
// room. nullopt for anything else.
enum class RoomMove { kEnter, kLeave };
std::optional<RoomMove> room_move(const Stanza& st, bool to_service);

// The room a serialized presence on its way to a guest says the guest is no longer in: its own
// unavailable presence (status 110, XEP-0045 §7.2.12: left, kicked, banned, room destroyed) or a presence
// error (the join failed). Reads the bytes our serializer writes; nullopt for anything else.
std::optional<std::string> room_left(std::string_view head, std::string_view body);

}  // namespace causerie::modules::guests
