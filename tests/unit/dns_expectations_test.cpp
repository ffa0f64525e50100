// `causerie check`'s DNS expectations: which SRV records a host needs for its listeners, which addresses
// are this machine's and served by which listener, and the verdict on DNS answers, line by line.
#include <gtest/gtest.h>

#include "cli/dns_expectations.hpp"

using namespace causerie;
using namespace causerie::check;
using net::AddressResult;
using net::DnsError;
using net::SrvRecord;
using net::SrvResult;

namespace {

ListenerConfig listener(const char* type, const char* address, uint16_t port, TlsMode tls) {
  ListenerConfig l;
  l.type = type;
  l.address = address;
  l.port = port;
  l.tls = tls;
  return l;
}

const std::vector<ListenerConfig> kAll = {
    listener("c2s", "0.0.0.0", 5222, TlsMode::kStartTls), listener("c2s", "::", 5222, TlsMode::kStartTls),
    listener("c2s", "0.0.0.0", 5223, TlsMode::kDirect),   listener("s2s", "198.51.100.5", 5269, TlsMode::kStartTls),
    listener("s2s", "198.51.100.5", 5270, TlsMode::kDirect), listener("http", "0.0.0.0", 5281, TlsMode::kDirect)};

TEST(DnsExpectations, RecordsFollowTheListeners) {
  auto needs = srv_needs("monserveur.fr", {"conference.monserveur.fr", "pubsub.monserveur.fr"}, kAll);
  std::vector<std::string> names;
  for (const auto& n : needs) names.push_back(n.name());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "_xmpp-client._tcp.monserveur.fr", "_xmpps-client._tcp.monserveur.fr",
                       "_xmpp-server._tcp.monserveur.fr", "_xmpps-server._tcp.monserveur.fr",
                       "_xmpp-server._tcp.conference.monserveur.fr", "_xmpps-server._tcp.conference.monserveur.fr",
                       "_xmpp-server._tcp.pubsub.monserveur.fr", "_xmpps-server._tcp.pubsub.monserveur.fr"}));
  EXPECT_EQ(needs[0], (SrvNeed{"xmpp-client", "monserveur.fr", false, false, 5222}));
  EXPECT_EQ(needs[1], (SrvNeed{"xmpps-client", "monserveur.fr", false, true, 0}));
  EXPECT_EQ(needs[2], (SrvNeed{"xmpp-server", "monserveur.fr", true, false, 5269}));
  EXPECT_EQ(needs[5], (SrvNeed{"xmpps-server", "conference.monserveur.fr", true, true, 0}));

  // STARTTLS clients only, no federation: one record; tls = "none" counts as the STARTTLS port's kind.
  needs = srv_needs("monserveur.fr", {}, {listener("c2s", "0.0.0.0", 5222, TlsMode::kNone),
                                         listener("http", "0.0.0.0", 5280, TlsMode::kNone)});
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].name(), "_xmpp-client._tcp.monserveur.fr");
  EXPECT_TRUE(srv_needs("monserveur.fr", {"conference.monserveur.fr"}, {}).empty());
}

TEST(DnsExpectations, ServiceDomainsComeFromTheModulesSettings) {
  Config c = load_config_text("[[host]]\nname = \"monserveur.fr\"\n", "t");
  EXPECT_EQ(service_domains(c, "monserveur.fr"),
            (std::vector<std::string>{"conference.monserveur.fr", "pubsub.monserveur.fr", "comments.monserveur.fr",
                                      "spaces.monserveur.fr"}));
  c = load_config_text("[[host]]\nname = \"monserveur.fr\"\n[modules.muc]\ndomain = \"chat.{host}\"\n"
                       "[modules.pubsub]\nservices = [\"pubsub\"]\n", "t");
  EXPECT_EQ(service_domains(c, "monserveur.fr"), (std::vector<std::string>{"chat.monserveur.fr", "pubsub.monserveur.fr"}));
  c = load_config_text("[[host]]\nname = \"monserveur.fr\"\n[modules.muc]\nenabled = false\n", "t");
  EXPECT_EQ(service_domains(c, "monserveur.fr").front(), "pubsub.monserveur.fr");
}

TEST(DnsExpectations, SpecialUseNames) {
  for (const char* name : {"localhost", "chat.localhost", "a.test", "conference.a.test", "example.org",
                           "pubsub.example.com", "x.example", "x.invalid", "box.local", "pi.home.arpa", "intranet",
                           "corp.internal", "A.TEST."})
    EXPECT_TRUE(is_special_use_domain(name)) << name;
  for (const char* name : {"xmpp.org", "myexample.org", "example.org.uk", "test.fr", "localhost.fr", "monserveur.fr"})
    EXPECT_FALSE(is_special_use_domain(name)) << name;
}

