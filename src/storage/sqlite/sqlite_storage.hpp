// SqliteStorage: every storage interface over one SQLite connection (WAL, synchronous=FULL), with the
// schema kept current by numbered migrations (sqlite_migrations.cpp). One instance per storage lane.
#pragma once

#include <memory>
#include <string>

#include "storage/storage.hpp"

namespace causerie::storage::sqlite {

// Opens (creating if needed) and migrates the database at `path`. Throws StorageError.
std::unique_ptr<Storage> open_sqlite(const std::string& path, unsigned cache_kb = 2000);

}  // namespace causerie::storage::sqlite
