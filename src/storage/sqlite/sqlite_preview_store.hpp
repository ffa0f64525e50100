// The SQLite PreviewStore, over the connection of a SqliteStorage (schema: sqlite_preview_schema.cpp).
#pragma once

#include <memory>

#include "storage/preview_store.hpp"

namespace causerie::storage::sqlite {

class Db;
std::unique_ptr<PreviewStore> make_sqlite_preview_store(Db& db);

}  // namespace causerie::storage::sqlite
