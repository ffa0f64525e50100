// The outbound HTTP client's URL handling: what it accepts, how it writes the request target and Host,
// and how a redirect's Location is resolved against the URL it came from.
#include <gtest/gtest.h>

#include "net/http_fetcher.hpp"

using namespace causerie::net;

TEST(HttpUrl, ParsesHttpAndHttps) {
  auto u = parse_http_url("HTTPS://Example.ORG/a/b?c=d#frag");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "example.org");
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/a/b?c=d");
  EXPECT_EQ(u->authority(), "example.org");
  EXPECT_EQ(u->to_string(), "https://example.org/a/b?c=d");
  auto p = parse_http_url("http://127.0.0.1:8080");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->host_is_ip);
  EXPECT_EQ(p->port, 8080);
  EXPECT_EQ(p->target, "/");
  EXPECT_EQ(p->authority(), "127.0.0.1:8080");
  auto v6 = parse_http_url("http://[::FFFF:127.0.0.1]:81/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::ffff:127.0.0.1");
  EXPECT_EQ(v6->authority(), "[::ffff:127.0.0.1]:81");
  auto q = parse_http_url("http://example.org?x=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->target, "/?x=1");
  auto sp = parse_http_url("http://example.org/caf\xc3\xa9 au lait");
  ASSERT_TRUE(sp);
  EXPECT_EQ(sp->target, "/caf%C3%A9%20au%20lait");
  auto empty_port = parse_http_url("http://example.org:/");
  ASSERT_TRUE(empty_port);
  EXPECT_EQ(empty_port->port, 80);
}

TEST(HttpUrl, Refuses) {
  for (const char* bad : {"ftp://example.org/", "file:///etc/passwd", "gopher://127.0.0.1:25/", "example.org",
                          "http://user:pw@example.org/", "http://@example.org/", "http://example.org:0/",
                          "http://example.org:65536/", "http://example.org:8o/", "http:///path", "http://",
                          "http://exa mple.org/", "http://[fe80::1%25eth0]/", "http://[127.0.0.1]/",
                          "http://example.org/a\r\nHost: evil", "http://example.org/\x01", "http://ex%41mple.org/",
                          "javascript:alert(1)"}) {
    EXPECT_FALSE(parse_http_url(bad)) << bad;
  }
  EXPECT_FALSE(parse_http_url("http://example.org/" + std::string(5000, 'a')));
}

TEST(HttpUrl, ResolvesRedirects) {
  auto base = *parse_http_url("https://example.org:8443/dir/page?q=1");
  EXPECT_EQ(resolve_reference(base, "http://other.example/x")->to_string(), "http://other.example/x");
  EXPECT_EQ(resolve_reference(base, "//cdn.example/y")->to_string(), "https://cdn.example/y");
  EXPECT_EQ(resolve_reference(base, "/root")->to_string(), "https://example.org:8443/root");
  EXPECT_EQ(resolve_reference(base, "other?z=2")->to_string(), "https://example.org:8443/dir/other?z=2");
  EXPECT_EQ(resolve_reference(base, "?z=3")->to_string(), "https://example.org:8443/dir/page?z=3");
  EXPECT_EQ(resolve_reference(base, "http://127.0.0.1:9/")->host, "127.0.0.1");
  EXPECT_FALSE(resolve_reference(base, "ftp://example.org/"));
  EXPECT_FALSE(resolve_reference(base, "/a\nb"));
  EXPECT_FALSE(resolve_reference(base, ""));
  auto same = *parse_http_url("https://example.org:8443/elsewhere");
  EXPECT_TRUE(base.same_origin(same));
  EXPECT_FALSE(base.same_origin(*parse_http_url("http://example.org:8443/")));
}
