// The SSRF guard's pure parts: every special-purpose range of the classifier, the IPv6 forms that carry an
// IPv4 address, the operator's allow-list, and the vetting of a resolver's answer (what the fetcher does
// before it connects: a refused answer yields no address to connect to, so no packet is sent).
#include <gtest/gtest.h>

#include "core/config/config.hpp"
#include "net/address_classifier.hpp"

using namespace causerie;
using namespace causerie::net;

namespace {

AddressClass cls(const char* text) {
  auto ip = parse_ip(text);
  EXPECT_TRUE(ip) << text;
  return ip ? classify(*ip) : AddressClass::kReserved;
}

}  // namespace

TEST(AddressClassifier, Ipv4Ranges) {
  struct Case {
    const char* ip;
    AddressClass want;
  };
  const Case cases[] = {
      {"8.8.8.8", AddressClass::kPublic},          {"93.184.216.34", AddressClass::kPublic},
      {"1.1.1.1", AddressClass::kPublic},          {"172.32.0.1", AddressClass::kPublic},
      {"172.15.255.255", AddressClass::kPublic},   {"100.128.0.1", AddressClass::kPublic},
      {"100.63.255.255", AddressClass::kPublic},   {"169.253.0.1", AddressClass::kPublic},
      {"198.20.0.1", AddressClass::kPublic},       {"223.255.255.255", AddressClass::kPublic},
      {"127.0.0.1", AddressClass::kLoopback},      {"127.0.0.2", AddressClass::kLoopback},
      {"127.255.255.254", AddressClass::kLoopback}, {"10.0.0.1", AddressClass::kPrivate},
      {"10.255.255.255", AddressClass::kPrivate},  {"172.16.0.1", AddressClass::kPrivate},
      {"172.31.255.255", AddressClass::kPrivate},  {"192.168.0.1", AddressClass::kPrivate},
      {"192.168.255.255", AddressClass::kPrivate}, {"100.64.0.1", AddressClass::kShared},
      {"100.127.255.255", AddressClass::kShared},  {"169.254.0.1", AddressClass::kLinkLocal},
      {"169.254.169.254", AddressClass::kLinkLocal}, {"224.0.0.1", AddressClass::kMulticast},
      {"239.255.255.255", AddressClass::kMulticast}, {"0.0.0.0", AddressClass::kUnspecified},
      {"0.1.2.3", AddressClass::kUnspecified},     {"255.255.255.255", AddressClass::kBroadcast},
      {"192.0.2.1", AddressClass::kDocumentation}, {"198.51.100.7", AddressClass::kDocumentation},
      {"203.0.113.9", AddressClass::kDocumentation}, {"198.18.0.1", AddressClass::kBenchmark},
      {"198.19.255.255", AddressClass::kBenchmark}, {"192.0.0.8", AddressClass::kReserved},
      {"192.88.99.1", AddressClass::kReserved},    {"240.0.0.1", AddressClass::kReserved},
      {"255.255.255.254", AddressClass::kReserved},
  };
  for (const auto& c : cases) EXPECT_EQ(cls(c.ip), c.want) << c.ip << " is " << to_string(cls(c.ip));
}

TEST(AddressClassifier, Ipv6Ranges) {
  struct Case {
    const char* ip;
    AddressClass want;
  };
  const Case cases[] = {
      {"2606:4700:4700::1111", AddressClass::kPublic}, {"2a00:1450:4007:80e::200e", AddressClass::kPublic},
      {"::1", AddressClass::kLoopback},                {"::", AddressClass::kUnspecified},
      {"fe80::1", AddressClass::kLinkLocal},           {"febf::1", AddressClass::kLinkLocal},
      {"fec0::1", AddressClass::kPrivate},             {"fc00::1", AddressClass::kUniqueLocal},
      {"fd00::1", AddressClass::kUniqueLocal},         {"fdff:ffff::1", AddressClass::kUniqueLocal},
      {"ff02::1", AddressClass::kMulticast},           {"ff0e::1", AddressClass::kMulticast},
      {"2001:db8::1", AddressClass::kDocumentation},   {"3fff::1", AddressClass::kDocumentation},
      {"2001:2::1", AddressClass::kBenchmark},         {"2001::1", AddressClass::kReserved},  // Teredo
      {"2001:10::1", AddressClass::kReserved},         {"100::1", AddressClass::kReserved},
      {"64:ff9b:1::1", AddressClass::kPrivate},        {"4000::1", AddressClass::kReserved},
      {"::ffff:0:1.2.3.4", AddressClass::kReserved},   {"1::", AddressClass::kReserved},
  };
  for (const auto& c : cases) EXPECT_EQ(cls(c.ip), c.want) << c.ip << " is " << to_string(cls(c.ip));
}

