// The SQLite FeedStore (src/storage/sqlite/sqlite_feed_store.cpp) against its contract (feed_store.hpp):
// newest-first pages both ways, kinds combined per row and filtered, items gone drop out by the join,
// batched adds larger than one INSERT, readers interned across rollbacks, the migration from text readers;
// and the feed's pure helpers (modules/pubsub/feed.hpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/xml/fragment.hpp"
#include "modules/pubsub/feed.hpp"
#include "storage/feed_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_migrations.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class FeedStoreTest : public ::testing::Test {
 protected:
  FeedStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-feed-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = sqlite::open_sqlite((dir_ / "t.db").string());
    node_ = db_->pubsub().create_node(PubsubNode{0, "a@x", "urn:xmpp:microblog:0", "", "a@x", 1, 0});
  }
  ~FeedStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Publishes items "i0".."i<n-1>" and returns their seqs, oldest first.
  std::vector<int64_t> publish(int n) {
    std::vector<int64_t> seqs;
    for (int i = 0; i < n; ++i) {
      std::string id = "i" + std::to_string(i);
      db_->pubsub().put_item(node_, PubsubItem{id, "a@x", "<p xmlns='t'/>", "", 1000 + i, 0});
      seqs.push_back(db_->pubsub().item(node_, id)->seq);
    }
    return seqs;
  }
  static std::vector<std::string> ids(const std::vector<FeedEntry>& page) {
    std::vector<std::string> out;
    for (const auto& e : page) out.push_back(e.item.id);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> db_;
  int64_t node_ = 0;
};

TEST_F(FeedStoreTest, PagesNewestFirstBothWays) {
  auto seqs = publish(7);
  std::vector<FeedRow> rows;
  for (auto s : seqs) rows.push_back(FeedRow{"r@x", s, kFeedPeople});
  rows.push_back(FeedRow{"other@x", seqs[3], kFeedPeople});
  db_->feed().add(rows);

  FeedQuery q{"r@x", 0, 0, 0, 3, false};
  auto first = db_->feed().page(q);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"i6", "i5", "i4"}));
  EXPECT_EQ(first[0].service, "a@x");
  EXPECT_EQ(first[0].node, "urn:xmpp:microblog:0");
  EXPECT_EQ(first[0].item.publisher, "a@x");
  EXPECT_TRUE(db_->feed().has_older(q, first.back().seq));
  q.older_than = first.back().seq;
  EXPECT_EQ(ids(db_->feed().page(q)), (std::vector<std::string>{"i3", "i2", "i1"}));
  // The oldest page (empty <before/>), still newest first, then the page above it.
  FeedQuery last{"r@x", 0, 0, 0, 3, true};
  auto oldest = db_->feed().page(last);
  EXPECT_EQ(ids(oldest), (std::vector<std::string>{"i2", "i1", "i0"}));
  EXPECT_FALSE(db_->feed().has_older(last, oldest.back().seq));
  last.newer_than = oldest.front().seq;
  EXPECT_EQ(ids(db_->feed().page(last)), (std::vector<std::string>{"i5", "i4", "i3"}));
  FeedQuery top{"r@x", 0, 0, seqs[5], 3, true};
  EXPECT_EQ(ids(db_->feed().page(top)), (std::vector<std::string>{"i6"}));
  EXPECT_FALSE(db_->feed().has_newer(top, seqs[6]));
}

TEST_F(FeedStoreTest, KindsCombineAndFilter) {
  auto seqs = publish(3);
  db_->feed().add({{"r@x", seqs[0], kFeedPeople}, {"r@x", seqs[1], kFeedCommunity}, {"r@x", seqs[2], kFeedPeople}});
  db_->feed().add({{"r@x", seqs[2], kFeedMention}});  // the same item, another reason
  FeedQuery all{"r@x", 0, 0, 0, 10, false};
  auto page = db_->feed().page(all);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].kinds, uint32_t{kFeedPeople | kFeedMention});
  FeedQuery mentions{"r@x", kFeedMention, 0, 0, 10, false};
  EXPECT_EQ(ids(db_->feed().page(mentions)), (std::vector<std::string>{"i2"}));
  FeedQuery communities{"r@x", kFeedCommunity | kFeedMention, 0, 0, 10, false};
  EXPECT_EQ(ids(db_->feed().page(communities)), (std::vector<std::string>{"i2", "i1"}));
}

