// The "feed" schema component: news feed rows (storage/feed_store.hpp). The primary key (reader, seq)
// is the only index a page needs: WITHOUT ROWID keeps the rows of one reader together in the b-tree, so
// the first page of a reader is one range scan read backwards from the reader's newest seq.
//
// Since version 2 a row is three integers: the reader is an id of feed_readers (JIDs interned once,
// never deleted nor reused). A large fan-out (one item to many readers) is first written as one row of
// feed_pending (the item's seq and its readers' ids and kinds, packed, sorted by reader), in the publish
// transaction; pending fan-outs are moved into `feed` together, 128 posts at a time, so that each reader's
// b-tree page is written once for many posts rather than once per post (bench/TUNING.md). Pages read
// both tables.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent feed_schema() {
  return {"feed", {
      {1, "initial", R"sql(
CREATE TABLE feed (
  reader TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kinds INTEGER NOT NULL,
  PRIMARY KEY (reader, seq)
) WITHOUT ROWID;
)sql"},
      {2, "interned readers", R"sql(
CREATE TABLE feed_readers (
  id INTEGER PRIMARY KEY,
  jid TEXT NOT NULL UNIQUE
);
INSERT INTO feed_readers (jid) SELECT DISTINCT reader FROM feed ORDER BY reader;
CREATE TABLE feed_v2 (
  reader INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kinds INTEGER NOT NULL,
  PRIMARY KEY (reader, seq)
) WITHOUT ROWID;
INSERT INTO feed_v2 (reader, seq, kinds)
  SELECT r.id, f.seq, f.kinds FROM feed f JOIN feed_readers r ON r.jid = f.reader ORDER BY r.id, f.seq;
DROP TABLE feed;
ALTER TABLE feed_v2 RENAME TO feed;
CREATE TABLE feed_pending (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL,
  readers BLOB NOT NULL
);
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
