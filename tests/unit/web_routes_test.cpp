// The core's route table (src/core/web/routes.hpp): longest-prefix lookup by method, 404 versus 405,
// query parameters, header lookup and percent-decoding, with no HTTP listener involved.
#include <gtest/gtest.h>

#include "core/web/routes.hpp"

using namespace causerie;
using namespace causerie::web;

namespace {
// A table whose handlers answer with their own name, so a lookup says which route it found.
Routes table() {
  Routes r;
  auto named = [](std::string name) {
    return [name](const Request&, Respond respond) { respond(Response::text(200, name)); };
  };
  r.add("GET", "/blog", named("blog"));
  r.add("GET", "/blog/feeds/", named("feeds"));
  r.add("POST", "/upload", named("upload"));
  return r;
}

std::string found(const Routes& r, std::string_view method, std::string_view path) {
  const Handler* h = r.find(method, path);
  if (!h) return "none";
  std::string body;
  (*h)(Request{}, [&body](Response res) { body = std::move(res.body); });
  return body;
}
}  // namespace

TEST(WebRoutes, LongestPrefixByMethod) {
  Routes r = table();
  EXPECT_EQ(found(r, "GET", "/blog"), "blog");
  EXPECT_EQ(found(r, "GET", "/blog/alice@example.org"), "blog");
  EXPECT_EQ(found(r, "GET", "/blog/feeds/alice"), "feeds");  // the longer prefix wins
  EXPECT_EQ(found(r, "GET", "/blogger"), "none");            // a prefix matches whole segments only
  EXPECT_EQ(found(r, "POST", "/blog"), "none");
  EXPECT_EQ(found(r, "POST", "/upload/x"), "upload");
}

TEST(WebRoutes, HasPathTellsMethodNotAllowedFromNotFound) {
  Routes r = table();
  EXPECT_TRUE(r.has_path("/upload"));   // served, but only for POST: 405 for a GET
  EXPECT_TRUE(r.has_path("/blog/x"));
  EXPECT_FALSE(r.has_path("/other"));  // 404
  EXPECT_FALSE(r.has_path("/uploads"));
}

TEST(WebRoutes, RequestParamsAndHeaders) {
  Request req;
  req.query = "after=p%2B1&q=a+b&flag&after=second";
  req.headers = {{"host", "example.org:5280"}, {"x-forwarded-for", "192.0.2.1"}};
  EXPECT_EQ(req.param("after"), "p+1");  // the first occurrence, decoded
  EXPECT_EQ(req.param("q"), "a b");
  EXPECT_EQ(req.param("flag"), "");
  EXPECT_EQ(req.param("missing"), "");
  EXPECT_EQ(req.header("Host"), "example.org:5280");  // names compare without case
  EXPECT_EQ(req.header("X-Forwarded-For"), "192.0.2.1");
  EXPECT_EQ(req.header("cookie"), "");
}

TEST(WebRoutes, PercentDecode) {
  EXPECT_EQ(percent_decode("a+b%2Fc%zz"), "a b/c%zz");  // queries: '+' is a space
  EXPECT_EQ(percent_decode("/blog/a+b%20c", false), "/blog/a+b c");  // paths: '+' is itself
  EXPECT_EQ(percent_decode("%4"), "%4");
}

TEST(WebRoutes, ResponseHelpers) {
  Response t = Response::text(404, "gone\n");
  EXPECT_EQ(t.status, 404);
  EXPECT_EQ(t.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(t.body, "gone\n");
  Response h = Response::html("<p/>");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.content_type, "text/html; charset=utf-8");
}
