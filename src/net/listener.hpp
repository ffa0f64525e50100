// TcpListener: accepts connections on one address and port and hands each to a worker (round robin),
// where it lives from then on as a TcpTransport carrying the stream protocol the listener's kind attaches
// (make_c2s_listener, make_component_listener). The acceptor itself runs on worker 0. Bound at
// construction, so a port in use is reported at startup as a ConfigError.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/config/config.hpp"
#include "core/module/module.hpp"
#include "core/stream/auth_throttle.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::component {
class ComponentRegistry;
}

namespace causerie::net {

class TcpTransport;

class TcpListener {
 public:
  // Gives a connection just accepted its protocol (TcpTransport::set_handler), on its worker's thread.
  using Attach = std::function<void(TcpTransport& transport, Worker& worker)>;
  // make_ssl: a new server SSL for each connection (per config.tls), or nullptr when it is "none".
  TcpListener(WorkerPool& pool, const LimitsConfig& limits, const ListenerConfig& config,
              std::function<SSL*()> make_ssl, Attach attach);
  void start();
  void stop();
  uint16_t port() const;

 private:
  void accept_next();
  WorkerPool& pool_;
  const LimitsConfig& limits_;
  ListenerConfig config_;
  std::function<SSL*()> make_ssl_;
  Attach attach_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
};

// Client streams (RFC 6120, C2sStream), with STARTTLS or direct TLS as the listener's config says.
std::unique_ptr<TcpListener> make_c2s_listener(WorkerPool& pool, ServerServices& services, AuthThrottle& throttle,
                                               const TlsContext& tls, const ListenerConfig& config);
// External components (XEP-0114, ComponentStream), in the clear.
std::unique_ptr<TcpListener> make_component_listener(WorkerPool& pool, ServerServices& services,
                                                     component::ComponentRegistry& components,
                                                     const ListenerConfig& config);

// Opens, configures and binds an acceptor on io; throws ConfigError naming the address on failure.
boost::asio::ip::tcp::acceptor bind_acceptor(boost::asio::io_context& io, const std::string& address, uint16_t port);

}  // namespace causerie::net
