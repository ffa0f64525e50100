// The PubsubStore contract on SQLite: nodes, item ordering and paging, filters, trimming and expiry,
// subscriptions and affiliations, cascades; and the latest 20 of a million items reached by a short
// walk of the index (counted in SQLite's virtual-machine steps, not timed).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <utility>

#include <unistd.h>

#include "storage/pubsub_store.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_pubsub_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie::storage;

namespace {

struct TempDb {
  std::filesystem::path dir;
  std::unique_ptr<Storage> db;
  TempDb()
      : dir(std::filesystem::temp_directory_path() /
            ("causerie-pubsub-store-" + std::to_string(::getpid()) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    std::filesystem::create_directories(dir);
    db = sqlite::open_sqlite(path());
  }
  ~TempDb() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  std::string path() const { return (dir / "db.sqlite").string(); }
  PubsubStore& ps() { return db->pubsub(); }
};

PubsubItem item(const std::string& id, int64_t published, const std::string& access = "") {
  return PubsubItem{id, "alice@example.org", "<x xmlns='urn:test'>" + id + "</x>", access, published, 0};
}

std::vector<std::string> ids(const std::vector<PubsubItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.id);
  return out;
}

// The work the statements of one connection do, in SQLite virtual-machine steps (through the progress
// handler, called every kEvery steps): how many rows a query touched, whatever the machine's speed.
class VmSteps {
 public:
  static constexpr int kEvery = 100;
  explicit VmSteps(sqlite::Db& db) : db_(db) {
    sqlite3_progress_handler(db_.handle(), kEvery, &VmSteps::tick, this);
  }
  ~VmSteps() { sqlite3_progress_handler(db_.handle(), 0, nullptr, nullptr); }
  VmSteps(const VmSteps&) = delete;
  VmSteps& operator=(const VmSteps&) = delete;
  // Steps since the last call (to the nearest kEvery below).
  int64_t take() { return std::exchange(ticks_, 0) * kEvery; }

 private:
  static int tick(void* self) {
    ++static_cast<VmSteps*>(self)->ticks_;
    return 0;  // go on
  }
  sqlite::Db& db_;
  int64_t ticks_ = 0;
};

}  // namespace

TEST(PubsubStore, NodesAreUniquePerService) {
  TempDb t;
  int64_t id = t.ps().create_node({0, "pubsub.example.org", "news", "<cfg/>", "alice@example.org", 1000, 0});
  EXPECT_GT(id, 0);
  EXPECT_EQ(t.ps().create_node({0, "pubsub.example.org", "news", "", "bob@example.org", 2000, 0}), 0);
  EXPECT_GT(t.ps().create_node({0, "alice@example.org", "news", "", "alice@example.org", 2000, 0}), 0);
  auto n = t.ps().node("pubsub.example.org", "news");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->creator, "alice@example.org");
  EXPECT_EQ(n->config, "<cfg/>");
  t.ps().set_node_config(id, "<cfg2/>");
  EXPECT_EQ(t.ps().node("pubsub.example.org", "news")->config, "<cfg2/>");
  EXPECT_EQ(t.ps().nodes("pubsub.example.org").size(), 1u);
  EXPECT_EQ(t.ps().count_nodes("pubsub.example.org"), 1u);
  EXPECT_EQ(t.ps().count_nodes("pubsub.example.org", "alice@example.org"), 1u);
  EXPECT_EQ(t.ps().count_nodes("pubsub.example.org", "bob@example.org"), 0u);
  EXPECT_FALSE(t.ps().node("pubsub.example.org", "other"));
}

