// HttpConnection<Stream>: one HTTP/1.1 connection (Boost.Beast, a C++20 coroutine on its worker's
// io_context), plain or TLS: the TLS handshake, reading requests within the header, body and rate limits,
// writing responses, keep-alive, the close, and the hand-over of an upgrade request to its WebSocket
// session (websocket_session.hpp). What a request means is HttpDispatch's business (http_dispatch.hpp).
// Internal to src/http: included only by http_connection_plain.cpp and http_connection_tls.cpp, one
// stream each.
//
// Thread rules: lives on the worker it was started on, which runs its coroutine; nothing is locked.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "core/web/routes.hpp"
#include "http/http_dispatch.hpp"
#include "http/http_streams.hpp"
#include "http/websocket_session.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http::detail {

template <class Stream>
class HttpConnection : public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  HttpConnection(HttpContext& ctx, net::Worker& worker, Stream&& stream, std::string peer, bool loopback,
                 uint16_t port)
      : ctx_(ctx),
        cfg_(ctx.config),
        worker_(worker),
        stream_(std::move(stream)),
        http_(ctx, worker, std::move(peer), kIsTls<Stream>, loopback, port),
        rate_(cfg_.requests_per_second) {}

  static awaitable<void> run(std::shared_ptr<HttpConnection> self) { return self->serve(self); }

 private:
  awaitable<void> serve(std::shared_ptr<HttpConnection> self) {
    boost::system::error_code ec;
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(kToken, ec));
      if (ec) {
        spdlog::debug("http {}: TLS handshake failed: {}", http_.peer(), ec.message());
        co_return;
      }
    }
    beast::flat_buffer buf;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(cfg_.max_header_bytes));
      parser.body_limit(cfg_.max_body_bytes);
      beast::get_lowest_layer(stream_).expires_after(first ? kHandshakeTimeout + cfg_.idle_timeout : cfg_.idle_timeout);
      first = false;
      // The header first: a route may take a larger body than the listener's default (uploads).
      co_await bhttp::async_read_header(stream_, buf, parser, asio::redirect_error(kToken, ec));
      if (!ec) {
        std::string_view head_target = sv(parser.get().target());
        std::string head_path = web::percent_decode(head_target.substr(0, head_target.find('?')), false);
        size_t limit = ctx_.services.http.body_limit(sv(parser.get().method_string()), head_path);
        if (limit > cfg_.max_body_bytes) parser.body_limit(limit);
        if (!parser.is_done()) co_await bhttp::async_read(stream_, buf, parser, asio::redirect_error(kToken, ec));
      }
      if (ec == bhttp::error::header_limit) {
        co_await write(Reply::make(431, "request header too large\n"), 11, false);
        break;
      }
      if (ec == bhttp::error::body_limit) {
        co_await write(Reply::make(413, "request body too large\n"), 11, false);
        break;
      }
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
        break;
      if (ec) {
        co_await write(Reply::make(400, "malformed request\n"), 11, false);
        break;
      }
      auto& req = parser.get();
      // A large body (BOSH payloads) must not leave a large buffer on a long-lived connection.
      if (buf.size() == 0 && buf.capacity() > 16 * 1024) buf.shrink_to_fit();
      if (!rate_.allow(std::chrono::steady_clock::now())) {
        // Bounded per connection (DESIGN §6.9): a client that floods us is told once and let go.
        spdlog::info("http {}: more than {} requests per second, closing", http_.peer(), cfg_.requests_per_second);
        co_await write(Reply::make(429, "too many requests\n"), req.version(), false);
        break;
      }
      std::string_view target = sv(req.target());
      std::string_view raw_path = target.substr(0, target.find('?'));
      std::string path = web::percent_decode(raw_path, false);
      if (!ctx_.admin && path == cfg_.websocket_path && beast::websocket::is_upgrade(req)) {
        co_await upgrade(parser.release());
        co_return;  // the stream now belongs to the WebSocket session
      }
      Reply reply = co_await http_.dispatch(req, path, target);
      bool keep = req.keep_alive() && !reply.close;
      bool head = req.method() == bhttp::verb::head;
      if (!co_await write(std::move(reply), req.version(), keep, head, sv(req[bhttp::field::origin]))) break;
      if (!keep) break;
    }
    co_await close_stream();
  }

  awaitable<void> upgrade(HttpRequest req) {
    if (auto refusal = http_.refuse_upgrade(req)) {
      co_await write(std::move(*refusal), req.version(), false);
      co_await close_stream();
      co_return;
    }
    beast::get_lowest_layer(stream_).expires_never();
    auto session = std::make_shared<WsSession<Stream>>(ctx_.services, ctx_.throttle, worker_, std::move(stream_),
                                                       http_.peer(), http_.secure());
    co_await WsSession<Stream>::run(session, std::move(req));
  }

  // Writes one response; false when the connection failed.
  awaitable<bool> write(Reply reply, unsigned version, bool keep_alive, bool head = false, std::string_view origin = {}) {
    HttpResponse res = http_.response(reply, version, keep_alive, head, origin);
    beast::get_lowest_layer(stream_).expires_after(cfg_.idle_timeout);
    boost::system::error_code ec;
    co_await bhttp::async_write(stream_, res, asio::redirect_error(kToken, ec));
    co_return !ec;
  }

  awaitable<void> close_stream() {
    boost::system::error_code ec;
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      co_await stream_.async_shutdown(asio::redirect_error(kToken, ec));
    }
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    beast::get_lowest_layer(stream_).close();
  }

  HttpContext& ctx_;
  const HttpConfig& cfg_;
  net::Worker& worker_;
  Stream stream_;
  HttpDispatch http_;
  RateLimiter rate_;
};

// Starts a connection's coroutine on its worker.
template <class Stream>
void start_connection(HttpContext& ctx, net::Worker& worker, Stream&& stream, std::string peer, bool loopback,
                      uint16_t port) {
  auto c = std::make_shared<HttpConnection<Stream>>(ctx, worker, std::move(stream), std::move(peer), loopback, port);
  asio::co_spawn(worker.io(), HttpConnection<Stream>::run(c), asio::detached);
}

}  // namespace causerie::http::detail
