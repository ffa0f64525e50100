#include "storage/sqlite/sqlite_jid_ids.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

JidIds::JidIds(Db& db, std::string table)
    : db_(db),
      select_sql_("SELECT id FROM " + table + " WHERE jid = ?1"),
      insert_sql_("INSERT INTO " + table + " (jid) VALUES (?1)") {}

std::optional<int64_t> JidIds::find(std::string_view jid) {
  if (rollbacks_ != db_.rollbacks()) {
    ids_.clear();
    rollbacks_ = db_.rollbacks();
  }
  if (auto it = ids_.find(jid); it != ids_.end()) return it->second;
  std::string key(jid);  // never a null view: SQLite would bind NULL
  auto q = db_.prepare(select_sql_);
  q->bind(1, key);
  if (!q->step()) return std::nullopt;
  int64_t id = q->column_int(0);
  remember(jid, id);
  return id;
}

int64_t JidIds::intern(std::string_view jid) {
  if (auto id = find(jid)) return *id;
  std::string key(jid);
  auto q = db_.prepare(insert_sql_);
  q->bind(1, key).run();
  int64_t id = db_.last_insert_id();
  remember(jid, id);
  return id;
}

void JidIds::remember(std::string_view jid, int64_t id) {
  if (ids_.size() >= kMaxCached) ids_.clear();  // a bound, not an LRU: refilled from the table
  ids_.emplace(std::string(jid), id);
}

}  // namespace causerie::storage::sqlite
