#include "storage/sqlite/sqlite_storage.hpp"

#include <algorithm>
#include <ctime>

#include "storage/account_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/offline_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/archive_store.hpp"
#include "storage/sqlite/sqlite_archive_store.hpp"
#include "storage/sqlite/sqlite_blocking_store.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/sqlite/sqlite_invite_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/sqlite/sqlite_fast_token_store.hpp"
#include "storage/sqlite/sqlite_preview_store.hpp"
#include "storage/sqlite/sqlite_feed_store.hpp"
#include "storage/feed_store.hpp"
#include "storage/post_index_store.hpp"
#include "storage/sqlite/sqlite_post_index_store.hpp"
#include "storage/sqlite/sqlite_webpush_store.hpp"
#include "storage/webpush_store.hpp"
#include "storage/sqlite/sqlite_migrations.hpp"
#include "storage/sqlite/sqlite_muc_store.hpp"
#include "storage/sqlite/sqlite_pubsub_store.hpp"

namespace causerie::storage::sqlite {

namespace {

// Roster groups are joined with U+001F, a character XML 1.0 cannot carry, so no group name contains it.
constexpr char kGroupSep = '\x1f';

std::string join_groups(const std::vector<std::string>& groups) {
  std::string out;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i) out.push_back(kGroupSep);
    out += groups[i];
  }
  return out;
}

