// The SQLite WebPushStore, over the connection of a SqliteStorage (schema: sqlite_webpush_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/webpush_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<WebPushStore> make_sqlite_webpush_store(Db& db);

}  // namespace causerie::storage::sqlite
