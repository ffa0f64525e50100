#include "storage/sqlite/sqlite_feed_store.hpp"

#include <algorithm>
#include <limits>

#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_jid_ids.hpp"

namespace causerie::storage::sqlite {

namespace {

// Rows per INSERT: one statement carries many rows, prepared once per connection and reused; 3
// parameters each stays far below SQLITE_MAX_VARIABLE_NUMBER.
constexpr size_t kRowsPerInsert = 250;

// A fan-out of at least this many rows of one item is kept as one pending row (a blob of readers)
// instead of a row per reader; smaller adds (backfill, comments, mentions) go to the feed table at once.
constexpr size_t kPendingMinRows = 64;
// The pending fan-outs are moved into the feed table (merged) when there are this many, or this many
// rows in them: each reader's b-tree page is then written once for many posts instead of once per post
// (bench/TUNING.md). The bound also bounds what a page read decodes.
constexpr int64_t kMergePosts = 128;
constexpr int64_t kMergeRows = 128 * 1024;

// A pending row's readers: (reader id, kinds), 4 bytes each, little-endian, sorted by reader id.
constexpr size_t kEntryBytes = 8;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string insert_sql(size_t rows) {
  std::string sql = "INSERT INTO feed (reader, seq, kinds) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    if (i) sql += ',';
    sql += "(?" + std::to_string(3 * i + 1) + ",?" + std::to_string(3 * i + 2) + ",?" + std::to_string(3 * i + 3) + ")";
  }
  sql += " ON CONFLICT (reader, seq) DO UPDATE SET kinds = kinds | excluded.kinds";
  return sql;
}

constexpr const char* kEntryColumns = "n.service, n.node, i.item_id, i.publisher, i.payload, i.access, i.published";

void read_entry(Statement& q, int first, FeedEntry& e) {
  e.service = q.column_text(first);
  e.node = q.column_text(first + 1);
  e.item.seq = e.seq;
  e.item.id = q.column_text(first + 2);
  e.item.publisher = q.column_text(first + 3);
  e.item.payload = q.column_text(first + 4);
  e.item.access = q.column_text(first + 5);
  e.item.published = q.column_int(first + 6);
}

struct Row {
  int64_t reader, seq, kinds;
};

class SqliteFeedStore final : public FeedStore {
 public:
  explicit SqliteFeedStore(Db& db) : db_(db), readers_(db, "feed_readers") {}

  void add(const std::vector<FeedRow>& rows) override {
    std::vector<Row> ids;
    ids.reserve(rows.size());
    bool one_item = true;
    for (const auto& r : rows) {
      ids.push_back(Row{readers_.intern(r.reader), r.seq, static_cast<int64_t>(r.kinds)});
      one_item = one_item && r.seq == rows.front().seq;
    }
    std::sort(ids.begin(), ids.end(), [](const Row& a, const Row& b) { return a.reader != b.reader ? a.reader < b.reader : a.seq < b.seq; });
    if (one_item && ids.size() >= kPendingMinRows && ids.back().reader <= std::numeric_limits<uint32_t>::max()) {
      add_pending(ids);
      return;
    }
    insert(ids);
  }

