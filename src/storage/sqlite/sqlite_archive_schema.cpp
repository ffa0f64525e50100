// The "archive" schema component: XEP-0313 message archives and XEP-0441 preferences.
//
// archive.id is the message's sequence number (ArchiveStore: time of archiving in its high bits), the
// rowid, so the table is ordered by it; every query walks an index ending in it: (owner, id) for a plain
// page, (owner, with_bare, id) with a 'with' filter, (host, id) for retention. A page is a range scan
// bounded by sequence numbers (stanza ids are looked up once, through (owner, sid)), never an OFFSET.
//
// Since version 2, owner, with_bare and host are integer ids of archive_jids (JIDs interned once):
// every row writes four index entries, and integer keys keep them a few bytes each instead of a JID
// each, so more of them fit a page (fewer page splits, less to write back per commit).
//
// archive_fts is a contentless FTS5 index of message bodies. Its `okey` column holds 'o' and the owner's
// id, one token, so a search matches one account's messages inside the index instead of filtering every
// account's matches. Since version 2 it is filled behind the writes, not by them: archive_fts_state.mark
// says that every row with id <= mark is in the index (if its body is not empty) and no row above it is.
// Appends land above the mark; the write lane's idle work (ArchiveStore::index_pending) indexes the rows
// above it in batches and raises it; a search matches the indexed part through FTS5 and the rows above
// the mark through a temporary FTS5 table of the same tokenizer, so it never misses a stored message.
// The triggers keep the index right for rows below the mark (tombstones, retention, account removal);
// rows above it are indexed as they are when the indexer reaches them.
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
      {2, "interned JIDs, full-text index filled behind the writes", R"sql(
CREATE TABLE archive_jids (
  id INTEGER PRIMARY KEY,
  jid TEXT NOT NULL UNIQUE
);
INSERT INTO archive_jids (jid) SELECT owner FROM archive UNION SELECT with_bare FROM archive
  UNION SELECT host FROM archive;

CREATE TABLE archive_v2 (
  id INTEGER PRIMARY KEY,
  owner INTEGER NOT NULL,
  host INTEGER NOT NULL,
  sid TEXT NOT NULL,
  with_bare INTEGER NOT NULL,
  with_resource TEXT NOT NULL DEFAULT '',
  outgoing INTEGER NOT NULL,
  msg_id TEXT NOT NULL DEFAULT '',
  xml TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT ''
);
INSERT INTO archive_v2 (id, owner, host, sid, with_bare, with_resource, outgoing, msg_id, xml, body)
  SELECT a.id, o.id, h.id, a.sid, w.id, a.with_resource, a.outgoing, a.msg_id, a.xml, a.body
  FROM archive a JOIN archive_jids o ON o.jid = a.owner JOIN archive_jids h ON h.jid = a.host
  JOIN archive_jids w ON w.jid = a.with_bare ORDER BY a.id;
DROP TABLE archive;
DROP TABLE archive_fts;
ALTER TABLE archive_v2 RENAME TO archive;
CREATE INDEX archive_by_owner ON archive(owner, id);
CREATE UNIQUE INDEX archive_by_sid ON archive(owner, sid);
CREATE INDEX archive_by_with ON archive(owner, with_bare, id);
CREATE INDEX archive_by_host ON archive(host, id);

CREATE VIRTUAL TABLE archive_fts USING fts5(okey, body, content='', tokenize='unicode61 remove_diacritics 2');
INSERT INTO archive_fts (rowid, okey, body) SELECT id, 'o' || owner, body FROM archive WHERE body != '';
CREATE TABLE archive_fts_state (mark INTEGER NOT NULL);
INSERT INTO archive_fts_state (mark) SELECT COALESCE(MAX(id), 0) FROM archive;

CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive
  WHEN old.body != '' AND old.id <= (SELECT mark FROM archive_fts_state) BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body) VALUES ('delete', old.id, 'o' || old.owner, old.body);
END;
CREATE TRIGGER archive_fts_update AFTER UPDATE OF body ON archive
  WHEN old.id <= (SELECT mark FROM archive_fts_state) BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body)
    SELECT 'delete', old.id, 'o' || old.owner, old.body WHERE old.body != '';
  INSERT INTO archive_fts(rowid, okey, body) SELECT new.id, 'o' || new.owner, new.body WHERE new.body != '';
END;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
