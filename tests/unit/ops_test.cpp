// Observability and operations (issue 14 item 8): the Prometheus text writer, the per-thread counters,
// the status command's sample parser, the certificate import's name rule and the reload's config diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "cli/cert_import.hpp"
#include "cli/status_command.hpp"
#include "core/config/config.hpp"
#include "core/util/metrics.hpp"
#include "core/util/prometheus_text.hpp"

namespace causerie {
namespace {

TEST(PrometheusText, FamiliesSamplesAndEscapes) {
  PrometheusText p;
  p.family("x_total", "counter", "Back\\slash and\nnewline.");
  p.sample("x_total", {{"kind", "a\"b\\c\nd"}}, 3);
  p.sample("x_total", 0.25);
  EXPECT_EQ(p.text(),
            "# HELP x_total Back\\\\slash and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"
            "x_total 0.25\n");
}

TEST(PrometheusText, ValuesAsPrometheusReadsThem) {
  EXPECT_EQ(PrometheusText::format_value(0), "0");
  EXPECT_EQ(PrometheusText::format_value(-2), "-2");
  EXPECT_EQ(PrometheusText::format_value(123456789012), "123456789012");
  EXPECT_EQ(PrometheusText::format_value(0.0005), "0.0005");
  EXPECT_EQ(PrometheusText::format_value(2.5), "2.5");
  EXPECT_EQ(PrometheusText::format_value(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(PrometheusText::format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(PrometheusText::format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(PrometheusText::format_value(0.0 / 0.0), "NaN");
}

TEST(Metrics, ThreadsCountInTheirOwnSlotsAndTheSumSeesAll) {
  int64_t before = metrics::total(metrics::Counter::kS2sIn);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int i = 0; i < 1000; ++i) metrics::add(metrics::Counter::kS2sIn);
      metrics::add(metrics::Counter::kS2sIn, -500);
    });
  for (auto& t : threads) t.join();
  // The threads are gone; what they counted stays.
  EXPECT_EQ(metrics::total(metrics::Counter::kS2sIn) - before, 4 * 500);
}

TEST(Metrics, StanzasByKindAndCommitBuckets) {
  int64_t m = metrics::total(metrics::Counter::kInMessage), iq = metrics::total(metrics::Counter::kOutIq);
  metrics::count_stanza(true, 0);   // message in
  metrics::count_stanza(false, 2);  // iq out
  metrics::count_stanza(true, 3);   // not a stanza: not counted
  EXPECT_EQ(metrics::total(metrics::Counter::kInMessage), m + 1);
  EXPECT_EQ(metrics::total(metrics::Counter::kOutIq), iq + 1);
  EXPECT_EQ(metrics::commit_bucket(0.0001), 0u);
  EXPECT_EQ(metrics::commit_bucket(0.0005), 0u);  // le is inclusive
  EXPECT_EQ(metrics::commit_bucket(0.0006), 1u);
  EXPECT_EQ(metrics::commit_bucket(2.5), 11u);
  EXPECT_EQ(metrics::commit_bucket(60), metrics::kCommitBuckets.size());
}

TEST(StatusCommand, ParsesSamplesAndRefusesGarbage) {
  auto s = status::parse_samples(
      "# HELP a x\n# TYPE a gauge\na 1\nb{x=\"y z\"} 2.5\nc_bucket{le=\"+Inf\"} 7\nd +Inf\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->at("a"), 1);
  EXPECT_EQ(s->at("b{x=\"y z\"}"), 2.5);
  EXPECT_EQ(s->at("c_bucket{le=\"+Inf\"}"), 7);
  EXPECT_TRUE(std::isinf(s->at("d")));
  EXPECT_FALSE(status::parse_samples("<html>not metrics</html>\n"));
  EXPECT_FALSE(status::parse_samples("a 1x\n"));
}

TEST(CertImport, NamesCoverHostsAsRfc9525Says) {
  EXPECT_TRUE(cert::name_covers("example.org", "example.org"));
  EXPECT_TRUE(cert::name_covers("*.example.org", "chat.example.org"));
  EXPECT_FALSE(cert::name_covers("*.example.org", "example.org"));
  EXPECT_FALSE(cert::name_covers("*.example.org", "a.b.example.org"));
  EXPECT_FALSE(cert::name_covers("example.org", "example.com"));
}

TEST(ConfigReload, DifferencesNameTheKeysAndHosts) {
  const char* base = R"(
[limits]
max_stanza_size = 20000
[[host]]
name = "a.example"
[[host]]
name = "b.example"
[[listener]]
type = "c2s"
port = 5222
)";
  const char* changed = R"(
[limits]
max_stanza_size = 30000
[tls]
certificate = "/x.pem"
key = "/x.key"
[[host]]
name = "a.example"
certificate = "/a.pem"
key = "/a.key"
[[host]]
name = "c.example"
[[listener]]
type = "c2s"
port = 5222
)";
  Config a = load_config_text(base, "a"), b = load_config_text(changed, "b");
  auto d = a.raw->differences(*b.raw);
  std::sort(d.begin(), d.end());
  EXPECT_EQ(d, (std::vector<std::string>{"host[a.example].certificate", "host[a.example].key", "host[b.example]",
                                         "host[c.example]", "limits.max_stanza_size", "tls.certificate",
                                         "tls.key"}));
  EXPECT_TRUE(a.raw->differences(*load_config_text(base, "again").raw).empty());
}

TEST(ConfigReload, AdminListenersArePlain) {
  Config c = load_config_text("[[host]]\nname = \"a.example\"\n[[listener]]\ntype = \"admin\"\nport = 5282\n", "t");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].type, "admin");
  EXPECT_EQ(c.listeners[0].tls, TlsMode::kNone);
  EXPECT_THROW(load_config_text("[[host]]\nname = \"a.example\"\n[[listener]]\ntype = \"admin\"\nport = 5282\ntls = \"direct\"\n", "t"),
               ConfigError);
}

}  // namespace
}  // namespace causerie
