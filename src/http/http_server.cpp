// The HTTP/1.1 listener (Boost.Beast, C++20 coroutines on each worker's io_context): connections, limits,
// request dispatch, the upgrade to XMPP over WebSocket (websocket_session.hpp) and the hand-off of BOSH
// requests to their sessions (bosh_session.hpp). Pure decisions live in http_policy, bosh_rules and
// xmpp_framing.
#include "http/http_server.hpp"

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "core/stream/c2s_stream.hpp"
#include "core/web/routes.hpp"
#include "core/xml/namespaces.hpp"
#include "http/bosh_registry.hpp"
#include "http/bosh_session.hpp"
#include "http/http_policy.hpp"
#include "http/websocket_session.hpp"
#include "http/xmpp_framing.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http {

using namespace detail;
using asio::ip::tcp;
using PlainStream = beast::tcp_stream;

namespace {
std::string_view sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }
}  // namespace

struct HttpService::Impl {
  net::WorkerPool& pool;
  ServerServices& services;
  AuthThrottle& throttle;
  const HttpConfig& config;
  asio::ssl::context ssl;
  BoshRegistry& bosh;
  struct Listener {
    ListenerConfig config;
    tcp::acceptor acceptor;
    asio::steady_timer retry;
  };
  std::vector<std::unique_ptr<Listener>> listeners;

  Impl(net::WorkerPool& p, ServerServices& s, AuthThrottle& t, const net::TlsContext& tls, BoshRegistry& b)
      : pool(p), services(s), throttle(t), config(s.config.http), ssl(up_ref(tls.default_ctx())), bosh(b) {}

  static SSL_CTX* up_ref(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);  // asio::ssl::context frees its handle; the TlsContext keeps its own reference
    return ctx;
  }

  void accept_next(Listener& l);
};

// ======================================================================== HTTP connections

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  HeaderList headers;
  SharedBytes body;
  bool close = false;

  static Reply make(int status, std::string body, std::string type = "text/plain; charset=utf-8") {
    Reply r;
    r.status = status;
    r.content_type = std::move(type);
    r.body = std::make_shared<const std::string>(std::move(body));
    return r;
  }
};

// Waits on this connection's thread for an answer produced on any thread (a module's route handler, a
// BOSH session on another worker). Resolved once; later answers are ignored.
struct PendingReply {
  explicit PendingReply(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Reply> reply;
};

template <class Stream>
class HttpConnection : public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  HttpConnection(HttpService::Impl& svc, net::Worker& worker, Stream&& stream, std::string peer, bool loopback,
                 uint16_t port)
      : svc_(svc),
        cfg_(svc.config),
        worker_(worker),
        stream_(std::move(stream)),
        peer_(std::move(peer)),
        loopback_(loopback),
        port_(port),
        rate_(cfg_.requests_per_second) {}

  static awaitable<void> run(std::shared_ptr<HttpConnection> self) { return self->serve(self); }

 private:
  bool secure() const { return kIsTls<Stream> || (loopback_ && cfg_.loopback_is_secure); }