TEST(PubsubStore, ItemsNewestFirstAndRepublishMovesToTop) {
  TempDb t;
  int64_t n = t.ps().create_node({0, "s", "n", "", "a", 0, 0});
  EXPECT_TRUE(t.ps().put_item(n, item("a", 1)));
  EXPECT_TRUE(t.ps().put_item(n, item("b", 2)));
  EXPECT_TRUE(t.ps().put_item(n, item("c", 3)));
  EXPECT_FALSE(t.ps().put_item(n, item("a", 4)));  // replaced, not added
  EXPECT_EQ(ids(t.ps().items(n, {})), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(t.ps().count_items(n, {}), 3u);
  EXPECT_EQ(t.ps().item(n, "a")->published, 4);
  // Paging by sequence: older than c, newer than b, oldest first, offset.
  int64_t c_seq = t.ps().item(n, "c")->seq;
  PubsubItemQuery older;
  older.older_than_seq = c_seq;
  EXPECT_EQ(ids(t.ps().items(n, older)), std::vector<std::string>{"b"});
  PubsubItemQuery newer;
  newer.newer_than_seq = t.ps().item(n, "b")->seq;
  newer.oldest_first = true;
  EXPECT_EQ(ids(t.ps().items(n, newer)), (std::vector<std::string>{"c", "a"}));
  PubsubItemQuery page;
  page.offset = 1;
  page.limit = 1;
  EXPECT_EQ(ids(t.ps().items(n, page)), std::vector<std::string>{"c"});
  EXPECT_TRUE(t.ps().remove_item(n, "c"));
  EXPECT_FALSE(t.ps().remove_item(n, "c"));
  EXPECT_EQ(t.ps().count_items(n, {}), 2u);
}

TEST(PubsubStore, FiltersTrimExpirePurge) {
  TempDb t;
  int64_t n = t.ps().create_node({0, "s", "n", "", "a", 0, 0});
  t.ps().put_item(n, item("open1", 10, "open"));
  t.ps().put_item(n, item("private1", 20, "presence"));
  t.ps().put_item(n, item("open2", 30, "open"));
  PubsubItemQuery visible;
  visible.access_in = {"open", ""};
  EXPECT_EQ(ids(t.ps().items(n, visible)), (std::vector<std::string>{"open2", "open1"}));
  EXPECT_EQ(t.ps().count_items(n, visible), 2u);
  PubsubItemQuery fresh;
  fresh.published_after = 15;
  EXPECT_EQ(ids(t.ps().items(n, fresh)), (std::vector<std::string>{"open2", "private1"}));
  EXPECT_EQ(t.ps().expire_items(n, 20), (std::vector<std::string>{"open1", "private1"}));
  EXPECT_EQ(ids(t.ps().items(n, {})), std::vector<std::string>{"open2"});
  for (int i = 0; i < 5; ++i) t.ps().put_item(n, item("x" + std::to_string(i), 40 + i));
  EXPECT_EQ(t.ps().trim_items(n, 3), (std::vector<std::string>{"open2", "x0", "x1"}));
  EXPECT_EQ(ids(t.ps().items(n, {})), (std::vector<std::string>{"x4", "x3", "x2"}));
  EXPECT_EQ(t.ps().node("s", "n")->item_count, 3);
  t.ps().purge_items(n);
  EXPECT_TRUE(t.ps().items(n, {}).empty());
  EXPECT_EQ(t.ps().count_items(n, {}), 0u);
}

TEST(PubsubStore, ItemAudiencesAreTheDistinctOnesInUse) {
  TempDb t;
  int64_t n = t.ps().create_node({0, "s", "n", "", "a", 0, 0});
  int64_t other = t.ps().create_node({0, "s", "other", "", "a", 0, 0});
  t.ps().put_item(n, item("a", 10, "roster;Family"));
  t.ps().put_item(n, item("b", 20, "roster;Family"));
  t.ps().put_item(n, item("c", 30, "roster;"));
  t.ps().put_item(n, item("d", 40, "roster"));  // the node's groups: no audience of its own
  t.ps().put_item(n, item("e", 50, "presence"));
  t.ps().put_item(other, item("f", 60, "roster;Work"));
  auto got = t.ps().item_audiences(n, 10);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"roster;", "roster;Family"}));
  EXPECT_EQ(t.ps().item_audiences(n, 1).size(), 1u);
  PubsubItemQuery family;
  family.access_in = {"roster;Family", "presence"};
  EXPECT_EQ(ids(t.ps().items(n, family)), (std::vector<std::string>{"e", "b", "a"}));
  t.ps().remove_item(n, "c");
  EXPECT_EQ(t.ps().item_audiences(n, 10), std::vector<std::string>{"roster;Family"});
}

