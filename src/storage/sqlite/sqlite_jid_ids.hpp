// JidIds: small integer ids for the JIDs a store keeps in many rows (a table `<table> (id INTEGER PRIMARY
// KEY, jid TEXT NOT NULL UNIQUE)` of its schema), with a cache of the ids already seen on this
// connection. Ids are never deleted or reused, so a cached id stays true, except one created by a
// transaction that was then rolled back: the cache is dropped whenever the connection rolls back
// (Db::rollbacks()).
//
// Thread rules: one per store, used only on the thread that owns the store's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace causerie::storage::sqlite {

class Db;

class JidIds {
 public:
  JidIds(Db& db, std::string table);
  // The JID's id; nullopt when it has none yet.
  std::optional<int64_t> find(std::string_view jid);
  // The JID's id, created when it has none (inside the caller's write transaction).
  int64_t intern(std::string_view jid);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void remember(std::string_view jid, int64_t id);

  static constexpr size_t kMaxCached = 100000;
  Db& db_;
  std::string select_sql_, insert_sql_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> ids_;
  uint64_t rollbacks_ = 0;  // db_.rollbacks() when ids_ was last known true
};

}  // namespace causerie::storage::sqlite
