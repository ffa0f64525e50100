// HttpService: the server's HTTP/1.1 listeners (Boost.Beast), plain and TLS, and what they serve —
// XMPP over WebSocket (RFC 7395) and over BOSH (XEP-0124/0206), XEP-0156 host-meta, and every route
// modules registered in web::Routes — with CORS, security headers and limits on each connection.
//
// Thread rules: constructed and started at startup; each accepted connection then lives on one worker
// (round robin), and a WebSocket or BOSH session lives on one worker like a TCP client. This header is
// free of Asio and Beast on purpose: only the few src/http units that do I/O pay for them (http_streams.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/module/module.hpp"
#include "core/stream/auth_throttle.hpp"

namespace causerie::net {
class WorkerPool;
class TlsContext;
}  // namespace causerie::net

namespace causerie::http {

class BoshRegistry;

class HttpService {
 public:
  // `bosh` must outlive the worker pool (sessions still queued on a worker unregister on destruction);
  // this service must be destroyed before the pool (its acceptors run on worker 0).
  HttpService(net::WorkerPool& pool, ServerServices& services, AuthThrottle& throttle, const net::TlsContext& tls,
              BoshRegistry& bosh);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Binds a listener of type "http" or "admin" now, so a port in use is a ConfigError at startup. An
  // admin listener serves only GET /metrics (Prometheus text), with what `render` returns.
  void add_listener(const ListenerConfig& config);
  void set_metrics(std::function<std::string()> render);
  void start();
  void stop();
  std::vector<uint16_t> ports() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace causerie::http
