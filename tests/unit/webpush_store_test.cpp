// The SQLite WebPushStore (src/storage/sqlite/sqlite_webpush_store.cpp) against its contract
// (webpush_store.hpp): one subscription per account and endpoint, replace by id, listing, removal,
// subscriptions gone with the account, and one VAPID key kept whatever later candidates say.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/accounts/accounts.hpp"
#include "storage/account_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/webpush_store.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class WebPushStoreTest : public ::testing::Test {
 protected:
  WebPushStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-webpush-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = sqlite::open_sqlite(path_);
  }
  ~WebPushStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  WebPushStore& w() { return db_->webpush(); }

  static WebPushSubscription sub(std::string account, std::string id, std::string endpoint, int64_t created) {
    WebPushSubscription s;
    s.account = std::move(account);
    s.id = std::move(id);
    s.endpoint = std::move(endpoint);
    s.p256dh = std::string(65, '\x04');
    s.auth = std::string(16, '\0');
    s.kinds = kWebPushMessages | kWebPushLikes;
    s.created = created;
    return s;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Storage> db_;
};

}  // namespace

TEST_F(WebPushStoreTest, SubscriptionsArePerAccountAndEndpoint) {
  w().put(sub("juliet@example.com", "a", "https://push.example.net/1", 10));
  w().put(sub("juliet@example.com", "b", "https://push.example.net/2", 20));
  w().put(sub("romeo@example.com", "a", "https://push.example.net/1", 5));
  auto list = w().list("juliet@example.com");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "a");
  EXPECT_EQ(list[1].id, "b");
  EXPECT_EQ(list[0].p256dh, std::string(65, '\x04'));
  EXPECT_EQ(list[0].auth, std::string(16, '\0'));  // blobs keep their zero octets
  EXPECT_EQ(list[0].kinds, uint32_t{kWebPushMessages | kWebPushLikes});
  auto found = w().find_endpoint("juliet@example.com", "https://push.example.net/2");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, "b");
  EXPECT_FALSE(w().find_endpoint("juliet@example.com", "https://push.example.net/3"));
  EXPECT_FALSE(w().find_endpoint("nurse@example.com", "https://push.example.net/1"));
}

TEST_F(WebPushStoreTest, PutReplacesBySameIdAndRemoveSaysWhetherItWasThere) {
  w().put(sub("juliet@example.com", "a", "https://push.example.net/1", 10));
  auto changed = sub("juliet@example.com", "a", "https://push.example.net/1", 10);
  changed.kinds = kWebPushFollowers;
  w().put(changed);
  auto list = w().list("juliet@example.com");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kinds, uint32_t{kWebPushFollowers});
  EXPECT_FALSE(w().remove("juliet@example.com", "zzz"));
  EXPECT_FALSE(w().remove("romeo@example.com", "a"));
  EXPECT_TRUE(w().remove("juliet@example.com", "a"));
  EXPECT_TRUE(w().list("juliet@example.com").empty());
}

TEST_F(WebPushStoreTest, TheFirstVapidKeyStays) {
  EXPECT_EQ(w().vapid_key(std::string(32, '\x01')), std::string(32, '\x01'));
  EXPECT_EQ(w().vapid_key(std::string(32, '\x02')), std::string(32, '\x01'));
  db_.reset();
  db_ = sqlite::open_sqlite(path_);
  EXPECT_EQ(w().vapid_key(std::string(32, '\x03')), std::string(32, '\x01'));
}

TEST_F(WebPushStoreTest, SubscriptionsGoWithTheAccount) {
  ASSERT_TRUE(db_->accounts().create(make_account("juliet@example.com", "secret", 4096)));
  w().put(sub("juliet@example.com", "a", "https://push.example.net/1", 10));
  ASSERT_TRUE(db_->accounts().remove("juliet@example.com"));
  EXPECT_TRUE(w().list("juliet@example.com").empty());
}
