// The "blocking" schema component: XEP-0191 blocklists, one row per (account, blocked JID).
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent blocking_schema() {
  return {"blocking", {
      {1, "blocklist", R"sql(
CREATE TABLE blocklist (
  owner TEXT NOT NULL,
  jid TEXT NOT NULL,
  PRIMARY KEY (owner, jid)
) WITHOUT ROWID;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
