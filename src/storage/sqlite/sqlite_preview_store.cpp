#include "storage/sqlite/sqlite_preview_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

class SqlitePreviewStore final : public PreviewStore {
 public:
  explicit SqlitePreviewStore(Db& db) : db_(db) {}

  std::optional<CachedPreview> get(std::string_view url) override {
    auto q = db_.prepare("SELECT xml, expires FROM previews WHERE url = ?1");
    q->bind(1, url);
    if (!q->step()) return std::nullopt;
    return CachedPreview{q->column_text(0), q->column_int(1)};
  }

  void put(std::string_view url, const CachedPreview& p) override {
    auto q = db_.prepare("INSERT OR REPLACE INTO previews (url, xml, expires) VALUES (?1, ?2, ?3)");
    q->bind(1, url).bind(2, p.xml).bind(3, p.expires).run();
  }

  size_t purge(int64_t now) override {
    auto q = db_.prepare("DELETE FROM previews WHERE expires <= ?1");
    q->bind(1, now).run();
    return static_cast<size_t>(db_.changes());
  }

 private:
  Db& db_;
};

}  // namespace

std::unique_ptr<PreviewStore> make_sqlite_preview_store(Db& db) { return std::make_unique<SqlitePreviewStore>(db); }

}  // namespace causerie::storage::sqlite
