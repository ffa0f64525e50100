// What an HTTP request means (http_dispatch.hpp): endpoints, BOSH hand-off, host-meta, CORS and the
// modules' routes. Beast's message types only; the stream I/O is in http_connection.hpp.
#include "http/http_dispatch.hpp"

#include <cctype>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/web/routes.hpp"
#include "http/bosh_registry.hpp"
#include "http/bosh_session.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http::detail {

Reply Reply::make(int status, std::string body, std::string type) {
  Reply r;
  r.status = status;
  r.content_type = std::move(type);
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

// Waits on this connection's thread for an answer produced on any thread (a module's route handler, a
// BOSH session on another worker). Resolved once; later answers are ignored.
struct HttpDispatch::PendingReply {
  explicit PendingReply(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::optional<Reply> reply;
};

HttpDispatch::HttpDispatch(HttpContext& ctx, net::Worker& worker, std::string peer, bool tls, bool loopback,
                           uint16_t port)
    : ctx_(ctx), worker_(worker), peer_(std::move(peer)), tls_(tls), loopback_(loopback), port_(port) {}

awaitable<Reply> HttpDispatch::dispatch(HttpRequest& req, const std::string& path, std::string_view target) {
  if (ctx_.admin) co_return admin(req, path);
  const HttpConfig& cfg = ctx_.config;
  std::string origin(req[bhttp::field::origin]);
  if (req.method() == bhttp::verb::options) co_return preflight(req, origin);
  if (path == cfg.websocket_path) {
    Reply r = Reply::make(426, "this is an XMPP WebSocket endpoint (RFC 7395): connect with the 'xmpp' subprotocol\n");
    r.headers.emplace_back("Upgrade", "websocket");
    co_return r;
  }
  if (path == cfg.bosh_path) {
    if (req.method() != bhttp::verb::post) {
      Reply r = Reply::make(405, "this is an XMPP BOSH endpoint (XEP-0124, XEP-0206): POST <body/> elements here\n");
      r.headers.emplace_back("Allow", "POST, OPTIONS");
      co_return r;
    }
    co_return co_await bosh(req.body());
  }
  bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
  if (path == "/.well-known/host-meta" || path == "/.well-known/host-meta.json") {
    if (!get) {
      Reply r = Reply::make(405, "method not allowed\n");
      r.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
      co_return r;
    }
    co_return host_meta(req, path.ends_with(".json"));
  }
  // Everything else: the modules' routes (blog pages, uploads, …).
  co_return co_await route(req, path, target);
}

awaitable<Reply> HttpDispatch::route(HttpRequest& req, const std::string& path, std::string_view target) {
  bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
  std::string method(get ? std::string_view("GET") : sv(req.method_string()));
  const web::Handler* handler = ctx_.services.http.find(method, path);
  if (!handler) {
    if (ctx_.services.http.has_path(path)) co_return Reply::make(405, "method not allowed\n");
    co_return Reply::make(404, "not found\n");
  }
  web::Request r;
  r.method = method;
  r.path = path;
  size_t q = target.find('?');
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  r.body = std::move(req.body());
  r.peer = peer_;
  r.secure = tls_;
  std::string host(req[bhttp::field::host]);
  r.host = host.substr(0, host[0] == '[' ? host.find(']') + 1 : host.find(':'));
  auto pending = std::make_shared<PendingReply>(worker_.io());
  web::Respond respond = [pending, w = &worker_](web::Response res) {
    w->post([pending, res = std::move(res)]() mutable {
      if (pending->reply) return;
      Reply reply = Reply::make(res.status, std::move(res.body), std::move(res.content_type));
      reply.headers = std::move(res.headers);
      pending->reply = std::move(reply);
      pending->timer.cancel();
    });
  };
  try {
    (*handler)(r, std::move(respond));
  } catch (const std::exception& e) {
    spdlog::error("http {} {}: handler failed: {}", method, path, e.what());
    co_return Reply::make(500, "internal server error\n");
  }
  co_return co_await wait_for(pending, std::chrono::seconds(60), 504);
}

awaitable<Reply> HttpDispatch::wait_for(std::shared_ptr<PendingReply> pending, std::chrono::seconds limit,
                                        int timeout_status) {
  if (!pending->reply) {
    pending->timer.expires_after(limit);
    boost::system::error_code ec;
    co_await pending->timer.async_wait(asio::redirect_error(kToken, ec));
  }
  if (!pending->reply) {
    pending->reply = Reply::make(timeout_status, "no answer in time\n");
  }
  co_return std::move(*pending->reply);
}

Reply HttpDispatch::admin(const HttpRequest& req, const std::string& path) const {
  bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
  if (path != "/metrics" && path != "/") return Reply::make(404, "not found (this admin listener serves /metrics)\n");
  if (!get) {
    Reply r = Reply::make(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/") return Reply::make(200, "Causerie admin listener: /metrics (Prometheus text format 0.0.4)\n");
  // Prometheus text exposition format 0.0.4 (its content type names the version).
  return Reply::make(200, ctx_.metrics ? ctx_.metrics() : std::string(), "text/plain; version=0.0.4; charset=utf-8");
}

Reply HttpDispatch::preflight(const HttpRequest& req, const std::string& origin) const {
  auto allow = cors_allow_origin(ctx_.config.cors_origins, origin);
  bool is_preflight = !origin.empty() && !req[bhttp::field::access_control_request_method].empty();
  if (is_preflight && !allow) return Reply::make(403, "origin not allowed\n");
  Reply r = Reply::make(204, "");
  r.content_type.clear();
  if (is_preflight) r.headers = cors_preflight_headers(*allow, sv(req[bhttp::field::access_control_request_headers]));
  else r.headers.emplace_back("Allow", "GET, HEAD, POST, PUT, OPTIONS");
  return r;
}

Reply HttpDispatch::host_meta(const HttpRequest& req, bool json) const {
  std::string host = safe_host(sv(req[bhttp::field::host]));
  if (host.empty()) host = ctx_.services.config().hosts.front().name + ":" + std::to_string(port_);
  Endpoints e = endpoints_for(tls_, host, ctx_.config.bosh_path, ctx_.config.websocket_path);
  if (json) return Reply::make(200, host_meta_json(e), "application/json");
  return Reply::make(200, host_meta_xrd(e), "application/xrd+xml; charset=utf-8");
}

awaitable<Reply> HttpDispatch::bosh(const std::string& text) {
  const auto& lim = ctx_.services.config().limits;
  BoshBody parsed = parse_bosh_body(text, xml::StreamLimits{lim.max_stanza_bytes, lim.max_depth});
  if (!parsed.body && (parsed.sid.empty() || parsed.condition != "policy-violation")) {
    // XEP-0124 §17.2: a malformed wrapper is bad-request, reported with 200 to modern clients.
    co_return Reply::make(200, bosh_terminate_body(parsed.condition), "text/xml; charset=utf-8");
  }
  auto pending = std::make_shared<PendingReply>(worker_.io());
  BoshResponder respond = [pending, w = &worker_](BoshResponse res) {
    w->post([pending, res = std::move(res)]() mutable {
      if (pending->reply) return;
      Reply reply;
      reply.content_type = std::move(res.content_type);
      reply.body = std::move(res.body);
      pending->reply = std::move(reply);
      pending->timer.cancel();
    });
  };
  const std::string& sid = parsed.sid;
  if (sid.empty()) {
    // Session creation: the session lives on this connection's worker from now on.
    auto session = std::make_shared<BoshSession>(worker_, ctx_.services, ctx_.throttle, ctx_.bosh, peer_, secure());
    session->create(*parsed.body, std::move(respond));
  } else if (auto ref = ctx_.bosh.find(sid)) {
    net::Worker* target = &ctx_.pool.worker(ref->worker);
    target->post([target, id = ref->id, body = std::move(parsed.body), condition = std::move(parsed.condition),
                  respond = std::move(respond)]() mutable {
      auto* session = dynamic_cast<BoshSession*>(target->find(id));
      if (!session)
        respond(BoshResponse{std::make_shared<const std::string>(bosh_terminate_body("item-not-found")),
                             "text/xml; charset=utf-8"});
      else if (body)
        session->request(std::move(*body), std::move(respond));
      else
        session->refuse(condition, std::move(respond));  // a payload over the stanza limits
    });
  } else {
    co_return Reply::make(200, bosh_terminate_body("item-not-found"), "text/xml; charset=utf-8");
  }
  // A held request is answered within 'wait'; the margin covers a slow storage lookup.
  Reply r = co_await wait_for(pending, ctx_.config.bosh_max_wait + std::chrono::seconds(30), 200);
  if (!r.body || r.status != 200 || r.content_type.starts_with("text/plain")) {
    r = Reply::make(200, bosh_terminate_body("internal-server-error"), "text/xml; charset=utf-8");
  }
  co_return r;
}

std::optional<Reply> HttpDispatch::refuse_upgrade(const HttpRequest& req) const {
  // RFC 7395 §3.1: the 'xmpp' subprotocol is what makes this an XMPP stream.
  if (!header_has_token(sv(req[bhttp::field::sec_websocket_protocol]), "xmpp"))
    return Reply::make(400, "the 'xmpp' WebSocket subprotocol is required (RFC 7395 §3.1)\n");
  std::string origin(req[bhttp::field::origin]);
  if (!origin.empty() && !cors_allow_origin(ctx_.config.cors_origins, origin))
    return Reply::make(403, "origin not allowed\n");
  return std::nullopt;
}

HttpResponse HttpDispatch::response(const Reply& reply, unsigned version, bool keep_alive, bool head,
                                    std::string_view origin) const {
  const HttpConfig& cfg = ctx_.config;
  HttpResponse res{static_cast<bhttp::status>(reply.status), version};
  res.set(bhttp::field::server, "Causerie");
  if (!reply.content_type.empty()) res.set(bhttp::field::content_type, reply.content_type);
  for (const auto& [k, v] : security_headers(tls_, cfg.hsts_max_age)) res.set(k, v);
  bool has_cors = false;
  for (const auto& [k, v] : reply.headers) {
    res.set(k, v);
    has_cors = has_cors || k == "Access-Control-Allow-Origin";
  }
  if (!has_cors) {
    if (auto allow = cors_allow_origin(cfg.cors_origins, origin)) {
      res.set(bhttp::field::access_control_allow_origin, *allow);
      if (*allow != "*") res.set(bhttp::field::vary, "Origin");
    }
  }
  res.keep_alive(keep_alive);
  size_t size = reply.body ? reply.body->size() : 0;
  if (reply.status == 204 || reply.status == 304) {
    res.body() = {};
  } else {
    res.body() = head || !reply.body ? beast::span<const char>() : beast::span<const char>(reply.body->data(), size);
    res.content_length(size);
  }
  return res;
}

}  // namespace causerie::http::detail
