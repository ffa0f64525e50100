// The login credential cache: hits, invalidation, the epoch guard against stale puts, and the database
// generation check that catches changes made by another process.
#include <gtest/gtest.h>

#include "core/accounts/credential_cache.hpp"

using causerie::CredentialCache;
using causerie::sasl::ScramCredentials;
using causerie::sasl::ScramHash;

namespace {

ScramCredentials creds(const std::string& salt, uint32_t iterations = 4096) {
  ScramCredentials c;
  c.salt = salt;
  c.iterations = iterations;
  c.stored_key = std::string(32, 'k');
  c.server_key = std::string(32, 's');
  return c;
}

TEST(CredentialCache, HitsAndInvalidation) {
  CredentialCache c;
  EXPECT_FALSE(c.find("a@x", ScramHash::kSha256));
  c.put("a@x", ScramHash::kSha256, creds("s1"), c.epoch());
  ASSERT_TRUE(c.find("a@x", ScramHash::kSha256));
  EXPECT_EQ(c.find("a@x", ScramHash::kSha256)->salt, "s1");
  EXPECT_FALSE(c.find("a@x", ScramHash::kSha1));  // only what a login used is kept
  c.invalidate("a@x");
  EXPECT_FALSE(c.find("a@x", ScramHash::kSha256));
}

TEST(CredentialCache, ALookupThatRacedWithAChangeIsNotStored) {
  CredentialCache c;
  uint64_t e = c.epoch();  // lookup starts, reads the old credentials...
  c.invalidate("a@x");     // ...the password changes meanwhile...
  c.put("a@x", ScramHash::kSha256, creds("old"), e);  // ...and the old result arrives: ignored
  EXPECT_FALSE(c.find("a@x", ScramHash::kSha256));
}

TEST(CredentialCache, GenerationChangeClearsEverything) {
  CredentialCache c;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ASSERT_TRUE(c.generation_check_due(t0));
  EXPECT_FALSE(c.generation_check_due(t0 + std::chrono::seconds(5)));  // one check in flight at a time
  c.observe_generation(7);
  c.put("a@x", ScramHash::kSha1, creds("s"), c.epoch());
  EXPECT_FALSE(c.generation_check_due(t0 + std::chrono::milliseconds(500)));  // at most once a second
  ASSERT_TRUE(c.generation_check_due(t0 + std::chrono::seconds(2)));
  c.observe_generation(7);  // unchanged: kept
  EXPECT_TRUE(c.find("a@x", ScramHash::kSha1));
  ASSERT_TRUE(c.generation_check_due(t0 + std::chrono::seconds(4)));
  c.observe_generation(8);  // another process changed an account
  EXPECT_FALSE(c.find("a@x", ScramHash::kSha256));
}

TEST(CredentialCache, BoundedSize) {
  CredentialCache c(4);
  for (int i = 0; i < 10; ++i) c.put("u" + std::to_string(i) + "@x", ScramHash::kSha1, creds("s"), c.epoch());
  EXPECT_LE(c.size(), 4u);
}

TEST(CredentialCache, BothHashesOfOneAccountRoundTrip) {
  CredentialCache c;
  ScramCredentials one = creds("salt-one-16bytes", 4096), two = creds("salt-two", 10000);
  one.stored_key = std::string(20, '\x01');
  one.server_key = std::string(20, '\xff');
  c.put("a@x", ScramHash::kSha1, one, c.epoch());
  c.put("a@x", ScramHash::kSha256, two, c.epoch());
  c.put("a@x", ScramHash::kSha256, two, c.epoch());  // replaced, not appended
  auto got1 = c.find("a@x", ScramHash::kSha1), got2 = c.find("a@x", ScramHash::kSha256);
  ASSERT_TRUE(got1 && got2);
  EXPECT_EQ(got1->salt, one.salt);
  EXPECT_EQ(got1->iterations, 4096u);
  EXPECT_EQ(got1->stored_key, one.stored_key);
  EXPECT_EQ(got1->server_key, one.server_key);
  EXPECT_EQ(got2->salt, "salt-two");
  EXPECT_EQ(got2->iterations, 10000u);
  EXPECT_EQ(got2->server_key, two.server_key);
}

}  // namespace
