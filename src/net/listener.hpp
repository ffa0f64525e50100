// C2sListener: accepts client connections on one address and port and hands each to a worker (round
// robin), where it lives from then on. The acceptor itself runs on worker 0. Bound at construction, so
// a port in use is reported at startup as a ConfigError.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/config/config.hpp"
#include "core/module/module.hpp"
#include "core/stream/auth_throttle.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

class C2sListener {
 public:
  C2sListener(WorkerPool& pool, ServerServices& services, AuthThrottle& throttle, const TlsContext& tls,
              const ListenerConfig& config);
  void start();
  void stop();
  uint16_t port() const;

 private:
  void accept_next();
  WorkerPool& pool_;
  ServerServices& services_;
  AuthThrottle& throttle_;
  const TlsContext& tls_;
  ListenerConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
};

// Opens, configures and binds an acceptor on io; throws ConfigError naming the address on failure.
boost::asio::ip::tcp::acceptor bind_acceptor(boost::asio::io_context& io, const std::string& address, uint16_t port);

}  // namespace causerie::net
