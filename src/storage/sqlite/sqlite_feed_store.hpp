// The SQLite FeedStore, over the connection of a SqliteStorage (schema: sqlite_feed_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/feed_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<FeedStore> make_sqlite_feed_store(Db& db);

}  // namespace causerie::storage::sqlite
