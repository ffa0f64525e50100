// The SQLite ArchiveStore (src/storage/sqlite/sqlite_archive_store.cpp) against its contract
// (archive_store.hpp): keyset pages both ways, filters, full-text search, tombstones, retention, prefs,
// and a page out of a million-message archive.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <future>

#include "storage/archive_store.hpp"
#include "storage/sqlite/sqlite_archive_store.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_migrations.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "storage/storage_service.hpp"

using namespace causerie;
using namespace causerie::storage;

namespace {

constexpr int64_t kT0 = 1'800'000'000'000;  // unix ms

class ArchiveStoreTest : public ::testing::Test {
 protected:
  ArchiveStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-archive-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = sqlite::open_sqlite((dir_ / "t.db").string());
  }
  ~ArchiveStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  ArchiveStore& a() { return db_->archive(); }

  ArchivedMessage add(const std::string& owner, const std::string& id, const std::string& with, const std::string& body,
                      int64_t at_ms, bool outgoing = false, const std::string& message_id = {}) {
    ArchivedMessage m;
    m.id = id;
    m.with = with;
    m.body = body;
    m.outgoing = outgoing;
    m.message_id = message_id;
    m.xml = "<message><body>" + body + "</body></message>";
    a().append(owner, m, at_ms);
    return m;
  }

  // Ids of a page, in order.
  static std::vector<std::string> ids(const ArchivePage& p) {
    std::vector<std::string> out;
    for (const auto& m : p.messages) out.push_back(m.id);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> db_;
};

using Ids = std::vector<std::string>;

TEST_F(ArchiveStoreTest, PagesForwardAndBackwardByKeyset) {
  for (int i = 0; i < 25; ++i) add("alice@a.test", "m" + std::to_string(i), "bob@b.test/x", "hello", kT0 + i);
  add("carol@a.test", "other", "bob@b.test", "hello", kT0);

  // Forward: first page, then after its last, until complete.
  ArchiveQuery q;
  q.limit = 10;
  auto p1 = a().query("alice@a.test", q);
  ASSERT_TRUE(p1);
  EXPECT_EQ(ids(*p1), (Ids{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}));
  EXPECT_FALSE(p1->complete);
  q.after = {"m19"};
  auto p3 = a().query("alice@a.test", q);
  EXPECT_EQ(ids(*p3), (Ids{"m20", "m21", "m22", "m23", "m24"}));
  EXPECT_TRUE(p3->complete);

  // Backward: the last page (RSM <before/>), then the one before it; pages stay in archive order.
  ArchiveQuery b;
  b.limit = 10;
  b.from_end = true;
  auto last = a().query("alice@a.test", b);
  EXPECT_EQ(ids(*last), (Ids{"m15", "m16", "m17", "m18", "m19", "m20", "m21", "m22", "m23", "m24"}));
  EXPECT_FALSE(last->complete);
  b.before = {"m5"};
  auto head = a().query("alice@a.test", b);
  EXPECT_EQ(ids(*head), (Ids{"m0", "m1", "m2", "m3", "m4"}));
  EXPECT_TRUE(head->complete);

  // Between two known messages (after-id and before-id together).
  ArchiveQuery between;
  between.after = {"m3"};
  between.before = {"m7"};
  EXPECT_EQ(ids(*a().query("alice@a.test", between)), (Ids{"m4", "m5", "m6"}));

  // An id of another archive, or of none, is unknown here.
  ArchiveQuery unknown;
  unknown.after = {"other"};
  EXPECT_FALSE(a().query("alice@a.test", unknown));
  unknown.after.clear();
  unknown.ids = {"m1", "nope"};
  EXPECT_FALSE(a().query("alice@a.test", unknown));
}

TEST_F(ArchiveStoreTest, FiltersByCorrespondentTimeAndIds) {
  add("alice@a.test", "1", "bob@b.test/phone", "one", kT0);
  add("alice@a.test", "2", "bob@b.test/desk", "two", kT0 + 1000, true);
  add("alice@a.test", "3", "carol@c.test", "three", kT0 + 2000);
  add("alice@a.test", "4", "bob@b.test", "four", kT0 + 3000, true);
  add("alice@a.test", "5", "bob@b.test.evil", "five", kT0 + 4000);

  ArchiveQuery q;
  q.with = "bob@b.test";  // bare: every resource
  EXPECT_EQ(ids(*a().query("alice@a.test", q)), (Ids{"1", "2", "4"}));
  q.with = "bob@b.test/desk";  // full: exactly
  EXPECT_EQ(ids(*a().query("alice@a.test", q)), (Ids{"2"}));

  ArchiveQuery t;
  t.start_ms = kT0 + 1000;  // inclusive
  t.end_ms = kT0 + 3000;    // inclusive
  EXPECT_EQ(ids(*a().query("alice@a.test", t)), (Ids{"2", "3", "4"}));
  t.start_ms = kT0 + 1001;
  t.end_ms = kT0 + 2999;
  EXPECT_EQ(ids(*a().query("alice@a.test", t)), (Ids{"3"}));
  t.start_ms = kT0 + 5000;
  t.end_ms.reset();
  auto none = a().query("alice@a.test", t);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->messages.empty());
  EXPECT_TRUE(none->complete);

  ArchiveQuery byid;
  byid.ids = {"4", "1"};
  EXPECT_EQ(ids(*a().query("alice@a.test", byid)), (Ids{"1", "4"}));
  byid.with = "carol@c.test";
  EXPECT_TRUE(a().query("alice@a.test", byid)->messages.empty());

  auto m = a().query("alice@a.test", ArchiveQuery{})->messages;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].with, "bob@b.test/phone");
  EXPECT_FALSE(m[0].outgoing);
  EXPECT_TRUE(m[1].outgoing);
  EXPECT_EQ(m[2].time_ms(), kT0 + 2000);
}

TEST_F(ArchiveStoreTest, OrderAndTimeSurviveAClockGoingBack) {
  add("alice@a.test", "late", "bob@b.test", "x", kT0 + 5000);
  add("alice@a.test", "early", "bob@b.test", "y", kT0);  // the clock went back
  auto m = a().query("alice@a.test", ArchiveQuery{})->messages;
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].id, "late");
  EXPECT_EQ(m[1].id, "early");
  EXPECT_GT(m[1].seq, m[0].seq);
  EXPECT_EQ(m[1].time_ms(), kT0 + 5000);  // takes the time of the message before it
  // A stanza id is unique within its archive.
  EXPECT_THROW(add("alice@a.test", "late", "bob@b.test", "z", kT0 + 6000), StorageError);
  EXPECT_NO_THROW(add("bob@b.test", "late", "alice@a.test", "z", kT0 + 6000));
}

