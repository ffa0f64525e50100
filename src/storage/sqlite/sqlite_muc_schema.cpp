// The "muc" schema component: persistent XEP-0045 rooms, their affiliations and history, and the
// per-service secret for XEP-0421 occupant ids.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent muc_schema() {
  return {"muc", {
      {1, "rooms", R"sql(
CREATE TABLE muc_rooms (
  jid TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  public INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL DEFAULT '',
  config TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  subject_nick TEXT NOT NULL DEFAULT '',
  subject_stamp INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX muc_rooms_public ON muc_rooms(service, public, jid);

CREATE TABLE muc_affiliations (
  room TEXT NOT NULL,
  jid TEXT NOT NULL,
  affiliation TEXT NOT NULL,
  nick TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (room, jid)
) WITHOUT ROWID;

CREATE TABLE muc_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room TEXT NOT NULL,
  stamp INTEGER NOT NULL,
  xml TEXT NOT NULL
);
CREATE INDEX muc_history_by_room ON muc_history(room, id);

CREATE TABLE muc_services (
  service TEXT PRIMARY KEY,
  secret BLOB NOT NULL
) WITHOUT ROWID;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
