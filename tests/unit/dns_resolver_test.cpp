// DnsResolver against a small authoritative DNS responder on a loopback UDP port, run by the test on
// the same io_context: SRV, A and AAAA answers, NXDOMAIN, no data, SERVFAIL and silence (timeout).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <fstream>
#include <map>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "net/dns_resolver.hpp"

using namespace causerie;
using namespace causerie::net;
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

constexpr uint16_t kTypeA = 1, kTypeAaaa = 28, kTypeSrv = 33;

// Answers queries from a table (RFC 1035 §4.1), over UDP and TCP on the same loopback port, without name
// compression except the pointer to the question in answers.
class DnsResponder {
 public:
  struct Entry {
    uint8_t rcode = 0;  // 2 SERVFAIL, ...
    bool silent = false;
    bool truncate_udp = false;  // answer UDP with TC set and nothing else, so the resolver retries over TCP
    std::vector<SrvRecord> srv;
    std::vector<std::string> a, aaaa;
  };

  explicit DnsResponder(asio::io_context& io) : udp_(io), tcp_(io) {
    // One port number for both transports, as a DNS server has.
    for (int attempt = 0; attempt < 20 && !udp_.is_open(); ++attempt) {
      tcp_ = tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      boost::system::error_code ec;
      udp_.open(udp::v4());
      udp_.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), tcp_.local_endpoint().port()), ec);
      if (ec) udp_.close();
    }
    EXPECT_TRUE(udp_.is_open());
    receive();
    accept();
  }
  uint16_t port() const { return udp_.local_endpoint().port(); }

  std::map<std::string, Entry> zone;                      // lower-case names without the root dot
  std::vector<std::pair<std::string, uint16_t>> queries;  // (name, type) as asked
  size_t tcp_queries = 0;

 private:
  void receive() {
    udp_.async_receive_from(asio::buffer(in_), from_, [this](boost::system::error_code ec, size_t n) {
      if (ec) return;
      std::string out = answer(std::string_view(in_.data(), n), false);
      if (!out.empty()) udp_.send_to(asio::buffer(out), from_);
      receive();
    });
  }

  // One query per connection is all the resolver sends here; messages carry a two-byte length (§4.2.2).
  void accept() {
    tcp_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto sock = std::make_shared<tcp::socket>(std::move(s));
      auto buf = std::make_shared<std::array<char, 1500>>();
      asio::async_read(*sock, asio::buffer(*buf, 2), [this, sock, buf](boost::system::error_code ec, size_t) {
        if (ec) return;
        size_t len = static_cast<unsigned char>((*buf)[0]) << 8 | static_cast<unsigned char>((*buf)[1]);
        asio::async_read(
            *sock, asio::buffer(*buf, len), [this, sock, buf](boost::system::error_code ec, size_t n) {
              if (ec) return;
              ++tcp_queries;
              auto out = std::make_shared<std::string>();
              std::string body = answer(std::string_view(buf->data(), n), true);
              put16(*out, static_cast<uint16_t>(body.size()));
              *out += body;
              asio::async_write(*sock, asio::buffer(*out), [sock, out](boost::system::error_code, size_t) {});
            });
      });
      accept();
    });
  }

  static void put16(std::string& out, uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
  }
  static void put_name(std::string& out, const std::string& name) {
    size_t start = 0;
    while (name != "." && start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      out.push_back(static_cast<char>(dot - start));
      out.append(name, start, dot - start);
      start = dot + 1;
    }
    out.push_back(0);
  }

  // The reply to one query, or nothing to stay silent.
  std::string answer(std::string_view query, bool via_tcp) {
    size_t n = query.size();
    if (n < 12) return {};
    const auto* p = reinterpret_cast<const unsigned char*>(query.data());
    size_t pos = 12;
    std::string name;
    while (pos < n && p[pos] != 0) {
      size_t len = p[pos];
      if (!name.empty()) name.push_back('.');
      for (size_t i = 1; i <= len && pos + i < n; ++i)
        name.push_back(static_cast<char>(std::tolower(p[pos + i])));
      pos += len + 1;
    }
    pos += 1;
    if (pos + 4 > n) return {};
    uint16_t type = static_cast<uint16_t>(p[pos] << 8 | p[pos + 1]);
    size_t question_end = pos + 4;
    queries.emplace_back(name, type);

    auto it = zone.find(name);
    if (it != zone.end() && it->second.silent) return {};
    uint8_t rcode = it == zone.end() ? 3 : it->second.rcode;  // 3: NXDOMAIN
    bool truncated = it != zone.end() && it->second.truncate_udp && !via_tcp;
    std::vector<std::string> rdatas;
    if (it != zone.end() && rcode == 0 && !truncated) {
      const Entry& e = it->second;
      if (type == kTypeSrv)
        for (const auto& r : e.srv) {
          std::string rd;
          put16(rd, r.priority);
          put16(rd, r.weight);
          put16(rd, r.port);
          put_name(rd, r.target);
          rdatas.push_back(rd);
        }
      for (const auto& [list, family, size, wanted] :
           {std::tuple{&e.a, AF_INET, 4, kTypeA}, std::tuple{&e.aaaa, AF_INET6, 16, kTypeAaaa}}) {
        if (type != wanted) continue;
        for (const auto& text : *list) {
          unsigned char buf[16];
          EXPECT_EQ(inet_pton(family, text.c_str(), buf), 1);
          rdatas.emplace_back(reinterpret_cast<char*>(buf), size);
        }
      }
    }
    std::string out(query.substr(0, 2));                                     // id
    uint16_t flags = 0x8000 | 0x0400 | (p[2] & 0x01) << 8 | 0x0080 | rcode;  // QR AA RD RA
    if (truncated) flags |= 0x0200;                                          // TC
    put16(out, flags);
    put16(out, 1);
    put16(out, static_cast<uint16_t>(rdatas.size()));
    put16(out, 0);
    put16(out, 0);
    out.append(query.substr(12, question_end - 12));
    for (const auto& rd : rdatas) {
      put16(out, 0xc00c);  // the question's name
      put16(out, type);
      put16(out, 1);  // IN
      put16(out, 0);
      put16(out, 60);  // TTL
      put16(out, static_cast<uint16_t>(rd.size()));
      out += rd;
    }
    return out;
  }

  udp::socket udp_;
  tcp::acceptor tcp_;
  udp::endpoint from_;
  std::array<char, 1500> in_{};
};