// Searched twice: with every message above the index's mark (matched through the temporary index of
// the not yet indexed rows), then indexed (matched through FTS5); both must give the same answers.
TEST_F(ArchiveStoreTest, FullTextSearchIsPerAccountAndFollowsChanges) {
  add("alice@a.test", "1", "bob@b.test", "Meet me at the Café tomorrow", kT0);
  add("alice@a.test", "2", "bob@b.test", "the cafe is closed", kT0 + 1);
  add("alice@a.test", "3", "carol@c.test", "tomorrow then", kT0 + 2);
  add("alice@a.test", "4", "bob@b.test", "", kT0 + 3);  // not indexed
  add("bob@b.test", "b1", "alice@a.test", "cafe cafe cafe", kT0 + 4);

  auto search = [&](const std::string& text, const std::string& with = {}) {
    ArchiveQuery q;
    q.fulltext = text;
    q.with = with;
    return ids(*a().query("alice@a.test", q));
  };
  for (bool indexed : {false, true}) {
    SCOPED_TRACE(indexed ? "indexed" : "not indexed yet");
    if (indexed) {
      EXPECT_EQ(a().index_pending(3), 3u);  // in batches
      EXPECT_EQ(a().index_pending(100), 2u);
      EXPECT_EQ(a().index_pending(100), 0u);
    }
    EXPECT_EQ(search("cafe"), (Ids{"1", "2"}));  // diacritics folded, bob's archive not searched
    EXPECT_EQ(search("CAFE tomorrow"), (Ids{"1"}));  // every word
    EXPECT_EQ(search("tomor*"), (Ids{"1", "3"}));    // prefix
    EXPECT_EQ(search("tomorrow", "carol@c.test"), (Ids{"3"}));
    EXPECT_EQ(search("tomorrow", "nobody@c.test"), Ids{});
    EXPECT_EQ(search("\"the\" OR NOT cafe*"), Ids{});  // user text is words, never FTS syntax
    EXPECT_EQ(search("?!"), Ids{});

    ArchiveQuery paged;
    paged.fulltext = "cafe";
    paged.limit = 1;
    paged.from_end = true;
    auto p = a().query("alice@a.test", paged);
    EXPECT_EQ(ids(*p), (Ids{"2"}));
    EXPECT_FALSE(p->complete);
  }

  // A tombstone leaves the index; retention takes the rest.
  auto first = a().query("alice@a.test", ArchiveQuery{})->messages[0];
  a().replace_content("alice@a.test", first.seq, "<message><retracted/></message>", "");
  EXPECT_EQ(search("cafe"), (Ids{"2"}));
  auto kept = a().query("alice@a.test", ArchiveQuery{})->messages[0];
  EXPECT_EQ(kept.id, "1");
  EXPECT_EQ(kept.xml, "<message><retracted/></message>");
  a().replace_content("alice@a.test", first.seq, "<message/>", "a new cafe");
  EXPECT_EQ(search("cafe"), (Ids{"1", "2"}));

  // Newer messages, not indexed yet, follow the indexed ones, in both directions and across pages.
  add("alice@a.test", "5", "bob@b.test", "cafe again", kT0 + 5);
  add("alice@a.test", "6", "bob@b.test", "cafe at last", kT0 + 6);
  a().replace_content("alice@a.test", a().last("alice@a.test")->seq, "<message/>", "the last cafe");
  EXPECT_EQ(search("cafe"), (Ids{"1", "2", "5", "6"}));
  EXPECT_EQ(search("last"), (Ids{"6"}));
  ArchiveQuery middle;
  middle.fulltext = "cafe";
  middle.limit = 2;
  middle.from_end = true;
  auto p = a().query("alice@a.test", middle);
  EXPECT_EQ(ids(*p), (Ids{"5", "6"}));
  EXPECT_FALSE(p->complete);
  middle.before = {"5"};
  p = a().query("alice@a.test", middle);
  EXPECT_EQ(ids(*p), (Ids{"1", "2"}));
  EXPECT_TRUE(p->complete);
  middle.before.clear();
  middle.from_end = false;
  middle.after = {"1"};
  p = a().query("alice@a.test", middle);
  EXPECT_EQ(ids(*p), (Ids{"2", "5"}));
  EXPECT_FALSE(p->complete);

  EXPECT_EQ(a().expire("a.test", kT0 + 2, 100), 2u);
  EXPECT_EQ(search("cafe"), (Ids{"5", "6"}));
  EXPECT_EQ(search("tomorrow"), (Ids{"3"}));
  EXPECT_EQ(a().index_pending(100), 2u);
  EXPECT_EQ(search("cafe"), (Ids{"5", "6"}));
  EXPECT_EQ(search("again"), (Ids{"5"}));
}

// XEP-0227 imports land in the past, below the index's mark: indexed at once.
TEST_F(ArchiveStoreTest, ImportedMessagesAreSearchable) {
  add("alice@a.test", "1", "bob@b.test", "first", kT0 + 10);
  EXPECT_EQ(a().index_pending(100), 1u);
  ArchivedMessage old;
  old.id = "old";
  old.with = "bob@b.test";
  old.body = "imported words";
  old.xml = "<message/>";
  a().insert_at("alice@a.test", old, kT0);
  EXPECT_EQ(a().index_pending(100), 0u);
  ArchiveQuery q;
  q.fulltext = "imported";
  EXPECT_EQ(ids(*a().query("alice@a.test", q)), (Ids{"old"}));
  EXPECT_EQ(ids(*a().query("alice@a.test", ArchiveQuery{})), (Ids{"old", "1"}));
}

