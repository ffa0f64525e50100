// The SQLite MucStore (src/storage/sqlite/sqlite_muc_store.cpp) against its contract (muc_store.hpp).
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/muc_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class MucStoreTest : public ::testing::Test {
 protected:
  MucStoreTest() {
    dir_ = std::filesystem::temp_directory_path() / ("causerie-muc-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = sqlite::open_sqlite((dir_ / "t.db").string());
  }
  ~MucStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  MucStore& m() { return db_->muc(); }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> db_;
};

TEST_F(MucStoreTest, RoomsAffiliationsAndHistory) {
  EXPECT_FALSE(m().load_room("coven@chat", 10));
  MucRoom r;
  r.jid = "coven@chat";
  r.service = "chat";
  r.is_public = true;
  r.name = "A Dark Cave";
  r.config = "<x/>";
  r.subject = "Spells";
  r.subject_nick = "firstwitch";
  r.subject_stamp_ms = 1234;
  m().save_room(r);
  m().set_affiliation("coven@chat", {"crone1@shakespeare.lit", "owner", "", ""});
  m().set_affiliation("coven@chat", {"hag66@shakespeare.lit", "member", "thirdwitch", ""});
  m().set_affiliation("coven@chat", {"hag66@shakespeare.lit", "admin", "", ""});  // replaces
  m().set_affiliation("coven@chat", {"evil.example", "outcast", "", "spam"});
  for (int i = 0; i < 5; ++i) m().append_history("coven@chat", {i, "<m" + std::to_string(i) + "/>"}, 3);
  auto got = m().load_room("coven@chat", 2);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "A Dark Cave");
  EXPECT_EQ(got->subject_nick, "firstwitch");
  EXPECT_EQ(got->subject_stamp_ms, 1234);
  ASSERT_EQ(got->affiliations.size(), 3u);
  EXPECT_EQ(got->affiliations[0].jid, "crone1@shakespeare.lit");
  EXPECT_EQ(got->affiliations[2].affiliation, "admin");
  ASSERT_EQ(got->history.size(), 2u);  // the newest, oldest first
  EXPECT_EQ(got->history[0].xml, "<m3/>");
  EXPECT_EQ(got->history[1].xml, "<m4/>");
  EXPECT_EQ(m().load_room("coven@chat", 10)->history.size(), 3u);  // only `keep` were kept
  m().remove_affiliation("coven@chat", "evil.example");
  EXPECT_EQ(m().load_room("coven@chat", 0)->affiliations.size(), 2u);
  m().remove_room("coven@chat");
  EXPECT_FALSE(m().load_room("coven@chat", 10));
  m().save_room(r);
  auto fresh = m().load_room("coven@chat", 10);
  EXPECT_TRUE(fresh->affiliations.empty());
  EXPECT_TRUE(fresh->history.empty());
}

TEST_F(MucStoreTest, PublicListingPagesByJid) {
  for (std::string name : {"delta", "alpha", "charlie", "bravo"}) {
    MucRoom r;
    r.jid = name + "@chat";
    r.service = "chat";
    r.is_public = name != "charlie";
    m().save_room(r);
  }
  MucRoom elsewhere;
  elsewhere.jid = "echo@other";
  elsewhere.service = "other";
  elsewhere.is_public = true;
  m().save_room(elsewhere);
  EXPECT_EQ(m().count_public_rooms("chat"), 3u);
  auto page = m().public_rooms("chat", "", 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].jid, "alpha@chat");
  EXPECT_EQ(page[1].jid, "bravo@chat");
  auto rest = m().public_rooms("chat", "bravo@chat", 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].jid, "delta@chat");
}

TEST_F(MucStoreTest, ServiceSecretIsStable) {
  std::string a = m().service_secret("chat");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(m().service_secret("chat"), a);
  EXPECT_NE(m().service_secret("other"), a);
}

}  // namespace
