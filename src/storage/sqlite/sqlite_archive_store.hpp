// The SQLite ArchiveStore, over the connection of a SqliteStorage (schema: sqlite_archive_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/archive_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<ArchiveStore> make_sqlite_archive_store(Db& db);

// The FTS5 query for the messages of the owner whose interned id is `owner_id` (archive_jids) whose body
// has every word of `text` (a trailing '*' makes a word a prefix); "" when `text` has no word. Every
// word is quoted: the user's text is never FTS syntax.
std::string fulltext_match(int64_t owner_id, std::string_view text);

}  // namespace causerie::storage::sqlite
