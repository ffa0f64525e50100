// The "post_index" schema component: the index of public posts (storage/post_index_store.hpp).
//
// post_tags (tag, seq) WITHOUT ROWID: a tag page is one backwards range scan; (seq) finds an item's rows
// when it goes. post_text is an FTS5 table whose rowid is the item's seq, so a text page walks matches in
// seq order and deleting by rowid needs no copy of the old text elsewhere. Triggers on pubsub_items keep
// both exact underneath the module: a deleted item's rows go with it, and a replaced item (INSERT OR
// REPLACE, an edit: REPLACE does not fire delete triggers) loses the old version's rows just before the
// new row is inserted, in the same statement and transaction.
//
// Migration 1 also records the items already stored (every seq up to the largest one) as a backfill the
// pubsub module works through at startup (post_index.hpp), in small write jobs: which of them are public
// posts, and their tags and text, are decisions of the module, not something SQL can read from an entry.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent post_index_schema() {
  return {"post_index", {
      {1, "initial", R"sql(
CREATE TABLE post_tags (
  tag TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (tag, seq)
) WITHOUT ROWID;
CREATE INDEX post_tags_by_seq ON post_tags(seq);

CREATE VIRTUAL TABLE post_text USING fts5(body, tokenize='unicode61 remove_diacritics 2');

CREATE TRIGGER post_index_item_deleted AFTER DELETE ON pubsub_items BEGIN
  DELETE FROM post_tags WHERE seq = old.seq;
  DELETE FROM post_text WHERE rowid = old.seq;
END;
CREATE TRIGGER post_index_item_replaced BEFORE INSERT ON pubsub_items BEGIN
  DELETE FROM post_tags WHERE seq IN (SELECT seq FROM pubsub_items WHERE node_id = new.node_id AND item_id = new.item_id);
  DELETE FROM post_text WHERE rowid IN (SELECT seq FROM pubsub_items WHERE node_id = new.node_id AND item_id = new.item_id);
END;

CREATE TABLE post_index_backfill (next_seq INTEGER NOT NULL, until_seq INTEGER NOT NULL);
INSERT INTO post_index_backfill (next_seq, until_seq) SELECT 0, COALESCE(MAX(seq), 0) FROM pubsub_items;
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
