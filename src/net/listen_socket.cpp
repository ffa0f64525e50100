#include "net/listen_socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/config/config.hpp"

namespace causerie::net {

ListenSocket ListenSocket::open(const std::string& address, uint16_t port) {
  std::string where = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  in_addr v4{};
  // getaddrinfo also reads inet_aton's shorthands ("127.1"): an IPv4 address must be dotted-quad.
  bool v4_shorthand = address.find(':') == std::string::npos && inet_pton(AF_INET, address.c_str(), &v4) != 1;
  if (address.empty() || v4_shorthand || getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    throw ConfigError("listener " + where + ": '" + address + "' is not an IP address");
  bool ipv6 = found->ai_family == AF_INET6;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  int err = fd < 0 ? errno : 0;
  int one = 1;
  if (!err && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) err = errno;
  if (!err && ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) err = errno;
  if (!err && ::bind(fd, found->ai_addr, found->ai_addrlen) != 0) err = errno;
  if (!err && ::listen(fd, SOMAXCONN) != 0) err = errno;
  freeaddrinfo(found);
  if (err) {
    if (fd >= 0) ::close(fd);
    throw ConfigError("cannot listen on " + where + ": " + std::strerror(err));
  }
  return ListenSocket(fd, ipv6);
}

ListenSocket::ListenSocket(ListenSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), ipv6_(other.ipv6_) {}

ListenSocket& ListenSocket::operator=(ListenSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    ipv6_ = other.ipv6_;
  }
  return *this;
}

ListenSocket::~ListenSocket() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t ListenSocket::port() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

int ListenSocket::release() { return std::exchange(fd_, -1); }

}  // namespace causerie::net
