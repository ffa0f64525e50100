// The SQLite InviteStore, over the connection of a SqliteStorage (schema: sqlite_invite_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/invite_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<InviteStore> make_sqlite_invite_store(Db& db);

}  // namespace causerie::storage::sqlite
