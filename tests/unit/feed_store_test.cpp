// The SQLite FeedStore (src/storage/sqlite/sqlite_feed_store.cpp) against its contract (feed_store.hpp):
// newest-first pages both ways, kinds combined per row and filtered, items gone drop out by the join,
// batched adds larger than one INSERT; and the feed's pure helpers (modules/pubsub/feed.hpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/xml/fragment.hpp"
#include "modules/pubsub/feed.hpp"
#include "storage/feed_store.hpp"
#include "storage/pubsub_store.hpp"
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
