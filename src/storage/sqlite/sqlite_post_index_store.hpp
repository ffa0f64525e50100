// The SQLite PostIndexStore, over the connection of a SqliteStorage (schema: sqlite_post_index_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/post_index_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<PostIndexStore> make_sqlite_post_index_store(Db& db);

}  // namespace causerie::storage::sqlite
