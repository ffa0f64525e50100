// The HTTP listener's pure decisions: header tokens, CORS, security headers, Host echoing, host-meta
// (XEP-0156 examples), the rate limiter, and the [http] configuration section.
#include <gtest/gtest.h>

#include "core/config/config.hpp"
#include "core/xml/fragment.hpp"
#include "http/http_policy.hpp"

using namespace causerie;
using namespace causerie::http;

TEST(HttpPolicy, HeaderTokens) {
  struct Case { const char* list; const char* token; bool has; } cases[] = {
      {"xmpp", "xmpp", true},          {"chat, xmpp", "xmpp", true}, {" XMPP ,chat", "xmpp", true},
      {"xmpp-framing", "xmpp", false}, {"", "xmpp", false},          {"keep-alive, Upgrade", "upgrade", true},
  };
  for (const auto& c : cases) EXPECT_EQ(header_has_token(c.list, c.token), c.has) << c.list << " / " << c.token;
}

TEST(HttpPolicy, CorsAllowOrigin) {
  std::vector<std::string> any = {"*"}, some = {"https://app.example", "http://localhost:8080"}, none = {};
  EXPECT_EQ(cors_allow_origin(any, "https://x.example"), "*");
  EXPECT_EQ(cors_allow_origin(any, ""), std::nullopt);  // no Origin: not a CORS request
  EXPECT_EQ(cors_allow_origin(some, "https://app.example"), "https://app.example");
  EXPECT_EQ(cors_allow_origin(some, "HTTPS://APP.EXAMPLE"), "HTTPS://APP.EXAMPLE");
  EXPECT_EQ(cors_allow_origin(some, "https://app.example.evil"), std::nullopt);
  EXPECT_EQ(cors_allow_origin(some, "http://localhost:8081"), std::nullopt);
  EXPECT_EQ(cors_allow_origin(none, "https://app.example"), std::nullopt);
}

TEST(HttpPolicy, PreflightEchoesOnlySafeHeaderNames) {
  auto h = cors_preflight_headers("https://app.example", "content-type, X-Requested-With, Cookie, bad header");
  std::map<std::string, std::string> m(h.begin(), h.end());
  EXPECT_EQ(m["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_EQ(m["Access-Control-Allow-Headers"], "Content-Type, X-Requested-With");
  EXPECT_EQ(m["Vary"], "Origin");
  EXPECT_NE(m["Access-Control-Allow-Methods"].find("POST"), std::string::npos);
}

TEST(HttpPolicy, SecurityHeaders) {
  auto plain = security_headers(false, std::chrono::seconds(100));
  auto tls = security_headers(true, std::chrono::seconds(100));
  auto off = security_headers(true, std::chrono::seconds(0));
  auto find = [](const HeaderList& l, const std::string& k) {
    for (const auto& [n, v] : l)
      if (n == k) return v;
    return std::string("-");
  };
  EXPECT_EQ(find(plain, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(find(plain, "X-Frame-Options"), "DENY");
  EXPECT_EQ(find(plain, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(find(plain, "Strict-Transport-Security"), "-");  // RFC 6797 §7.2
  EXPECT_EQ(find(tls, "Strict-Transport-Security"), "max-age=100");
  EXPECT_EQ(find(off, "Strict-Transport-Security"), "-");
}

TEST(HttpPolicy, SafeHost) {
  struct Case { const char* in; const char* out; } cases[] = {
      {"example.org", "example.org"},    {"Chat.Example.org:5281", "chat.example.org:5281"},
      {"[::1]:5280", "[::1]:5280"},      {"127.0.0.1:5280", "127.0.0.1:5280"},
      {"", ""},                          {"evil'><x", ""},
      {"host:port", ""},                 {"host:123456", ""},
      {"[::1", ""},                      {"a b", ""},
      {":5280", ""},                     {"host:", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(safe_host(c.in), c.out) << c.in;
}

TEST(HttpPolicy, HostMetaDocuments) {
  // XEP-0156 §3 examples, with our endpoints.
  Endpoints e = endpoints_for(true, "example.com:5281", "/http-bind", "/xmpp-websocket");
  EXPECT_EQ(e.bosh, "https://example.com:5281/http-bind");
  EXPECT_EQ(e.websocket, "wss://example.com:5281/xmpp-websocket");
  auto xrd = xml::parse_fragment(host_meta_xrd(e).substr(host_meta_xrd(e).find("<XRD")));
  ASSERT_TRUE(xrd);
  EXPECT_EQ(xrd->ns(), "http://docs.oasis-open.org/ns/xri/xrd-1.0");
  auto links = xrd->children("Link");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0]->attr("rel"), "urn:xmpp:alt-connections:xbosh");
  EXPECT_EQ(links[0]->attr("href"), "https://example.com:5281/http-bind");
  EXPECT_EQ(links[1]->attr("rel"), "urn:xmpp:alt-connections:websocket");
  EXPECT_EQ(host_meta_json(endpoints_for(false, "h", "/b", "/w")),
            "{\"links\":[{\"rel\":\"urn:xmpp:alt-connections:xbosh\",\"href\":\"http://h/b\"},"
            "{\"rel\":\"urn:xmpp:alt-connections:websocket\",\"href\":\"ws://h/w\"}]}\n");
}

TEST(HttpPolicy, RateLimiterAllowsBurstThenRate) {
  RateLimiter r(10);
  auto t = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  int allowed = 0;
  for (int i = 0; i < 50; ++i) allowed += r.allow(t);
  EXPECT_EQ(allowed, 20);  // a burst of twice the rate
  EXPECT_FALSE(r.allow(t));
  EXPECT_TRUE(r.allow(t + std::chrono::milliseconds(100)));   // one more token after 1/rate
  EXPECT_FALSE(r.allow(t + std::chrono::milliseconds(110)));
}

TEST(HttpConfig, DefaultsAndValidation) {
  const char* base = "[[host]]\nname = \"example.org\"\n";
  Config c = load_config_text(base, "t");
  EXPECT_EQ(c.http.websocket_path, "/xmpp-websocket");
  EXPECT_EQ(c.http.bosh_path, "/http-bind");
  EXPECT_EQ(c.http.cors_origins, std::vector<std::string>{"*"});
  Config d = load_config_text(std::string(base) + "[http]\nbosh_path = \"/bosh\"\ncors_origins = []\nbosh_inactivity = 5\n", "t");
  EXPECT_EQ(d.http.bosh_path, "/bosh");
  EXPECT_TRUE(d.http.cors_origins.empty());
  EXPECT_EQ(d.http.bosh_inactivity.count(), 5);
  for (const char* bad : {"[http]\nbosh_path = \"http-bind\"\n", "[http]\nwebsocket_path = \"/x\"\nbosh_path = \"/x\"\n",
                          "[http]\nmax_body_size = 5000\n", "[http]\nbosh_max_hold = 100\n", "[http]\nnope = 1\n"})
    EXPECT_THROW(load_config_text(std::string(base) + bad, "t"), ConfigError) << bad;
  // The embedded default serves HTTP on 5280 (plain) and 5281 (TLS), on both loopback addresses.
  Config e = embedded_default_config();
  int http_plain = 0, http_tls = 0;
  for (const auto& l : e.listeners) {
    if (l.type != "http") continue;
    if (l.port == 5280 && l.tls == TlsMode::kNone) ++http_plain;
    if (l.port == 5281 && l.tls == TlsMode::kDirect) ++http_tls;
  }
  EXPECT_EQ(http_plain, 2);
  EXPECT_EQ(http_tls, 2);
}