TEST_F(ArchiveStoreTest, FindsARetractionTargetInTheConversation) {
  add("alice@a.test", "1", "bob@b.test/x", "hi", kT0, true, "m-1");
  add("alice@a.test", "2", "bob@b.test/y", "hi", kT0 + 1, false, "m-1");
  add("alice@a.test", "3", "carol@c.test", "hi", kT0 + 2, true, "m-2");
  auto out = a().find_by_message_id("alice@a.test", "bob@b.test", true, "m-1", 100);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->id, "1");
  auto in = a().find_by_message_id("alice@a.test", "bob@b.test", false, "m-1", 100);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->id, "2");
  EXPECT_FALSE(a().find_by_message_id("alice@a.test", "bob@b.test", true, "m-2", 100));  // another conversation
  EXPECT_FALSE(a().find_by_message_id("alice@a.test", "bob@b.test", true, "m-1", 1));    // outside the window
}

TEST_F(ArchiveStoreTest, RetentionRemovesTheOldestOfOneHostInBatches) {
  for (int i = 0; i < 10; ++i) add("alice@a.test", "a" + std::to_string(i), "x@y.test", "old", kT0 + i);
  for (int i = 0; i < 3; ++i) add("zed@z.test", "z" + std::to_string(i), "x@y.test", "old", kT0 + i);
  add("alice@a.test", "new", "x@y.test", "new", kT0 + 100);
  EXPECT_EQ(a().expire("a.test", kT0 + 100, 4), 4u);
  EXPECT_EQ(a().first("alice@a.test")->id, "a4");  // the oldest went first: no holes
  EXPECT_EQ(a().expire("a.test", kT0 + 100, 100), 6u);
  EXPECT_EQ(a().expire("a.test", kT0 + 100, 100), 0u);
  EXPECT_EQ(a().first("alice@a.test")->id, "new");
  EXPECT_EQ(a().last("alice@a.test")->id, "new");
  EXPECT_EQ(a().first("zed@z.test")->id, "z0");  // another host's archive is untouched
  EXPECT_FALSE(a().first("nobody@a.test"));
}

TEST_F(ArchiveStoreTest, PrefsAndRemovalOfAnAccount) {
  EXPECT_FALSE(a().prefs("alice@a.test"));
  ArchivePrefs p;
  p.default_mode = "roster";
  p.always = {"bob@b.test", "carol@c.test/phone"};
  p.never = {"spam.test"};
  a().set_prefs("alice@a.test", p);
  auto back = a().prefs("alice@a.test");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->default_mode, "roster");
  EXPECT_EQ(back->always, p.always);
  EXPECT_EQ(back->never, p.never);
  ASSERT_EQ(a().all_prefs().size(), 1u);
  add("alice@a.test", "1", "bob@b.test", "searchable", kT0);
  a().remove_owner("alice@a.test");
  EXPECT_FALSE(a().prefs("alice@a.test"));
  EXPECT_FALSE(a().first("alice@a.test"));
  ArchiveQuery q;
  q.fulltext = "searchable";
  EXPECT_TRUE(a().query("alice@a.test", q)->messages.empty());
}

// One account with a million messages (and a neighbour): pages from both ends and from the middle, a
// rare correspondent and a rare word are found by index walks; the answers are checked, not timed. The
// rows are written by one SQL statement laid out as append() lays them out (seq = time << 20 + n), since
// a million appends through the API would make this test the slowest of the suite; the store then
// appends after them.
TEST_F(ArchiveStoreTest, MillionMessageAccountPagesCorrectly) {
  {
    sqlite::Db raw((dir_ / "t.db").string());
    raw.exec(
        "BEGIN;"
        "INSERT INTO archive_jids (id, jid, host) VALUES (101, 'big@a.test', 102), (102, 'a.test', 102), "
        "(103, 'rare@r.test', 105), (104, 'bob@b.test', 106), (105, 'r.test', 105), (106, 'b.test', 106);"
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999) "
        "INSERT INTO archive_messages (id, owner, sid, xml, body) "
        "SELECT ((" + std::to_string(kT0) + " + i / 10) << 20) + i % 10, 101, printf('s%07d', i), '<message/>', "
        "CASE WHEN i % 250000 = 3 THEN 'needle' ELSE '' END FROM n;"
        "INSERT INTO archive (owner, id, with_bare, with_resource, outgoing) "
        "SELECT 101, id, CASE WHEN (id & 1048575) = 7 AND ((id >> 20) - " + std::to_string(kT0) + ") % 10000 = 0 "
        "THEN 103 ELSE 104 END, 'x', (id & 1048575) % 2 "
        "FROM archive_messages ORDER BY id;"
        "UPDATE archive_entry_state SET mark = (SELECT MAX(id) FROM archive_messages);"  // all filed
        "COMMIT;");
  }
  // The full-text index holds the first 600 000: one needle is found through it, the next through the
  // rows not indexed yet.
  EXPECT_EQ(a().index_pending(600000), 600000u);
  auto sid = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "s%07d", i);
    return std::string(buf);
  };
  for (int i = 0; i < 10; ++i) add("small@a.test", "t" + std::to_string(i), "bob@b.test", "needle", kT0 + i);
  add("big@a.test", "tail", "bob@b.test", "after the million", kT0);  // the clock is behind: still last

  ArchiveQuery last;
  last.limit = 50;
  last.from_end = true;
  auto p = a().query("big@a.test", last);
  ASSERT_EQ(p->messages.size(), 50u);
  EXPECT_EQ(p->messages.front().id, sid(999951));
  EXPECT_EQ(p->messages[48].id, sid(999999));
  EXPECT_EQ(p->messages.back().id, "tail");
  EXPECT_FALSE(p->complete);

  ArchiveQuery middle;
  middle.limit = 50;
  middle.after = {sid(500000)};
  p = a().query("big@a.test", middle);
  EXPECT_EQ(p->messages.front().id, sid(500001));
  EXPECT_EQ(p->messages.back().id, sid(500050));
  EXPECT_FALSE(p->complete);
  middle.after.clear();
  middle.before = {sid(500000)};
  middle.from_end = true;
  p = a().query("big@a.test", middle);
  EXPECT_EQ(p->messages.front().id, sid(499950));
  EXPECT_EQ(p->messages.back().id, sid(499999));

  ArchiveQuery first;
  first.limit = 3;
  p = a().query("big@a.test", first);
  EXPECT_EQ(ids(*p), (Ids{sid(0), sid(1), sid(2)}));
  EXPECT_EQ(p->messages[1].with, "bob@b.test/x");
  EXPECT_TRUE(p->messages[1].outgoing);

  ArchiveQuery rare;
  rare.with = "rare@r.test";
  rare.limit = 50;
  p = a().query("big@a.test", rare);
  ASSERT_EQ(p->messages.size(), 10u);
  EXPECT_EQ(p->messages[3].id, sid(300007));
  EXPECT_TRUE(p->complete);

  ArchiveQuery text;
  text.fulltext = "needle";
  text.limit = 2;
  text.from_end = true;
  p = a().query("big@a.test", text);
  EXPECT_EQ(ids(*p), (Ids{sid(500003), sid(750003)}));
  EXPECT_FALSE(p->complete);
  EXPECT_EQ(a().index_pending(1000000), 400011u);  // the rest, and the 11 appended
  p = a().query("big@a.test", text);
  EXPECT_EQ(ids(*p), (Ids{sid(500003), sid(750003)}));

  ArchiveQuery timed;
  timed.start_ms = kT0 + 50000;  // messages 500000..500009 share this millisecond
  timed.end_ms = kT0 + 50001;
  timed.limit = 30;
  p = a().query("big@a.test", timed);
  ASSERT_EQ(p->messages.size(), 20u);
  EXPECT_EQ(p->messages.front().id, sid(500000));
  EXPECT_EQ(p->messages.back().id, sid(500019));
  EXPECT_EQ(p->messages.back().time_ms(), kT0 + 50001);
  EXPECT_TRUE(p->complete);

  EXPECT_EQ(a().first("big@a.test")->id, sid(0));
  EXPECT_EQ(a().last("big@a.test")->id, "tail");
}

