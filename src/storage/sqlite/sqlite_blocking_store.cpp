#include "storage/sqlite/sqlite_blocking_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

class SqliteBlockingStore final : public BlockingStore {
 public:
  explicit SqliteBlockingStore(Db& db) : db_(db) {}

  std::vector<std::string> blocked(std::string_view owner) override {
    auto q = db_.prepare("SELECT jid FROM blocklist WHERE owner = ?1 ORDER BY jid");
    q->bind(1, owner);
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  bool block(std::string_view owner, std::string_view jid) override {
    auto q = db_.prepare("INSERT OR IGNORE INTO blocklist (owner, jid) VALUES (?1, ?2)");
    q->bind(1, owner).bind(2, jid).run();
    return db_.changes() == 1;
  }

  bool unblock(std::string_view owner, std::string_view jid) override {
    auto q = db_.prepare("DELETE FROM blocklist WHERE owner = ?1 AND jid = ?2");
    q->bind(1, owner).bind(2, jid).run();
    return db_.changes() == 1;
  }

  size_t unblock_all(std::string_view owner) override {
    auto q = db_.prepare("DELETE FROM blocklist WHERE owner = ?1");
    q->bind(1, owner).run();
    return static_cast<size_t>(db_.changes());
  }

  void for_each(const std::function<void(std::string_view owner, std::string_view jid)>& fn) override {
    auto q = db_.prepare("SELECT owner, jid FROM blocklist ORDER BY owner, jid");
    while (q->step()) fn(q->column_text(0), q->column_text(1));
  }

 private:
  Db& db_;
};

}  // namespace

std::unique_ptr<BlockingStore> make_sqlite_blocking_store(Db& db) {
  return std::make_unique<SqliteBlockingStore>(db);
}

}  // namespace causerie::storage::sqlite
