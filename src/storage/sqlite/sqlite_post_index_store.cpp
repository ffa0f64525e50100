#include "storage/sqlite/sqlite_post_index_store.hpp"

#include <algorithm>

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

// Parameters of every search statement: ?1 tag, ?2 FTS5 query, ?3 older than, ?4 newer than, ?5 limit.
// CROSS JOIN keeps the index (tag range or FTS5 match) as the outer loop, so a page costs its size.
std::string search_sql(const PostQuery& q, const char* columns, const std::string& extra, const char* order) {
  std::string sql = std::string("SELECT ") + columns;
  std::string key;
  if (!q.match.empty()) {
    key = "post_text.rowid";
    sql += " FROM post_text CROSS JOIN pubsub_items i ON i.seq = post_text.rowid"
           " CROSS JOIN pubsub_nodes n ON n.id = i.node_id WHERE post_text MATCH ?2";
    if (!q.tag.empty()) sql += " AND EXISTS (SELECT 1 FROM post_tags t WHERE t.tag = ?1 AND t.seq = post_text.rowid)";
  } else {
    key = "t.seq";
    sql += " FROM post_tags t CROSS JOIN pubsub_items i ON i.seq = t.seq"
           " CROSS JOIN pubsub_nodes n ON n.id = i.node_id WHERE t.tag = ?1";
  }
  if (q.older_than > 0) sql += " AND " + key + " < ?3";
  if (q.newer_than > 0) sql += " AND " + key + " > ?4";
  if (!extra.empty()) sql += " AND " + key + extra;
  if (order) sql += std::string(" ORDER BY ") + key + order;
  sql += " LIMIT ?5";
  return sql;
}

void bind(Statement& s, const PostQuery& q) {
  if (!q.tag.empty()) s.bind(1, q.tag);
  if (!q.match.empty()) s.bind(2, q.match);
  if (q.older_than > 0) s.bind(3, q.older_than);
  if (q.newer_than > 0) s.bind(4, q.newer_than);
}

class SqlitePostIndexStore final : public PostIndexStore {
 public:
  explicit SqlitePostIndexStore(Db& db) : db_(db) {}

  void put(const IndexedPost& p) override {
    remove(p.seq);
    for (const auto& tag : p.tags) {
      auto q = db_.prepare("INSERT OR IGNORE INTO post_tags (tag, seq) VALUES (?1, ?2)");
      q->bind(1, tag).bind(2, p.seq).run();
    }
    if (!p.text.empty()) {
      auto q = db_.prepare("INSERT INTO post_text (rowid, body) VALUES (?1, ?2)");
      q->bind(1, p.seq).bind(2, p.text).run();
    }
  }

  void remove(int64_t seq) override {
    {
      auto q = db_.prepare("DELETE FROM post_tags WHERE seq = ?1");
      q->bind(1, seq).run();
    }
    auto q = db_.prepare("DELETE FROM post_text WHERE rowid = ?1");
    q->bind(1, seq).run();
  }

  void remove_node(int64_t node_id) override {
    {
      auto q = db_.prepare("DELETE FROM post_tags WHERE seq IN (SELECT seq FROM pubsub_items WHERE node_id = ?1)");
      q->bind(1, node_id).run();
    }
    auto q = db_.prepare("DELETE FROM post_text WHERE rowid IN (SELECT seq FROM pubsub_items WHERE node_id = ?1)");
    q->bind(1, node_id).run();
  }

  std::vector<PostHit> search(const PostQuery& pq) override {
    std::vector<PostHit> out;
    if (pq.tag.empty() && pq.match.empty()) return out;
    auto q = db_.prepare(search_sql(pq,
                                    "i.seq, n.service, n.node, i.item_id, i.publisher, i.payload, i.access, i.published",
                                    "", pq.oldest_first ? " ASC" : " DESC"));
    bind(*q, pq);
    q->bind(5, static_cast<int64_t>(pq.limit));
    while (q->step()) out.push_back(read_hit(*q));
    if (pq.oldest_first) std::reverse(out.begin(), out.end());
    return out;
  }

  bool has_older(const PostQuery& pq, int64_t seq) override { return exists(pq, " < ?6", seq); }
  bool has_newer(const PostQuery& pq, int64_t seq) override { return exists(pq, " > ?6", seq); }

  std::optional<PostBackfill> backfill() override {
    auto q = db_.prepare("SELECT next_seq, until_seq FROM post_index_backfill");
    if (!q->step()) return std::nullopt;
    PostBackfill b{q->column_int(0), q->column_int(1)};
    if (b.next >= b.until) return std::nullopt;
    return b;
  }

  std::vector<PostHit> items_between(int64_t after, int64_t until, size_t limit) override {
    auto q = db_.prepare(
        "SELECT i.seq, n.service, n.node, i.item_id, i.publisher, i.payload, i.access, i.published "
        "FROM pubsub_items i JOIN pubsub_nodes n ON n.id = i.node_id WHERE i.seq > ?1 AND i.seq <= ?2 "
        "ORDER BY i.seq LIMIT ?3");
    q->bind(1, after).bind(2, until).bind(3, static_cast<int64_t>(limit));
    std::vector<PostHit> out;
    while (q->step()) out.push_back(read_hit(*q));
    return out;
  }

  void set_backfill_next(int64_t next) override {
    auto q = db_.prepare("UPDATE post_index_backfill SET next_seq = ?1");
    q->bind(1, next).run();
  }

 private:
  static PostHit read_hit(Statement& s) {
    PostHit h;
    h.seq = s.column_int(0);
    h.service = s.column_text(1);
    h.node = s.column_text(2);
    h.item.seq = h.seq;
    h.item.id = s.column_text(3);
    h.item.publisher = s.column_text(4);
    h.item.payload = s.column_text(5);
    h.item.access = s.column_text(6);
    h.item.published = s.column_int(7);
    return h;
  }

  bool exists(const PostQuery& pq, const char* cond, int64_t seq) {
    if (pq.tag.empty() && pq.match.empty()) return false;
    PostQuery only{pq.tag, pq.match};
    auto q = db_.prepare(search_sql(only, "1", cond, nullptr));
    bind(*q, only);
    q->bind(5, int64_t{1});
    q->bind(6, seq);
    return q->step();
  }

  Db& db_;
};

}  // namespace

std::unique_ptr<PostIndexStore> make_sqlite_post_index_store(Db& db) {
  return std::make_unique<SqlitePostIndexStore>(db);
}

}  // namespace causerie::storage::sqlite
