// An SVG drawing of a QR code (ISO/IEC 18004, encoded by libqrencode) for the invitation page: apps that
// support XEP-0401 easy onboarding (Conversations and others) scan the xmpp: URI from it. The drawing is
// made on the server and placed inline in the page, so the page loads nothing else.
//
// Thread rules: pure function, any thread (libqrencode is reentrant).
#pragma once

#include <string>
#include <string_view>

namespace causerie::modules::invites {

// The QR code of `text` (byte mode, error correction level M) as an <svg> element: one path of dark
// modules, a four-module quiet zone, scaled by the page. "" when the text is too long for a QR code.
std::string qr_svg(std::string_view text);

}  // namespace causerie::modules::invites
