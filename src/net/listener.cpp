#include "net/listener.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "net/listen_socket.hpp"

namespace causerie::net {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::acceptor bind_acceptor(asio::io_context& io, const std::string& address, uint16_t port) {
  ListenSocket socket = ListenSocket::open(address, port);
  tcp::acceptor acc(io);
  boost::system::error_code ec;
  acc.assign(socket.ipv6() ? tcp::v6() : tcp::v4(), socket.fd(), ec);
  if (ec) throw ConfigError("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  socket.release();  // the acceptor owns it now
  return acc;
}

Listener::Listener(WorkerPool& pool, const ListenerConfig& config, OnAccept on_accept)
    : pool_(pool),
      config_(config),
      on_accept_(std::move(on_accept)),
      acceptor_(bind_acceptor(pool.worker(0).io(), config.address, config.port)),
      retry_(pool.worker(0).io()) {}

uint16_t Listener::port() const { return acceptor_.local_endpoint().port(); }

void Listener::start() {
  asio::post(acceptor_.get_executor(), [this] { accept_next(); });
}

void Listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
  });
}

void Listener::accept_next() {
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
    asio::post(target.io(), [this, &target, s = std::move(socket), peer = std::move(peer)]() mutable {
      on_accept_(target, std::move(s), std::move(peer));
    });
    accept_next();
  });
}

}  // namespace causerie::net
