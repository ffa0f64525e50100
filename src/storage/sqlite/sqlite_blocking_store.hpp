// The SQLite BlockingStore, over the connection of a SqliteStorage (schema: sqlite_blocking_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/blocking_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<BlockingStore> make_sqlite_blocking_store(Db& db);

}  // namespace causerie::storage::sqlite
