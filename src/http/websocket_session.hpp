// RFC 7395 (XMPP over WebSocket) on RFC 6455 WebSockets (Boost.Beast): WsSession, the StreamTransport of
// one client stream (C2sStream) whose frames are WebSocket text messages. Internal to src/http: included
// only by http_connection.hpp, whose upgraded connections it takes over (one instantiation per stream, in
// http_connection_plain.cpp and http_connection_tls.cpp).
//
// Thread rules: lives on one worker, registered in its connection table like a TCP client; a reader
// coroutine runs on that worker's io_context, and output leaves from the worker's flush.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <spdlog/spdlog.h>

#include "core/stream/c2s_stream.hpp"
#include "core/stream/transport_guard.hpp"
#include "core/xml/namespaces.hpp"
#include "http/corked_stream.hpp"
#include "http/http_policy.hpp"
#include "http/http_streams.hpp"
#include "http/xmpp_framing.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http::detail {

namespace websocket = boost::beast::websocket;
inline constexpr size_t kWsReadChunk = 8 * 1024;

// One XMPP client stream over a WebSocket: the transport of a C2sStream whose frames are WebSocket text
// messages, each exactly one element (RFC 7395 §3.3.3). A reader coroutine feeds the fragment-mode parser. Each stanza
// becomes one WebSocket message (one frame, framed by us) appended to the CorkedStream's buffer, which
// the worker's flush writes to the socket in one go, as the TCP path's writev does.
template <class Stream>
class WsSession final : public StreamTransport,
                        public net::Connection,
                        private xml::StreamParser::Handler,
                        private CorkOwner,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(ServerServices& services, AuthThrottle& throttle, net::Worker& worker, Stream&& stream, std::string peer,
            bool secure)
      : services_(services),
        cfg_(services.config().http),
        worker_(worker),
        id_(worker.next_id()),
        ws_(std::move(stream)),
        peer_(std::move(peer)),
        secure_(secure),
        guard_(services.config().limits, std::chrono::steady_clock::now()),
        stream_(std::make_unique<C2sStream>(services, throttle, *this, worker, SessionRef{worker.index(), id_})) {
    cork().set_owner(this);
  }
  ~WsSession() {
    release_flush();
    cork().set_owner(nullptr);
  }

  static awaitable<void> run(std::shared_ptr<WsSession> self, bhttp::request<bhttp::string_body> req) {
    return self->serve(self, std::move(req));
  }

  // net::Connection
  uint64_t id() const override { return id_; }
  bool is_client() const override { return true; }
  void end_stream(StreamErrorCondition condition, const std::string& text) override { stream_->on_end(condition, text); }
  void deliver(OutStanza out) override { stream_->deliver(std::move(out)); }
  void flush() override {
    dirty_ = false;
    if (torn_down_) return;
    if (close_after_flush_ && !close_sent_) {
      // Beast's close frame lands in the cork buffer behind the stanzas already there.
      close_sent_ = true;
      asio::co_spawn(ws_.get_executor(), close_stream(this->shared_from_this()), asio::detached);
    }
    cork().flush(this->shared_from_this());
  }
  bool sweep(std::chrono::steady_clock::time_point now) override {
    if (torn_down_ || close_after_flush_) return false;
    switch (guard_.sweep(now)) {
      case TransportGuard::Sweep::kTimedOut:
        stream_->on_timeout();
        return false;
      case TransportGuard::Sweep::kIdle:
        // As for TCP: quiet for a whole sweep period, the parser gives its memory back.
        if (in_feed_ || message_bytes_ != 0 || !parser_ || parser_->hibernated() || !parser_->hibernate()) return false;
        // The one sign of it seen from outside (integration tests wait for it).
        spdlog::debug("ws {}: {} quiet, parser released", peer_, stream_->name());
        return true;
      case TransportGuard::Sweep::kNothing:
        return false;
    }
    return false;
  }
  void shutdown() override { stream_->on_shutdown(); }

  // StreamTransport
  void open(const StreamHeader& header) override { queue(framing_open(header.from, header.id, header.to)); }
  void send(OutStanza out) override {
    if (torn_down_ || close_after_flush_) return;
    append_message(framed_pieces(out));
  }
  void close(const std::string& stream_error) override {
    if (torn_down_ || close_after_flush_) return;
    // RFC 7395 §3.5-§3.6: the error in its own message, then <close/>, then the WebSocket closing handshake.
    if (!stream_error.empty()) queue(stream_error);
    queue(framing_close());
    close_after_flush_ = true;
    if (in_feed_) parser_->stop();
  }
  bool can_starttls() const override { return false; }  // RFC 7395 §3.9
  metrics::Transport kind() const override { return metrics::Transport::kWebSocket; }
  void starttls() override {}
  void restart() override {}  // the client sends a new <open/> (RFC 7395 §3.7)
  bool secure() const override { return secure_; }
  std::vector<std::pair<std::string, std::string>> channel_bindings() const override {
    if constexpr (kIsTls<Stream>) return net::channel_bindings(const_cast<WsSession*>(this)->cork().next_layer().native_handle());
    else return {};
  }
  std::vector<std::pair<std::string, std::string>> compat_channel_bindings() const override {
    if constexpr (kIsTls<Stream>) return net::compat_channel_bindings(const_cast<WsSession*>(this)->cork().next_layer().native_handle());
    else return {};
  }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(worker_.io(), delay);
    timer->async_wait([self = this->shared_from_this(), timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec && !self->torn_down_) fn();
    });
  }
  const std::string& peer_address() const override { return peer_; }
  void set_established() override { guard_.established(); }

 private:
  awaitable<void> serve(std::shared_ptr<WsSession> self, bhttp::request<bhttp::string_body> req) {
    const HttpConfig& cfg = cfg_;
    websocket::stream_base::timeout opt{};
    opt.handshake_timeout = kHandshakeTimeout;
    if (cfg.websocket_ping.count() > 0) {
      // Beast pings after half the idle time and gives up when nothing at all came back by its end.
      opt.idle_timeout = cfg.websocket_ping * 2;
      opt.keep_alive_pings = true;
    } else {
      opt.idle_timeout = websocket::stream_base::none();
      opt.keep_alive_pings = false;
    }
    ws_.set_option(opt);
    bool tls = kIsTls<Stream>;
    auto hsts = cfg.hsts_max_age;
    ws_.set_option(websocket::stream_base::decorator([tls, hsts](websocket::response_type& res) {
      res.set(bhttp::field::sec_websocket_protocol, "xmpp");  // RFC 7395 §3.1
      res.set(bhttp::field::server, "Causerie");
      for (const auto& [k, v] : security_headers(tls, hsts)) res.set(k, v);
    }));
    // We count message bytes ourselves so that an oversized message gets an XMPP stream error first.
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    ws_.text(true);
    boost::system::error_code ec;
    co_await ws_.async_accept(req, asio::redirect_error(kToken, ec));
    if (ec) {
      spdlog::debug("ws {}: handshake failed: {}", peer_, ec.message());
      co_return;
    }
    cork().set_corked();  // the 101 response went straight out; from now on output waits for flush()
    worker_.add(self);
    const auto& lim = services_.config().limits;
    parser_ = std::make_unique<xml::StreamParser>(static_cast<xml::StreamParser::Handler&>(*this),
                                                  xml::StreamLimits{lim.max_stanza_bytes, lim.max_depth});
    parser_->set_fragment_mode(true);
    co_await read_loop();
    teardown();
  }

  awaitable<void> read_loop() {
    beast::flat_buffer buf;
    boost::system::error_code ec;
    const size_t max_message = services_.config().limits.max_stanza_bytes;
    while (!torn_down_) {
      // Beast hands over each message it already holds one loop turn later, behind the worker's flush.
      // Holding the flush until Beast goes back to the socket (cork_reading) lets every message of one
      // socket read be handled before anything is written: one write per recipient, as over TCP.
      hold_flush();
      size_t n = co_await ws_.async_read_some(buf, kWsReadChunk, asio::redirect_error(kToken, ec));
      if (ec || torn_down_) {
        release_flush();
        co_return;  // closed by the peer (after our close, or not), or broken
      }
      guard_.input();
      std::string_view data(static_cast<const char*>(buf.data().data()), n);
      if (close_after_flush_) {
        buf.consume(n);  // our stream is over: discard until the close handshake completes
        continue;
      }
      if (ws_.got_binary()) {
        framing_error("WebSocket messages must be text (RFC 7395 §3.2)");
      } else {
        if (message_bytes_ == 0 && (data.empty() || data.front() != '<') && !(n == 0 && !ws_.is_message_done())) {
          framing_error("each message must start with '<' (RFC 7395 §3.3.3)");
        }
        // Each message is a document of its own, which may open with an XML declaration (§3.3.3).
        if (message_bytes_ == 0) parser_->begin_document();
        message_bytes_ += n;
        if (!close_after_flush_ && message_bytes_ > max_message) {
          close_code_ = websocket::close_code::too_big;  // RFC 6455 §7.4.1: 1009
          stream_->on_end(StreamErrorCondition::kPolicyViolation,
                "message exceeds the stanza size limit of " + std::to_string(max_message) + " bytes");
        }
        if (!close_after_flush_) feed(data);
        if (!close_after_flush_ && ws_.is_message_done()) {
          if (elements_in_message_ != 1 || !parser_->between_elements())
            framing_error("each message must hold exactly one complete XML element (RFC 7395 §3.3.3)");
          message_bytes_ = 0;
          elements_in_message_ = 0;
        }
      }
      buf.consume(n);
      // An idle session holds no read buffer (issue 3, memory per session): jemalloc makes the next
      // message's allocation cheap.
      if (ws_.is_message_done()) buf.shrink_to_fit();
    }
  }

  void feed(std::string_view data) {
    in_feed_ = true;
    auto status = parser_->feed(data);
    in_feed_ = false;
    if (status == xml::StreamParser::Status::kError) stream_->on_parse_error(parser_->error(), parser_->error_text());
  }

  void framing_error(std::string_view why) {
    if (close_after_flush_) return;
    close_code_ = websocket::close_code::protocol_error;
    stream_->on_end(StreamErrorCondition::kBadFormat, why);
  }

  // StreamParser::Handler (fragment mode: only on_element is called)
  void on_stream_open(const xml::Element&, std::string_view) override {}
  void on_stream_close() override {}
  void on_element(xml::Element&& el) override {
    if (close_after_flush_) return;
    if (++elements_in_message_ > 1) {
      framing_error("each message must hold exactly one complete XML element (RFC 7395 §3.3.3)");
      return;
    }
    bool header_name = el.name() == "open" || el.name() == "close";
    if (header_name && el.ns() != ns::kFraming) {
      stream_->on_end(StreamErrorCondition::kInvalidNamespace, "<open/> and <close/> belong to urn:ietf:params:xml:ns:xmpp-framing");
      return;
    }
    if (el.ns() == ns::kFraming) {
      if (el.name() == "open") open_stream(el);
      else if (el.name() == "close") stream_->on_stream_close();
      else framing_error("unknown framing element");
      return;
    }
    stream_->on_element(std::move(el));
  }

  void open_stream(const xml::Element& open) {
    const std::string& elsewhere = cfg_.websocket_see_other_uri;
    if (!elsewhere.empty()) {
      // RFC 7395 §3.4 and §3.6.1: answer the <open/> with a <close/> naming the other endpoint.
      queue(framing_close(elsewhere));
      close_after_flush_ = true;
      notify_disconnect();
      if (in_feed_) parser_->stop();
      return;
    }
    // The <open/> attributes are those of a stream header (RFC 7395 §3.3.1).
    xml::Element header("stream", ns::kStream);
    for (const auto& a : open.attrs()) header.set_attr(a.name, a.value);
    stream_->on_stream_open(header, ns::kClient);
  }

  // Framing elements and stream errors: framed_pieces() declares the 'stream' prefix they may use.
  void queue(std::string bytes) {
    if (torn_down_) return;
    OutStanza out{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther};
    append_message(framed_pieces(out));
  }

  // One stanza, one WebSocket message (RFC 7395 §3.3.3), framed straight into the buffer the next flush
  // writes: the bytes are copied once here instead of being queued and handed to Beast one by one.
  void append_message(const FramedPieces& p) {
    // Once Beast has sent a close frame (ours, or the answer to the peer's), nothing may follow it.
    if (!ws_.is_open() || cork().failed()) return;
    // DESIGN §1 back-pressure: what waits in the cork buffer, written or not yet, is the output queue.
    if (!guard_.output_fits(cork().buffered() + p.size() + kWsMaxFrameHeader)) {
      spdlog::warn("ws {}: output queue over {} bytes, disconnecting", peer_, guard_.output_limit());
      teardown();
      return;
    }
    append_ws_text_frame(cork().pending(), p);
    mark_dirty();
  }

  void mark_dirty() {
    if (dirty_) return;
    dirty_ = true;
    worker_.mark_dirty(this->shared_from_this());
  }

  // RFC 7395 §3.6: after our <close/>, the WebSocket closing handshake.
  awaitable<void> close_stream(std::shared_ptr<WsSession> self) {
    boost::system::error_code ec;
    co_await ws_.async_close(websocket::close_reason(close_code_), asio::redirect_error(kToken, ec));
    notify_disconnect();
    if (ec) teardown();
  }

  // CorkOwner
  void cork_wants_flush() override { mark_dirty(); }
  void cork_failed() override { teardown(); }
  void cork_reading() override { release_flush(); }

  void hold_flush() {
    if (holding_flush_) return;
    holding_flush_ = true;
    worker_.hold_flush();
  }
  void release_flush() {
    if (!holding_flush_) return;
    holding_flush_ = false;
    worker_.release_flush();
  }

  CorkedStream<Stream>& cork() { return ws_.next_layer(); }

  void notify_disconnect() {
    if (disconnected_) return;
    disconnected_ = true;
    stream_->on_disconnect();
  }

  void teardown() {
    release_flush();
    if (torn_down_) return;
    torn_down_ = true;
    notify_disconnect();
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    cork().discard();
    worker_.post([w = &worker_, id = id()] { w->remove(id); });
  }

  ServerServices& services_;
  const HttpConfig& cfg_;
  net::Worker& worker_;
  uint64_t id_;
  websocket::stream<CorkedStream<Stream>> ws_;
  std::string peer_;
  bool secure_;
  TransportGuard guard_;
  std::unique_ptr<C2sStream> stream_;
  std::unique_ptr<xml::StreamParser> parser_;
  size_t message_bytes_ = 0;
  unsigned elements_in_message_ = 0;
  websocket::close_code close_code_ = websocket::close_code::normal;
  bool dirty_ = false;
  bool in_feed_ = false;
  bool close_after_flush_ = false;
  bool close_sent_ = false;
  bool holding_flush_ = false;  // this session holds its worker's flush (see read_loop)
  bool torn_down_ = false;
  bool disconnected_ = false;  // the stream was told
};

}  // namespace causerie::http::detail
