// Thin RAII wrapper over one SQLite connection: prepared-statement cache, bound parameters only,
// errors as StorageError. Used by one thread at a time (its storage lane, or the CLI).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace causerie::storage::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind(int index, int64_t value);
  // Steps once: true when a row is available.
  bool step();
  // Runs to completion.
  void run();
  std::string column_text(int i) const;
  std::string column_blob(int i) const;
  int64_t column_int(int i) const;
  bool column_null(int i) const;
  // Ends the statement's read snapshot and clears its bindings.
  void reset();

 private:
  void check(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// A cached statement on loan: reset when the loan ends, so no statement keeps a read snapshot open
// (in WAL mode that would hide later commits from this connection).
class Query {
 public:
  explicit Query(Statement& s) : s_(&s) {}
  ~Query() { s_->reset(); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Statement* operator->() { return s_; }
  Statement& operator*() { return *s_; }

 private:
  Statement* s_;
};

class Db {
 public:
  // cache_kb: SQLite's own page cache for this connection (the OS caches the file as well).
  explicit Db(const std::string& path, unsigned cache_kb = 2000);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A statement from the cache, fresh (reset, no bindings).
  Query prepare(const std::string& sql);
  void exec(const std::string& sql);
  int64_t changes() const;
  int64_t last_insert_id() const;
  sqlite3* handle() { return db_; }
  // Counts the write transactions begun through begin_write(): a store may keep what it read inside one
  // (BEGIN IMMEDIATE holds the database's write lock, so no other connection changes it meanwhile) for as
  // long as the count has not moved and a transaction is open.
  void begin_write();
  uint64_t write_transaction() const { return write_transactions_; }
  bool in_transaction() const;
  // Counts the rollbacks of this connection (whole transactions, counted by SQLite's rollback hook
  // whatever caused them, and ROLLBACK TO a savepoint, noted by whoever issues it): a store that caches
  // what its own writes created (interned ids) drops the cache when the count moves.
  uint64_t rollbacks() const { return rollbacks_; }
  void note_rollback() { ++rollbacks_; }

 private:
  sqlite3* db_ = nullptr;
  uint64_t write_transactions_ = 0;
  uint64_t rollbacks_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace causerie::storage::sqlite