class DnsResolverTest : public ::testing::Test {
 protected:
  DnsResolverTest() : dns_(io_) {
    config_.servers.push_back(DnsServerAddress{"127.0.0.1", dns_.port()});
    config_.timeout = std::chrono::milliseconds(50);  // only the silent server's test waits for it
    config_.tries = 1;
    resolver_ = std::make_unique<DnsResolver>(io_, config_);
  }
  template <typename Done>
  void run_until(Done done) {
    while (!done()) io_.run_one();
  }

  asio::io_context io_;
  DnsResponder dns_;
  DnsConfig config_;
  std::unique_ptr<DnsResolver> resolver_;
};

TEST_F(DnsResolverTest, BothS2sServicesAnswerTogether) {
  dns_.zone["_xmpp-server._tcp.remote.example"].srv = {{"xmpp1.remote.example", 5269, 10, 60},
                                                       {"XMPP2.Remote.Example", 5269, 10, 40}};
  dns_.zone["_xmpps-server._tcp.remote.example"].srv = {{"tls.remote.example", 443, 5, 0}};
  std::optional<std::pair<SrvResult, SrvResult>> got;
  resolver_->resolve_s2s_srv("remote.example",
                             [&](SrvResult xmpps, SrvResult xmpp) { got.emplace(xmpps, xmpp); });
  EXPECT_FALSE(got) << "callbacks run from the event loop, never inside the call";
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(got->first);
  EXPECT_EQ(*got->first, (std::vector<SrvRecord>{{"tls.remote.example", 443, 5, 0}}));
  ASSERT_TRUE(got->second);
  std::vector<SrvRecord> xmpp = *got->second;
  std::sort(xmpp.begin(), xmpp.end(),
            [](const SrvRecord& a, const SrvRecord& b) { return a.target < b.target; });
  EXPECT_EQ(xmpp, (std::vector<SrvRecord>{{"xmpp1.remote.example", 5269, 10, 60},
                                          {"xmpp2.remote.example", 5269, 10, 40}}));
  // Exactly the two names, as asked: no search domain from resolv.conf appended.
  std::vector<std::pair<std::string, uint16_t>> expected = {{"_xmpp-server._tcp.remote.example", kTypeSrv},
                                                            {"_xmpps-server._tcp.remote.example", kTypeSrv}};
  std::sort(dns_.queries.begin(), dns_.queries.end());
  EXPECT_EQ(dns_.queries, expected);
}

