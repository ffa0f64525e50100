// ListenSocket: how every listener binds (the server's acceptors and `causerie check` alike), on loopback.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/config/config.hpp"
#include "net/listen_socket.hpp"

using causerie::ConfigError;
using causerie::net::ListenSocket;

namespace {
std::string open_error(const std::string& address, uint16_t port) {
  try {
    ListenSocket::open(address, port);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ListenSocket, BindsAndReportsThePortTheSystemChose) {
  ListenSocket s = ListenSocket::open("127.0.0.1", 0);
  EXPECT_FALSE(s.ipv6());
  EXPECT_GT(s.port(), 0);
  EXPECT_GE(s.fd(), 0);
}

TEST(ListenSocket, APortInUseIsNamedWithTheSystemsReason) {
  ListenSocket first = ListenSocket::open("127.0.0.1", 0);
  std::string port = std::to_string(first.port());
  // SO_REUSEADDR lets a restarted server bind past TIME_WAIT, never beside a live listener.
  EXPECT_EQ(open_error("127.0.0.1", first.port()), "cannot listen on 127.0.0.1:" + port + ": Address already in use");
}

TEST(ListenSocket, ClosingFreesThePort) {
  uint16_t port;
  {
    ListenSocket first = ListenSocket::open("127.0.0.1", 0);
    port = first.port();
  }
  ListenSocket again = ListenSocket::open("127.0.0.1", port);
  EXPECT_EQ(again.port(), port);
}

TEST(ListenSocket, ReleaseHandsTheDescriptorOver) {
  ListenSocket s = ListenSocket::open("127.0.0.1", 0);
  uint16_t port = s.port();
  int fd = s.release();
  EXPECT_EQ(s.release(), -1);
  // Still listening after the owner is gone: the port stays taken until the new owner closes it.
  { ListenSocket moved = std::move(s); }
  EXPECT_NE(open_error("127.0.0.1", port), "");
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(open_error("127.0.0.1", port), "");
}

TEST(ListenSocket, OnlyIpLiteralsAreAddresses) {
  EXPECT_EQ(open_error("localhost", 5222), "listener localhost:5222: 'localhost' is not an IP address");
  EXPECT_EQ(open_error("127.1", 5222), "listener 127.1:5222: '127.1' is not an IP address");
  EXPECT_EQ(open_error("", 5222), "listener :5222: '' is not an IP address");
  EXPECT_EQ(open_error("::1::2", 5222), "listener [::1::2]:5222: '::1::2' is not an IP address");
}

TEST(ListenSocket, Ipv6Literal) {
  ListenSocket s = ListenSocket::open("::1", 0);
  EXPECT_TRUE(s.ipv6());
  EXPECT_GT(s.port(), 0);
  EXPECT_EQ(open_error("::1", s.port()), "cannot listen on [::1]:" + std::to_string(s.port()) + ": Address already in use");
}
