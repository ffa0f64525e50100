// XMPP over WebSocket output: our own frame encoding (RFC 6455 §5.2, examples of §5.7) and the
// CorkedStream under Beast's websocket::stream, driven over a loopback TCP connection by a Beast client:
// our frames and Beast's own control frames (pong, close) leave in order through the one buffer.
// Beast's WebSocket templates are most of this unit's compile time: the client uses the server's stream
// type, never corked (writes go straight through), and every operation the same completion token, so
// each operation is compiled once.
#include <gtest/gtest.h>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "http/corked_stream.hpp"
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

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using WsStream = websocket::stream<CorkedStream<tcp::socket>>;

// The one completion token of this file.
auto token(boost::system::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

// The server side of the test: a corked stream whose flushes are counted, run at the end of each loop
// turn as the worker does.
struct Server final : CorkOwner {
  explicit Server(tcp::socket s) : ws(std::move(s)) { ws.next_layer().set_owner(this); }
  void cork_wants_flush() override {
    if (scheduled) return;
    scheduled = true;
    asio::post(ws.get_executor(), [this] {
      scheduled = false;
      ++flushes;
      ws.next_layer().flush(nullptr);
    });
  }
  void cork_failed() override { failed = true; }
  void cork_reading() override {}
  void send(std::string_view text) {
    FramedPieces p;
    p.parts[p.count++] = text;
    append_ws_text_frame(ws.next_layer().pending(), p);
    cork_wants_flush();
  }
  WsStream ws;
  bool scheduled = false;
  bool failed = false;
  int flushes = 0;
};

// A connected pair over loopback: our corked server side and a Beast client, neither handshaken.
std::pair<std::unique_ptr<Server>, WsStream> connect_pair(asio::io_context& io) {
  tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client_sock(io);
  client_sock.connect(acc.local_endpoint());
  auto server = std::make_unique<Server>(acc.accept());
  return {std::move(server), WsStream(std::move(client_sock))};
}
}  // namespace

TEST(CorkedStream, OrderAndClosingHandshake) {
  asio::io_context io;
  auto [server, client] = connect_pair(io);

  std::vector<std::string> got;
  bool got_pong = false, server_closed = false, client_closed = false;
  boost::system::error_code server_read_ec, close_ec;

  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    co_await server->ws.async_accept(token(ec));
    EXPECT_FALSE(ec) << ec.message();
    server->ws.next_layer().set_corked();
    // Three messages queued in one turn leave in one write.
    server->send("<a/>");
    server->send(std::string(300, 'b'));
    server->send("<c/>");
    beast::flat_buffer buf;
    // Reads answer the client's ping (Beast's pong goes through the cork) and end at its close.
    for (;;) {
      co_await server->ws.async_read(buf, token(ec));
      if (ec) break;
      got.push_back(beast::buffers_to_string(buf.data()));
      buf.consume(buf.size());
      if (got.back() == "bye") {
        server->send("<last/>");
        // Our close frame follows <last/> in the same buffer.
        co_await server->ws.async_close(websocket::close_code::normal, token(close_ec));
        server_closed = true;
      }
    }
    server_read_ec = ec;
  }, asio::detached);

  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    co_await client.async_handshake("localhost", "/", token(ec));
    EXPECT_FALSE(ec) << ec.message();
    client.control_callback([&](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) got_pong = true;
    });
    std::vector<std::string> in;
    beast::flat_buffer buf;
    for (int i = 0; i < 3; ++i) {
      co_await client.async_read(buf, token(ec));
      EXPECT_FALSE(ec) << ec.message();
      in.push_back(beast::buffers_to_string(buf.data()));
      buf.consume(buf.size());
    }
    EXPECT_EQ(in, (std::vector<std::string>{"<a/>", std::string(300, 'b'), "<c/>"}));
    co_await client.async_ping({}, token(ec));
    EXPECT_FALSE(ec) << ec.message();
    co_await client.async_write(asio::buffer(std::string("bye")), token(ec));
    EXPECT_FALSE(ec) << ec.message();
    co_await client.async_read(buf, token(ec));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(beast::buffers_to_string(buf.data()), "<last/>");
    buf.consume(buf.size());
    co_await client.async_read(buf, token(ec));
    EXPECT_EQ(ec, websocket::error::closed);  // the server's close frame came after <last/>
    client_closed = true;
  }, asio::detached);

  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(got, (std::vector<std::string>{"bye"}));
  EXPECT_TRUE(got_pong);
  EXPECT_TRUE(client_closed);
  EXPECT_TRUE(server_closed);
  EXPECT_FALSE(close_ec) << close_ec.message();
  EXPECT_FALSE(server->failed);
  EXPECT_EQ(server->ws.next_layer().buffered(), 0u);
  EXPECT_GE(server->flushes, 1);
}

TEST(CorkedStream, PeerInitiatedCloseIsAnsweredBeforeTeardown) {
  asio::io_context io;
  auto [server, client] = connect_pair(io);
  boost::system::error_code server_ec, client_ec;
  bool done = false;

  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await server->ws.async_accept(token(server_ec));
    EXPECT_FALSE(server_ec) << server_ec.message();
    server->ws.next_layer().set_corked();
    beast::flat_buffer buf;
    // Beast answers the close with its own close frame (into the cork) and tears down: the teardown
    // must flush that frame first, or the client would wait for it until its timeout.
    co_await server->ws.async_read(buf, token(server_ec));
  }, asio::detached);

  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await client.async_handshake("localhost", "/", token(client_ec));
    EXPECT_FALSE(client_ec) << client_ec.message();
    co_await client.async_close(websocket::close_code::normal, token(client_ec));
    done = true;
  }, asio::detached);

  io.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(done);
  EXPECT_FALSE(client_ec) << client_ec.message();
  EXPECT_EQ(server_ec, websocket::error::closed);
  EXPECT_FALSE(server->ws.is_open());
}
