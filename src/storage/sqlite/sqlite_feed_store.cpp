#include "storage/sqlite/sqlite_feed_store.hpp"

#include <algorithm>

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

// Rows per INSERT: one statement carries many rows (fan-out to 1 000 readers is 5 statements in the
// job's transaction); 3 parameters each stays far below SQLITE_MAX_VARIABLE_NUMBER.
constexpr size_t kRowsPerInsert = 200;

std::string insert_sql(size_t rows) {
  std::string sql = "INSERT INTO feed (reader, seq, kinds) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    if (i) sql += ',';
    sql += "(?" + std::to_string(3 * i + 1) + ",?" + std::to_string(3 * i + 2) + ",?" + std::to_string(3 * i + 3) + ")";
  }
  sql += " ON CONFLICT (reader, seq) DO UPDATE SET kinds = kinds | excluded.kinds";
  return sql;
}

class SqliteFeedStore final : public FeedStore {
 public:
  explicit SqliteFeedStore(Db& db) : db_(db) {}

  void add(const std::vector<FeedRow>& rows) override {
    for (size_t start = 0; start < rows.size(); start += kRowsPerInsert) {
      size_t n = std::min(kRowsPerInsert, rows.size() - start);
      auto q = db_.prepare(insert_sql(n));
      for (size_t i = 0; i < n; ++i) {
        const FeedRow& r = rows[start + i];
        int p = static_cast<int>(3 * i);
        q->bind(p + 1, r.reader).bind(p + 2, r.seq).bind(p + 3, static_cast<int64_t>(r.kinds));
      }
      q->run();
    }
  }

  std::vector<FeedEntry> page(const FeedQuery& fq) override {
    // The join goes from each feed row to its item by rowid (pubsub_items.seq), then to its node by
    // primary key: the cost is the page size, not the number of items stored.
    std::string sql =
        "SELECT f.seq, f.kinds, n.service, n.node, i.item_id, i.publisher, i.payload, i.access, i.published "
        "FROM feed f JOIN pubsub_items i ON i.seq = f.seq JOIN pubsub_nodes n ON n.id = i.node_id "
        "WHERE f.reader = ?1";
    sql += filters(fq);
    sql += fq.oldest_first ? " ORDER BY f.seq ASC LIMIT ?5" : " ORDER BY f.seq DESC LIMIT ?5";
    auto q = db_.prepare(sql);
    bind(*q, fq);
    q->bind(5, static_cast<int64_t>(fq.limit));
    std::vector<FeedEntry> out;
    while (q->step()) {
      FeedEntry e;
      e.seq = q->column_int(0);
      e.kinds = static_cast<uint32_t>(q->column_int(1));
      e.service = q->column_text(2);
      e.node = q->column_text(3);
      e.item.seq = e.seq;
      e.item.id = q->column_text(4);
      e.item.publisher = q->column_text(5);
      e.item.payload = q->column_text(6);
      e.item.access = q->column_text(7);
      e.item.published = q->column_int(8);
      out.push_back(std::move(e));
    }
    if (fq.oldest_first) std::reverse(out.begin(), out.end());
    return out;
  }

  bool has_older(const FeedQuery& fq, int64_t seq) override {
    return exists(fq, " AND f.seq < ?5", seq);
  }
  bool has_newer(const FeedQuery& fq, int64_t seq) override {
    return exists(fq, " AND f.seq > ?5", seq);
  }

  void remove_reader(std::string_view reader) override {
    auto q = db_.prepare("DELETE FROM feed WHERE reader = ?1");
    q->bind(1, reader).run();
  }

 private:
  static std::string filters(const FeedQuery& fq) {
    std::string s;
    if (fq.kinds) s += " AND (f.kinds & ?2) != 0";
    if (fq.older_than > 0) s += " AND f.seq < ?3";
    if (fq.newer_than > 0) s += " AND f.seq > ?4";
    return s;
  }
  static void bind(Statement& q, const FeedQuery& fq) {
    q.bind(1, fq.reader);
    if (fq.kinds) q.bind(2, static_cast<int64_t>(fq.kinds));
    if (fq.older_than > 0) q.bind(3, fq.older_than);
    if (fq.newer_than > 0) q.bind(4, fq.newer_than);
  }
  bool exists(const FeedQuery& fq, const char* cond, int64_t seq) {
    FeedQuery only_kinds{fq.reader, fq.kinds};
    std::string sql = "SELECT 1 FROM feed f JOIN pubsub_items i ON i.seq = f.seq WHERE f.reader = ?1" +
                      filters(only_kinds) + cond + " LIMIT 1";
    auto q = db_.prepare(sql);
    bind(*q, only_kinds);
    q->bind(5, seq);
    return q->step();
  }

  Db& db_;
};

}  // namespace

std::unique_ptr<FeedStore> make_sqlite_feed_store(Db& db) { return std::make_unique<SqliteFeedStore>(db); }

}  // namespace causerie::storage::sqlite
