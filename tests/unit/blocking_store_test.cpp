// The SQLite BlockingStore (src/storage/sqlite/sqlite_blocking_store.cpp) against its contract
// (blocking_store.hpp): a set of JIDs per account that survives reopening and goes with its account.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/accounts/accounts.hpp"
#include "storage/account_store.hpp"
#include "storage/blocking_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class BlockingStoreTest : public ::testing::Test {
 protected:
  BlockingStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-blocking-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = sqlite::open_sqlite(path_);
  }
  ~BlockingStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  BlockingStore& b() { return db_->blocking(); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Storage> db_;
};

using List = std::vector<std::string>;

TEST_F(BlockingStoreTest, BlockUnblockAndUnblockAll) {
  EXPECT_EQ(b().blocked("juliet@capulet.lit"), List{});
  EXPECT_TRUE(b().block("juliet@capulet.lit", "romeo@montague.net"));
  EXPECT_TRUE(b().block("juliet@capulet.lit", "iago@shakespeare.lit"));
  EXPECT_TRUE(b().block("juliet@capulet.lit", "montague.net/orchard"));
  EXPECT_FALSE(b().block("juliet@capulet.lit", "romeo@montague.net"));  // already there
  EXPECT_TRUE(b().block("nurse@capulet.lit", "romeo@montague.net"));
  EXPECT_EQ(b().blocked("juliet@capulet.lit"),
            (List{"iago@shakespeare.lit", "montague.net/orchard", "romeo@montague.net"}));

  EXPECT_TRUE(b().unblock("juliet@capulet.lit", "iago@shakespeare.lit"));
  EXPECT_FALSE(b().unblock("juliet@capulet.lit", "iago@shakespeare.lit"));
  EXPECT_EQ(b().blocked("juliet@capulet.lit"), (List{"montague.net/orchard", "romeo@montague.net"}));

  EXPECT_EQ(b().unblock_all("juliet@capulet.lit"), 2u);
  EXPECT_EQ(b().unblock_all("juliet@capulet.lit"), 0u);
  EXPECT_EQ(b().blocked("juliet@capulet.lit"), List{});
  EXPECT_EQ(b().blocked("nurse@capulet.lit"), List{"romeo@montague.net"});  // another account's list is kept
}

TEST_F(BlockingStoreTest, ForEachReadsEveryListInOrderAndSurvivesReopen) {
  b().block("b@x", "z@y");
  b().block("a@x", "y");
  b().block("b@x", "c@y/r");
  db_ = sqlite::open_sqlite(path_);
  std::vector<std::pair<std::string, std::string>> seen;
  b().for_each([&](std::string_view owner, std::string_view jid) { seen.emplace_back(owner, jid); });
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"a@x", "y"}, {"b@x", "c@y/r"}, {"b@x", "z@y"}}));
}

TEST_F(BlockingStoreTest, RemovingTheAccountRemovesItsBlocklist) {
  ASSERT_TRUE(db_->accounts().create(make_account("juliet@capulet.lit", "secret", 4096)));
  b().block("juliet@capulet.lit", "romeo@montague.net");
  b().block("nurse@capulet.lit", "romeo@montague.net");
  EXPECT_TRUE(db_->accounts().remove("juliet@capulet.lit"));
  EXPECT_EQ(b().blocked("juliet@capulet.lit"), List{});
  EXPECT_EQ(b().blocked("nurse@capulet.lit"), List{"romeo@montague.net"});
}

}  // namespace
