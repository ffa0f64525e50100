// The "archive" schema component: XEP-0313 message archives and XEP-0441 preferences.
//
// Since version 3 a message is stored once, in archive_messages (its rowid is its sequence number, see
// ArchiveStore: time of archiving in its high bits), and each archive holding it has a narrow entry in
// `archive` (WITHOUT ROWID, keyed by (owner, id)): a 1:1 message between two accounts of this server is
// one stored copy, one stanza id and two entries, instead of two full rows. A page is a range scan of
// the owner's entries, (owner, id) for a plain page and (owner, with_bare, id) with a 'with' filter,
// bounded by sequence numbers (stanza ids are looked up once), never an OFFSET; each entry then reads
// its message by rowid. owner, owner2, with_bare and archive_jids.host are integer ids of archive_jids
// (JIDs interned once).
//
// Stanza ids: archive_messages.sid is the id of the message in its first owner's archive, sid2 in the
// second's (each archive names a message its own way), each column unique; an entry's own sid (NULL
// almost always) overrides them where an archive knows the message by another id (a migrated version-2
// row whose id another archive already used, an import). An entry's xml and body
// (NULL unless set) replace the message's for that archive alone: a tombstone in one party's archive
// leaves the other's copy as it was; once no entry reads the stored copy, its content is blanked.
// Retention walks each of a host's owners' entries by id (archive_jids.host); an entry deleted takes its
// message with it when no other entry holds it (trigger archive_entry_delete).
//
// Since version 4 a message appended with server-made stanza ids (ArchiveStore::append's usual case) is
// stored alone, with what each side's entry will hold (with1/res1/out1 for owner, with2/... for owner2)
// and its ids in nsid/nsid2, which no index covers: an id is found by the time it begins with
// (archive_id_time_ms), among the owner's messages of that second. Entries of the messages above
// archive_entry_state.mark are written later by merge_pending, sorted by (owner, id), many messages at
// a time: one write of each entry-list page per batch instead of one per message and commit (with a
// thousand active accounts, nearly every entry dirtied a page of its own). Until then queries read them
// from archive_messages (a scan of at most kMaxPendingEntries rows). Changes to entries (tombstones,
// retention, removal) merge everything first.
//
// archive_fts is a contentless FTS5 index of message bodies, one document per stored message. Its
// `okey` column holds 'o' and the id of each owner (owner, and owner2 when shared), so a search matches
// one account's messages inside the index; the search then reads the account's entry, which must still
// exist and not be replaced. It is filled behind the writes, not by them: archive_fts_state.mark says
// that every message with id <= mark is in the index (if its body is not empty) and none above it is.
// Appends land above the mark; the write lane's idle work (ArchiveStore::index_pending) indexes the
// messages above it in batches and raises it, never past the entry mark; a search matches the indexed part through FTS5 and the
// entries above the mark through a temporary FTS5 table of the same tokenizer, so it never misses a
// stored message. The triggers keep the index right for messages below the mark (blanked, deleted).
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
      {3, "one stored copy per message, narrow entries per archive", R"sql(
ALTER TABLE archive_jids ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
INSERT OR IGNORE INTO archive_jids (jid)
  SELECT DISTINCT substr(jid, instr(jid, '@') + 1) FROM archive_jids WHERE instr(jid, '@') > 0;
UPDATE archive_jids SET host = (SELECT d.id FROM archive_jids d WHERE d.jid =
  CASE WHEN instr(archive_jids.jid, '@') > 0 THEN substr(archive_jids.jid, instr(archive_jids.jid, '@') + 1)
  ELSE archive_jids.jid END);

-- Every version-2 row becomes a message of its own (the two parties' rows had their own ids). A stanza id
-- used by more than one archive stays the message's in the first and becomes the entry's in the others.
CREATE TEMP TABLE archive_v3_dups AS SELECT id FROM
  (SELECT id, ROW_NUMBER() OVER (PARTITION BY sid ORDER BY id) AS n FROM archive) WHERE n > 1;
CREATE TABLE archive_messages (
  id INTEGER PRIMARY KEY,
  owner INTEGER NOT NULL,
  owner2 INTEGER NOT NULL DEFAULT 0,
  sid TEXT,
  sid2 TEXT,
  msg_id TEXT NOT NULL DEFAULT '',
  xml TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT ''
);
INSERT INTO archive_messages (id, owner, sid, msg_id, xml, body)
  SELECT id, owner, CASE WHEN id IN (SELECT id FROM temp.archive_v3_dups) THEN NULL ELSE sid END, msg_id, xml, body
  FROM archive ORDER BY id;
CREATE TABLE archive_v3 (
  owner INTEGER NOT NULL,
  id INTEGER NOT NULL,
  with_bare INTEGER NOT NULL,
  with_resource TEXT NOT NULL DEFAULT '',
  outgoing INTEGER NOT NULL,
  sid TEXT,
  xml TEXT,
  body TEXT,
  PRIMARY KEY (owner, id)
) WITHOUT ROWID;
INSERT INTO archive_v3 (owner, id, with_bare, with_resource, outgoing, sid)
  SELECT owner, id, with_bare, with_resource, outgoing,
    CASE WHEN id IN (SELECT id FROM temp.archive_v3_dups) THEN sid END FROM archive ORDER BY owner, id;
DROP TABLE temp.archive_v3_dups;
DROP TABLE archive;
ALTER TABLE archive_v3 RENAME TO archive;
CREATE UNIQUE INDEX archive_messages_by_sid ON archive_messages(sid);
CREATE UNIQUE INDEX archive_messages_by_sid2 ON archive_messages(sid2);
CREATE INDEX archive_by_with ON archive(owner, with_bare, id);
CREATE UNIQUE INDEX archive_by_sid ON archive(owner, sid) WHERE sid IS NOT NULL;

-- The index's documents keep their rowids and okey ('o' || owner): the same as a message of one owner.
CREATE TRIGGER archive_entry_delete AFTER DELETE ON archive BEGIN
  DELETE FROM archive_messages WHERE id = old.id AND NOT EXISTS (SELECT 1 FROM archive e
    WHERE e.id = old.id AND e.owner = (SELECT owner + owner2 - old.owner FROM archive_messages WHERE id = old.id));
END;
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive_messages
  WHEN old.body != '' AND old.id <= (SELECT mark FROM archive_fts_state) BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body) VALUES ('delete', old.id,
    'o' || old.owner || CASE WHEN old.owner2 != 0 THEN ' o' || old.owner2 ELSE '' END, old.body);
END;
CREATE TRIGGER archive_fts_update AFTER UPDATE OF body ON archive_messages
  WHEN old.id <= (SELECT mark FROM archive_fts_state) BEGIN
  INSERT INTO archive_fts(archive_fts, rowid, okey, body)
    SELECT 'delete', old.id, 'o' || old.owner || CASE WHEN old.owner2 != 0 THEN ' o' || old.owner2 ELSE '' END,
    old.body WHERE old.body != '';
  INSERT INTO archive_fts(rowid, okey, body)
    SELECT new.id, 'o' || new.owner || CASE WHEN new.owner2 != 0 THEN ' o' || new.owner2 ELSE '' END,
    new.body WHERE new.body != '';
END;
)sql"},
      {4, "server-made ids found by their time, entries merged in sorted batches", R"sql(
-- Ids the server makes (time + random, archive_store.hpp) need no index: nsid/nsid2 hold them, found by
-- their time. sid/sid2 keep the others (imports, older rows), indexed where set.
DROP INDEX archive_messages_by_sid;
DROP INDEX archive_messages_by_sid2;
CREATE UNIQUE INDEX archive_messages_by_sid ON archive_messages(sid) WHERE sid IS NOT NULL;
CREATE UNIQUE INDEX archive_messages_by_sid2 ON archive_messages(sid2) WHERE sid2 IS NOT NULL;
ALTER TABLE archive_messages ADD COLUMN nsid TEXT;
ALTER TABLE archive_messages ADD COLUMN nsid2 TEXT;
-- Each side's entry, as merge_pending writes it into `archive`.
ALTER TABLE archive_messages ADD COLUMN with1 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archive_messages ADD COLUMN res1 TEXT NOT NULL DEFAULT '';
ALTER TABLE archive_messages ADD COLUMN out1 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archive_messages ADD COLUMN with2 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE archive_messages ADD COLUMN res2 TEXT NOT NULL DEFAULT '';
ALTER TABLE archive_messages ADD COLUMN out2 INTEGER NOT NULL DEFAULT 0;
CREATE TABLE archive_entry_state (mark INTEGER NOT NULL);
INSERT INTO archive_entry_state (mark) SELECT COALESCE(MAX(id), 0) FROM archive_messages;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
