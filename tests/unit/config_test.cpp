// Configuration: the embedded default, the example file, and one clear error per mistake.
#include <gtest/gtest.h>

#include "core/config/config.hpp"

using namespace causerie;

namespace {

TEST(Config, EmbeddedDefaultServesLocalhostWithOpenRegistration) {
  Config c = embedded_default_config();
  ASSERT_EQ(c.hosts.size(), 1u);
  EXPECT_EQ(c.hosts[0].name, "localhost");
  EXPECT_EQ(c.hosts[0].registration, RegistrationPolicy::kOpen);
  EXPECT_EQ(c.data_dir, "./data");
  bool starttls = false, direct = false;
  for (const auto& l : c.listeners) {
    starttls = starttls || (l.port == 5222 && l.tls == TlsMode::kStartTls);
    direct = direct || (l.port == 5223 && l.tls == TlsMode::kDirect);
  }
  EXPECT_TRUE(starttls && direct);
  EXPECT_EQ(c.limits.max_stanza_bytes, 256u * 1024);
}

TEST(Config, ExampleFileLoads) {
  Config c = load_config_file(std::string(CAUSERIE_TEST_DATA) + "/../../causerie.example.toml");
  ASSERT_FALSE(c.hosts.empty());
  EXPECT_EQ(c.hosts[0].registration, RegistrationPolicy::kClosed);  // XEP-0479: closed unless asked
  EXPECT_FALSE(c.hosts[0].contacts.empty());
}

TEST(Config, RegistrationIsClosedByDefault) {
  Config c = load_config_text("[[host]]\nname = \"example.org\"\n", "t");
  EXPECT_EQ(c.hosts[0].registration, RegistrationPolicy::kClosed);
  EXPECT_EQ(c.hosts[0].name, "example.org");
  EXPECT_EQ(c.sqlite_cache_kb, 256u);
  EXPECT_EQ(load_config_text("[[host]]\nname = \"a.org\"\n[storage]\ncache_kb = 8192\n", "t").sqlite_cache_kb, 8192u);
}

TEST(Config, GuestHostsAndTheirLimits) {
  Config c = load_config_text("[[host]]\nname = \"a.org\"\n[[host]]\nname = \"guest.a.org\"\nauthentication = \"anonymous\"\n"
                              "[limits]\nguest_stanzas_per_second = 2\nguest_max_rooms = 7\n", "t");
  EXPECT_FALSE(c.hosts[0].anonymous);  // accounts with passwords unless asked
  EXPECT_TRUE(c.hosts[1].anonymous);
  EXPECT_EQ(c.hosts[1].registration, RegistrationPolicy::kClosed);
  EXPECT_EQ(c.limits.guest_stanzas_per_second, 2u);
  EXPECT_EQ(c.limits.guest_max_rooms, 7u);
  Config d = load_config_text("[[host]]\nname = \"a.org\"\n", "t");
  EXPECT_EQ(d.limits.guest_stanzas_per_second, 5u);
  EXPECT_EQ(d.limits.guest_max_rooms, 3u);
}

TEST(Config, RegistrationPolicies) {
  auto policy = [](const char* value) {
    return load_config_text(std::string("[[host]]\nname = \"a.org\"\nregistration = \"") + value + "\"\n", "t")
        .hosts[0].registration;
  };
  EXPECT_EQ(policy("open"), RegistrationPolicy::kOpen);
  EXPECT_EQ(policy("invite"), RegistrationPolicy::kInvite);
  EXPECT_EQ(policy("closed"), RegistrationPolicy::kClosed);
  Config c = load_config_text("[[host]]\nname = \"a.org\"\nallow_user_invites = true\n", "t");
  EXPECT_TRUE(c.hosts[0].allow_user_invites);
  EXPECT_FALSE(load_config_text("[[host]]\nname = \"a.org\"\n", "t").hosts[0].allow_user_invites);
}

TEST(Config, ErrorsNameTheKey) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "host"},
      {"[[host]]\nname = \"bad host\"\n", "host[0].name"},
      {"[[host]]\nname = \"a.org\"\nregistration = \"maybe\"\n", "host[0].registration"},
      {"[[host]]\nname = \"a.org\"\nauthentication = \"guest\"\n", "host[0].authentication"},
      {"[[host]]\nname = \"a.org\"\nauthentication = \"anonymous\"\nregistration = \"open\"\n", "host[0].registration"},
      {"[[host]]\nname = \"a.org\"\n[limits]\nguest_stanzas_per_second = 0\n", "limits.guest_stanzas_per_second"},
      {"[[host]]\nname = \"a.org\"\nallow_user_invites = \"yes\"\n", "host[0].allow_user_invites"},
      {"[[host]]\nname = \"a.org\"\n[server]\nworkers = -1\n", "server.workers"},
      {"[[host]]\nname = \"a.org\"\n[limits]\nmax_stanza_size = 10\n", "limits.max_stanza_size"},
      {"[[host]]\nname = \"a.org\"\n[server]\ncolour = \"blue\"\n", "server.colour"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\nport = 99999\n", "listener[0].port"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\nport = 5222\ntls = \"sometimes\"\n", "listener[0].tls"},
      {"[[host]]\nname = \"a.org\"\n[[host]]\nname = \"A.ORG\"\n", "host[1].name"},
      {"[[host]]\nname = \"a.org\"\n[tls]\ncertificate = \"x.pem\"\n", "tls"},
      {"[[host]]\nname = \"a.org\"\n[storage]\ncache_kb = 1\n", "storage.cache_kb"},
      {"[[host\nname = 1", "t:1"},
      {"[[host]]\nname = \"a.org\"\n[dns]\nservers = [\"dns.example.org\"]\n", "dns.servers"},
      {"[[host]]\nname = \"a.org\"\n[dns]\nservers = [\"127.0.0.1:0\"]\n", "dns.servers"},
      {"[[host]]\nname = \"a.org\"\n[dns]\nservers = \"127.0.0.1\"\n", "dns.servers"},
      {"[[host]]\nname = \"a.org\"\n[dns]\ntimeout_ms = 0\n", "dns.timeout_ms"},
      {"[[host]]\nname = \"a.org\"\n[dns]\ntries = 0\n", "dns.tries"},
      {"[[host]]\nname = \"a.org\"\n[dns]\nport = 53\n", "dns.port"},
      {"[[host]]\nname = \"a.org\"\n[s2s]\nca_file = 1\n", "s2s.ca_file"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"irc.a.org\"\n", "component[0].secret"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"irc.a.org\"\nsecret = \"\"\n", "component[0].secret"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"a.org\"\nsecret = \"s\"\n", "component[0].domain"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"not a domain\"\nsecret = \"s\"\n", "component[0].domain"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\nsecret = \"s\"\n", "component[0].domain"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"irc.a.org\"\nsecret = \"s\"\n"
       "[[component]]\ndomain = \"IRC.a.org\"\nsecret = \"t\"\n",
       "component[1].domain"},
      {"[[host]]\nname = \"a.org\"\n[[component]]\ndomain = \"irc.a.org\"\nsecret = \"s\"\nport = 5347\n", "component[0].port"},
      {"[[host]]\nname = \"a.org\"\n[component]\ndomain = \"irc.a.org\"\n", "component"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\ntype = \"component\"\nport = 5347\ntls = \"direct\"\n", "listener[0].tls"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\ntype = \"gateway\"\nport = 5347\n", "listener[0].type"},
      {"[[host]]\nname = \"a.org\"\narchive_retention = \"30 days\"\n", "host[0].archive_retention"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"ftp\"\nhost = \"t.a.org\"\n",
       "host[0].external_service[0].type"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\n", "host[0].external_service[0].host"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\nport = 0\n",
       "host[0].external_service[0].port"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\ntransport = \"sctp\"\n",
       "host[0].external_service[0].transport"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turns\"\nhost = \"t.a.org\"\ntransport = \"udp\"\n",
       "host[0].external_service[0].transport"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"stun\"\nhost = \"t.a.org\"\nsecret = \"s\"\n",
       "host[0].external_service[0].secret"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\nsecret = \"s\"\n"
       "lifetime = 10\n",
       "host[0].external_service[0].lifetime"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\nlifetime = 600\n",
       "host[0].external_service[0].lifetime"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\nusername = \"u\"\n",
       "host[0].external_service[0].username"},
      {"[[host]]\nname = \"a.org\"\n[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\n"
       "[[host.external_service]]\ntype = \"turn\"\nhost = \"t.a.org\"\nport = 3478\n",
       "host[0].external_service[1]"},
      {"[[host]]\nname = \"a.org\"\n[host.external_service]\ntype = \"turn\"\nhost = \"t.a.org\"\n",
       "host[0].external_service"},
  };
  for (const auto& [text, key] : cases) {
    try {
      load_config_text(text, "t");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what() << " should name " << key;
    }
  }
}

