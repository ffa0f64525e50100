// HttpDispatch: what the requests of one HTTP connection mean, whatever stream they arrive on — the
// WebSocket and BOSH endpoints (BOSH bodies handed to their sessions, on whichever worker they live),
// XEP-0156 host-meta, CORS preflights, the modules' routes — and the response each answer becomes, with
// the security and CORS headers. HttpConnection<Stream> (http_connection.hpp) reads and writes the bytes;
// keeping this part out of the template compiles it once instead of once per stream.
//
// Thread rules: owned by one connection, on its worker; answers produced on other threads (a module's
// route handler, a BOSH session on another worker) are posted back to that worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/span_body.hpp>

#include "core/router/out_stanza.hpp"
#include "http/http_context.hpp"
#include "http/http_policy.hpp"
#include "http/http_streams.hpp"

namespace causerie::http::detail {

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  HeaderList headers;
  SharedBytes body;
  bool close = false;

  static Reply make(int status, std::string body, std::string type = "text/plain; charset=utf-8");
};

using HttpResponse = bhttp::response<bhttp::span_body<const char>>;

class HttpDispatch {
 public:
  HttpDispatch(HttpContext& ctx, net::Worker& worker, std::string peer, bool tls, bool loopback, uint16_t port);

  const std::string& peer() const { return peer_; }
  // HTTPS, or loopback when the configuration counts loopback as secure (SASL PLAIN, channel binding).
  bool secure() const { return tls_ || (loopback_ && ctx_.config.loopback_is_secure); }

  // The answer to a request that is not a WebSocket upgrade; `path` is percent-decoded, `target` as sent.
  awaitable<Reply> dispatch(HttpRequest& req, const std::string& path, std::string_view target);
  // Why a WebSocket upgrade request is refused (missing 'xmpp' subprotocol, origin not allowed), if it is.
  std::optional<Reply> refuse_upgrade(const HttpRequest& req) const;
  // The response that carries `reply`; it points into reply.body, which must outlive it.
  HttpResponse response(const Reply& reply, unsigned version, bool keep_alive, bool head = false,
                        std::string_view origin = {}) const;

 private:
  struct PendingReply;
  awaitable<Reply> wait_for(std::shared_ptr<PendingReply> pending, std::chrono::seconds limit, int timeout_status);
  awaitable<Reply> route(HttpRequest& req, const std::string& path, std::string_view target);
  awaitable<Reply> bosh(const std::string& text);
  Reply preflight(const HttpRequest& req, const std::string& origin) const;
  Reply admin(const HttpRequest& req, const std::string& path) const;
  Reply host_meta(const HttpRequest& req, bool json) const;

  HttpContext& ctx_;
  net::Worker& worker_;
  std::string peer_;
  bool tls_;
  bool loopback_;
  uint16_t port_;
};

}  // namespace causerie::http::detail