  std::vector<FeedEntry> page(const FeedQuery& fq) override {
    auto reader = reader_id(fq.reader);
    if (!reader) return {};
    // Pending rows first: a merge committed between the two reads moves rows from there to the table,
    // so they are seen twice (and counted once), never missed.
    std::vector<FeedEntry> pending = pending_entries(*reader, fq, fq.limit);
    // The join goes from each feed row to its item by rowid (pubsub_items.seq), then to its node by
    // primary key: the cost is the page size, not the number of items stored.
    std::string sql = "SELECT f.seq, f.kinds, " + std::string(kEntryColumns) +
                      " FROM feed f JOIN pubsub_items i ON i.seq = f.seq JOIN pubsub_nodes n ON n.id = i.node_id "
                      "WHERE f.reader = ?1";
    sql += filters(fq);
    sql += fq.oldest_first ? " ORDER BY f.seq ASC LIMIT ?5" : " ORDER BY f.seq DESC LIMIT ?5";
    auto q = db_.prepare(sql);
    bind(*q, *reader, fq);
    // As many more as pending rows could repeat.
    q->bind(5, static_cast<int64_t>(fq.limit + pending.size()));
    std::vector<FeedEntry> out = std::move(pending);
    while (q->step()) {
      FeedEntry e;
      e.seq = q->column_int(0);
      e.kinds = static_cast<uint32_t>(q->column_int(1));
      read_entry(*q, 2, e);
      out.push_back(std::move(e));
    }
    // Newest first, one entry per item (its kinds combined), the `limit` nearest the walk's start.
    std::sort(out.begin(), out.end(), [](const FeedEntry& a, const FeedEntry& b) { return a.seq > b.seq; });
    std::vector<FeedEntry> merged;
    for (auto& e : out) {
      if (!merged.empty() && merged.back().seq == e.seq) merged.back().kinds |= e.kinds;
      else merged.push_back(std::move(e));
    }
    if (merged.size() > fq.limit) {
      if (fq.oldest_first) merged.erase(merged.begin(), merged.end() - static_cast<std::ptrdiff_t>(fq.limit));
      else merged.resize(fq.limit);
    }
    return merged;
  }

  bool has_older(const FeedQuery& fq, int64_t seq) override { return exists(fq, seq, true); }
  bool has_newer(const FeedQuery& fq, int64_t seq) override { return exists(fq, seq, false); }

  void remove_reader(std::string_view reader) override {
    auto id = reader_id(reader);
    if (!id) return;
    merge_pending();  // its pending rows too
    // The reader's id stays (ids are never reused: another connection may have it cached).
    auto q = db_.prepare("DELETE FROM feed WHERE reader = ?1");
    q->bind(1, *id).run();
  }

 private:
  // The reader's id; nullopt when nothing was ever added for it. Not cached on this path: the read lane
  // runs on its own connection, which never sees its own rollbacks of ids another connection created.
  std::optional<int64_t> reader_id(std::string_view jid) {
    std::string key(jid);
    auto q = db_.prepare("SELECT id FROM feed_readers WHERE jid = ?1");
    q->bind(1, key);
    if (!q->step()) return std::nullopt;
    return q->column_int(0);
  }

  void insert(const std::vector<Row>& ids) {
    for (size_t start = 0; start < ids.size(); start += kRowsPerInsert) {
      size_t n = std::min(kRowsPerInsert, ids.size() - start);
      auto q = db_.prepare(n == kRowsPerInsert ? full_insert_ : insert_sql(n));
      for (size_t i = 0; i < n; ++i) {
        const Row& r = ids[start + i];
        int p = static_cast<int>(3 * i);
        q->bind(p + 1, r.reader).bind(p + 2, r.seq).bind(p + 3, r.kinds);
      }
      q->run();
    }
  }

  // One item's fan-out as one row; rows sorted by reader, one seq.
  void add_pending(const std::vector<Row>& ids) {
    std::string blob;
    blob.reserve(ids.size() * kEntryBytes);
    for (const auto& r : ids) {
      put_u32(blob, static_cast<uint32_t>(r.reader));
      put_u32(blob, static_cast<uint32_t>(r.kinds));
    }
    {
      auto q = db_.prepare("INSERT INTO feed_pending (seq, readers) VALUES (?1, ?2)");
      q->bind(1, ids.front().seq).bind_blob(2, blob).run();
    }
    auto q = db_.prepare("SELECT count(*), total(length(readers)) FROM feed_pending");
    q->step();
    int64_t posts = q->column_int(0), rows = q->column_int(1) / static_cast<int64_t>(kEntryBytes);
    q->reset();
    if (posts >= kMergePosts || rows >= kMergeRows) merge_pending();
  }