// A database written by a build before the archive's version 2 (JIDs as text in every row, the index
// filled by triggers): every message, its place, ids, correspondent, text and preferences come through,
// and the store goes on from there.
TEST_F(ArchiveStoreTest, MigrationFromTextJidsKeepsEveryMessage) {
  auto path = (dir_ / "old.db").string();
  {
    sqlite::Db raw(path);
    raw.exec("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
             "INSERT INTO schema_versions (component, version) VALUES ('archive', 1);");
    raw.exec(sqlite::archive_schema().migrations.at(0).sql);
    auto seq = [](int64_t ms, int n) { return std::to_string((ms << kSeqTimeShift) + n); };
    raw.exec(
        "INSERT INTO archive (id, owner, host, sid, with_bare, with_resource, outgoing, msg_id, xml, body) VALUES "
        "(" + seq(kT0, 0) + ", 'alice@a.test', 'a.test', 's1', 'bob@b.test', 'phone', 1, 'm1', '<message id=\"m1\"/>', 'hello bob'),"
        "(" + seq(kT0, 1) + ", 'bob@b.test', 'b.test', 'r1', 'alice@a.test', 'pc', 0, 'm1', '<message id=\"m1\"/>', 'hello bob'),"
        "(" + seq(kT0 + 5, 0) + ", 'alice@a.test', 'a.test', 's2', 'carol@c.test', '', 0, '', '<message/>', 'hi alice'),"
        "(" + seq(kT0 + 9, 0) + ", 'alice@a.test', 'a.test', 's3', 'bob@b.test', '', 1, '', '<message/>', '');"
        "INSERT INTO archive_prefs (owner, default_mode, always, never) VALUES ('alice@a.test', 'roster', 'bob@b.test', '');");
  }
  auto db = sqlite::open_sqlite(path);
  ArchiveStore& m = db->archive();
  auto all = m.query("alice@a.test", ArchiveQuery{});
  ASSERT_TRUE(all);
  ASSERT_EQ(ids(*all), (Ids{"s1", "s2", "s3"}));
  EXPECT_EQ(all->messages[0].seq, kT0 << kSeqTimeShift);
  EXPECT_EQ(all->messages[0].with, "bob@b.test/phone");
  EXPECT_TRUE(all->messages[0].outgoing);
  EXPECT_EQ(all->messages[0].message_id, "m1");
  EXPECT_EQ(all->messages[0].xml, "<message id=\"m1\"/>");
  EXPECT_EQ(all->messages[0].body, "hello bob");
  EXPECT_EQ(all->messages[1].time_ms(), kT0 + 5);
  EXPECT_EQ(m.last("bob@b.test")->with, "alice@a.test/pc");
  ArchiveQuery with;
  with.with = "bob@b.test";
  EXPECT_EQ(ids(*m.query("alice@a.test", with)), (Ids{"s1", "s3"}));
  ArchiveQuery after;
  after.after = {"s1"};
  EXPECT_EQ(ids(*m.query("alice@a.test", after)), (Ids{"s2", "s3"}));
  // The index was carried over: nothing left to index, and searches find the old messages.
  EXPECT_EQ(m.index_pending(100), 0u);
  ArchiveQuery text;
  text.fulltext = "hello";
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"s1"}));
  EXPECT_EQ(ids(*m.query("bob@b.test", text)), (Ids{"r1"}));
  EXPECT_EQ(m.find_by_message_id("alice@a.test", "bob@b.test", true, "m1", 10)->id, "s1");
  auto prefs = m.prefs("alice@a.test");
  ASSERT_TRUE(prefs);
  EXPECT_EQ(prefs->default_mode, "roster");
  EXPECT_EQ(prefs->always, (std::vector<std::string>{"bob@b.test"}));

  // Changes after the migration: a tombstone leaves the index, stanza ids stay unique, new messages go last.
  m.replace_content("bob@b.test", all->messages[0].seq + 1, "<message/>", "");
  EXPECT_TRUE(m.query("bob@b.test", text)->messages.empty());
  ArchivedMessage dup;
  dup.id = "s2";
  dup.with = "bob@b.test";
  dup.xml = "<message/>";
  EXPECT_THROW(m.append("alice@a.test", dup, kT0 + 20), StorageError);
  dup.id = "s4";
  dup.body = "hello again";
  m.append("alice@a.test", dup, kT0 + 20);
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"s1", "s4"}));
  EXPECT_EQ(m.expire("a.test", kT0 + 6, 100), 2u);
  EXPECT_EQ(ids(*m.query("alice@a.test", ArchiveQuery{})), (Ids{"s3", "s4"}));
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"s4"}));
  EXPECT_EQ(m.first("bob@b.test")->id, "r1");  // another host
}