TEST(PubsubStore, SubscriptionsAffiliationsAndCascades) {
  TempDb t;
  int64_t n1 = t.ps().create_node({0, "pubsub.example.org", "n1", "", "a", 0, 0});
  int64_t n2 = t.ps().create_node({0, "alice@example.org", "urn:xmpp:microblog:0", "", "alice@example.org", 0, 0});
  t.ps().put_subscription(n1, {"bob@example.org", "s1", "subscribed", ""});
  t.ps().put_subscription(n2, {"bob@example.org/phone", "s2", "pending", ""});
  t.ps().put_subscription(n2, {"carol@example.org", "s3", "subscribed", ""});
  EXPECT_EQ(t.ps().subscriptions(n2).size(), 2u);
  EXPECT_EQ(t.ps().subscriptions_for(n2, "bob@example.org/phone").size(), 1u);
  auto bobs = t.ps().subscriptions_of("bob@example.org");
  ASSERT_EQ(bobs.size(), 2u);  // bare and full JIDs of bob, over both services
  EXPECT_EQ(t.ps().subscriptions_of("bob@example.org", "pubsub.example.org").size(), 1u);
  t.ps().put_subscription(n1, {"bob@example.org", "s1", "unconfigured", "opts"});
  EXPECT_EQ(t.ps().subscriptions_for(n1, "bob@example.org")[0].state, "unconfigured");
  EXPECT_TRUE(t.ps().remove_subscription(n1, "bob@example.org", "s1"));
  EXPECT_FALSE(t.ps().remove_subscription(n1, "bob@example.org", "s1"));

  t.ps().set_affiliation(n1, "alice@example.org", "owner");
  t.ps().set_affiliation(n1, "bob@example.org", "publisher");
  t.ps().set_affiliation(n2, "bob@example.org", "member");
  EXPECT_EQ(t.ps().affiliation(n1, "bob@example.org"), "publisher");
  EXPECT_EQ(t.ps().affiliations_of("bob@example.org").size(), 2u);
  t.ps().set_affiliation(n1, "bob@example.org", "none");
  EXPECT_FALSE(t.ps().affiliation(n1, "bob@example.org"));

  t.ps().put_item(n2, item("p", 1));
  t.ps().delete_service("alice@example.org");
  EXPECT_FALSE(t.ps().node("alice@example.org", "urn:xmpp:microblog:0"));
  EXPECT_TRUE(t.ps().subscriptions_of("carol@example.org").empty());
  EXPECT_TRUE(t.ps().affiliations_of("bob@example.org").empty());
  EXPECT_TRUE(t.ps().items(n2, {}).empty());
  t.ps().remove_affiliations_of("alice@example.org");
  EXPECT_TRUE(t.ps().affiliations(n1).empty());
}

TEST(PubsubStore, LatestTwentyOfAMillionItemsIsAShortIndexWalk) {
  TempDb t;
  int64_t n = t.ps().create_node({0, "pubsub.example.org", "firehose", "", "a", 0, 0});
  int64_t other = t.ps().create_node({0, "pubsub.example.org", "quiet", "", "a", 0, 0});
  {
    // Filled directly, in one statement: what is measured is the read, not a million publishes.
    sqlite::Db raw(t.path());
    raw.exec("BEGIN");
    raw.exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
             "INSERT INTO pubsub_items (node_id, item_id, publisher, published, access, payload) "
             "SELECT " + std::to_string(n) + ", 'i' || x, 'alice@example.org', x, CASE WHEN x % 3 = 0 THEN 'presence' ELSE 'open' END, "
             "'<x xmlns=''urn:test''/>' FROM c");
    raw.exec("UPDATE pubsub_nodes SET item_count = 1000000 WHERE id = " + std::to_string(n));
    raw.exec("COMMIT");
  }
  t.ps().put_item(other, item("lonely", 1));
  // The same store on a connection of our own, whose steps are counted. A sort or a scan of the node
  // takes millions of steps (twelve million for ORDER BY on an unindexed column); twenty rows off the
  // index, a few hundred.
  constexpr int64_t kShortWalk = 20000;
  sqlite::Db conn(t.path());
  sqlite::SqlitePubsubStore store(conn);
  VmSteps steps(conn);
  PubsubItemQuery q;
  q.limit = 20;
  auto latest = store.items(n, q);
  int64_t walked = steps.take();
  ASSERT_EQ(latest.size(), 20u);
  EXPECT_EQ(latest.front().id, "i1000000");
  EXPECT_EQ(latest.back().id, "i999981");
  EXPECT_LT(walked, kShortWalk) << "an index range scan, not a sort of a million rows";
  // Filtered (public posts only) and paged from the middle: still a short walk of the index.
  PubsubItemQuery page;
  page.limit = 20;
  page.access_in = {"open", ""};
  page.older_than_seq = store.item(n, "i500000")->seq;
  steps.take();
  auto middle = store.items(n, page);
  walked = steps.take();
  ASSERT_EQ(middle.size(), 20u);
  EXPECT_EQ(middle.front().id, "i499999");
  EXPECT_LT(walked, kShortWalk);
  EXPECT_EQ(ids(store.items(other, q)), std::vector<std::string>{"lonely"});
  // Trimming a huge node to its limit removes only the oldest.
  EXPECT_EQ(t.ps().trim_items(n, 999998).size(), 2u);
  EXPECT_FALSE(t.ps().item(n, "i1"));
  EXPECT_TRUE(t.ps().item(n, "i3"));
}
