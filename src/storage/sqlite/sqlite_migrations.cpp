// The core schema (accounts, rosters, offline messages, small per-account documents) and the list of
// all schema components.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

const std::vector<SchemaComponent>& schema_components() {
  static const std::vector<SchemaComponent> kComponents = {core_schema(), muc_schema(), pubsub_schema(),
                                                             blocking_schema(), archive_schema(), invite_schema(),
                                                             fast_schema(), admin_schema(),
                                                             feed_schema(), post_index_schema(), webpush_schema(), preview_schema()};
  return kComponents;
}

SchemaComponent core_schema() {
  return {"core", {
      {1, "initial", R"sql(
CREATE TABLE accounts (
  jid TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  created INTEGER NOT NULL,
  sha1_salt BLOB NOT NULL, sha1_iterations INTEGER NOT NULL, sha1_stored_key BLOB NOT NULL,
  sha1_server_key BLOB NOT NULL,
  sha256_salt BLOB NOT NULL, sha256_iterations INTEGER NOT NULL, sha256_stored_key BLOB NOT NULL,
  sha256_server_key BLOB NOT NULL
);
CREATE INDEX accounts_by_host ON accounts(host, jid);

CREATE TABLE roster (
  owner TEXT NOT NULL,
  contact TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  subscription INTEGER NOT NULL DEFAULT 0,
  ask INTEGER NOT NULL DEFAULT 0,
  pending_in INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0,
  hidden INTEGER NOT NULL DEFAULT 0,
  groups TEXT NOT NULL DEFAULT '',
  pending_in_stanza TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (owner, contact)
) WITHOUT ROWID;

CREATE TABLE roster_versions (
  owner TEXT PRIMARY KEY,
  version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE offline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner TEXT NOT NULL,
  xml TEXT NOT NULL
);
CREATE INDEX offline_by_owner ON offline(owner, id);

CREATE TABLE kv (
  owner TEXT NOT NULL,
  store TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (owner, store, key)
) WITHOUT ROWID;
)sql"},
      {2, "account generation", R"sql(
-- Bumped by every change to accounts, whichever process makes it: a running server's credential cache
-- notices changes made by the command line.
CREATE TABLE account_generation (n INTEGER NOT NULL);
INSERT INTO account_generation (n) VALUES (0);
CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts BEGIN UPDATE account_generation SET n = n + 1; END;
CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts BEGIN UPDATE account_generation SET n = n + 1; END;
CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts BEGIN UPDATE account_generation SET n = n + 1; END;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
