// XEP-0280 v1.0 Message Carbons: the rules of which messages are copied to a user's other resources
// (§6), and the copies themselves (§§7–8, wrapped with XEP-0297 forwarding), as pure functions. The
// module (carbons.cpp) applies them where messages reach an account (a router message observer: also
// messages from remote servers and components) and where a client sends one (kFromAccount).
// Any thread.
#pragma once

#include <string_view>

#include "core/xml/element.hpp"

namespace causerie::modules::carbons {

enum class Direction {
  kReceived,  // a message that reached the user's account (§7)
  kSent,      // a message one of the user's clients sent (§8)
};

// §6.1, the recommended rules (with §9's <private/> and XEP-0334's <no-copy/>). `from_bare` says whether
// the message's 'from' is a bare JID (a received error then answers a message sent to a bare JID).
bool eligible(const xml::Element& message, Direction direction, bool from_bare = false);

// The copy for one of the user's resources (§7, §8): <message from=`bare` type=as the original>
// <received|sent><forwarded>the original</forwarded></…></message>, without 'to' (each recipient's is
// added when it is sent).
xml::Element wrap(const xml::Element& message, Direction direction, std::string_view bare);

}  // namespace causerie::modules::carbons
