// ListenSocket: a TCP socket listening on one IP address and port, opened with plain POSIX calls — the one
// place that decides how a listener binds (SO_REUSEADDR; IPV6_V6ONLY, so "::" and "0.0.0.0" can both be
// listened on). The server's acceptors adopt it (bind_acceptor, listener.hpp); `causerie check` opens and
// closes one to tell whether a configured port is free, without compiling Asio.
//
// Thread rules: a move-only owner of a file descriptor; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace causerie::net {

class ListenSocket {
 public:
  // `address` is an IP literal ("127.0.0.1", "::", "fe80::1%eth0"). Throws ConfigError naming the
  // listener: not an IP address, or the system's reason ("Address already in use").
  static ListenSocket open(const std::string& address, uint16_t port);

  ListenSocket(ListenSocket&& other) noexcept;
  ListenSocket& operator=(ListenSocket&& other) noexcept;
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;
  ~ListenSocket();

  int fd() const { return fd_; }
  bool ipv6() const { return ipv6_; }
  // The port bound: the one the system chose when 0 was asked for.
  uint16_t port() const;
  // Gives up ownership: the caller closes the descriptor from now on.
  int release();

 private:
  ListenSocket(int fd, bool ipv6) : fd_(fd), ipv6_(ipv6) {}
  int fd_ = -1;
  bool ipv6_ = false;
};

}  // namespace causerie::net
