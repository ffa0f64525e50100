// Listener: accepts TCP connections on one address and port and hands each to a worker (round robin),
// where `on_accept` sets it up (a transport and its stream protocol) and it lives from then on. The
// acceptor itself runs on worker 0. Bound at construction, so a port in use is reported at startup as a
// ConfigError.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/config/config.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

class Listener {
 public:
  // Runs on the chosen worker's thread with the accepted socket and the peer's address.
  using OnAccept = std::function<void(Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer)>;

  Listener(WorkerPool& pool, const ListenerConfig& config, OnAccept on_accept);
  void start();
  void stop();
  uint16_t port() const;
  const ListenerConfig& config() const { return config_; }

 private:
  void accept_next();
  WorkerPool& pool_;
  ListenerConfig config_;
  OnAccept on_accept_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
};

// An acceptor on io adopting a ListenSocket (listen_socket.hpp) on address:port; throws ConfigError naming
// the address on failure.
boost::asio::ip::tcp::acceptor bind_acceptor(boost::asio::io_context& io, const std::string& address, uint16_t port);

}  // namespace causerie::net