TEST(DnsExpectations, LocalAddressesAndTheListenersThatServeThem) {
  LocalMachine m{{"192.0.2.10", "2001:db8::10", "fe80::1"}, kAll};
  EXPECT_TRUE(m.is_local("192.0.2.10"));
  EXPECT_TRUE(m.is_local("2001:db8::10"));
  EXPECT_TRUE(m.is_local("127.0.0.2")) << "the whole loopback network is this machine";
  EXPECT_TRUE(m.is_local("::1"));
  EXPECT_TRUE(m.is_local("198.51.100.5")) << "a listener binds it, so this machine has it";
  EXPECT_FALSE(m.is_local("203.0.113.1"));
  EXPECT_FALSE(m.is_local("not an address"));

  SrvNeed client{"xmpp-client", "monserveur.fr", false, false, 5222};
  SrvNeed direct_client{"xmpps-client", "monserveur.fr", false, true, 0};
  SrvNeed server{"xmpp-server", "monserveur.fr", true, false, 5269};
  EXPECT_TRUE(m.serves(client, "192.0.2.10", 5222)) << "0.0.0.0 takes every local IPv4 address";
  EXPECT_TRUE(m.serves(client, "2001:db8::10", 5222)) << ":: takes every local IPv6 address";
  EXPECT_FALSE(m.serves(client, "203.0.113.1", 5222)) << "not an address of this machine";
  EXPECT_FALSE(m.serves(client, "192.0.2.10", 5223)) << "5223 is the direct-TLS port";
  EXPECT_TRUE(m.serves(direct_client, "192.0.2.10", 5223));
  EXPECT_FALSE(m.serves(direct_client, "2001:db8::10", 5223)) << "0.0.0.0 does not take IPv6";
  EXPECT_FALSE(m.serves(server, "192.0.2.10", 5269)) << "the s2s listener binds one address only";
  EXPECT_TRUE(m.serves(server, "198.51.100.5", 5269));
  EXPECT_TRUE(m.has_port(server, 5269));
  EXPECT_FALSE(m.has_port(server, 5222));
}

TEST(DnsExpectations, AddressLookupsForTargetsAndTheFallback) {
  SrvNeed client{"xmpp-client", "monserveur.fr", false, false, 5222};
  SrvNeed direct{"xmpps-client", "monserveur.fr", false, true, 0};
  SrvResult two = std::vector<SrvRecord>{{"a.monserveur.fr", 5222, 0, 1}, {"a.monserveur.fr", 5223, 1, 1}, {".", 0, 0, 0}};
  EXPECT_EQ(address_lookups(client, two), (std::vector<std::string>{"a.monserveur.fr"}));
  EXPECT_EQ(address_lookups(client, tl::unexpected(DnsError::kNotFound)), (std::vector<std::string>{"monserveur.fr"}));
  EXPECT_EQ(address_lookups(client, tl::unexpected(DnsError::kNoData)), (std::vector<std::string>{"monserveur.fr"}));
  EXPECT_TRUE(address_lookups(direct, tl::unexpected(DnsError::kNotFound)).empty()) << "direct TLS has no fallback";
  EXPECT_TRUE(address_lookups(client, tl::unexpected(DnsError::kTimeout)).empty());
}

struct Case {
  const char* what;
  SrvNeed need;
  SrvResult srv;
  AddressAnswers addresses;
  Severity severity;
  const char* text;  // the whole line after "host: "
};