std::vector<std::string> split_groups(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t pos = 0;
  for (;;) {
    size_t next = s.find(kGroupSep, pos);
    out.push_back(s.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

std::string_view host_of(std::string_view bare) {
  size_t at = bare.find('@');
  return at == std::string_view::npos ? bare : bare.substr(at + 1);
}

class SqliteStorage final : public Storage, AccountStore, RosterStore, OfflineStore, KeyValueStore {
 public:
  SqliteStorage(const std::string& path, unsigned cache_kb)
      : cache_kb_(cache_kb), db_(path, cache_kb), muc_(make_sqlite_muc_store(db_)), pubsub_(db_), blocking_(make_sqlite_blocking_store(db_)),
        archive_(make_sqlite_archive_store(db_)), invites_(make_sqlite_invite_store(db_)),
        fast_tokens_(make_sqlite_fast_token_store(db_)), feed_(make_sqlite_feed_store(db_)),
        post_index_(make_sqlite_post_index_store(db_)),
        webpush_(make_sqlite_webpush_store(db_)),
        previews_(make_sqlite_preview_store(db_)) {
    migrate();
  }

  AccountStore& accounts() override { return *this; }
  RosterStore& roster() override { return *this; }
  OfflineStore& offline() override { return *this; }
  KeyValueStore& kv() override { return *this; }
  MucStore& muc() override { return *muc_; }
  PubsubStore& pubsub() override { return pubsub_; }
  BlockingStore& blocking() override { return *blocking_; }
  ArchiveStore& archive() override { return *archive_; }
  InviteStore& invites() override { return *invites_; }
  FastTokenStore& fast_tokens() override { return *fast_tokens_; }
  FeedStore& feed() override { return *feed_; }
  PostIndexStore& post_index() override { return *post_index_; }
  WebPushStore& webpush() override { return *webpush_; }
  PreviewStore& previews() override { return *previews_; }

  void begin() override { db_.begin_write(); }
  void commit() override { db_.exec("COMMIT"); }
  void rollback() override { db_.exec("ROLLBACK"); }
  // Prepared once and reused: every job of a batch runs in one, and parsing them showed in profiles.
  void savepoint() override { db_.prepare("SAVEPOINT job")->run(); }
  void release_savepoint() override { db_.prepare("RELEASE job")->run(); }
  void rollback_to_savepoint() override {
    db_.exec("ROLLBACK TO job");
    db_.note_rollback();  // SQLite's rollback hook sees whole transactions only
  }
  // Readers keep the small cache (storage.cache_kb, memory of a quiet server); the writer may hold up to
  // kWriteLaneCacheKb: a group commit of archive rows touches a few index pages per account, and with
  // 256 KiB each of them was read back (and, dirty, spilled to the WAL) several times per commit. Pages
  // are taken only as they are used.
  void use_as_write_lane() override {
    db_.exec("PRAGMA cache_size=-" + std::to_string(std::max(cache_kb_, kWriteLaneCacheKb)));
  }

  // --- AccountStore ---
  bool create(const Account& a) override {
    auto q = db_.prepare(
        "INSERT OR IGNORE INTO accounts (jid, host, created, sha1_salt, sha1_iterations, sha1_stored_key, "
        "sha1_server_key, sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    q->bind(1, a.jid).bind(2, host_of(a.jid)).bind(3, a.created ? a.created : static_cast<int64_t>(std::time(nullptr)));
    bind_creds(*q, 4, a.sha1);
    bind_creds(*q, 8, a.sha256);
    q->run();
    return db_.changes() == 1;
  }

  std::optional<Account> get(std::string_view jid) override {
    auto q = db_.prepare(
        "SELECT jid, created, sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key, sha256_salt, "
        "sha256_iterations, sha256_stored_key, sha256_server_key, "
        "EXISTS (SELECT 1 FROM disabled_accounts d WHERE d.jid = accounts.jid) FROM accounts WHERE jid = ?1");
    q->bind(1, jid);
    if (!q->step()) return std::nullopt;
    Account a;
    a.jid = q->column_text(0);
    a.created = q->column_int(1);
    a.sha1 = read_creds(*q, 2);
    a.sha256 = read_creds(*q, 6);
    a.disabled = q->column_int(10) != 0;
    return a;
  }

  bool exists(std::string_view jid) override {
    auto q = db_.prepare("SELECT 1 FROM accounts WHERE jid = ?1");
    q->bind(1, jid);
    return q->step();
  }

  bool set_credentials(std::string_view jid, const sasl::ScramCredentials& sha1,
                       const sasl::ScramCredentials& sha256) override {
    auto q = db_.prepare(
        "UPDATE accounts SET sha1_salt = ?2, sha1_iterations = ?3, sha1_stored_key = ?4, sha1_server_key = ?5, "
        "sha256_salt = ?6, sha256_iterations = ?7, sha256_stored_key = ?8, sha256_server_key = ?9 WHERE jid = ?1");
    q->bind(1, jid);
    bind_creds(*q, 2, sha1);
    bind_creds(*q, 6, sha256);
    q->run();
    return db_.changes() == 1;
  }

  bool remove(std::string_view jid) override {
    for (const char* sql : {"DELETE FROM roster WHERE owner = ?1", "DELETE FROM roster_versions WHERE owner = ?1",
                            "DELETE FROM offline WHERE owner = ?1", "DELETE FROM kv WHERE owner = ?1",
                            "DELETE FROM disabled_accounts WHERE jid = ?1"}) {
      auto q = db_.prepare(sql);
      q->bind(1, jid).run();
    }
    // The account's PEP service, and what it held on other nodes.
    pubsub_.delete_service(jid);
    pubsub_.remove_subscriptions_of(jid);
    feed_->remove_reader(jid);
    pubsub_.remove_affiliations_of(jid);
    blocking_->unblock_all(jid);
    archive_->remove_owner(jid);
    invites_->revoke_invites_of(jid);
    auto q = db_.prepare("DELETE FROM accounts WHERE jid = ?1");
    q->bind(1, jid).run();
    return db_.changes() == 1;
  }

  std::vector<std::string> list(std::string_view host) override {
    auto q = db_.prepare("SELECT jid FROM accounts WHERE host = ?1 ORDER BY jid");
    q->bind(1, host);
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  size_t count_accounts(std::string_view host) override {
    auto q = db_.prepare("SELECT COUNT(*) FROM accounts WHERE host = ?1");
    q->bind(1, host);
    return q->step() ? static_cast<size_t>(q->column_int(0)) : 0;
  }

  bool set_disabled(std::string_view jid, bool disabled) override {
    if (!exists(jid)) return false;
    auto q = db_.prepare(disabled ? "INSERT OR IGNORE INTO disabled_accounts (jid, host) VALUES (?1, ?2)"
                                  : "DELETE FROM disabled_accounts WHERE jid = ?1");
    q->bind(1, jid);
    if (disabled) q->bind(2, host_of(jid));
    q->run();
    return true;
  }

  std::vector<std::string> list_disabled(std::string_view host) override {
    auto q = db_.prepare("SELECT jid FROM disabled_accounts WHERE host = ?1 ORDER BY jid");
    q->bind(1, host);
    std::vector<std::string> out;
    while (q->step()) out.push_back(q->column_text(0));
    return out;
  }

  int64_t generation() override {
    auto q = db_.prepare("SELECT n FROM account_generation");
    return q->step() ? q->column_int(0) : 0;
  }

  // --- RosterStore ---
  std::vector<RosterItem> items(std::string_view owner) override {
    auto q = db_.prepare(std::string(kRosterSelect) + " WHERE owner = ?1 ORDER BY contact");
    q->bind(1, owner);
    std::vector<RosterItem> out;
    while (q->step()) out.push_back(read_item(*q));
    return out;
  }

  std::optional<RosterItem> item(std::string_view owner, std::string_view contact) override {
    auto q = db_.prepare(std::string(kRosterSelect) + " WHERE owner = ?1 AND contact = ?2");
    q->bind(1, owner).bind(2, contact);
    if (!q->step()) return std::nullopt;
    return read_item(*q);
  }

  int64_t put(std::string_view owner, const RosterItem& it) override {
    auto q = db_.prepare(
        "INSERT OR REPLACE INTO roster (owner, contact, name, subscription, ask, pending_in, approved, hidden, "
        "groups, pending_in_stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    q->bind(1, owner).bind(2, it.jid).bind(3, it.name).bind(4, static_cast<int64_t>(it.subscription));
    q->bind(5, int64_t{it.ask}).bind(6, int64_t{it.pending_in}).bind(7, int64_t{it.approved});
    q->bind(8, int64_t{it.hidden}).bind(9, join_groups(it.groups)).bind(10, it.pending_in_stanza);
    q->run();
    return bump_version(owner);
  }

  int64_t remove(std::string_view owner, std::string_view contact) override {
    auto q = db_.prepare("DELETE FROM roster WHERE owner = ?1 AND contact = ?2");
    q->bind(1, owner).bind(2, contact).run();
    if (db_.changes() == 0) return version(owner);
    return bump_version(owner);
  }

  int64_t version(std::string_view owner) override {
    auto q = db_.prepare("SELECT version FROM roster_versions WHERE owner = ?1");
    q->bind(1, owner);
    return q->step() ? q->column_int(0) : 0;
  }

  // --- OfflineStore ---
  bool push(std::string_view owner, std::string_view xml, size_t limit) override {
    if (count(owner) >= limit) return false;
    auto q = db_.prepare("INSERT INTO offline (owner, xml) VALUES (?1, ?2)");
    q->bind(1, owner).bind(2, xml).run();
    return true;
  }

  std::vector<OfflineMessage> pending(std::string_view owner) override {
    auto q = db_.prepare("SELECT id, xml FROM offline WHERE owner = ?1 ORDER BY id");
    q->bind(1, owner);
    std::vector<OfflineMessage> out;
    while (q->step()) out.push_back(OfflineMessage{q->column_int(0), q->column_text(1)});
    return out;
  }

  void remove_up_to(std::string_view owner, int64_t last_id) override {
    auto q = db_.prepare("DELETE FROM offline WHERE owner = ?1 AND id <= ?2");
    q->bind(1, owner).bind(2, last_id).run();
  }

  size_t count(std::string_view owner) override {
    auto q = db_.prepare("SELECT COUNT(*) FROM offline WHERE owner = ?1");
    q->bind(1, owner);
    return q->step() ? static_cast<size_t>(q->column_int(0)) : 0;
  }

  // --- KeyValueStore ---
  std::vector<std::pair<std::string, std::string>> all(std::string_view store, std::string_view key, size_t limit) override {
    auto q = db_.prepare("SELECT owner, value FROM kv WHERE store = ?1 AND key = ?2 ORDER BY owner LIMIT ?3");
    q->bind(1, store).bind(2, key).bind(3, static_cast<int64_t>(limit));
    std::vector<std::pair<std::string, std::string>> out;
    while (q->step()) out.emplace_back(q->column_text(0), q->column_text(1));
    return out;
  }

  std::optional<std::string> get(std::string_view owner, std::string_view store, std::string_view key) override {
    auto q = db_.prepare("SELECT value FROM kv WHERE owner = ?1 AND store = ?2 AND key = ?3");
    q->bind(1, owner).bind(2, store).bind(3, key);
    if (!q->step()) return std::nullopt;
    return q->column_text(0);
  }

  void put(std::string_view owner, std::string_view store, std::string_view key, std::string_view value) override {
    auto q = db_.prepare("INSERT OR REPLACE INTO kv (owner, store, key, value) VALUES (?1, ?2, ?3, ?4)");
    q->bind(1, owner).bind(2, store).bind(3, key).bind(4, value).run();
  }

  void remove(std::string_view owner, std::string_view store, std::string_view key) override {
    auto q = db_.prepare("DELETE FROM kv WHERE owner = ?1 AND store = ?2 AND key = ?3");
    q->bind(1, owner).bind(2, store).bind(3, key).run();
  }

  std::vector<KeyValueEntry> entries(std::string_view owner) override {
    auto q = db_.prepare("SELECT store, key, value FROM kv WHERE owner = ?1 ORDER BY store, key");
    q->bind(1, owner);
    std::vector<KeyValueEntry> out;
    while (q->step()) out.push_back(KeyValueEntry{q->column_text(0), q->column_text(1), q->column_text(2)});
    return out;
  }

 private:
  static constexpr const char* kRosterSelect =
      "SELECT contact, name, subscription, ask, pending_in, approved, hidden, groups, pending_in_stanza FROM roster";

  static RosterItem read_item(Statement& q) {
    RosterItem it;
    it.jid = q.column_text(0);
    it.name = q.column_text(1);
    int64_t sub = q.column_int(2);
    it.subscription = sub >= 0 && sub <= 3 ? static_cast<Subscription>(sub) : Subscription::kNone;
    it.ask = q.column_int(3) != 0;
    it.pending_in = q.column_int(4) != 0;
    it.approved = q.column_int(5) != 0;
    it.hidden = q.column_int(6) != 0;
    it.groups = split_groups(q.column_text(7));
    it.pending_in_stanza = q.column_text(8);
    return it;
  }

  static void bind_creds(Statement& q, int first, const sasl::ScramCredentials& c) {
    q.bind_blob(first, c.salt).bind(first + 1, static_cast<int64_t>(c.iterations));
    q.bind_blob(first + 2, c.stored_key).bind_blob(first + 3, c.server_key);
  }

  static sasl::ScramCredentials read_creds(Statement& q, int first) {
    sasl::ScramCredentials c;
    c.salt = q.column_blob(first);
    c.iterations = static_cast<uint32_t>(q.column_int(first + 1));
    c.stored_key = q.column_blob(first + 2);
    c.server_key = q.column_blob(first + 3);
    return c;
  }

  int64_t bump_version(std::string_view owner) {
    auto q = db_.prepare(
        "INSERT INTO roster_versions (owner, version) VALUES (?1, 1) "
        "ON CONFLICT(owner) DO UPDATE SET version = version + 1 RETURNING version");
    q->bind(1, owner);
    return q->step() ? q->column_int(0) : 0;
  }

  void migrate() {
    db_.exec("CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    for (const auto& c : schema_components()) {
      for (const auto& m : c.migrations) {
        if (m.version <= component_version(c.component)) continue;
        db_.exec("BEGIN IMMEDIATE");
        try {
          // Another process (a CLI command beside the server) may have migrated meanwhile.
          if (component_version(c.component) < m.version) {
            db_.exec(m.sql);
            auto q = db_.prepare("INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?1, ?2)");
            q->bind(1, c.component).bind(2, int64_t{m.version}).run();
          }
          db_.exec("COMMIT");
        } catch (...) {
          db_.exec("ROLLBACK");
          throw;
        }
      }
      int latest = c.migrations.empty() ? 0 : c.migrations.back().version;
      if (component_version(c.component) > latest)
        throw StorageError(std::string("the database schema of '") + c.component +
                           "' is newer than this build understands");
    }
  }

  int64_t component_version(const char* component) {
    auto q = db_.prepare("SELECT version FROM schema_versions WHERE component = ?1");
    q->bind(1, component);
    return q->step() ? q->column_int(0) : 0;
  }

  static constexpr unsigned kWriteLaneCacheKb = 64 * 1024;
  unsigned cache_kb_;
  Db db_;
  std::unique_ptr<MucStore> muc_;
  SqlitePubsubStore pubsub_;
  std::unique_ptr<BlockingStore> blocking_;
  std::unique_ptr<ArchiveStore> archive_;
  std::unique_ptr<InviteStore> invites_;
  std::unique_ptr<FastTokenStore> fast_tokens_;
  std::unique_ptr<FeedStore> feed_;
  std::unique_ptr<PostIndexStore> post_index_;
  std::unique_ptr<WebPushStore> webpush_;
  std::unique_ptr<PreviewStore> previews_;
};

}  // namespace

std::unique_ptr<Storage> open_sqlite(const std::string& path, unsigned cache_kb) {
  return std::make_unique<SqliteStorage>(path, cache_kb);
}

}  // namespace causerie::storage::sqlite
