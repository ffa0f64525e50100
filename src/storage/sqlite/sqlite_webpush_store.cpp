#include "storage/sqlite/sqlite_webpush_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

constexpr const char* kColumns = "account, id, endpoint, p256dh, auth, kinds, created FROM webpush_subscriptions ";

WebPushSubscription read(const Statement& q) {
  WebPushSubscription s;
  s.account = q.column_text(0);
  s.id = q.column_text(1);
  s.endpoint = q.column_text(2);
  s.p256dh = q.column_blob(3);
  s.auth = q.column_blob(4);
  s.kinds = static_cast<uint32_t>(q.column_int(5));
  s.created = q.column_int(6);
  return s;
}

class SqliteWebPushStore final : public WebPushStore {
 public:
  explicit SqliteWebPushStore(Db& db) : db_(db) {}

  std::optional<WebPushSubscription> find_endpoint(std::string_view account, std::string_view endpoint) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + "WHERE account = ?1 AND endpoint = ?2");
    q->bind(1, account).bind(2, endpoint);
    if (!q->step()) return std::nullopt;
    return read(*q);
  }

  void put(const WebPushSubscription& s) override {
    auto q = db_.prepare(
        "INSERT OR REPLACE INTO webpush_subscriptions (account, id, endpoint, p256dh, auth, kinds, created) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    q->bind(1, s.account).bind(2, s.id).bind(3, s.endpoint).bind_blob(4, s.p256dh).bind_blob(5, s.auth);
    q->bind(6, static_cast<int64_t>(s.kinds)).bind(7, s.created).run();
  }

  std::vector<WebPushSubscription> list(std::string_view account) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + "WHERE account = ?1 ORDER BY created, id");
    q->bind(1, account);
    std::vector<WebPushSubscription> out;
    while (q->step()) out.push_back(read(*q));
    return out;
  }

  bool remove(std::string_view account, std::string_view id) override {
    auto q = db_.prepare("DELETE FROM webpush_subscriptions WHERE account = ?1 AND id = ?2");
    q->bind(1, account).bind(2, id).run();
    return db_.changes() == 1;
  }

  std::string vapid_key(std::string_view candidate) override {
    auto ins = db_.prepare("INSERT OR IGNORE INTO webpush_vapid (one, private_key) VALUES (1, ?1)");
    ins->bind_blob(1, candidate).run();
    auto q = db_.prepare("SELECT private_key FROM webpush_vapid WHERE one = 1");
    q->step();
    return q->column_blob(0);
  }

 private:
  Db& db_;
};

}  // namespace

std::unique_ptr<WebPushStore> make_sqlite_webpush_store(Db& db) { return std::make_unique<SqliteWebPushStore>(db); }

}  // namespace causerie::storage::sqlite
