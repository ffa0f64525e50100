// XMPP over WebSocket output: our own frame encoding (RFC 6455 §5.2, examples of §5.7).
#include <gtest/gtest.h>

#include "http/xmpp_framing.hpp"

using namespace causerie;
using namespace causerie::http;

namespace {
std::string header(uint64_t len) {
  unsigned char h[kWsMaxFrameHeader];
  size_t n = ws_frame_header(0x1, len, h);
  return std::string(reinterpret_cast<const char*>(h), n);
}
}  // namespace

TEST(WsFrame, HeaderLengthEncodings) {
  EXPECT_EQ(header(0), std::string("\x81\x00", 2));
  EXPECT_EQ(header(5), "\x81\x05");  // §5.7: a single-frame unmasked text message "Hello"
  EXPECT_EQ(header(125), "\x81\x7d");
  EXPECT_EQ(header(126), std::string("\x81\x7e\x00\x7e", 4));  // the 16-bit form from 126 on
  EXPECT_EQ(header(256), std::string("\x81\x7e\x01\x00", 4));  // §5.7: 256 bytes
  EXPECT_EQ(header(65535), "\x81\x7e\xff\xff");
  EXPECT_EQ(header(65536), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));  // §5.7: 64 KiB
  EXPECT_EQ(header(0x0102030405060708ull), "\x81\x7f\x01\x02\x03\x04\x05\x06\x07\x08");
}

TEST(WsFrame, TextFrameJoinsThePieces) {
  FramedPieces p;
  p.parts[p.count++] = "<message";
  p.parts[p.count++] = " xmlns='jabber:client'";
  p.parts[p.count++] = "/>";
  std::string out = "x";
  append_ws_text_frame(out, p);
  EXPECT_EQ(out, "x\x81\x20<message xmlns='jabber:client'/>");
}
