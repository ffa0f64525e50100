// XEP-0220 dialback keys, generated as XEP-0185 recommends; the XEP's own examples are the vectors.
#include <gtest/gtest.h>

#include "core/s2s/dialback_key.hpp"

using namespace causerie::s2s;

namespace {

TEST(DialbackKey, Xep0220Examples) {
  // §2.1.1, Example 1: capulet.example (Originating) to montague.example (Receiving), stream D60000229F.
  EXPECT_EQ(dialback_key("s3cr3tf0rd14lb4ck", "montague.example", "capulet.example", "D60000229F"),
            "b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3");
  // §2.4, the Authoritative Server's computation for <db:verify id='417GAF25'/>.
  EXPECT_EQ(dialback_key("d14lb4ck43v3r", "capulet.example", "montague.example", "417GAF25"),
            "225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d");
}

TEST(DialbackKey, MatchesOnlyTheSameInputs) {
  const std::string key =
      dialback_key("s3cr3tf0rd14lb4ck", "montague.example", "capulet.example", "D60000229F");
  EXPECT_TRUE(
      dialback_key_matches(key, "s3cr3tf0rd14lb4ck", "montague.example", "capulet.example", "D60000229F"));
  EXPECT_FALSE(
      dialback_key_matches(key, "other secret", "montague.example", "capulet.example", "D60000229F"));
  EXPECT_FALSE(
      dialback_key_matches(key, "s3cr3tf0rd14lb4ck", "capulet.example", "montague.example", "D60000229F"));
  EXPECT_FALSE(
      dialback_key_matches(key, "s3cr3tf0rd14lb4ck", "montague.example", "capulet.example", "D60000229G"));
  EXPECT_FALSE(dialback_key_matches(key.substr(1), "s3cr3tf0rd14lb4ck", "montague.example", "capulet.example",
                                    "D60000229F"));
  EXPECT_FALSE(
      dialback_key_matches("", "s3cr3tf0rd14lb4ck", "montague.example", "capulet.example", "D60000229F"));
}

}  // namespace