TEST_F(DnsResolverTest, RootTargetNotFoundNoDataAndServerFailureAreTold) {
  dns_.zone["_xmpp-server._tcp.closed.example"].srv = {{".", 0, 0, 0}};
  dns_.zone["_xmpp-server._tcp.nodata.example"].a = {"192.0.2.1"};
  dns_.zone["_xmpp-server._tcp.broken.example"].rcode = 2;
  std::map<std::string, SrvResult> got;
  for (std::string d : {"closed.example", "nodata.example", "broken.example", "missing.example"})
    resolver_->resolve_srv("xmpp-server", d, [&got, d](SrvResult r) { got.emplace(d, std::move(r)); });
  run_until([&] { return got.size() == 4; });
  ASSERT_TRUE(got.at("closed.example"));
  EXPECT_EQ(*got.at("closed.example"), (std::vector<SrvRecord>{{".", 0, 0, 0}}));
  EXPECT_EQ(got.at("nodata.example").error(), DnsError::kNoData);
  EXPECT_EQ(got.at("broken.example").error(), DnsError::kServerFailure);
  EXPECT_EQ(got.at("missing.example").error(), DnsError::kNotFound);
}

TEST_F(DnsResolverTest, TruncatedAnswersAreAskedAgainOverTcp) {
  auto& big = dns_.zone["_xmpp-server._tcp.big.example"];
  big.truncate_udp = true;
  for (int i = 0; i < 40; ++i) big.srv.push_back({"xmpp" + std::to_string(i) + ".big.example", 5269, 10, 1});
  std::optional<SrvResult> got;
  resolver_->resolve_srv("xmpp-server", "big.example", [&](SrvResult r) { got = std::move(r); });
  run_until([&] { return got.has_value(); });
  ASSERT_TRUE(*got) << to_string(got->error());
  EXPECT_EQ((*got)->size(), 40u);
  EXPECT_EQ(dns_.tcp_queries, 1u);
}

TEST_F(DnsResolverTest, SilentServerTimesOut) {
  dns_.zone["_xmpp-server._tcp.slow.example"].silent = true;
  std::optional<SrvResult> got;
  resolver_->resolve_srv("xmpp-server", "slow.example", [&](SrvResult r) { got = std::move(r); });
  run_until([&] { return got.has_value(); });
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error(), DnsError::kTimeout);
}

TEST_F(DnsResolverTest, AddressesOfBothFamilies) {
  dns_.zone["xmpp.remote.example"].a = {"192.0.2.10", "192.0.2.11"};
  dns_.zone["xmpp.remote.example"].aaaa = {"2001:db8::10"};
  dns_.zone["v6only.remote.example"].aaaa = {"2001:db8::20"};
  dns_.zone["noaddr.remote.example"].srv = {{"x.remote.example", 1, 1, 1}};
  std::map<std::string, AddressResult> got;
  for (std::string h :
       {"xmpp.remote.example", "v6only.remote.example", "noaddr.remote.example", "none.remote.example"})
    resolver_->resolve_addresses(h, [&got, h](AddressResult r) { got.emplace(h, std::move(r)); });
  run_until([&] { return got.size() == 4; });
  ASSERT_TRUE(got.at("xmpp.remote.example"));
  std::vector<std::string> both = *got.at("xmpp.remote.example");
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (std::vector<std::string>{"192.0.2.10", "192.0.2.11", "2001:db8::10"}));
  ASSERT_TRUE(got.at("v6only.remote.example"));
  EXPECT_EQ(*got.at("v6only.remote.example"), (std::vector<std::string>{"2001:db8::20"}));
  ASSERT_FALSE(got.at("noaddr.remote.example"));
  EXPECT_EQ(got.at("noaddr.remote.example").error(), DnsError::kNoData);
  ASSERT_FALSE(got.at("none.remote.example"));
  EXPECT_EQ(got.at("none.remote.example").error(), DnsError::kNotFound);
}

