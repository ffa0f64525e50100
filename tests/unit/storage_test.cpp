// The storage interfaces over SQLite (a contract any backend must meet), and the StorageService's group
// commit: completions run after COMMIT, a failing job is undone alone; joined writes and their backpressure.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "core/accounts/accounts.hpp"
#include "storage/account_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/offline_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage_service.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("causerie-storage-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "db.sqlite").string();
    db_ = sqlite::open_sqlite(path_);
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Storage> db_;
};

TEST_F(StorageTest, Accounts) {
  Account a = make_account("alice@example.org", "secret", 4096);
  EXPECT_TRUE(db_->accounts().create(a));
  EXPECT_FALSE(db_->accounts().create(a));  // exists
  auto got = db_->accounts().get("alice@example.org");
  ASSERT_TRUE(got);
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha256, got->sha256, "secret"));
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha1, got->sha1, "secret"));
  EXPECT_FALSE(db_->accounts().get("bob@example.org"));
  db_->accounts().create(make_account("bob@example.org", "x", 4096));
  db_->accounts().create(make_account("carol@other.org", "x", 4096));
  EXPECT_EQ(db_->accounts().list("example.org"), (std::vector<std::string>{"alice@example.org", "bob@example.org"}));
  Account n = make_account("alice@example.org", "new", 4096);
  EXPECT_TRUE(db_->accounts().set_credentials("alice@example.org", n.sha1, n.sha256));
  EXPECT_TRUE(sasl::verify_password(sasl::ScramHash::kSha256, db_->accounts().get("alice@example.org")->sha256, "new"));
  // Removing an account removes its data.
  db_->roster().put("alice@example.org", RosterItem{"bob@example.org"});
  db_->kv().put("alice@example.org", "vcard", "", "<vCard/>");
  db_->offline().push("alice@example.org", "<message/>", 10);
  EXPECT_TRUE(db_->accounts().remove("alice@example.org"));
  EXPECT_FALSE(db_->accounts().remove("alice@example.org"));
  EXPECT_TRUE(db_->roster().items("alice@example.org").empty());
  EXPECT_FALSE(db_->kv().get("alice@example.org", "vcard", ""));
  EXPECT_EQ(db_->offline().count("alice@example.org"), 0u);
}

// XEP-0133 disable/re-enable: kept with its data, listed and counted per host, forgotten with the account,
// and every change moves the generation a running server's login cache watches.
TEST_F(StorageTest, DisabledAccounts) {
  db_->accounts().create(make_account("dan@example.org", "x", 4096));
  db_->accounts().create(make_account("eve@example.org", "x", 4096));
  EXPECT_EQ(db_->accounts().count_accounts("example.org"), 2u);
  EXPECT_FALSE(db_->accounts().get("dan@example.org")->disabled);
  int64_t g = db_->accounts().generation();
  EXPECT_TRUE(db_->accounts().set_disabled("dan@example.org", true));
  EXPECT_GT(db_->accounts().generation(), g);
  EXPECT_TRUE(db_->accounts().get("dan@example.org")->disabled);
  EXPECT_TRUE(db_->accounts().set_disabled("dan@example.org", true));  // already: still fine
  EXPECT_FALSE(db_->accounts().set_disabled("nobody@example.org", true));
  EXPECT_EQ(db_->accounts().list_disabled("example.org"), (std::vector<std::string>{"dan@example.org"}));
  EXPECT_TRUE(db_->accounts().list_disabled("other.org").empty());
  g = db_->accounts().generation();
  EXPECT_TRUE(db_->accounts().set_disabled("dan@example.org", false));
  EXPECT_GT(db_->accounts().generation(), g);
  EXPECT_FALSE(db_->accounts().get("dan@example.org")->disabled);
  db_->accounts().set_disabled("eve@example.org", true);
  db_->accounts().remove("eve@example.org");
  EXPECT_TRUE(db_->accounts().list_disabled("example.org").empty());
  EXPECT_EQ(db_->accounts().count_accounts("example.org"), 1u);
}

TEST_F(StorageTest, RosterItemsAndVersions) {
  RosterStore& r = db_->roster();
  EXPECT_EQ(r.version("a@x"), 0);
  RosterItem it{"b@x", "Bee", Subscription::kBoth, false, true, false, false, {"Friends", "Work"}, "<presence/>"};
  int64_t v1 = r.put("a@x", it);
  EXPECT_EQ(v1, 1);
  auto got = r.item("a@x", "b@x");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->name, "Bee");
  EXPECT_EQ(got->subscription, Subscription::kBoth);
  EXPECT_TRUE(got->pending_in);
  EXPECT_EQ(got->groups, (std::vector<std::string>{"Friends", "Work"}));
  EXPECT_EQ(got->pending_in_stanza, "<presence/>");
  EXPECT_EQ(r.put("a@x", RosterItem{"c@x"}), 2);
  EXPECT_EQ(r.items("a@x").size(), 2u);
  EXPECT_EQ(r.remove("a@x", "c@x"), 3);
  EXPECT_EQ(r.remove("a@x", "nobody@x"), 3);  // unchanged
  EXPECT_EQ(r.version("a@x"), 3);
}

