// The "invites" schema component: XEP-0401 invitations and the accounts created with each.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent invite_schema() {
  return {"invites", {
      {1, "invites", R"sql(
CREATE TABLE invites (
  token TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  creator TEXT NOT NULL,
  username TEXT NOT NULL,
  uses_left INTEGER NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  add_contact INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX invites_by_host ON invites(host, created);
CREATE TABLE invite_accounts (
  token TEXT NOT NULL,
  account TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (token, account)
) WITHOUT ROWID;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