// A 1:1 message between two accounts here is stored once for both archives: one seq, one stanza id,
// each archive with its own correspondent and direction; a tombstone, retention or removal in one leaves
// the other's as it was, and the stored copy goes with its last entry.
TEST_F(ArchiveStoreTest, OneStoredCopySharedByBothParties) {
  sqlite::Db raw((dir_ / "t.db").string());  // a second connection, to look at the tables
  auto count = [&](const char* table) {
    auto q = raw.prepare(std::string("SELECT COUNT(*) FROM ") + table);
    return q->step() ? q->column_int(0) : -1;
  };
  ArchivedMessage m;
  m.id = "shared1";
  m.with = "bob@b.test/phone";
  m.outgoing = true;
  m.message_id = "m1";
  m.body = "lunch at noon";
  m.xml = "<message id='m1'><body>lunch at noon</body></message>";
  ArchiveCopy copy{"bob@b.test", "alice@a.test/pc", false, "bobs1"};
  int64_t seq = a().append("alice@a.test", m, kT0, &copy);
  add("alice@a.test", "own2", "carol@c.test", "lunch alone", kT0 + 1);
  EXPECT_EQ(count("archive_messages"), 2);
  EXPECT_EQ(count("archive"), 3);

  auto alice = a().query("alice@a.test", ArchiveQuery{});
  auto bob = a().query("bob@b.test", ArchiveQuery{});
  ASSERT_EQ(ids(*alice), (Ids{"shared1", "own2"}));
  ASSERT_EQ(ids(*bob), (Ids{"bobs1"}));  // each archive its own id
  EXPECT_EQ(alice->messages[0].seq, seq);
  EXPECT_EQ(bob->messages[0].seq, seq);
  EXPECT_TRUE(alice->messages[0].outgoing);
  EXPECT_FALSE(bob->messages[0].outgoing);
  EXPECT_EQ(alice->messages[0].with, "bob@b.test/phone");
  EXPECT_EQ(bob->messages[0].with, "alice@a.test/pc");
  EXPECT_EQ(bob->messages[0].xml, m.xml);
  EXPECT_EQ(bob->messages[0].message_id, "m1");
  ArchiveQuery with;
  with.with = "alice@a.test";
  EXPECT_EQ(ids(*a().query("bob@b.test", with)), (Ids{"bobs1"}));
  ArchiveQuery after;
  after.after = {"shared1"};
  EXPECT_EQ(ids(*a().query("alice@a.test", after)), (Ids{"own2"}));
  EXPECT_FALSE(a().query("bob@b.test", after));  // alice's id, unknown to bob's archive
  after.after = {"bobs1"};
  EXPECT_TRUE(a().query("bob@b.test", after)->messages.empty());
  EXPECT_FALSE(a().query("alice@a.test", after));
  ArchiveQuery unknown;
  unknown.after = {"own2"};  // alice's, not bob's
  EXPECT_FALSE(a().query("bob@b.test", unknown));
  EXPECT_EQ(a().find_by_message_id("bob@b.test", "alice@a.test", false, "m1", 10)->id, "bobs1");
  EXPECT_FALSE(a().find_by_message_id("bob@b.test", "alice@a.test", true, "m1", 10));
  // Each id is taken in its archive, whichever index holds it.
  ArchivedMessage dup = m;
  EXPECT_THROW(a().append("alice@a.test", dup, kT0 + 2), StorageError);
  dup.id = "bobs1";
  EXPECT_THROW(a().append("bob@b.test", dup, kT0 + 2), StorageError);
  dup.id = "own2";
  ArchiveCopy reused{"bob@b.test", "alice@a.test/pc", false, "fresh"};
  EXPECT_THROW(a().append("alice@a.test", dup, kT0 + 2, &reused), StorageError);
  dup.id = "fresh";
  reused.id = "bobs1";
  EXPECT_THROW(a().append("alice@a.test", dup, kT0 + 2, &reused), StorageError);

  // Searched before and after the index takes it, in both archives.
  ArchiveQuery text;
  text.fulltext = "lunch";
  for (int indexed = 0; indexed < 2; ++indexed) {
    EXPECT_EQ(ids(*a().query("alice@a.test", text)), (Ids{"shared1", "own2"}));
    EXPECT_EQ(ids(*a().query("bob@b.test", text)), (Ids{"bobs1"}));
    EXPECT_EQ(a().index_pending(100), indexed ? 0u : 2u);
  }

  // A tombstone in bob's archive only.
  a().replace_content("bob@b.test", seq, "<message><retracted/></message>", "");
  EXPECT_EQ(a().last("bob@b.test")->xml, "<message><retracted/></message>");
  EXPECT_EQ(a().last("bob@b.test")->body, "");
  EXPECT_EQ(a().first("alice@a.test")->xml, m.xml);
  EXPECT_TRUE(a().query("bob@b.test", text)->messages.empty());
  EXPECT_EQ(ids(*a().query("alice@a.test", text)), (Ids{"shared1", "own2"}));
  // Then in alice's: no archive reads the stored copy any more, it becomes the tombstone.
  a().replace_content("alice@a.test", seq, "<message><retracted/></message>", "");
  {
    auto q = raw.prepare("SELECT xml, body FROM archive_messages WHERE sid2 = 'bobs1'");
    ASSERT_TRUE(q->step());
    EXPECT_EQ(q->column_text(0), "<message><retracted/></message>");
    EXPECT_EQ(q->column_text(1), "");
  }
  EXPECT_EQ(a().first("alice@a.test")->xml, "<message><retracted/></message>");
  EXPECT_EQ(ids(*a().query("alice@a.test", text)), (Ids{"own2"}));

  // Retention of b.test takes bob's entry; the message stays for alice until her entry goes too.
  ArchivedMessage m2 = m;
  m2.id = "shared2";
  copy.id = "bobs2";
  a().append("alice@a.test", m2, kT0 + 3, &copy);
  EXPECT_EQ(a().expire("b.test", kT0 + 10, 100), 2u);
  EXPECT_FALSE(a().first("bob@b.test"));
  EXPECT_EQ(ids(*a().query("alice@a.test", ArchiveQuery{})), (Ids{"shared1", "own2", "shared2"}));
  EXPECT_EQ(count("archive_messages"), 3);
  a().remove_owner("alice@a.test");
  EXPECT_EQ(count("archive_messages"), 0);
  EXPECT_EQ(count("archive"), 0);
}