TEST(DnsExpectations, VerdictsOnAnswers) {
  LocalMachine m{{"192.0.2.10"}, kAll};
  SrvNeed client{"xmpp-client", "monserveur.fr", false, false, 5222};
  SrvNeed direct{"xmpps-client", "monserveur.fr", false, true, 0};
  SrvNeed server{"xmpp-server", "conference.monserveur.fr", true, false, 5269};
  SrvNeed test_client{"xmpp-client", "chat.test", false, false, 5222};
  auto srv = [](const char* target, uint16_t port) { return SrvResult(std::vector<SrvRecord>{{target, port, 0, 0}}); };
  auto addrs = [](std::vector<std::string> a) { return AddressResult(std::move(a)); };
  AddressResult none = tl::unexpected(DnsError::kNotFound);
  const Case cases[] = {
      {"a target on this machine, on the listener's port", client, srv("xmpp.monserveur.fr", 5222),
       {{"xmpp.monserveur.fr", addrs({"192.0.2.10"})}}, Severity::kOk,
       "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.fr:5222: 192.0.2.10 (this machine)"},
      {"the direct-TLS port under the STARTTLS service", client, srv("xmpp.monserveur.fr", 5223),
       {{"xmpp.monserveur.fr", addrs({"192.0.2.10"})}}, Severity::kError,
       "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.fr:5223: 192.0.2.10 (this machine); no STARTTLS c2s "
       "listener on 192.0.2.10:5223"},
      {"another machine, on a port we serve: a NAT may forward it", client, srv("xmpp.monserveur.fr", 5222),
       {{"xmpp.monserveur.fr", addrs({"203.0.113.1"})}}, Severity::kWarn,
       "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.fr:5222: 203.0.113.1 (not this machine); right only if "
       "a NAT forwards port 5222 to this machine"},
      {"another machine, on a port nothing of ours uses", client, srv("xmpp.monserveur.fr", 5999),
       {{"xmpp.monserveur.fr", addrs({"203.0.113.1"})}}, Severity::kError,
       "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.fr:5999: 203.0.113.1 (not this machine); no STARTTLS "
       "c2s listener uses port 5999"},
      {"this machine and another", client, srv("xmpp.monserveur.fr", 5222),
       {{"xmpp.monserveur.fr", addrs({"192.0.2.10", "2001:db8::99"})}}, Severity::kWarn,
       "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.fr:5222: 192.0.2.10 (this machine), 2001:db8::99 (not "
       "this machine); 2001:db8::99 will not reach this server"},
      {"a target without addresses", server, srv("gone.monserveur.fr", 5269), {{"gone.monserveur.fr", none}},
       Severity::kError, "SRV _xmpp-server._tcp.conference.monserveur.fr -> gone.monserveur.fr:5269: gone.monserveur.fr has "
                         "no A or AAAA record"},
      {"a target whose addresses time out", server, srv("slow.monserveur.fr", 5269),
       {{"slow.monserveur.fr", tl::unexpected(DnsError::kTimeout)}}, Severity::kWarn,
       "SRV _xmpp-server._tcp.conference.monserveur.fr -> slow.monserveur.fr:5269: the addresses of slow.monserveur.fr "
       "could not be resolved (DNS timeout): not checked"},
      {"\".\" for a service we offer", server, srv(".", 0), {}, Severity::kError,
       "SRV _xmpp-server._tcp.conference.monserveur.fr -> \".\": says there is no such service, but this server has "
       "a STARTTLS s2s listener"},
      {"a public name on loopback", client, srv("xmpp.monserveur.net", 5222), {{"xmpp.monserveur.net", addrs({"127.0.0.1"})}},
       Severity::kError, "SRV _xmpp-client._tcp.monserveur.fr -> xmpp.monserveur.net:5222: 127.0.0.1 (this machine); "
                         "loopback addresses cannot be reached from other machines"},
      {"a test name on loopback", test_client, srv("xmpp.chat.test", 5222), {{"xmpp.chat.test", addrs({"127.0.0.1"})}},
       Severity::kOk, "SRV _xmpp-client._tcp.chat.test -> xmpp.chat.test:5222: 127.0.0.1 (this machine)"},
      {"a test name's problems are warnings", test_client, srv("xmpp.chat.test", 5223),
       {{"xmpp.chat.test", addrs({"192.0.2.10"})}}, Severity::kWarn,
       "SRV _xmpp-client._tcp.chat.test -> xmpp.chat.test:5223: 192.0.2.10 (this machine); no STARTTLS c2s "
       "listener on 192.0.2.10:5223"},
      {"no record, and the fallback works", client, tl::unexpected(DnsError::kNotFound),
       {{"monserveur.fr", addrs({"192.0.2.10"})}}, Severity::kWarn,
       "SRV _xmpp-client._tcp.monserveur.fr: no record, so clients try monserveur.fr:5222: 192.0.2.10 (this machine)"},
      {"no record, and no address for the fallback", server, tl::unexpected(DnsError::kNoData),
       {{"conference.monserveur.fr", none}}, Severity::kError,
       "SRV _xmpp-server._tcp.conference.monserveur.fr: no record, so servers try conference.monserveur.fr:5269: "
       "conference.monserveur.fr has no A or AAAA record"},
      {"no direct-TLS record", direct, tl::unexpected(DnsError::kNotFound), {}, Severity::kWarn,
       "SRV _xmpps-client._tcp.monserveur.fr: no record; clients will not find direct TLS (port 5223)"},
      {"a failed lookup", client, tl::unexpected(DnsError::kServerFailure), {}, Severity::kWarn,
       "SRV _xmpp-client._tcp.monserveur.fr: lookup failed (DNS server failure): not checked"},
  };
  for (const auto& c : cases) {
    Findings f = judge_srv(c.need, c.srv, c.addresses, m);
    ASSERT_EQ(f.size(), 1u) << c.what;
    EXPECT_EQ(f[0].severity, c.severity) << c.what;
    EXPECT_EQ(f[0].text, c.text) << c.what;
  }
}

TEST(DnsExpectations, OneLinePerRecordInPriorityOrder) {
  LocalMachine m{{"192.0.2.10"}, kAll};
  SrvNeed client{"xmpp-client", "monserveur.fr", false, false, 5222};
  SrvResult srv = std::vector<SrvRecord>{{"b.monserveur.fr", 5222, 10, 0}, {"a.monserveur.fr", 5222, 0, 0}};
  Findings f = judge_srv(client, srv, {{"a.monserveur.fr", AddressResult(std::vector<std::string>{"192.0.2.10"})},
                                       {"b.monserveur.fr", tl::unexpected(DnsError::kNotFound)}},
                         m);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].severity, Severity::kOk);
  EXPECT_NE(f[0].text.find("a.monserveur.fr:5222"), std::string::npos);
  EXPECT_EQ(f[1].severity, Severity::kError);
  EXPECT_NE(f[1].text.find("b.monserveur.fr has no A or AAAA record"), std::string::npos);
}

}  // namespace
