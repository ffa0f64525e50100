// The "previews" schema component: the link-preview cache, by URL, with its expiry.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent preview_schema() {
  return {"previews", {
      {1, "link preview cache", R"sql(
CREATE TABLE previews (
  url TEXT PRIMARY KEY,
  xml TEXT NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX previews_by_expiry ON previews(expires);
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