// A database at the archive's version 2 (one full row per archive and message, stanza ids per archive):
// every row becomes a message of its own, a stanza id two archives used stays each archive's, the full-
// text index and its mark carry over, retention finds the host's rows.
TEST_F(ArchiveStoreTest, MigrationToOneStoredCopyKeepsEveryMessage) {
  auto path = (dir_ / "v2.db").string();
  auto seq = [](int64_t ms, int n) { return (ms << kSeqTimeShift) + n; };
  {
    sqlite::Db raw(path);
    raw.exec("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
             "INSERT INTO schema_versions (component, version) VALUES ('archive', 2);");
    raw.exec(sqlite::archive_schema().migrations.at(0).sql);
    raw.exec(sqlite::archive_schema().migrations.at(1).sql);
    auto s = [&](int64_t ms, int n) { return std::to_string(seq(ms, n)); };
    raw.exec(
        "INSERT INTO archive_jids (id, jid) VALUES (1, 'alice@a.test'), (2, 'a.test'), (3, 'bob@b.test'), (4, 'b.test');"
        "INSERT INTO archive (id, owner, host, sid, with_bare, with_resource, outgoing, msg_id, xml, body) VALUES "
        "(" + s(kT0, 0) + ", 1, 2, 'dup', 3, 'phone', 1, 'm1', '<message id=\"m1\"/>', 'hello bob'),"
        "(" + s(kT0, 1) + ", 3, 4, 'dup', 1, 'pc', 0, 'm1', '<message id=\"m1\"/>', 'hello bob'),"
        "(" + s(kT0 + 5, 0) + ", 1, 2, 's2', 3, '', 0, 'm2', '<message id=\"m2\"/>', 'second word');");
    // The index as the lane left it: the first two rows indexed, the third not yet.
    raw.exec("INSERT INTO archive_fts (rowid, okey, body) SELECT id, 'o' || owner, body FROM archive WHERE id <= " +
             s(kT0, 1) + "; UPDATE archive_fts_state SET mark = " + s(kT0, 1) + ";");
  }
  auto db = sqlite::open_sqlite(path);
  ArchiveStore& m = db->archive();
  auto alice = m.query("alice@a.test", ArchiveQuery{});
  ASSERT_TRUE(alice);
  ASSERT_EQ(ids(*alice), (Ids{"dup", "s2"}));
  EXPECT_EQ(alice->messages[0].seq, seq(kT0, 0));
  EXPECT_EQ(alice->messages[0].with, "bob@b.test/phone");
  EXPECT_TRUE(alice->messages[0].outgoing);
  EXPECT_EQ(alice->messages[0].message_id, "m1");
  EXPECT_EQ(alice->messages[0].xml, "<message id=\"m1\"/>");
  EXPECT_EQ(alice->messages[1].body, "second word");
  auto bob = m.query("bob@b.test", ArchiveQuery{});
  ASSERT_EQ(ids(*bob), (Ids{"dup"}));
  EXPECT_EQ(bob->messages[0].seq, seq(kT0, 1));
  EXPECT_EQ(bob->messages[0].with, "alice@a.test/pc");
  ArchiveQuery after;
  after.after = {"dup"};
  EXPECT_EQ(ids(*m.query("alice@a.test", after)), (Ids{"s2"}));
  EXPECT_TRUE(m.query("bob@b.test", after)->messages.empty());
  ArchiveQuery text;
  text.fulltext = "hello";
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"dup"}));
  EXPECT_EQ(ids(*m.query("bob@b.test", text)), (Ids{"dup"}));
  text.fulltext = "word";
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"s2"}));
  EXPECT_EQ(m.index_pending(100), 1u);  // the third row, left above the mark
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"s2"}));
  // A tombstone below the mark leaves the index; an imported id another archive has is still refused
  // in the archive that has it.
  m.replace_content("bob@b.test", seq(kT0, 1), "<message/>", "");
  text.fulltext = "hello";
  EXPECT_TRUE(m.query("bob@b.test", text)->messages.empty());
  EXPECT_EQ(ids(*m.query("alice@a.test", text)), (Ids{"dup"}));
  ArchivedMessage again;
  again.id = "dup";
  again.with = "alice@a.test";
  again.xml = "<message/>";
  EXPECT_THROW(m.insert_at("bob@b.test", again, kT0 + 1), StorageError);
  m.insert_at("carol@c.test", again, kT0 + 1);  // another archive: its entry keeps the id
  EXPECT_EQ(ids(*m.query("carol@c.test", ArchiveQuery{})), (Ids{"dup"}));
  ArchiveQuery carol_after;
  carol_after.after = {"dup"};
  EXPECT_TRUE(m.query("carol@c.test", carol_after)->messages.empty());
  // Retention by host, through the migrated JIDs' hosts.
  EXPECT_EQ(m.expire("a.test", kT0 + 1, 100), 1u);
  EXPECT_EQ(ids(*m.query("alice@a.test", ArchiveQuery{})), (Ids{"s2"}));
  EXPECT_EQ(ids(*m.query("bob@b.test", ArchiveQuery{})), (Ids{"dup"}));
  // New messages go last.
  ArchivedMessage next;
  next.id = "s3";
  next.with = "bob@b.test";
  next.xml = "<message/>";
  m.append("alice@a.test", next, kT0);
  EXPECT_EQ(ids(*m.query("alice@a.test", ArchiveQuery{})), (Ids{"s2", "s3"}));
}

// The write lane indexes what it archived once it has nothing else to do.
TEST_F(ArchiveStoreTest, TheWriteLaneIndexesWhenIdle) {
  db_.reset();
  auto path = (dir_ / "t.db").string();
  // Idle work runs in the order it was added, each until done: when this one runs after the writes,
  // the lane's own indexer has caught up. (Lane thread only: no lock needed for `written`, `once`.)
  // Declared before the service, which its lane outlives.
  bool written = false, once = false;
  std::promise<size_t> left;
  StorageService svc([&] { return sqlite::open_sqlite(path); });
  svc.add_idle_write([&](Storage& db) {
    if (written && !once) {
      once = true;
      left.set_value(db.archive().index_pending(100));
    }
    return false;
  });
  svc.write([&](Storage& db) -> StorageService::Completion {
    for (int i = 0; i < 5000; ++i) {  // more than one idle chunk
      ArchivedMessage m;
      m.id = "m" + std::to_string(i);
      m.with = "bob@b.test";
      m.xml = "<message/>";
      m.body = i == 4321 ? "findme" : "word " + std::to_string(i);
      db.archive().append("alice@a.test", m, kT0 + i);
    }
    return [&] { written = true; };
  });
  EXPECT_EQ(left.get_future().get(), 0u);
  std::promise<Ids> found;
  svc.read([&](Storage& db) {
    ArchiveQuery q;
    q.fulltext = "findme";
    found.set_value(ids(*db.archive().query("alice@a.test", q)));
  });
  EXPECT_EQ(found.get_future().get(), (Ids{"m4321"}));
}