TEST_F(StorageTest, OfflineQueueIsOrderedAndBounded) {
  OfflineStore& o = db_->offline();
  EXPECT_TRUE(o.push("a@x", "<m1/>", 2));
  EXPECT_TRUE(o.push("a@x", "<m2/>", 2));
  EXPECT_FALSE(o.push("a@x", "<m3/>", 2));
  auto p = o.pending("a@x");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].xml, "<m1/>");
  o.remove_up_to("a@x", p[0].id);
  EXPECT_EQ(o.pending("a@x").size(), 1u);
}

TEST_F(StorageTest, SchemaSurvivesReopen) {
  db_->accounts().create(make_account("a@x", "pw", 4096));
  db_.reset();
  db_ = sqlite::open_sqlite(path_);  // migrations already applied: nothing to do, data kept
  EXPECT_TRUE(db_->accounts().exists("a@x"));
}

TEST_F(StorageTest, GroupCommitRunsCompletionsAfterCommitAndIsolatesFailures) {
  db_.reset();
  StorageService svc([this] { return sqlite::open_sqlite(path_); });
  std::promise<void> done;
  std::atomic<int> completions{0};
  for (int i = 0; i < 50; ++i) {
    svc.write([i, &completions](Storage& db) -> StorageService::Completion {
      db.kv().put("a@x", "t", std::to_string(i), "v");
      if (i == 25) throw StorageError("boom");  // this job alone is undone
      return [&completions] { completions++; };
    });
  }
  svc.write([&done](Storage&) -> StorageService::Completion { return [&done] { done.set_value(); }; });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(completions.load(), 49);
  std::promise<std::pair<bool, bool>> seen;
  svc.read([&seen](Storage& db) {
    seen.set_value({db.kv().get("a@x", "t", "24").has_value(), db.kv().get("a@x", "t", "25").has_value()});
  });
  auto [kept, undone] = seen.get_future().get();
  EXPECT_TRUE(kept);
  EXPECT_FALSE(undone);
}

TEST_F(StorageTest, DurabilityMarksFollowTheirThreadAndWaitersRunAfterTheCommit) {
  db_.reset();
  StorageService svc([this] { return sqlite::open_sqlite(path_); });
  EXPECT_TRUE(svc.committed(0));
  // The first job holds the write lane until released, so nothing after it can be committed before.
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  uint64_t mark = 0, first = 0, second = 0;
  {
    StorageService::MarkScope scope(mark);
    first = svc.write([gate](Storage&) -> StorageService::Completion {
      gate.wait();
      return nullptr;
    });
    second = svc.write([](Storage& db) -> StorageService::Completion {
      db.kv().put("a@x", "t", "k", "v");
      return nullptr;
    });
  }
  uint64_t unmarked = svc.write([](Storage&) -> StorageService::Completion { return nullptr; });
  EXPECT_LT(first, second);
  EXPECT_LT(second, unmarked);
  EXPECT_EQ(mark, second);  // the write queued outside the scope does not count
  EXPECT_FALSE(svc.committed(mark));
  std::promise<bool> waited;
  svc.when_committed(mark, [&] { waited.set_value(svc.committed(second)); });
  release.set_value();
  EXPECT_TRUE(waited.get_future().get());
  // Once committed, a waiter runs at once on the caller's thread.
  bool ran = false;
  svc.when_committed(second, [&] { ran = true; });
  EXPECT_TRUE(ran);
}

// RFC 6120 §10.1 for pipelined requests: in a scope with ordered reads, a read (and after_marked work)
// waits until the scope's mark is committed, so it sees the write queued before it; elsewhere a read
// does not wait for writes.
TEST_F(StorageTest, OrderedReadsWaitForTheirScopesMark) {
  db_.reset();
  StorageService svc([this] { return sqlite::open_sqlite(path_); });
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  uint64_t mark = 0;
  std::promise<bool> ordered_saw, unordered_saw;
  std::promise<std::vector<std::string>> after_saw;
  std::vector<std::string> steps;  // written on the storage threads, read once all is done
  std::mutex steps_mutex;
  auto step = [&](std::string s) {
    std::lock_guard l(steps_mutex);
    steps.push_back(std::move(s));
  };
  {
    StorageService::MarkScope scope(mark, true);
    svc.write([gate, step](Storage& db) -> StorageService::Completion {
      gate.wait();
      db.kv().put("a@x", "t", "k", "v");
      return [step] { step("completion"); };
    });
    svc.read([&](Storage& db) { ordered_saw.set_value(db.kv().get("a@x", "t", "k").has_value()); });
    svc.after_marked([&] {
      step("after_marked");
      std::lock_guard l(steps_mutex);
      after_saw.set_value(steps);
    });
  }
  {
    uint64_t other = 0;
    StorageService::MarkScope scope(other);  // a scope without ordered reads: the read goes at once
    svc.read([&](Storage& db) { unordered_saw.set_value(db.kv().get("a@x", "t", "k").has_value()); });
  }
  EXPECT_FALSE(unordered_saw.get_future().get());  // ran while the write was held back
  release.set_value();
  EXPECT_TRUE(ordered_saw.get_future().get());
  EXPECT_EQ(after_saw.get_future().get(), (std::vector<std::string>{"completion", "after_marked"}));
  // Once committed, after_marked runs at once on the caller's thread.
  bool ran = false;
  {
    StorageService::MarkScope scope(mark, true);
    svc.after_marked([&] { ran = true; });
  }
  EXPECT_TRUE(ran);
}