// XEP-0313 retention: per host, a whole number and a unit.
TEST(Config, ArchiveRetentionAndDurations) {
  Config c = load_config_text("[[host]]\nname = \"a.org\"\narchive_retention = \"2w\"\n[[host]]\nname = \"b.org\"\n", "t");
  EXPECT_EQ(c.hosts[0].archive_retention, std::chrono::seconds(14 * 86400));
  EXPECT_FALSE(c.hosts[1].archive_retention);
  EXPECT_EQ(parse_duration("30d"), std::chrono::seconds(30 * 86400));
  EXPECT_EQ(parse_duration("12h"), std::chrono::seconds(12 * 3600));
  EXPECT_EQ(parse_duration("90m"), std::chrono::seconds(5400));
  EXPECT_EQ(parse_duration("45s"), std::chrono::seconds(45));
  EXPECT_EQ(parse_duration("0"), std::chrono::seconds(0));
  EXPECT_EQ(parse_duration(""), std::chrono::seconds(0));
  for (const char* bad : {"d", "30", "30 d", "3.5d", "-1d", "30y", "99999999999999d"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

// XEP-0215 external services per host, with the defaults for what is left out.
TEST(Config, ExternalServices) {
  Config c = load_config_text(
      "[[host]]\nname = \"a.org\"\n"
      "[[host.external_service]]\ntype = \"stun\"\nhost = \"turn.a.org\"\n"
      "[[host.external_service]]\ntype = \"turn\"\nhost = \"turn.a.org\"\nport = 3479\ntransport = \"tcp\"\n"
      "secret = \"s3cret\"\nlifetime = 3600\nname = \"Relay\"\n"
      "[[host.external_service]]\ntype = \"turns\"\nhost = \"192.0.2.1\"\n"
      "[[host]]\nname = \"b.org\"\n",
      "t");
  const auto& s = c.hosts[0].external_services;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].type, "stun");
  EXPECT_EQ(s[0].port, 3478);
  EXPECT_EQ(s[0].transport, "udp");
  EXPECT_TRUE(s[0].secret.empty());
  EXPECT_EQ(s[1].port, 3479);
  EXPECT_EQ(s[1].transport, "tcp");
  EXPECT_EQ(s[1].secret, "s3cret");
  EXPECT_EQ(s[1].lifetime, std::chrono::seconds(3600));
  EXPECT_EQ(s[1].name, "Relay");
  EXPECT_EQ(s[2].port, 5349);
  EXPECT_EQ(s[2].transport, "tcp");
  EXPECT_EQ(s[2].lifetime, std::chrono::seconds(86400));
  EXPECT_TRUE(c.hosts[1].external_services.empty());
}

// XEP-0114 external components.
const char* kComponent =
    "[[host]]\nname = \"shakespeare.lit\"\n"
    "[[component]]\ndomain = \"Plays.shakespeare.lit\"\nsecret = \"test\"\nname = \"The plays\"\n";

TEST(Config, ComponentsAndTheirListener) {
  Config c = load_config_text(kComponent, "t");
  ASSERT_EQ(c.components.size(), 1u);
  EXPECT_EQ(c.components[0].domain, "plays.shakespeare.lit");
  EXPECT_EQ(c.components[0].secret, "test");
  EXPECT_EQ(c.components[0].name, "The plays");
  EXPECT_EQ(c.find_component("plays.shakespeare.lit"), &c.components[0]);
  // No component listener given: loopback, port 5347.
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].type, "component");
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.listeners[0].port, 5347);
  EXPECT_EQ(c.listeners[0].tls, TlsMode::kNone);
  // One given: that one only.
  Config d = load_config_text(std::string(kComponent) + "[[listener]]\ntype = \"component\"\naddress = \"::1\"\nport = 15347\n", "t");
  ASSERT_EQ(d.listeners.size(), 1u);
  EXPECT_EQ(d.listeners[0].port, 15347);
  EXPECT_EQ(d.listeners[0].tls, TlsMode::kNone);
  // No components: no component listener.
  EXPECT_TRUE(load_config_text("[[host]]\nname = \"a.org\"\n", "t").listeners.empty());
}

