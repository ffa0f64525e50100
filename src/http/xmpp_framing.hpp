// XMPP framing for the HTTP transports: what a serialized stanza needs before it can stand alone in a
// WebSocket message (RFC 7395 §3.3.3) or inside a BOSH <body/> (XEP-0206 §5). OutStanza bytes are written
// for a TCP stream, where the stream root declares jabber:client and the 'stream' prefix; here each
// top-level element must declare them itself. The declaration is spliced in as a separate piece, so the
// shared stanza bytes are never copied. Pure; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/router/out_stanza.hpp"

namespace causerie::http {

// Up to four pieces that, written in order, are the element with its namespace declarations.
struct FramedPieces {
  std::array<std::string_view, 4> parts;
  size_t count = 0;
  size_t size() const;
};

// `out` must outlive the returned views.
FramedPieces framed_pieces(const OutStanza& out);
void append_framed(std::string& dst, const OutStanza& out);

// RFC 6455 §5.2 frame header of a final, unmasked frame (a server never masks, §5.1) carrying `len` payload
// bytes: 2, 4 or 10 bytes written to `out`, the count returned. `opcode` is 0x1 for text.
inline constexpr size_t kWsMaxFrameHeader = 10;
size_t ws_frame_header(unsigned opcode, uint64_t len, unsigned char (&out)[kWsMaxFrameHeader]);
// Appends one complete WebSocket text message (a single frame) holding the pieces, in order.
void append_ws_text_frame(std::string& dst, const FramedPieces& p);

// RFC 7395 §3.4: the framed stream header and trailer.
std::string framing_open(std::string_view from, std::string_view id, std::string_view to);
std::string framing_close(std::string_view see_other_uri = {});

}  // namespace causerie::http