// Joined writes: while a job of their kind waits last in the queue, writes join it (its sequence number,
// one run, in order); a plain write queued after it, or a full job, makes the next one start a new job.
struct JoinedNumbers {
  std::vector<int> parts;
  static inline std::vector<std::vector<int>> runs;  // what each job saw, in run order (write lane only)
  StorageService::Completion run(Storage& db) {
    for (int p : parts) db.kv().put("a@x", "j", std::to_string(p), "v");
    runs.push_back(parts);
    return nullptr;
  }
};

TEST_F(StorageTest, JoinedWritesShareTheTailJobAndItsSequenceNumber) {
  db_.reset();
  JoinedNumbers::runs.clear();
  StorageService svc([this] { return sqlite::open_sqlite(path_); });
  std::promise<void> release, started;
  std::shared_future<void> gate = release.get_future().share();
  svc.write([gate, &started](Storage&) -> StorageService::Completion {
    started.set_value();
    gate.wait();
    return nullptr;
  });
  started.get_future().wait();  // the lane holds the gate job alone: what follows waits in the queue
  uint64_t mark = 0;
  std::vector<uint64_t> seqs;
  {
    StorageService::MarkScope scope(mark);
    for (int i = 0; i < 3; ++i) seqs.push_back(svc.write_joined<JoinedNumbers>(2, [i](JoinedNumbers& j) { j.parts.push_back(i); }));
  }
  uint64_t plain = svc.write([](Storage&) -> StorageService::Completion { return nullptr; });
  seqs.push_back(svc.write_joined<JoinedNumbers>(2, [](JoinedNumbers& j) { j.parts.push_back(3); }));
  EXPECT_EQ(seqs[0], seqs[1]);  // joined
  EXPECT_LT(seqs[1], seqs[2]);  // the first job was full (2 parts)
  EXPECT_LT(seqs[2], plain);
  EXPECT_LT(plain, seqs[3]);    // not joined across the plain write: order is kept
  EXPECT_EQ(mark, seqs[2]);
  std::promise<void> done;
  svc.when_committed(seqs[3], [&] { done.set_value(); });
  release.set_value();
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(JoinedNumbers::runs, (std::vector<std::vector<int>>{{0, 1}, {2}, {3}}));
  std::promise<bool> seen;
  svc.read([&seen](Storage& db) { seen.set_value(db.kv().get("a@x", "j", "3").has_value()); });
  EXPECT_TRUE(seen.get_future().get());
}

// Backpressure: over the high-water mark a joined write waits for the lane instead of being refused. The
// writer can only return after the gate job has run (the queue cannot shrink before), which the flag shows.
TEST_F(StorageTest, JoinedWritesWaitWhileTheQueueIsOverHighWater) {
  db_.reset();
  JoinedNumbers::runs.clear();
  StorageService svc([this] { return sqlite::open_sqlite(path_); });
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<bool> gate_passed{false};
  std::promise<void> started;
  svc.write([gate, &gate_passed, &started](Storage&) -> StorageService::Completion {
    started.set_value();
    gate.wait();
    gate_passed = true;
    return nullptr;
  });
  started.get_future().wait();  // the lane holds the gate job alone: everything queued next stays queued
  for (size_t i = 0; i < StorageService::kJoinHighWater; ++i)
    ASSERT_NE(svc.write([](Storage&) -> StorageService::Completion { return nullptr; }), 0u);
  std::promise<std::pair<uint64_t, bool>> joined;
  std::thread writer([&] {
    uint64_t seq = svc.write_joined<JoinedNumbers>(8, [](JoinedNumbers& j) { j.parts.push_back(7); });
    joined.set_value({seq, gate_passed.load()});
  });
  release.set_value();
  auto [seq, after_gate] = joined.get_future().get();
  writer.join();
  EXPECT_NE(seq, 0u);       // not refused
  EXPECT_TRUE(after_gate);  // it waited for the lane
  std::promise<void> done;
  svc.when_committed(seq, [&] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(JoinedNumbers::runs, (std::vector<std::vector<int>>{{7}}));
}

}  // namespace