// A server-made stanza id (archive_store.hpp): the time in base32hex, then 12 characters.
std::string native_id(int64_t t_ms, int n) {
  static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
  std::string id(9, '0');
  auto v = static_cast<uint64_t>(t_ms);
  for (size_t i = id.size(); i-- > 0; v >>= 5) id[i] = kDigits[v & 31];
  std::string tail = "r" + std::to_string(n);
  return id + std::string(12 - tail.size(), 'x') + tail;
}

TEST(ArchiveIdTime, ReadsTheServersIdsOnly) {
  EXPECT_EQ(archive_id_time_ms(native_id(kT0, 7)), kT0);
  EXPECT_FALSE(archive_id_time_ms("a1"));
  EXPECT_FALSE(archive_id_time_ms(native_id(kT0, 7) + "x"));
  std::string bad = native_id(kT0, 7);
  bad[3] = 'W';  // not base32hex
  EXPECT_FALSE(archive_id_time_ms(bad));
  bad = native_id(kT0, 7);
  bad[15] = '.';
  EXPECT_FALSE(archive_id_time_ms(bad));
}

// Messages with server-made ids are stored alone and filed into their archives' entry lists later
// (merge_pending): every question asked of the archive has the same answer before and after.
TEST_F(ArchiveStoreTest, UnmergedMessagesAnswerLikeMergedOnes) {
  sqlite::Db raw((dir_ / "t.db").string());
  auto count = [&](const char* table) {
    auto q = raw.prepare(std::string("SELECT COUNT(*) FROM ") + table);
    return q->step() ? q->column_int(0) : -1;
  };
  // An older message already merged, then 60 pending between alice, bob and carol in both directions.
  add("alice@a.test", "old1", "bob@b.test/pc", "older lunch talk", kT0 - 5000, true, "o1");
  std::vector<std::string> alice_ids, bob_ids;
  for (int i = 0; i < 60; ++i) {
    int64_t t = kT0 + i * 10;
    ArchivedMessage m;
    bool to_bob = i % 3 != 2;
    m.id = native_id(t, i);
    m.with = to_bob ? (i % 2 ? "bob@b.test/phone" : "bob@b.test/pc") : "carol@c.test/x";
    m.outgoing = i % 4 != 0;
    m.message_id = "mid" + std::to_string(i);
    m.body = i % 5 == 0 ? "lunch at noon " + std::to_string(i) : "word " + std::to_string(i);
    m.xml = "<message><body>" + m.body + "</body></message>";
    ArchiveCopy copy{"bob@b.test", "alice@a.test/pc", !m.outgoing, ""};
    std::string copy_id = native_id(t + 1, 100 + i);  // the recipient's id is made a moment later
    copy.id = copy_id;
    a().append("alice@a.test", m, t, to_bob ? &copy : nullptr);
    alice_ids.push_back(m.id);
    if (to_bob) bob_ids.push_back(copy_id);
  }
  EXPECT_EQ(count("archive"), 1);  // the older message's entry only
  auto questions = [&] {
    std::vector<std::string> out;
    auto ask = [&](const std::string& owner, const ArchiveQuery& q) {
      auto p = a().query(owner, q);
      std::string line = owner + ":";
      if (!p) return out.push_back(line + "unknown");
      for (const auto& m : p->messages)
        line += " " + m.id + "|" + std::to_string(m.seq) + "|" + m.with + "|" + (m.outgoing ? "o" : "i") + "|" +
                m.message_id + "|" + m.xml + "|" + m.body;
      out.push_back(line + (p->complete ? " complete" : " more"));
    };
    for (const char* owner : {"alice@a.test", "bob@b.test", "carol@c.test"}) {
      ArchiveQuery all;
      all.limit = 100;
      ask(owner, all);
      ArchiveQuery page;
      page.limit = 7;
      ask(owner, page);
      page.from_end = true;
      ask(owner, page);
      ArchiveQuery text;
      text.fulltext = "lunch";
      ask(owner, text);
      text.from_end = true;
      text.limit = 2;
      ask(owner, text);
      ArchiveQuery with;
      with.with = "bob@b.test";
      ask(owner, with);
      with.with = "bob@b.test/phone";
      ask(owner, with);
      with.with = "alice@a.test";
      with.end_ms = kT0 + 200;
      ask(owner, with);
      ArchiveQuery time;
      time.start_ms = kT0 + 100;
      time.end_ms = kT0 + 300;
      ask(owner, time);
      for (auto* list : {&alice_ids, &bob_ids}) {
        ArchiveQuery after;
        after.after = {(*list)[5]};
        after.limit = 5;
        ask(owner, after);
        ArchiveQuery before;
        before.before = {list->back()};
        before.from_end = true;
        before.limit = 3;
        ask(owner, before);
        ArchiveQuery ids;
        ids.ids = {(*list)[1], (*list)[7]};
        ask(owner, ids);
      }
      auto f = a().first(owner), l = a().last(owner);
      out.push_back(std::string("edges ") + (f ? f->id : "-") + " " + (l ? l->id : "-"));
    }
    for (int i : {3, 40, 59}) {
      auto hit = a().find_by_message_id("bob@b.test", "alice@a.test", i % 4 == 0, "mid" + std::to_string(i), 20);
      out.push_back("retract " + (hit ? hit->id : "-"));
    }
    return out;
  };
  auto before = questions();
  EXPECT_EQ(a().merge_pending(1000, 61), 0u);  // fewer wait than asked for: left
  EXPECT_EQ(a().merge_pending(1000, 60), 60u);
  EXPECT_EQ(a().merge_pending(1000, 1), 0u);
  EXPECT_EQ(count("archive"), 1 + 60 + 40);
  auto after_merge = questions();
  ASSERT_EQ(after_merge.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after_merge[i], before[i]) << "question " << i;
  // The answers themselves: each archive its own ids, found again by paging.
  auto bob = a().query("bob@b.test", ArchiveQuery{});
  ASSERT_EQ(bob->messages.size(), 40u);
  EXPECT_EQ(bob->messages[0].id, bob_ids[0]);
  EXPECT_EQ(bob->messages[0].with, "alice@a.test/pc");
  EXPECT_EQ(ids(*a().query("carol@c.test", ArchiveQuery{})), Ids{});
  // A server-made id is unknown to the other party's archive and outside its time.
  ArchiveQuery foreign;
  foreign.after = {alice_ids[0]};
  EXPECT_FALSE(a().query("bob@b.test", foreign));
  foreign.after = {native_id(kT0 + 5000, 0)};
  EXPECT_FALSE(a().query("alice@a.test", foreign));
}

