// The "fast" schema component: XEP-0484 tokens, by SHA-256 only, at most two per (account, client).
// Triggers on the core component's accounts table revoke an account's tokens when its credentials change
// (a password change, by the server or by `causerie user passwd`) or when it is removed.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent fast_schema() {
  return {"fast", {
      {1, "fast tokens", R"sql(
CREATE TABLE fast_tokens (
  account TEXT NOT NULL,
  client TEXT NOT NULL,
  fresh INTEGER NOT NULL,
  id TEXT NOT NULL,
  mechanism TEXT NOT NULL,
  key BLOB NOT NULL,
  expiry INTEGER NOT NULL,
  created INTEGER NOT NULL,
  software TEXT NOT NULL DEFAULT '',
  device TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (account, client, fresh)
) WITHOUT ROWID;
CREATE UNIQUE INDEX fast_tokens_by_id ON fast_tokens(account, id);
CREATE TRIGGER fast_tokens_password_changed
  AFTER UPDATE OF sha1_stored_key, sha256_stored_key ON accounts
  WHEN old.sha1_stored_key IS NOT new.sha1_stored_key OR old.sha256_stored_key IS NOT new.sha256_stored_key
BEGIN
  DELETE FROM fast_tokens WHERE account = old.jid;
END;
CREATE TRIGGER fast_tokens_account_removed AFTER DELETE ON accounts BEGIN
  DELETE FROM fast_tokens WHERE account = old.jid;
END;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
