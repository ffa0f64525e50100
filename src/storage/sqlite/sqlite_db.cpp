#include "storage/sqlite/sqlite_db.hpp"

#include <sqlite3.h>

#include "storage/storage.hpp"

namespace causerie::storage::sqlite {

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::check(int rc) const {
  if (rc != SQLITE_OK) throw StorageError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

Statement& Statement::bind(int index, std::string_view text) {
  check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  check(sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::bind(int index, int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = std::string("sqlite: ") + sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  throw StorageError(msg);
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string();
}

std::string Statement::column_blob(int i) const {
  const void* b = sqlite3_column_blob(stmt_, i);
  return b ? std::string(static_cast<const char*>(b), static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::string();
}

int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
bool Statement::column_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Db::Db(const std::string& path, unsigned cache_kb) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError("cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_rollback_hook(db_, [](void* self) { static_cast<Db*>(self)->note_rollback(); }, this);
  // WAL: readers never block the writer. synchronous=FULL: a COMMIT is on disk when it returns, which
  // is what lets us tell a client its data is stored (DESIGN §5).
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
  // Checkpoint after ~40 MB of WAL instead of SQLite's 4 MB: a checkpoint copies each page once however
  // often it was rewritten since the last one, and under an archive's write load the same index pages
  // (one per account and index) are rewritten by every commit.
  exec("PRAGMA wal_autocheckpoint=10000");
  // Savepoint journals in memory: each job runs in a savepoint, and a savepoint copies every page it
  // touches first; spilled to a temporary file (SQLite does so past 64 KiB) that cost a write() a page.
  exec("PRAGMA temp_store=MEMORY");
  exec("PRAGMA cache_size=-" + std::to_string(cache_kb));
}

Db::~Db() {
  cache_.clear();
  if (db_) sqlite3_close(db_);
}

Query Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
        SQLITE_OK)
      throw StorageError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql);
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, st)).first;
  }
  return Query(*it->second);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw StorageError("sqlite: " + msg);
  }
}

void Db::begin_write() {
  exec("BEGIN IMMEDIATE");
  ++write_transactions_;
}

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t Db::changes() const { return sqlite3_changes64(db_); }
int64_t Db::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

}  // namespace causerie::storage::sqlite