TEST(Config, DnsServersAndDefaults) {
  Config d = load_config_text("[[host]]\nname = \"a.org\"\n", "t");
  EXPECT_TRUE(d.dns.servers.empty());  // the system's resolv.conf
  EXPECT_EQ(d.dns.timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(d.dns.tries, 2u);
  EXPECT_EQ(d.s2s.ca_file, "");
  Config c = load_config_text(
      "[[host]]\nname = \"a.org\"\n[s2s]\nca_file = \"/etc/ca.pem\"\n"
      "[dns]\nservers = [\"127.0.0.1:5353\", \"[::1]:53\", \"192.0.2.1\"]\ntimeout_ms = 250\ntries = 1\n",
      "t");
  ASSERT_EQ(c.dns.servers.size(), 3u);
  EXPECT_EQ(c.dns.servers[0].ip, "127.0.0.1");
  EXPECT_EQ(c.dns.servers[0].port, 5353);
  EXPECT_EQ(c.dns.servers[1].ip, "::1");
  EXPECT_EQ(c.dns.servers[1].port, 53);
  EXPECT_EQ(c.dns.servers[2].port, 53);
  EXPECT_EQ(c.dns.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.dns.tries, 1u);
  EXPECT_EQ(c.s2s.ca_file, "/etc/ca.pem");
}

TEST(Config, DnsServerAddressForms) {
  struct Case {
    const char* text;
    bool ok;
    const char* ip;
    uint16_t port;
  };
  const Case cases[] = {
      {"127.0.0.1", true, "127.0.0.1", 53},
      {"127.0.0.1:5353", true, "127.0.0.1", 5353},
      {"2001:db8::1", true, "2001:db8::1", 53},
      {"[2001:db8::1]", true, "2001:db8::1", 53},
      {"[2001:db8::1]:5300", true, "2001:db8::1", 5300},
      {"", false, "", 0},
      {"localhost", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:53x", false, "", 0},
      {"300.0.0.1", false, "", 0},
      {"[127.0.0.1]:53", false, "", 0},
      {"[::1", false, "", 0},
      {"[::1]53", false, "", 0},
      {"[::1]:", false, "", 0},
  };
  for (const auto& c : cases) {
    auto a = parse_dns_server(c.text);
    EXPECT_EQ(a.has_value(), c.ok) << c.text;
    if (a && c.ok) {
      EXPECT_EQ(a->ip, c.ip) << c.text;
      EXPECT_EQ(a->port, c.port) << c.text;
    }
  }
}

}  // namespace