// A tombstone, retention and an account's removal reach messages not merged yet; an id made before
// the clock went back by more than the slack is still found, through the index.
TEST_F(ArchiveStoreTest, ChangesReachUnmergedMessages) {
  auto native = [&](const std::string& owner, int64_t t, int n, const std::string& body, int64_t id_t) {
    ArchivedMessage m;
    m.id = native_id(id_t, n);
    m.with = "bob@b.test/pc";
    m.outgoing = true;
    m.message_id = "mid" + std::to_string(n);
    m.body = body;
    m.xml = "<message><body>" + body + "</body></message>";
    ArchiveCopy copy{"bob@b.test", "alice@a.test/pc", false, ""};
    std::string copy_id = native_id(id_t, 1000 + n);
    copy.id = copy_id;
    a().append(owner, m, t, &copy);
    return std::pair{m, copy_id};
  };
  auto [m1, b1] = native("alice@a.test", kT0, 1, "first", kT0);
  a().replace_content("bob@b.test", m1.seq, "<message><retracted/></message>", "");
  EXPECT_EQ(a().first("bob@b.test")->xml, "<message><retracted/></message>");
  EXPECT_EQ(a().first("alice@a.test")->xml, m1.xml);
  auto [m2, b2] = native("alice@a.test", kT0 + 10, 2, "second", kT0 + 10);
  EXPECT_EQ(a().expire("b.test", kT0 + 15, 100), 2u);  // bob's two, the second pending a moment ago
  EXPECT_FALSE(a().first("bob@b.test"));
  EXPECT_EQ(ids(*a().query("alice@a.test", ArchiveQuery{})), (Ids{m1.id, m2.id}));
  // The clock went back: the seq keeps the order (after m2), the id names a time 60 s earlier.
  auto [m3, b3] = native("alice@a.test", kT0 - 60000, 3, "third", kT0 - 60000);
  EXPECT_GT(m3.seq, m2.seq);
  ArchiveQuery after;
  after.after = {m2.id};
  EXPECT_EQ(ids(*a().query("alice@a.test", after)), Ids{m3.id});
  after.after = {b3};
  EXPECT_TRUE(a().query("bob@b.test", after)->messages.empty());
  auto [m4, b4] = native("alice@a.test", kT0 + 20, 4, "fourth", kT0 + 20);
  EXPECT_EQ(ids(*a().query("bob@b.test", ArchiveQuery{})), (Ids{b3, b4}));
  after.after = {b3};
  EXPECT_EQ(ids(*a().query("bob@b.test", after)), Ids{b4});
  auto [m5, b5] = native("alice@a.test", kT0 + 30, 5, "fifth", kT0 + 30);
  a().remove_owner("bob@b.test");
  EXPECT_FALSE(a().last("bob@b.test"));
  EXPECT_EQ(a().last("alice@a.test")->id, m5.id);
  (void)b1;
  (void)b2;
  (void)b5;
}

// Server-made ids under load: append files the entries itself once kMaxPendingEntries (32 768) wait,
// and the write lane's idle work merges (from 16 384 waiting) and then indexes behind them.
TEST_F(ArchiveStoreTest, PendingEntriesAreMergedByAppendAndByTheIdleLane) {
  auto append_native = [](ArchiveStore& store, int from, int to) {
    for (int i = from; i < to; ++i) {
      ArchivedMessage m;
      m.id = native_id(kT0 + i, i);
      m.with = "bob@b.test/pc";
      m.xml = "<message/>";
      m.body = i == 9321 ? "findme" : "word";
      store.append("alice@a.test", m, kT0 + i);
    }
  };
  sqlite::Db raw((dir_ / "t.db").string());
  auto entries = [&] {
    auto q = raw.prepare("SELECT COUNT(*) FROM archive");
    return q->step() ? q->column_int(0) : -1;
  };
  db_->begin();
  append_native(a(), 0, 32767);
  db_->commit();
  EXPECT_EQ(entries(), 0);
  db_->begin();
  append_native(a(), 32767, 32768);  // the 32 768th
  db_->commit();
  EXPECT_EQ(entries(), 32768);
  db_.reset();

  auto path = (dir_ / "t.db").string();
  bool written = false, once = false;  // lane thread only
  std::promise<std::pair<size_t, size_t>> left;
  StorageService svc([&] { return sqlite::open_sqlite(path); });
  svc.add_idle_write([&](Storage& db) {
    if (written && !once) {
      once = true;
      left.set_value({db.archive().merge_pending(100000, 1), db.archive().index_pending(100)});
    }
    return false;
  });
  svc.write([&](Storage& db) -> StorageService::Completion {
    append_native(db.archive(), 32768, 32768 + 17000);
    return [&] { written = true; };
  });
  EXPECT_EQ(left.get_future().get(), (std::pair<size_t, size_t>{0, 0}));  // the lane had merged and indexed all
  EXPECT_EQ(entries(), 32768 + 17000);
  std::promise<Ids> found;
  svc.read([&](Storage& db) {
    ArchiveQuery q;
    q.fulltext = "findme";
    found.set_value(ids(*db.archive().query("alice@a.test", q)));
  });
  EXPECT_EQ(found.get_future().get(), (Ids{native_id(kT0 + 9321, 9321)}));
}

TEST(FulltextMatch, QuotesEveryWord) {
  EXPECT_EQ(sqlite::fulltext_match(7, "hi  th\"ere*"), "okey:\"o7\" AND body:(\"hi\" \"th\"\"ere\"*)");
  EXPECT_EQ(sqlite::fulltext_match(7, " * !? "), "");
}

}  // namespace
