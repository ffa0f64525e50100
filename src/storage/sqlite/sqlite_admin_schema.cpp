// The "admin" schema component: what XEP-0133 service administration keeps beside the accounts —
// disabled accounts (one row each; a disabled account keeps its data and cannot log in). A change here
// bumps the account generation like a change to `accounts`, so a running server's login cache notices
// an account disabled by another process.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent admin_schema() {
  return {"admin", {
      {1, "disabled accounts", R"sql(
CREATE TABLE disabled_accounts (
  jid TEXT PRIMARY KEY,
  host TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX disabled_accounts_by_host ON disabled_accounts(host, jid);
CREATE TRIGGER disabled_accounts_inserted AFTER INSERT ON disabled_accounts BEGIN UPDATE account_generation SET n = n + 1; END;
CREATE TRIGGER disabled_accounts_deleted AFTER DELETE ON disabled_accounts BEGIN UPDATE account_generation SET n = n + 1; END;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
