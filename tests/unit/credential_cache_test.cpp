// The login credential cache: hits, invalidation, the epoch guard against stale puts, and the database
// generation check that catches changes made by another process.
#include <gtest/gtest.h>

#include "core/accounts/credential_cache.hpp"

using causerie::CredentialCache;
using causerie::storage::Account;

namespace {

Account acct(const std::string& jid, const std::string& salt) {
  Account a;
  a.jid = jid;
  a.sha256.salt = salt;
  return a;
}

TEST(CredentialCache, HitsAndInvalidation) {
  CredentialCache c;
  EXPECT_FALSE(c.find("a@x"));
  c.put(acct("a@x", "s1"), c.epoch());
  ASSERT_TRUE(c.find("a@x"));
  EXPECT_EQ(c.find("a@x")->sha256.salt, "s1");
  c.invalidate("a@x");
  EXPECT_FALSE(c.find("a@x"));
}

TEST(CredentialCache, ALookupThatRacedWithAChangeIsNotStored) {
  CredentialCache c;
  uint64_t e = c.epoch();  // lookup starts, reads the old credentials...
  c.invalidate("a@x");     // ...the password changes meanwhile...
  c.put(acct("a@x", "old"), e);  // ...and the old result arrives: ignored
  EXPECT_FALSE(c.find("a@x"));
}

TEST(CredentialCache, GenerationChangeClearsEverything) {
  CredentialCache c;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ASSERT_TRUE(c.generation_check_due(t0));
  EXPECT_FALSE(c.generation_check_due(t0 + std::chrono::seconds(5)));  // one check in flight at a time
  c.observe_generation(7);
  c.put(acct("a@x", "s"), c.epoch());
  EXPECT_FALSE(c.generation_check_due(t0 + std::chrono::milliseconds(500)));  // at most once a second
  ASSERT_TRUE(c.generation_check_due(t0 + std::chrono::seconds(2)));
  c.observe_generation(7);  // unchanged: kept
  EXPECT_TRUE(c.find("a@x"));
  ASSERT_TRUE(c.generation_check_due(t0 + std::chrono::seconds(4)));
  c.observe_generation(8);  // another process changed an account
  EXPECT_FALSE(c.find("a@x"));
}

TEST(CredentialCache, BoundedSize) {
  CredentialCache c(4);
  for (int i = 0; i < 10; ++i) c.put(acct("u" + std::to_string(i) + "@x", "s"), c.epoch());
  EXPECT_LE(c.size(), 4u);
}

}  // namespace