TEST(AddressClassifier, Ipv6FormsCarryingIpv4AreJudgedByIt) {
  // IPv4-mapped (RFC 4291 §2.5.5.2), in both spellings
  EXPECT_EQ(cls("::ffff:127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(cls("::ffff:7f00:1"), AddressClass::kLoopback);
  EXPECT_EQ(cls("::ffff:192.168.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(cls("::ffff:169.254.169.254"), AddressClass::kLinkLocal);
  EXPECT_EQ(cls("::ffff:8.8.8.8"), AddressClass::kPublic);
  // IPv4-compatible (deprecated, §2.5.5.1)
  EXPECT_EQ(cls("::127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(cls("::10.1.2.3"), AddressClass::kPrivate);
  // NAT64 well-known prefix (RFC 6052)
  EXPECT_EQ(cls("64:ff9b::10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(cls("64:ff9b::7f00:1"), AddressClass::kLoopback);
  EXPECT_EQ(cls("64:ff9b::8.8.8.8"), AddressClass::kPublic);
  // 6to4 (RFC 3056): 2002:AABB:CCDD::/48
  EXPECT_EQ(cls("2002:7f00:1::1"), AddressClass::kLoopback);
  EXPECT_EQ(cls("2002:c0a8:1::1"), AddressClass::kPrivate);
  EXPECT_EQ(cls("2002:a9fe:a9fe::"), AddressClass::kLinkLocal);
  EXPECT_EQ(cls("2002:808:808::1"), AddressClass::kPublic);
  auto mapped = parse_ip("::ffff:10.0.0.1");
  ASSERT_TRUE(mapped);
  ASSERT_TRUE(mapped->embedded_v4());
  EXPECT_EQ(mapped->embedded_v4()->to_string(), "10.0.0.1");
  EXPECT_FALSE(parse_ip("2606:4700::1")->embedded_v4());
}

TEST(AddressClassifier, ParsesOnlyPlainLiterals) {
  EXPECT_FALSE(parse_ip(""));
  EXPECT_FALSE(parse_ip("localhost"));
  EXPECT_FALSE(parse_ip("0177.0.0.1"));  // octal: not an address here (a resolver would be asked)
  EXPECT_FALSE(parse_ip("2130706433"));
  EXPECT_FALSE(parse_ip("127.1"));
  EXPECT_FALSE(parse_ip("[::1]"));
  EXPECT_FALSE(parse_ip("fe80::1%eth0"));
  EXPECT_FALSE(parse_ip("1.2.3.4 "));
  EXPECT_EQ(parse_ip("::FFFF:127.0.0.1")->to_string(), "::ffff:127.0.0.1");
}

TEST(AddressClassifier, Cidr) {
  auto c = parse_cidr("10.1.2.3/8");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->network.to_string(), "10.0.0.0");
  EXPECT_TRUE(c->contains(*parse_ip("10.200.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("11.0.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("::ffff:10.0.0.1")));  // other family: the policy looks inside
  auto one = parse_cidr("127.0.0.1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix, 32u);
  EXPECT_TRUE(one->contains(*parse_ip("127.0.0.1")));
  EXPECT_FALSE(one->contains(*parse_ip("127.0.0.2")));
  auto v6 = parse_cidr("fd12:3456::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip("fd12:3456:1::9")));
  EXPECT_FALSE(v6->contains(*parse_ip("fd12:3457::9")));
  auto odd = parse_cidr("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*parse_ip("172.31.1.1")));
  EXPECT_FALSE(odd->contains(*parse_ip("172.32.0.1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(*parse_ip("1.2.3.4")));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("::/129"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/8x"));
  EXPECT_FALSE(parse_cidr("example.org/8"));
}

TEST(AddressPolicy, PublicOnlyByDefault) {
  AddressPolicy p;
  EXPECT_TRUE(p.check(*parse_ip("93.184.216.34")).allowed);
  EXPECT_TRUE(p.check(*parse_ip("2606:4700:4700::1111")).allowed);
  for (const char* ip : {"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.1.1", "169.254.169.254",
                         "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::",
                         "192.0.2.1", "198.18.0.1", "240.0.0.1", "0.0.0.0", "::", "224.0.0.1", "255.255.255.255"}) {
    auto v = p.check(*parse_ip(ip));
    EXPECT_FALSE(v.allowed) << ip;
    EXPECT_NE(v.cls, AddressClass::kPublic) << ip;
  }
}

TEST(AddressPolicy, AllowList) {
  auto p = AddressPolicy::from_config({"127.0.0.1/32", "fd00:1::/32", "10.8.0.0/16"}, "http_client.allow");
  EXPECT_TRUE(p.check(*parse_ip("127.0.0.1")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("127.0.0.2")).allowed);
  EXPECT_TRUE(p.check(*parse_ip("::ffff:127.0.0.1")).allowed);  // the same address, mapped
  EXPECT_TRUE(p.check(*parse_ip("fd00:1::5")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("fd00:2::5")).allowed);
  EXPECT_TRUE(p.check(*parse_ip("10.8.3.4")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("192.168.1.1")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("3fff::1")).allowed);
  auto everything = AddressPolicy::from_config({"0.0.0.0/0", "::/0"}, "http_client.allow");
  EXPECT_TRUE(everything.check(*parse_ip("192.168.1.1")).allowed);
  EXPECT_TRUE(everything.check(*parse_ip("fe80::1")).allowed);
  p = everything;
  // Never: unspecified (a connection to 0.0.0.0 reaches this machine), multicast, broadcast.
  EXPECT_FALSE(p.check(*parse_ip("0.0.0.0")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("224.0.0.1")).allowed);
  EXPECT_FALSE(p.check(*parse_ip("255.255.255.255")).allowed);
  EXPECT_THROW(AddressPolicy::from_config({"127.0.0.1/40"}, "http_client.allow"), ConfigError);
  EXPECT_THROW(AddressPolicy::from_config({"localhost"}, "http_client.allow"), ConfigError);
}

// The answer the issue names: whatever else it holds, it yields nothing to connect to.
TEST(AddressVetting, RefusesAnswersWithInternalAddresses) {
  AddressPolicy p;
  for (const char* bad : {"10.0.0.1", "169.254.10.20", "fd00::1", "::ffff:192.168.0.1"}) {
    auto v = vet_addresses(p, {bad});
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_TRUE(v.allowed.empty()) << bad;
    EXPECT_NE(v.refused.find(bad), std::string::npos) << v.refused;
  }
  auto all = vet_addresses(p, {"10.0.0.1", "169.254.10.20", "fd00::1", "::ffff:192.168.0.1"});
  EXPECT_FALSE(all.ok());
  EXPECT_TRUE(all.allowed.empty());
  EXPECT_EQ(all.refused, "10.0.0.1 (private)");
  // A public address beside an internal one does not make the answer acceptable (DNS rebinding).
  auto mixed = vet_addresses(p, {"93.184.216.34", "2606:2800:220:1::", "::ffff:192.168.0.1"});
  EXPECT_FALSE(mixed.ok());
  EXPECT_TRUE(mixed.allowed.empty());
  EXPECT_EQ(mixed.refused, "::ffff:192.168.0.1 (private)");
  EXPECT_FALSE(vet_addresses(p, {}).ok());
  EXPECT_FALSE(vet_addresses(p, {"not-an-address"}).ok());
}

TEST(AddressVetting, KeepsPublicAnswersInOrder) {
  auto v = vet_addresses(AddressPolicy(), {"2606:2800:220:1::", "93.184.216.34"});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v.allowed.size(), 2u);
  EXPECT_EQ(v.allowed[0].to_string(), "2606:2800:220:1::");
  EXPECT_EQ(v.allowed[1].to_string(), "93.184.216.34");
  auto loop = AddressPolicy::from_config({"127.0.0.1/32"}, "k");
  EXPECT_TRUE(vet_addresses(loop, {"127.0.0.1"}).ok());
  EXPECT_FALSE(vet_addresses(loop, {"127.0.0.1", "127.0.0.2"}).ok());
}
