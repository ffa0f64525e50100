// HttpContext: what every HTTP connection of an HttpService shares (the worker pool, the server's services,
// the HTTP settings, the BOSH sessions, the TLS context), and the entry points that start a connection on
// an accepted socket, one per kind of stream. Internal to src/http: http_server.cpp accepts and calls
// them; they live in http_connection_plain.cpp and http_connection_tls.cpp, the only units that compile
// Beast's HTTP (and TLS) code, so that http_server.cpp does not.
//
// Thread rules: built at startup and read-only afterwards, but for the HTTPS context, which follows the
// TlsContext's certificates after a reload (under its mutex); a connection lives on the worker it is
// started on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "core/config/config.hpp"
#include "core/module/module.hpp"
#include "core/stream/auth_throttle.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace boost::asio::ssl {
class context;
}

namespace causerie::net {
class TlsContext;
class Worker;
class WorkerPool;
}  // namespace causerie::net

namespace causerie::http {

class BoshRegistry;

namespace detail {

// The Asio TLS context of HTTPS listeners, over the TlsContext's current default SSL_CTX: rebuilt by the
// first connection after a certificate reload.
struct HttpsContext {
  const net::TlsContext& tls;
  std::mutex mutex;
  SSL_CTX* built_from = nullptr;
  std::shared_ptr<boost::asio::ssl::context> current;
};

struct HttpContext {
  net::WorkerPool& pool;
  ServerServices& services;
  AuthThrottle& throttle;
  const HttpConfig& config;
  BoshRegistry& bosh;
  std::shared_ptr<HttpsContext> https;  // for listeners with tls = "direct"
  // An admin listener's connections (type "admin"): only the pages below, no XMPP endpoints or routes.
  bool admin = false;
  // The Prometheus text of GET /metrics (admin listeners); called on the connection's worker.
  std::function<std::string()> metrics;
};

// Serves HTTP on `socket` (on `worker`'s thread) until the connection ends or becomes a WebSocket.
void start_http_connection(HttpContext& ctx, net::Worker& worker, boost::asio::ip::tcp::socket socket,
                           std::string peer, bool loopback, uint16_t port);
// The same after a TLS handshake (https, wss).
void start_https_connection(HttpContext& ctx, net::Worker& worker, boost::asio::ip::tcp::socket socket,
                            std::string peer, bool loopback, uint16_t port);
// The Asio TLS context for a new HTTPS connection: on the TlsContext's current certificates.
std::shared_ptr<boost::asio::ssl::context> https_context(HttpsContext& https);

}  // namespace detail
}  // namespace causerie::http
