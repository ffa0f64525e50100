#include "storage/sqlite/sqlite_fast_token_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

constexpr const char* kColumns =
    "id, account, client, mechanism, key, expiry, created, fresh, software, device FROM fast_tokens ";

FastToken read(const Statement& q) {
  FastToken t;
  t.id = q.column_text(0);
  t.account = q.column_text(1);
  t.client = q.column_text(2);
  t.mechanism = q.column_text(3);
  t.key = q.column_blob(4);
  t.expiry = q.column_int(5);
  t.created = q.column_int(6);
  t.fresh = q.column_int(7) != 0;
  t.software = q.column_text(8);
  t.device = q.column_text(9);
  return t;
}

class SqliteFastTokenStore final : public FastTokenStore {
 public:
  explicit SqliteFastTokenStore(Db& db) : db_(db) {}

  void issue(const FastToken& t) override {
    auto q = db_.prepare(
        "INSERT OR REPLACE INTO fast_tokens (account, client, fresh, id, mechanism, key, expiry, created, software, "
        "device) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    q->bind(1, t.account).bind(2, t.client).bind(3, t.id).bind(4, t.mechanism).bind_blob(5, t.key);
    q->bind(6, t.expiry).bind(7, t.created).bind(8, t.software).bind(9, t.device).run();
  }

  std::vector<FastToken> for_client(std::string_view account, std::string_view client) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + "WHERE account = ?1 AND client = ?2 ORDER BY fresh DESC");
    q->bind(1, account).bind(2, client);
    std::vector<FastToken> out;
    while (q->step()) out.push_back(read(*q));
    return out;
  }

  bool promote(std::string_view account, std::string_view client, std::string_view id) override {
    auto check = db_.prepare("SELECT 1 FROM fast_tokens WHERE account = ?1 AND client = ?2 AND fresh = 1 AND id = ?3");
    check->bind(1, account).bind(2, client).bind(3, id);
    if (!check->step()) return false;
    check->reset();
    auto drop = db_.prepare("DELETE FROM fast_tokens WHERE account = ?1 AND client = ?2 AND fresh = 0");
    drop->bind(1, account).bind(2, client).run();
    auto move = db_.prepare("UPDATE fast_tokens SET fresh = 0 WHERE account = ?1 AND client = ?2 AND fresh = 1");
    move->bind(1, account).bind(2, client).run();
    return true;
  }

  std::vector<FastToken> list(std::string_view account) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + "WHERE account = ?1 ORDER BY created, id");
    q->bind(1, account);
    std::vector<FastToken> out;
    while (q->step()) out.push_back(read(*q));
    return out;
  }

  bool revoke(std::string_view account, std::string_view id) override {
    auto q = db_.prepare("DELETE FROM fast_tokens WHERE account = ?1 AND id = ?2");
    q->bind(1, account).bind(2, id).run();
    return db_.changes() == 1;
  }

  size_t revoke_all(std::string_view account) override {
    auto q = db_.prepare("DELETE FROM fast_tokens WHERE account = ?1");
    q->bind(1, account).run();
    return static_cast<size_t>(db_.changes());
  }

 private:
  Db& db_;
};

}  // namespace

std::unique_ptr<FastTokenStore> make_sqlite_fast_token_store(Db& db) {
  return std::make_unique<SqliteFastTokenStore>(db);
}

}  // namespace causerie::storage::sqlite
