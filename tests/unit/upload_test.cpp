// The upload module's pure rules (modules/upload.hpp): URL signatures, Range headers, served types.
#include "modules/upload.hpp"

#include <gtest/gtest.h>

namespace causerie::modules::upload {
namespace {

TEST(UploadSignature, CoversPathSizeAndExpiry) {
  std::string sig = slot_signature("secret", "/upload/a/b.png", 100, 1700000000);
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(signature_matches("secret", "/upload/a/b.png", 100, 1700000000, sig));
  EXPECT_FALSE(signature_matches("secret", "/upload/a/c.png", 100, 1700000000, sig));
  EXPECT_FALSE(signature_matches("secret", "/upload/a/b.png", 101, 1700000000, sig));
  EXPECT_FALSE(signature_matches("secret", "/upload/a/b.png", 100, 1700000001, sig));
  EXPECT_FALSE(signature_matches("other!", "/upload/a/b.png", 100, 1700000000, sig));
  EXPECT_FALSE(signature_matches("secret", "/upload/a/b.png", 100, 1700000000, sig.substr(1)));
}

TEST(UploadRange, ParsesSingleRanges) {
  auto r = parse_range("bytes=10-99", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->last, 99u);
  r = parse_range("bytes=990-", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 990u);
  EXPECT_EQ(r->last, 999u);
  r = parse_range("bytes=-5", 1000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first, 995u);
  EXPECT_EQ(r->last, 999u);
  r = parse_range("bytes=0-5000", 1000);  // clipped to the file
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last, 999u);
}

TEST(UploadRange, UnsatisfiableAndIgnored) {
  auto r = parse_range("bytes=1000-", 1000);
  ASSERT_TRUE(r);
  EXPECT_GT(r->first, r->last);
  r = parse_range("bytes=-0", 1000);
  ASSERT_TRUE(r);
  EXPECT_GT(r->first, r->last);
  EXPECT_FALSE(parse_range("", 1000));
  EXPECT_FALSE(parse_range("items=0-1", 1000));
  EXPECT_FALSE(parse_range("bytes=0-1,5-6", 1000));
  EXPECT_FALSE(parse_range("bytes=9-3", 1000));
  EXPECT_FALSE(parse_range("bytes=x-3", 1000));
}

TEST(UploadTypes, OnlySafeTypesInline) {
  EXPECT_EQ(served_type("image/png"), "image/png");
  EXPECT_EQ(served_type("video/mp4"), "video/mp4");
  EXPECT_EQ(served_type("application/pdf"), "application/pdf");
  EXPECT_EQ(served_type("text/plain; charset=latin1"), "text/plain; charset=utf-8");
  EXPECT_EQ(served_type("image/svg+xml"), "application/octet-stream");
  EXPECT_EQ(served_type("text/html"), "application/octet-stream");
  EXPECT_EQ(served_type("application/javascript"), "application/octet-stream");
  EXPECT_EQ(served_type("image/png\r\nX: y"), "application/octet-stream");
}

TEST(UploadNames, UrlSafe) {
  EXPECT_EQ(url_file_name("holiday photo.png"), "holiday_photo.png");
  EXPECT_EQ(url_file_name("../../etc/passwd"), "_._.._etc_passwd");
  EXPECT_EQ(url_file_name(".hidden"), "_hidden");
  EXPECT_EQ(url_file_name(""), "file");
  EXPECT_EQ(url_file_name(std::string(300, 'a')).size(), 100u);
}

}  // namespace
}  // namespace causerie::modules::upload
