// Configuration: the embedded default, the example file, and one clear error per mistake.
#include <gtest/gtest.h>

#include "core/config/config.hpp"

using namespace causerie;

namespace {

TEST(Config, EmbeddedDefaultServesLocalhostWithOpenRegistration) {
  Config c = embedded_default_config();
  ASSERT_EQ(c.hosts.size(), 1u);
  EXPECT_EQ(c.hosts[0].name, "localhost");
  EXPECT_TRUE(c.hosts[0].registration_open);
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
  EXPECT_FALSE(c.hosts[0].registration_open);  // XEP-0479: closed unless asked
  EXPECT_FALSE(c.hosts[0].contacts.empty());
}

TEST(Config, RegistrationIsClosedByDefault) {
  Config c = load_config_text("[[host]]\nname = \"example.org\"\n", "t");
  EXPECT_FALSE(c.hosts[0].registration_open);
  EXPECT_EQ(c.hosts[0].name, "example.org");
  EXPECT_EQ(c.sqlite_cache_kb, 256u);
  EXPECT_EQ(load_config_text("[[host]]\nname = \"a.org\"\n[storage]\ncache_kb = 8192\n", "t").sqlite_cache_kb, 8192u);
}

TEST(Config, ErrorsNameTheKey) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"", "host"},
      {"[[host]]\nname = \"bad host\"\n", "host[0].name"},
      {"[[host]]\nname = \"a.org\"\nregistration = \"maybe\"\n", "host[0].registration"},
      {"[[host]]\nname = \"a.org\"\n[server]\nworkers = -1\n", "server.workers"},
      {"[[host]]\nname = \"a.org\"\n[limits]\nmax_stanza_size = 10\n", "limits.max_stanza_size"},
      {"[[host]]\nname = \"a.org\"\n[server]\ncolour = \"blue\"\n", "server.colour"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\nport = 99999\n", "listener[0].port"},
      {"[[host]]\nname = \"a.org\"\n[[listener]]\nport = 5222\ntls = \"sometimes\"\n", "listener[0].tls"},
      {"[[host]]\nname = \"a.org\"\n[[host]]\nname = \"A.ORG\"\n", "host[1].name"},
      {"[[host]]\nname = \"a.org\"\n[tls]\ncertificate = \"x.pem\"\n", "tls"},
      {"[[host]]\nname = \"a.org\"\n[storage]\ncache_kb = 1\n", "storage.cache_kb"},
      {"[[host\nname = 1", "t:1"},
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

}  // namespace
