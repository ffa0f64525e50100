// The SQLite InviteStore (src/storage/sqlite/sqlite_invite_store.cpp) against its contract
// (invite_store.hpp), and the redemption job of modules/invites/invites.hpp on it: uses counted down,
// accounts recorded, reserved names, mutual contacts, nothing half done.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/accounts/accounts.hpp"
#include "modules/invites/invites.hpp"
#include "storage/account_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::storage;
namespace inv = causerie::modules::invites;

namespace {

class InviteStoreTest : public ::testing::Test {
 protected:
  InviteStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-invites-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
    db_ = sqlite::open_sqlite(path_);
  }
  ~InviteStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  InviteStore& s() { return db_->invites(); }
  static Invite invite(std::string token, int64_t uses = 1, int64_t expires = 0) {
    Invite i;
    i.token = std::move(token);
    i.host = "example.org";
    i.uses_left = uses;
    i.created = 1000;
    i.expires = expires;
    return i;
  }
  static Account account(const std::string& jid) { return make_account(jid, "secret", 16); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Storage> db_;
};

TEST_F(InviteStoreTest, CreateReadListRevokeAndReopen) {
  Invite a = invite("aaaa", 3, 5000);
  a.creator = "romeo@example.org";
  a.add_contact = true;
  a.username = "juliet";
  EXPECT_TRUE(s().create_invite(a));
  EXPECT_FALSE(s().create_invite(a));  // tokens are unique
  Invite b = invite("bbbb");
  b.host = "other.org";
  b.created = 2000;
  EXPECT_TRUE(s().create_invite(b));
  db_ = sqlite::open_sqlite(path_);
  auto got = s().invite("aaaa");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->host, "example.org");
  EXPECT_EQ(got->creator, "romeo@example.org");
  EXPECT_EQ(got->username, "juliet");
  EXPECT_EQ(got->uses_left, 3);
  EXPECT_EQ(got->expires, 5000);
  EXPECT_TRUE(got->add_contact);
  EXPECT_FALSE(s().invite("nope"));
  EXPECT_EQ(s().invites("").size(), 2u);
  ASSERT_EQ(s().invites("other.org").size(), 1u);
  EXPECT_EQ(s().invites("other.org")[0].token, "bbbb");
  EXPECT_TRUE(s().revoke_invite("bbbb"));
  EXPECT_FALSE(s().revoke_invite("bbbb"));
  EXPECT_EQ(s().invites("").size(), 1u);
}

TEST_F(InviteStoreTest, RedeemCountsDownAndRecordsAccounts) {
  s().create_invite(invite("tok", 2));
  EXPECT_TRUE(s().redeem_invite("tok", "a@example.org", 10));
  EXPECT_TRUE(s().redeem_invite("tok", "b@example.org", 11));
  EXPECT_FALSE(s().redeem_invite("tok", "c@example.org", 12));
  EXPECT_FALSE(s().redeem_invite("unknown", "c@example.org", 12));
  auto got = s().invite("tok");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->uses_left, 0);
  EXPECT_EQ(got->accounts, (std::vector<std::string>{"a@example.org", "b@example.org"}));
}

TEST_F(InviteStoreTest, ReservedNamesHoldWhileTheInvitationIsValid) {
  Invite i = invite("tok", 1, 100);
  i.username = "juliet";
  s().create_invite(i);
  EXPECT_TRUE(s().username_reserved("example.org", "juliet", 50));
  EXPECT_FALSE(s().username_reserved("example.org", "juliet", 100));  // expired
  EXPECT_FALSE(s().username_reserved("other.org", "juliet", 50));
  EXPECT_FALSE(s().username_reserved("example.org", "romeo", 50));
  EXPECT_TRUE(inv::reserved_for_another(*db_, "example.org", "juliet", "", 50));
  EXPECT_FALSE(inv::reserved_for_another(*db_, "example.org", "juliet", "tok", 50));
}

TEST_F(InviteStoreTest, RedeemMakesMutualContactsOfAUserInvitation) {
  db_->accounts().create(account("romeo@example.org"));
  Invite i = invite(inv::new_token());
  i.creator = "romeo@example.org";
  i.add_contact = true;
  s().create_invite(i);
  inv::Redeemed r = inv::redeem(*db_, i.token, account("juliet@example.org"), 10);
  ASSERT_EQ(r.result, inv::Redeemed::Result::kCreated);
  EXPECT_TRUE(r.contacts());
  EXPECT_TRUE(db_->accounts().exists("juliet@example.org"));
  auto a = db_->roster().item("romeo@example.org", "juliet@example.org");
  auto b = db_->roster().item("juliet@example.org", "romeo@example.org");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->subscription, Subscription::kBoth);
  EXPECT_EQ(b->subscription, Subscription::kBoth);
  // Used up: a second account is refused and nothing is created.
  EXPECT_EQ(inv::redeem(*db_, i.token, account("mercutio@example.org"), 11).result, inv::Redeemed::Result::kInvalid);
  EXPECT_FALSE(db_->accounts().exists("mercutio@example.org"));
}

TEST_F(InviteStoreTest, RedeemRefusesTakenAndWrongNamesAndOtherHosts) {
  db_->accounts().create(account("taken@example.org"));
  s().create_invite(invite("free", 5));
  Invite named = invite("named");
  named.username = "juliet";
  s().create_invite(named);
  EXPECT_EQ(inv::redeem(*db_, "free", account("taken@example.org"), 1).result, inv::Redeemed::Result::kTaken);
  EXPECT_EQ(inv::redeem(*db_, "free", account("juliet@example.org"), 1).result, inv::Redeemed::Result::kTaken);
  EXPECT_EQ(inv::redeem(*db_, "free", account("x@other.org"), 1).result, inv::Redeemed::Result::kWrongName);
  EXPECT_EQ(inv::redeem(*db_, "named", account("romeo@example.org"), 1).result, inv::Redeemed::Result::kWrongName);
  EXPECT_EQ(s().invite("free")->uses_left, 5);  // refusals take no use
  EXPECT_EQ(inv::redeem(*db_, "named", account("juliet@example.org"), 1).result, inv::Redeemed::Result::kCreated);
  EXPECT_FALSE(inv::redeem(*db_, "named", account("juliet2@example.org"), 1).contacts());
}

TEST_F(InviteStoreTest, RemovingAnAccountRevokesItsInvitations) {
  db_->accounts().create(account("romeo@example.org"));
  Invite i = invite("tok");
  i.creator = "romeo@example.org";
  s().create_invite(i);
  s().create_invite(invite("admin"));
  db_->accounts().remove("romeo@example.org");
  EXPECT_FALSE(s().invite("tok"));
  EXPECT_TRUE(s().invite("admin"));
}

}  // namespace
