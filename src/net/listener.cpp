#include "net/listener.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/component/component_stream.hpp"
#include "core/stream/c2s_stream.hpp"
#include "net/tcp_transport.hpp"

namespace causerie::net {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::acceptor bind_acceptor(asio::io_context& io, const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  std::string where = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
  if (ec) throw ConfigError("listener " + where + ": '" + address + "' is not an IP address");
  tcp::endpoint ep(addr, port);
  tcp::acceptor acc(io);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && addr.is_v6()) acc.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw ConfigError("cannot listen on " + where + ": " + ec.message());
  return acc;
}

TcpListener::TcpListener(WorkerPool& pool, const LimitsConfig& limits, const ListenerConfig& config,
                         std::function<SSL*()> make_ssl, Attach attach)
    : pool_(pool),
      limits_(limits),
      config_(config),
      make_ssl_(std::move(make_ssl)),
      attach_(std::move(attach)),
      acceptor_(bind_acceptor(pool.worker(0).io(), config.address, config.port)),
      retry_(pool.worker(0).io()) {}

uint16_t TcpListener::port() const { return acceptor_.local_endpoint().port(); }

void TcpListener::start() {
  asio::post(acceptor_.get_executor(), [this] { accept_next(); });
}

void TcpListener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
  });
}

void TcpListener::accept_next() {
  Worker& target = pool_.next_worker();
  acceptor_.async_accept(target.io(), [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors or similar: wait a little rather than spin.
      spdlog::warn("accept on port {}: {}", config_.port, ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](const boost::system::error_code& e) {
        if (!e) accept_next();
      });
      return;
    }
    boost::system::error_code pec;
    auto remote = socket.remote_endpoint(pec);
    std::string peer = pec ? "unknown" : remote.address().to_string();
    TlsSetup tls;
    tls.direct = config_.tls == TlsMode::kDirect;
    if (config_.tls != TlsMode::kNone) tls.make_ssl = make_ssl_;
    asio::post(target.io(), [this, &target, s = std::move(socket), tls = std::move(tls), peer = std::move(peer)]() mutable {
      auto conn = std::make_shared<TcpTransport>(target, limits_, std::move(s), std::move(peer), std::move(tls));
      attach_(*conn, target);
      conn->start();
    });
    accept_next();
  });
}

std::unique_ptr<TcpListener> make_c2s_listener(WorkerPool& pool, ServerServices& services, AuthThrottle& throttle,
                                               const TlsContext& tls, const ListenerConfig& config) {
  return std::make_unique<TcpListener>(
      pool, services.config.limits, config, [ctx = &tls] { return ctx->new_ssl(); },
      [&services, &throttle](TcpTransport& conn, Worker& worker) {
        auto stream = std::make_unique<C2sStream>(services, throttle, conn, SessionRef{worker.index(), conn.id()});
        ClientSession* client = stream.get();
        conn.set_handler(std::move(stream), client);
      });
}

std::unique_ptr<TcpListener> make_component_listener(WorkerPool& pool, ServerServices& services,
                                                     component::ComponentRegistry& components,
                                                     const ListenerConfig& config) {
  return std::make_unique<TcpListener>(pool, services.config.limits, config, nullptr,
                                       [&services, &components](TcpTransport& conn, Worker& worker) {
                                         conn.set_handler(std::make_unique<component::ComponentStream>(
                                             services.config, services.router, components, conn,
                                             SessionRef{worker.index(), conn.id()}));
                                       });
}

}  // namespace causerie::net