TEST_F(FeedStoreTest, GoneItemsDropOutAndRepublishedMoveUp) {
  auto seqs = publish(3);
  db_->feed().add({{"r@x", seqs[0], kFeedPeople}, {"r@x", seqs[1], kFeedPeople}, {"r@x", seqs[2], kFeedPeople}});
  db_->pubsub().remove_item(node_, "i1");
  db_->pubsub().put_item(node_, PubsubItem{"i0", "a@x", "<p xmlns='t'/>", "", 2000, 0});  // new seq, no row yet
  FeedQuery q{"r@x", 0, 0, 0, 10, false};
  EXPECT_EQ(ids(db_->feed().page(q)), (std::vector<std::string>{"i2"}));
  db_->feed().add({{"r@x", db_->pubsub().item(node_, "i0")->seq, kFeedPeople}});
  EXPECT_EQ(ids(db_->feed().page(q)), (std::vector<std::string>{"i0", "i2"}));
}

TEST_F(FeedStoreTest, LargeFanOutAndAccountRemoval) {
  auto seqs = publish(1);
  std::vector<FeedRow> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(FeedRow{"f" + std::to_string(i) + "@x", seqs[0], kFeedPeople});
  db_->feed().add(rows);
  for (const char* r : {"f0@x", "f199@x", "f200@x", "f999@x"})
    EXPECT_EQ(db_->feed().page(FeedQuery{r, 0, 0, 0, 10, false}).size(), 1u) << r;
  db_->feed().remove_reader("f999@x");
  EXPECT_TRUE(db_->feed().page(FeedQuery{"f999@x", 0, 0, 0, 10, false}).empty());
}

// Fan-outs of 64 readers or more wait as pending rows and are merged into the feed table 128 posts at a
// time: pages, filters, kinds and "is there more" are the same on both sides of the boundary, retracted
// items drop out of either, and a removed reader loses its pending rows too.
TEST_F(FeedStoreTest, PendingFanOutsMergeAndPageAcrossTheBoundary) {
  auto seqs = publish(200);
  for (size_t i = 0; i < seqs.size(); ++i) {
    std::vector<FeedRow> rows;
    for (int r = 0; r < 100; ++r)
      rows.push_back(FeedRow{"f" + std::to_string(r) + "@x", seqs[i], i == 150 && r == 1 ? kFeedPeople | kFeedMention : kFeedPeople});
    db_->feed().add(rows);
  }
  auto names = [](int from, int to) {  // "i<from>" down to "i<to>"
    std::vector<std::string> v;
    for (int i = from; i >= to; --i) v.push_back("i" + std::to_string(i));
    return v;
  };
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"f5@x", 0, 0, 0, 20, false})), names(199, 180));
  FeedQuery across{"f5@x", 0, seqs[130], 0, 5, false};
  EXPECT_EQ(ids(db_->feed().page(across)), names(129, 125));
  FeedQuery up{"f5@x", 0, 0, seqs[125], 4, true};
  EXPECT_EQ(ids(db_->feed().page(up)), names(129, 126));
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"f5@x", 0, 0, 0, 3, true})), names(2, 0));
  EXPECT_EQ(db_->feed().page(FeedQuery{"f5@x", 0, 0, 0, 500, false}).size(), 200u);
  auto mention = db_->feed().page(FeedQuery{"f1@x", kFeedMention, 0, 0, 10, false});
  ASSERT_EQ(ids(mention), (std::vector<std::string>{"i150"}));
  EXPECT_EQ(mention[0].kinds, uint32_t{kFeedPeople | kFeedMention});
  FeedQuery mentions{"f1@x", kFeedMention, 0, 0, 10, false};
  EXPECT_TRUE(db_->feed().has_older(mentions, seqs[151]));
  EXPECT_FALSE(db_->feed().has_older(mentions, seqs[150]));
  EXPECT_TRUE(db_->feed().has_newer(mentions, seqs[149]));
  EXPECT_FALSE(db_->feed().has_newer(mentions, seqs[150]));
  FeedQuery all{"f5@x", 0, 0, 0, 10, false};
  EXPECT_TRUE(db_->feed().has_newer(all, seqs[198]));
  EXPECT_TRUE(db_->feed().has_older(all, seqs[128]));  // only in the table
  db_->pubsub().remove_item(node_, "i199");
  db_->pubsub().remove_item(node_, "i100");
  EXPECT_FALSE(db_->feed().has_newer(all, seqs[198]));
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"f5@x", 0, 0, 0, 2, false})), names(198, 197));
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"f5@x", 0, seqs[102], 0, 2, false})), (std::vector<std::string>{"i101", "i99"}));
  db_->feed().remove_reader("f5@x");
  EXPECT_TRUE(db_->feed().page(FeedQuery{"f5@x", 0, 0, 0, 10, false}).empty());
  EXPECT_EQ(db_->feed().page(FeedQuery{"f6@x", 0, 0, 0, 500, false}).size(), 198u);
}

