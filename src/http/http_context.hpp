// HttpContext: what every HTTP connection of an HttpService shares (the worker pool, the server's services,
// the HTTP settings, the BOSH sessions, the TLS context), and the entry points that start a connection on
// an accepted socket, one per kind of stream. Internal to src/http: http_server.cpp accepts and calls
// them; they live in http_connection_plain.cpp and http_connection_tls.cpp, the only units that compile
// Beast's HTTP (and TLS) code, so that http_server.cpp does not.
//
// Thread rules: built at startup and read-only afterwards; a connection lives on the worker it is
// started on.
#pragma once

#include <cstdint>
#include <memory>
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
class Worker;
class WorkerPool;
}  // namespace causerie::net

namespace causerie::http {

class BoshRegistry;

namespace detail {

struct HttpContext {
  net::WorkerPool& pool;
  ServerServices& services;
  AuthThrottle& throttle;
  const HttpConfig& config;
  BoshRegistry& bosh;
  std::shared_ptr<boost::asio::ssl::context> ssl;  // for listeners with tls = "direct"
};

// Serves HTTP on `socket` (on `worker`'s thread) until the connection ends or becomes a WebSocket.
void start_http_connection(HttpContext& ctx, net::Worker& worker, boost::asio::ip::tcp::socket socket,
                           std::string peer, bool loopback, uint16_t port);
// The same after a TLS handshake (https, wss).
void start_https_connection(HttpContext& ctx, net::Worker& worker, boost::asio::ip::tcp::socket socket,
                            std::string peer, bool loopback, uint16_t port);
// An Asio TLS context for start_https_connection on `ctx`'s certificates (a reference of its own to ctx).
std::shared_ptr<boost::asio::ssl::context> make_https_context(SSL_CTX* ctx);

}  // namespace detail
}  // namespace causerie::http