TEST_F(DnsResolverTest, InternationalDomainsAreAskedInALabelsAndLiteralsResolveToThemselves) {
  dns_.zone["_xmpp-server._tcp.xn--bcher-kva.example"].srv = {{"xmpp.xn--bcher-kva.example", 5269, 0, 0}};
  std::optional<SrvResult> srv;
  std::optional<AddressResult> literal, bad;
  resolver_->resolve_srv("xmpp-server", "bücher.example", [&](SrvResult r) { srv = std::move(r); });
  resolver_->resolve_addresses("[2001:db8::1]", [&](AddressResult r) { literal = std::move(r); });
  resolver_->resolve_addresses("not a domain", [&](AddressResult r) { bad = std::move(r); });
  EXPECT_FALSE(bad) << "even refusals arrive through the event loop";
  run_until([&] { return srv && literal && bad; });
  ASSERT_TRUE(*srv);
  EXPECT_EQ((*srv)->front().target, "xmpp.xn--bcher-kva.example");
  ASSERT_TRUE(*literal);
  EXPECT_EQ(**literal, (std::vector<std::string>{"2001:db8::1"}));
  ASSERT_FALSE(*bad);
  EXPECT_EQ(bad->error(), DnsError::kBadName);
  for (const auto& [name, type] : dns_.queries) EXPECT_NE(name, "not a domain");
}

TEST_F(DnsResolverTest, IgnoringTheHostsFileAsksTheServer) {
  // `causerie check` judges what other machines see: a name of /etc/hosts must come from DNS there. Any
  // name of this machine's /etc/hosts will do but "localhost", which c-ares never asks DNS about.
  std::string name, hosts_address;
  std::ifstream hosts("/etc/hosts");
  for (std::string line; name.empty() && std::getline(hosts, line);) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string address, n;
    words >> address;
    if (address.find('.') == std::string::npos) continue;  // IPv4 entries only
    while (name.empty() && words >> n)
      if (n.find("localhost") == std::string::npos) name = n, hosts_address = address;
  }
  if (name.empty()) GTEST_SKIP() << "/etc/hosts names nothing but localhost";
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  dns_.zone[name].a = {"192.0.2.53"};
  DnsResolver dns_only(io_, config_, HostsFile::kIgnore);
  std::optional<AddressResult> from_dns, from_hosts;
  dns_only.resolve_addresses(name, [&](AddressResult r) { from_dns = std::move(r); });
  resolver_->resolve_addresses(name, [&](AddressResult r) { from_hosts = std::move(r); });
  run_until([&] { return from_dns && from_hosts; });
  ASSERT_TRUE(*from_dns) << to_string(from_dns->error());
  EXPECT_EQ(**from_dns, (std::vector<std::string>{"192.0.2.53"}));
  ASSERT_TRUE(*from_hosts) << to_string(from_hosts->error());
  EXPECT_EQ(**from_hosts, (std::vector<std::string>{hosts_address}));
}

TEST_F(DnsResolverTest, DestroyingTheResolverDropsPendingCallbacks) {
  dns_.zone["_xmpp-server._tcp.slow.example"].silent = true;
  dns_.zone["_xmpp-server._tcp.fast.example"].srv = {{"x.fast.example", 5269, 0, 0}};
  bool called = false;
  resolver_->resolve_srv("xmpp-server", "slow.example", [&](SrvResult) { called = true; });
  resolver_->resolve_srv("xmpp-server", "fast.example", [&](SrvResult) { called = true; });
  run_until([&] { return dns_.queries.size() == 2; });
  resolver_.reset();
  io_.restart();
  io_.poll();  // whatever the loop had ready runs now
  EXPECT_FALSE(called);
}

}  // namespace
