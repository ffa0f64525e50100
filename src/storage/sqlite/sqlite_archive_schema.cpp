// The "archive" schema component: XEP-0313 message archives and XEP-0441 preferences.
//
// archive.id is the message's sequence number (ArchiveStore: time of archiving in its high bits), the
// rowid, so the table is ordered by it; every query walks an index ending in it: (owner, id) for a plain
// page, (owner, with_bare, id) with a 'with' filter, (host, id) for retention. A page is a range scan
// bounded by sequence numbers (stanza ids are looked up once, through (owner, sid)), never an OFFSET.
//
// archive_fts is a contentless FTS5 index of message bodies, kept in sync by triggers (retention,
// tombstones and account removal go through them). Its `okey` column holds hex(owner), one token, so a
// search matches one account's messages inside the index instead of filtering every account's matches.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent archive_schema() {
  return {"archive", {
      {1, "initial", R"sql(
CREATE TABLE archive (
  id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  host TEXT NOT NULL,
  sid TEXT NOT NULL,
  with_bare TEXT NOT NULL,
  with_resource TEXT NOT NULL DEFAULT '',
  outgoing INTEGER NOT NULL,
  msg_id TEXT NOT NULL DEFAULT '',
  xml TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT ''
);
CREATE INDEX archive_by_owner ON archive(owner, id);
CREATE UNIQUE INDEX archive_by_sid ON archive(owner, sid);
CREATE INDEX archive_by_with ON archive(owner, with_bare, id);
CREATE INDEX archive_by_host ON archive(host, id);

CREATE VIRTUAL TABLE archive_fts USING fts5(okey, body, content='', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER archive_fts_insert AFTER INSERT ON archive WHEN new.body != '' BEGIN
  INSERT INTO archive_fts(rowid, okey, body) VALUES (new.id, hex(new.owner), new.body);
END;
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive WHEN old.body != '' BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body) VALUES ('delete', old.id, hex(old.owner), old.body);
END;
CREATE TRIGGER archive_fts_update AFTER UPDATE OF body ON archive BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body)
    SELECT 'delete', old.id, hex(old.owner), old.body WHERE old.body != '';
  INSERT INTO archive_fts(rowid, okey, body) SELECT new.id, hex(new.owner), new.body WHERE new.body != '';
END;

CREATE TABLE archive_prefs (
  owner TEXT PRIMARY KEY,
  default_mode TEXT NOT NULL,
  always TEXT NOT NULL DEFAULT '',
  never TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