// A reader first seen in a transaction that rolls back gets its id again afterwards: the cached id of
// the rolled-back row must not be used (its rows would belong to no reader, or to the next one interned).
TEST_F(FeedStoreTest, ReaderInternedInARolledBackTransaction) {
  auto seqs = publish(2);
  db_->begin();
  db_->feed().add({{"new@x", seqs[0], kFeedPeople}});
  db_->rollback();
  db_->feed().add({{"other@x", seqs[0], kFeedPeople}});
  db_->feed().add({{"new@x", seqs[1], kFeedPeople}});
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"new@x", 0, 0, 0, 10, false})), (std::vector<std::string>{"i1"}));
  EXPECT_EQ(ids(db_->feed().page(FeedQuery{"other@x", 0, 0, 0, 10, false})), (std::vector<std::string>{"i0"}));
  // A removed reader keeps its id; rows added later are its again.
  db_->feed().remove_reader("new@x");
  db_->feed().add({{"new@x", seqs[0], kFeedMention}});
  auto page = db_->feed().page(FeedQuery{"new@x", 0, 0, 0, 10, false});
  ASSERT_EQ(ids(page), (std::vector<std::string>{"i0"}));
  EXPECT_EQ(page[0].kinds, uint32_t{kFeedMention});
}

// A database written before the feed's version 2 (the reader's JID in every row): every row comes through
// with its kinds, and the store goes on from there.
TEST_F(FeedStoreTest, MigrationFromTextReadersKeepsEveryRow) {
  auto path = (dir_ / "old.db").string();
  {
    sqlite::Db raw(path);
    raw.exec("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
             "INSERT INTO schema_versions (component, version) VALUES ('feed', 1);");
    raw.exec(sqlite::feed_schema().migrations.at(0).sql);
    raw.exec("INSERT INTO feed (reader, seq, kinds) VALUES ('r@x', 1, 1), ('r@x', 3, 5), ('q@x', 2, 2), ('q@x', 3, 1);");
  }
  auto db = sqlite::open_sqlite(path);
  int64_t node = db->pubsub().create_node(PubsubNode{0, "a@x", "urn:xmpp:microblog:0", "", "a@x", 1, 0});
  std::vector<int64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    std::string id = "i" + std::to_string(i);
    db->pubsub().put_item(node, PubsubItem{id, "a@x", "<p xmlns='t'/>", "", 1000 + i, 0});
    seqs.push_back(db->pubsub().item(node, id)->seq);
  }
  ASSERT_EQ(seqs, (std::vector<int64_t>{1, 2, 3}));  // the seqs the old rows name
  auto r = db->feed().page(FeedQuery{"r@x", 0, 0, 0, 10, false});
  ASSERT_EQ(ids(r), (std::vector<std::string>{"i2", "i0"}));
  EXPECT_EQ(r[0].kinds, uint32_t{kFeedPeople | kFeedMention});
  EXPECT_EQ(ids(db->feed().page(FeedQuery{"q@x", 0, 0, 0, 10, false})), (std::vector<std::string>{"i2", "i1"}));
  EXPECT_EQ(ids(db->feed().page(FeedQuery{"q@x", kFeedCommunity, 0, 0, 10, false})), (std::vector<std::string>{"i1"}));
  db->feed().add({{"r@x", seqs[1], kFeedPeople}, {"new@x", seqs[1], kFeedPeople}});
  EXPECT_EQ(ids(db->feed().page(FeedQuery{"r@x", 0, 0, 0, 10, false})), (std::vector<std::string>{"i2", "i1", "i0"}));
  EXPECT_EQ(ids(db->feed().page(FeedQuery{"new@x", 0, 0, 0, 10, false})), (std::vector<std::string>{"i1"}));
}

TEST(FeedHelpers, FiltersAndMentions) {
  using namespace causerie::modules::pubsub;
  EXPECT_EQ(parse_feed_filter({"people", "mentions"}), uint32_t{kFeedPeople | kFeedMention});
  EXPECT_EQ(parse_feed_filter({"cats"}), std::nullopt);
  EXPECT_EQ(feed_kind_names(kFeedCommunity | kFeedLike), "communities likes");
  auto entry = xml::parse_fragment(
      "<entry xmlns='http://www.w3.org/2005/Atom'><content>hi xmpp:juliet@capulet.lit! and xmpp:romeo@montague.lit/phone "
      "and xmpp:pubsub.x?;node=n</content><link href='xmpp:juliet@capulet.lit'/>"
      "<author><uri>xmpp:nurse@capulet.lit?message</uri></author></entry>");
  ASSERT_TRUE(entry);
  EXPECT_EQ(mentioned_jids(*entry, 10), (std::vector<std::string>{"juliet@capulet.lit", "nurse@capulet.lit"}));
  EXPECT_EQ(mentioned_jids(*entry, 1).size(), 1u);
}

}  // namespace
