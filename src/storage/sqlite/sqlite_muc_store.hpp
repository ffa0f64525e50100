// The SQLite MucStore, over the connection of a SqliteStorage (schema: sqlite_muc_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/muc_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<MucStore> make_sqlite_muc_store(Db& db);

}  // namespace causerie::storage::sqlite
