// The SQLite FastTokenStore, over the connection of a SqliteStorage (schema: sqlite_fast_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/fast_token_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<FastTokenStore> make_sqlite_fast_token_store(Db& db);

}  // namespace causerie::storage::sqlite