  awaitable<void> serve(std::shared_ptr<HttpConnection> self) {
    boost::system::error_code ec;
    if constexpr (kIsTls<Stream>) {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(kToken, ec));
      if (ec) {
        spdlog::debug("http {}: TLS handshake failed: {}", peer_, ec.message());
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
      co_await bhttp::async_read(stream_, buf, parser, asio::redirect_error(kToken, ec));
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
        spdlog::info("http {}: more than {} requests per second, closing", peer_, cfg_.requests_per_second);
        co_await write(Reply::make(429, "too many requests\n"), req.version(), false);
        break;
      }
      std::string_view target = sv(req.target());
      std::string_view raw_path = target.substr(0, target.find('?'));
      std::string path = web::percent_decode(raw_path, false);
      if (path == cfg_.websocket_path && websocket::is_upgrade(req)) {
        co_await upgrade(self, parser.release());
        co_return;  // the stream now belongs to the WebSocket session
      }
      Reply reply = co_await dispatch(req, path, target);
      bool keep = req.keep_alive() && !reply.close;
      bool head = req.method() == bhttp::verb::head;
      if (!co_await write(std::move(reply), req.version(), keep, head, sv(req[bhttp::field::origin]))) break;
      if (!keep) break;
    }
    co_await close_stream();
  }

  awaitable<Reply> dispatch(bhttp::request<bhttp::string_body>& req, const std::string& path, std::string_view target) {
    std::string origin(req[bhttp::field::origin]);
    if (req.method() == bhttp::verb::options) co_return preflight(req, origin);
    if (path == cfg_.websocket_path) {
      Reply r = Reply::make(426, "this is an XMPP WebSocket endpoint (RFC 7395): connect with the 'xmpp' subprotocol\n");
      r.headers.emplace_back("Upgrade", "websocket");
      co_return r;
    }
    if (path == cfg_.bosh_path) {
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
    std::string method(get ? std::string_view("GET") : sv(req.method_string()));
    const web::Handler* handler = svc_.services.http.find(method, path);
    if (!handler) {
      if (svc_.services.http.has_path(path)) co_return Reply::make(405, "method not allowed\n");
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
    r.secure = kIsTls<Stream>;
    std::string host(req[bhttp::field::host]);
    r.host = host.substr(0, host[0] == '[' ? host.find(']') + 1 : host.find(':'));
    auto pending = std::make_shared<PendingReply>(stream_.get_executor());
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

  awaitable<Reply> wait_for(std::shared_ptr<PendingReply> pending, std::chrono::seconds limit, int timeout_status) {
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

  Reply preflight(const bhttp::request<bhttp::string_body>& req, const std::string& origin) {
    auto allow = cors_allow_origin(cfg_.cors_origins, origin);
    bool is_preflight = !origin.empty() && !req[bhttp::field::access_control_request_method].empty();
    if (is_preflight && !allow) return Reply::make(403, "origin not allowed\n");
    Reply r = Reply::make(204, "");
    r.content_type.clear();
    if (is_preflight) r.headers = cors_preflight_headers(*allow, sv(req[bhttp::field::access_control_request_headers]));
    else r.headers.emplace_back("Allow", "GET, HEAD, POST, OPTIONS");
    return r;
  }

  Reply host_meta(const bhttp::request<bhttp::string_body>& req, bool json) {
    std::string host = safe_host(sv(req[bhttp::field::host]));
    if (host.empty()) host = svc_.services.config.hosts.front().name + ":" + std::to_string(port_);
    Endpoints e = endpoints_for(kIsTls<Stream>, host, cfg_.bosh_path, cfg_.websocket_path);
    if (json) return Reply::make(200, host_meta_json(e), "application/json");
    return Reply::make(200, host_meta_xrd(e), "application/xrd+xml; charset=utf-8");
  }

  awaitable<Reply> bosh(const std::string& text) {
    const auto& lim = svc_.services.config.limits;
    BoshBody parsed = parse_bosh_body(text, xml::StreamLimits{lim.max_stanza_bytes, lim.max_depth});
    if (!parsed.body && (parsed.sid.empty() || parsed.condition != "policy-violation")) {
      // XEP-0124 §17.2: a malformed wrapper is bad-request, reported with 200 to modern clients.
      co_return Reply::make(200, bosh_terminate_body(parsed.condition), "text/xml; charset=utf-8");
    }
    auto pending = std::make_shared<PendingReply>(stream_.get_executor());
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
      auto session = std::make_shared<BoshSession>(worker_, svc_.services, svc_.throttle, svc_.bosh, peer_, secure());
      session->create(*parsed.body, std::move(respond));
    } else if (auto ref = svc_.bosh.find(sid)) {
      net::Worker* target = &svc_.pool.worker(ref->worker);
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
    Reply r = co_await wait_for(pending, cfg_.bosh_max_wait + std::chrono::seconds(30), 200);
    if (!r.body || r.status != 200 || r.content_type.starts_with("text/plain")) {
      r = Reply::make(200, bosh_terminate_body("internal-server-error"), "text/xml; charset=utf-8");
    }
    co_return r;
  }

  awaitable<void> upgrade(std::shared_ptr<HttpConnection> self, bhttp::request<bhttp::string_body> req) {
    // RFC 7395 §3.1: the 'xmpp' subprotocol is what makes this an XMPP stream.
    if (!header_has_token(sv(req[bhttp::field::sec_websocket_protocol]), "xmpp")) {
      co_await write(Reply::make(400, "the 'xmpp' WebSocket subprotocol is required (RFC 7395 §3.1)\n"), req.version(), false);
      co_await close_stream();
      co_return;
    }
    std::string origin(req[bhttp::field::origin]);
    if (!origin.empty() && !cors_allow_origin(cfg_.cors_origins, origin)) {
      co_await write(Reply::make(403, "origin not allowed\n"), req.version(), false);
      co_await close_stream();
      co_return;
    }
    beast::get_lowest_layer(stream_).expires_never();
    auto session = std::make_shared<WsSession<Stream>>(svc_.services, svc_.throttle, worker_, std::move(stream_), peer_, secure());
    co_await WsSession<Stream>::run(session, std::move(req));
  }

  // Writes one response; false when the connection failed.
  awaitable<bool> write(Reply reply, unsigned version, bool keep_alive, bool head = false, std::string_view origin = {}) {
    bhttp::response<bhttp::span_body<const char>> res{static_cast<bhttp::status>(reply.status), version};
    res.set(bhttp::field::server, "Causerie");
    if (!reply.content_type.empty()) res.set(bhttp::field::content_type, reply.content_type);
    for (const auto& [k, v] : security_headers(kIsTls<Stream>, cfg_.hsts_max_age)) res.set(k, v);
    bool has_cors = false;
    for (const auto& [k, v] : reply.headers) {
      res.set(k, v);
      has_cors = has_cors || k == "Access-Control-Allow-Origin";
    }
    if (!has_cors) {
      if (auto allow = cors_allow_origin(cfg_.cors_origins, origin)) {
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
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    beast::get_lowest_layer(stream_).close();
  }

  HttpService::Impl& svc_;
  const HttpConfig& cfg_;
  net::Worker& worker_;
  Stream stream_;
  std::string peer_;
  bool loopback_;
  uint16_t port_;
  RateLimiter rate_;
};

// ======================================================================== listeners

void HttpService::Impl::accept_next(Listener& l) {
  net::Worker& target = pool.next_worker();
  l.acceptor.async_accept(target.io(), [this, &l, &target](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) return;
    if (ec) {
      spdlog::warn("accept on port {}: {}", l.config.port, ec.message());
      l.retry.expires_after(std::chrono::milliseconds(100));
      l.retry.async_wait([this, &l](const boost::system::error_code& e) {
        if (!e) accept_next(l);
      });
      return;
    }
    boost::system::error_code pec;
    auto remote = socket.remote_endpoint(pec);
    std::string peer = pec ? "unknown" : remote.address().to_string();
    bool loopback = !pec && remote.address().is_loopback();
    bool tls = l.config.tls == TlsMode::kDirect;
    uint16_t port = l.config.port;
    asio::post(target.io(), [this, &target, s = std::move(socket), peer = std::move(peer), loopback, tls, port]() mutable {
      boost::system::error_code e;
      s.set_option(tcp::no_delay(true), e);
      if (tls) {
        auto c = std::make_shared<HttpConnection<TlsStream>>(*this, target, TlsStream(PlainStream(std::move(s)), ssl),
                                                             std::move(peer), loopback, port);
        asio::co_spawn(target.io(), HttpConnection<TlsStream>::run(c), asio::detached);
      } else {
        auto c = std::make_shared<HttpConnection<PlainStream>>(*this, target, PlainStream(std::move(s)),
                                                               std::move(peer), loopback, port);
        asio::co_spawn(target.io(), HttpConnection<PlainStream>::run(c), asio::detached);
      }
    });
    accept_next(l);
  });
}

HttpService::HttpService(net::WorkerPool& pool, ServerServices& services, AuthThrottle& throttle,
                         const net::TlsContext& tls, BoshRegistry& bosh)
    : impl_(std::make_unique<Impl>(pool, services, throttle, tls, bosh)) {}

HttpService::~HttpService() = default;

void HttpService::add_listener(const ListenerConfig& config) {
  asio::io_context& io = impl_->pool.worker(0).io();
  auto l = std::unique_ptr<Impl::Listener>(
      new Impl::Listener{config, net::bind_acceptor(io, config.address, config.port), asio::steady_timer(io)});
  impl_->listeners.push_back(std::move(l));
}

void HttpService::start() {
  for (auto& l : impl_->listeners) {
    Impl::Listener* lp = l.get();
    asio::post(lp->acceptor.get_executor(), [this, lp] { impl_->accept_next(*lp); });
  }
}

void HttpService::stop() {
  for (auto& l : impl_->listeners) {
    Impl::Listener* lp = l.get();
    asio::post(lp->acceptor.get_executor(), [lp] {
      boost::system::error_code ec;
      lp->acceptor.close(ec);
      lp->retry.cancel();
    });
  }
}

std::vector<uint16_t> HttpService::ports() const {
  std::vector<uint16_t> out;
  for (const auto& l : impl_->listeners) out.push_back(l->acceptor.local_endpoint().port());
  return out;
}

}  // namespace causerie::http
