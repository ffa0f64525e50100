// The SQLite ArchiveStore, over the connection of a SqliteStorage (schema: sqlite_archive_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include <memory>

#include "storage/archive_store.hpp"

namespace causerie::storage::sqlite {

class Db;

std::unique_ptr<ArchiveStore> make_sqlite_archive_store(Db& db);

// The FTS5 query for `owner`'s messages whose body has every word of `text` (a trailing '*' makes a
// word a prefix); "" when `text` has no word. Every word is quoted: the user's text is never FTS syntax.
std::string fulltext_match(std::string_view owner, std::string_view text);

}  // namespace causerie::storage::sqlite
