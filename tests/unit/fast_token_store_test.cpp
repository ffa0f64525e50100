// The SQLite FastTokenStore (src/storage/sqlite/sqlite_fast_token_store.cpp) against its contract
// (fast_token_store.hpp): two slots per client, promotion, revocation, and tokens gone with a password
// change or the account.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/accounts/accounts.hpp"
#include "storage/account_store.hpp"
#include "storage/fast_token_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class FastTokenStoreTest : public ::testing::Test {
 protected:
  FastTokenStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-fast-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = sqlite::open_sqlite(path_);
  }
  ~FastTokenStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  FastTokenStore& f() { return db_->fast_tokens(); }

  static FastToken token(std::string id, std::string account, std::string client, int64_t created) {
    FastToken t;
    t.id = std::move(id);
    t.account = std::move(account);
    t.client = std::move(client);
    t.mechanism = "HT-SHA-256-ENDP";
    t.key = std::string(32, static_cast<char>(created));
    t.created = created;
    t.expiry = created + 1000;
    t.software = "Client";
    t.device = "Phone";
    return t;
  }
  static std::vector<std::string> ids(const std::vector<FastToken>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) out.push_back(t.id + (t.fresh ? "*" : ""));
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Storage> db_;
};

using List = std::vector<std::string>;

TEST_F(FastTokenStoreTest, SlotsPromotionAndRotation) {
  const char* j = "juliet@capulet.lit";
  f().issue(token("a", j, "phone", 1));
  auto got = f().for_client(j, "phone");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].fresh);
  EXPECT_EQ(got[0].key, std::string(32, '\x01'));
  EXPECT_EQ(got[0].mechanism, "HT-SHA-256-ENDP");
  EXPECT_EQ(got[0].expiry, 1001);
  EXPECT_EQ(got[0].software, "Client");
  // An unused token is replaced by the next one issued.
  f().issue(token("b", j, "phone", 2));
  EXPECT_EQ(ids(f().for_client(j, "phone")), List{"b*"});
  EXPECT_FALSE(f().promote(j, "phone", "a"));
  EXPECT_TRUE(f().promote(j, "phone", "b"));
  EXPECT_FALSE(f().promote(j, "phone", "b"));  // current already
  // Rotation: a fresh token beside the current one, fresh first; using it drops the current one.
  f().issue(token("c", j, "phone", 3));
  EXPECT_EQ(ids(f().for_client(j, "phone")), (List{"c*", "b"}));
  EXPECT_TRUE(f().promote(j, "phone", "c"));
  EXPECT_EQ(ids(f().for_client(j, "phone")), List{"c"});
  // Other clients and accounts are apart.
  f().issue(token("d", j, "laptop", 4));
  f().issue(token("e", "nurse@capulet.lit", "phone", 5));
  EXPECT_EQ(ids(f().for_client(j, "phone")), List{"c"});
  EXPECT_EQ(ids(f().list(j)), (List{"c", "d*"}));
  db_ = sqlite::open_sqlite(path_);
  EXPECT_EQ(ids(f().list(j)), (List{"c", "d*"}));
}

TEST_F(FastTokenStoreTest, Revocation) {
  const char* j = "juliet@capulet.lit";
  f().issue(token("a", j, "phone", 1));
  f().issue(token("b", j, "laptop", 2));
  f().issue(token("c", "nurse@capulet.lit", "phone", 3));
  EXPECT_FALSE(f().revoke(j, "c"));  // another account's token
  EXPECT_TRUE(f().revoke(j, "a"));
  EXPECT_FALSE(f().revoke(j, "a"));
  EXPECT_EQ(ids(f().list(j)), List{"b*"});
  EXPECT_EQ(f().revoke_all(j), 1u);
  EXPECT_EQ(ids(f().list(j)), List{});
  EXPECT_EQ(ids(f().list("nurse@capulet.lit")), List{"c*"});
}

TEST_F(FastTokenStoreTest, PasswordChangeAndRemovalRevoke) {
  const char* j = "juliet@capulet.lit";
  ASSERT_TRUE(db_->accounts().create(make_account(j, "secret", 4096)));
  ASSERT_TRUE(db_->accounts().create(make_account("nurse@capulet.lit", "secret", 4096)));
  f().issue(token("a", j, "phone", 1));
  f().issue(token("b", "nurse@capulet.lit", "phone", 2));
  Account same = *db_->accounts().get(j);
  // Writing the same credentials back is no change.
  ASSERT_TRUE(db_->accounts().set_credentials(j, same.sha1, same.sha256));
  EXPECT_EQ(ids(f().list(j)), List{"a*"});
  Account changed = make_account(j, "another secret", 4096);
  ASSERT_TRUE(db_->accounts().set_credentials(j, changed.sha1, changed.sha256));
  EXPECT_EQ(ids(f().list(j)), List{});
  EXPECT_EQ(ids(f().list("nurse@capulet.lit")), List{"b*"});
  ASSERT_TRUE(db_->accounts().remove("nurse@capulet.lit"));
  EXPECT_EQ(ids(f().list("nurse@capulet.lit")), List{});
}

}  // namespace
