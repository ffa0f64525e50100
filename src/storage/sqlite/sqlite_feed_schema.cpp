// The "feed" schema component: news feed rows (storage/feed_store.hpp). The primary key (reader, seq)
// is the only index a page needs: WITHOUT ROWID keeps the rows of one reader together in the b-tree, so
// the first page of a reader is one range scan read backwards from the reader's newest seq.
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
  }};
}

}  // namespace causerie::storage::sqlite