  // Moves every pending fan-out into the feed table, in key order (each reader's page once).
  void merge_pending() {
    std::vector<Row> rows;
    int64_t last = 0;
    {
      auto q = db_.prepare("SELECT id, seq, readers FROM feed_pending ORDER BY id");
      while (q->step()) {
        last = q->column_int(0);
        int64_t seq = q->column_int(1);
        std::string blob = q->column_blob(2);
        for (size_t off = 0; off + kEntryBytes <= blob.size(); off += kEntryBytes)
          rows.push_back(Row{get_u32(blob.data() + off), seq, get_u32(blob.data() + off + 4)});
      }
    }
    if (last == 0) return;
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.reader != b.reader ? a.reader < b.reader : a.seq < b.seq; });
    insert(rows);
    auto q = db_.prepare("DELETE FROM feed_pending WHERE id <= ?1");
    q->bind(1, last).run();
  }

  // The reader's pending rows that the query's filters keep, whose items still exist, at most `limit`
  // nearest the walk's start, as entries.
  std::vector<FeedEntry> pending_entries(int64_t reader, const FeedQuery& fq, size_t limit) {
    struct Hit {
      int64_t seq;
      uint32_t kinds;
    };
    std::vector<Hit> hits;
    {
      auto q = db_.prepare("SELECT seq, readers FROM feed_pending");
      while (q->step()) {
        int64_t seq = q->column_int(0);
        if (fq.older_than > 0 && seq >= fq.older_than) continue;
        if (fq.newer_than > 0 && seq <= fq.newer_than) continue;
        std::string blob = q->column_blob(1);
        size_t lo = 0, hi = blob.size() / kEntryBytes;
        while (lo < hi) {
          size_t mid = (lo + hi) / 2;
          if (get_u32(blob.data() + mid * kEntryBytes) < reader) lo = mid + 1;
          else hi = mid;
        }
        if (lo * kEntryBytes >= blob.size() || get_u32(blob.data() + lo * kEntryBytes) != reader) continue;
        uint32_t kinds = get_u32(blob.data() + lo * kEntryBytes + 4);
        if (fq.kinds && !(kinds & fq.kinds)) continue;
        hits.push_back(Hit{seq, kinds});
      }
    }
    std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) { return fq.oldest_first ? a.seq < b.seq : a.seq > b.seq; });
    std::vector<FeedEntry> out;
    auto q = db_.prepare("SELECT " + std::string(kEntryColumns) +
                         " FROM pubsub_items i JOIN pubsub_nodes n ON n.id = i.node_id WHERE i.seq = ?1");
    for (const auto& h : hits) {
      if (out.size() >= limit) break;
      q->bind(1, h.seq);
      if (q->step()) {
        FeedEntry e;
        e.seq = h.seq;
        e.kinds = h.kinds;
        read_entry(*q, 0, e);
        out.push_back(std::move(e));
      }
      q->reset();
    }
    return out;
  }

  static std::string filters(const FeedQuery& fq) {
    std::string s;
    if (fq.kinds) s += " AND (f.kinds & ?2) != 0";
    if (fq.older_than > 0) s += " AND f.seq < ?3";
    if (fq.newer_than > 0) s += " AND f.seq > ?4";
    return s;
  }
  static void bind(Statement& q, int64_t reader, const FeedQuery& fq) {
    q.bind(1, reader);
    if (fq.kinds) q.bind(2, static_cast<int64_t>(fq.kinds));
    if (fq.older_than > 0) q.bind(3, fq.older_than);
    if (fq.newer_than > 0) q.bind(4, fq.newer_than);
  }
  bool exists(const FeedQuery& fq, int64_t seq, bool older) {
    auto reader = reader_id(fq.reader);
    if (!reader) return false;
    FeedQuery beyond{fq.reader, fq.kinds};
    (older ? beyond.older_than : beyond.newer_than) = seq;
    if (!pending_entries(*reader, beyond, 1).empty()) return true;
    std::string sql = "SELECT 1 FROM feed f JOIN pubsub_items i ON i.seq = f.seq WHERE f.reader = ?1" +
                      filters(beyond) + " LIMIT 1";
    auto q = db_.prepare(sql);
    bind(*q, *reader, beyond);
    return q->step();
  }

  Db& db_;
  JidIds readers_;
  const std::string full_insert_ = insert_sql(kRowsPerInsert);
};

}  // namespace

std::unique_ptr<FeedStore> make_sqlite_feed_store(Db& db) { return std::make_unique<SqliteFeedStore>(db); }

}  // namespace causerie::storage::sqlite
