#include "storage/sqlite/sqlite_invite_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

constexpr const char* kColumns = "token, host, creator, username, uses_left, created, expires, add_contact";

class SqliteInviteStore final : public InviteStore {
 public:
  explicit SqliteInviteStore(Db& db) : db_(db) {}

  bool create_invite(const Invite& i) override {
    auto q = db_.prepare(std::string("INSERT OR IGNORE INTO invites (") + kColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    q->bind(1, i.token).bind(2, i.host).bind(3, i.creator).bind(4, i.username).bind(5, i.uses_left);
    q->bind(6, i.created).bind(7, i.expires).bind(8, int64_t{i.add_contact ? 1 : 0}).run();
    return db_.changes() == 1;
  }

  std::optional<Invite> invite(std::string_view token) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + " FROM invites WHERE token = ?1");
    q->bind(1, token);
    if (!q->step()) return std::nullopt;
    Invite i = row(*q);
    q->reset();
    i.accounts = accounts_of(i.token);
    return i;
  }

  std::vector<Invite> invites(std::string_view host) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns +
                         " FROM invites WHERE ?1 = '' OR host = ?1 ORDER BY created, token");
    q->bind(1, host);
    std::vector<Invite> out;
    while (q->step()) out.push_back(row(*q));
    q->reset();
    for (auto& i : out) i.accounts = accounts_of(i.token);
    return out;
  }

  bool revoke_invite(std::string_view token) override {
    auto q = db_.prepare("DELETE FROM invites WHERE token = ?1");
    q->bind(1, token).run();
    bool removed = db_.changes() == 1;
    auto a = db_.prepare("DELETE FROM invite_accounts WHERE token = ?1");
    a->bind(1, token).run();
    return removed;
  }

  void revoke_invites_of(std::string_view creator) override {
    auto a = db_.prepare("DELETE FROM invite_accounts WHERE token IN (SELECT token FROM invites WHERE creator = ?1)");
    a->bind(1, creator).run();
    auto q = db_.prepare("DELETE FROM invites WHERE creator = ?1");
    q->bind(1, creator).run();
  }

  bool redeem_invite(std::string_view token, std::string_view account, int64_t when) override {
    auto q = db_.prepare("UPDATE invites SET uses_left = uses_left - 1 WHERE token = ?1 AND uses_left > 0");
    q->bind(1, token).run();
    if (db_.changes() != 1) return false;
    auto a = db_.prepare("INSERT OR REPLACE INTO invite_accounts (token, account, created) VALUES (?1, ?2, ?3)");
    a->bind(1, token).bind(2, account).bind(3, when).run();
    return true;
  }

  bool username_reserved(std::string_view host, std::string_view username, int64_t now) override {
    auto q = db_.prepare(
        "SELECT 1 FROM invites WHERE host = ?1 AND username = ?2 AND uses_left > 0 AND (expires = 0 OR expires > ?3)");
    q->bind(1, host).bind(2, username).bind(3, now);
    bool found = q->step();
    q->reset();
    return found;
  }

 private:
  static Invite row(const Statement& q) {
    Invite i;
    i.token = q.column_text(0);
    i.host = q.column_text(1);
    i.creator = q.column_text(2);
    i.username = q.column_text(3);
    i.uses_left = q.column_int(4);
    i.created = q.column_int(5);
    i.expires = q.column_int(6);
    i.add_contact = q.column_int(7) != 0;
    return i;
  }

  std::vector<std::string> accounts_of(const std::string& token) {
    auto q = db_.prepare("SELECT account FROM invite_accounts WHERE token = ?1 ORDER BY created, account");
    q->bind(1, token);
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  Db& db_;
};

}  // namespace

std::unique_ptr<InviteStore> make_sqlite_invite_store(Db& db) { return std::make_unique<SqliteInviteStore>(db); }

}  // namespace causerie::storage::sqlite
