// KeyValueStore: small documents per account, store and key: vCard ("vcard", ""), private XML
// ("private", namespace), last activity ("last", "")…
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causerie::storage {

struct KeyValueEntry {
  std::string store, key, value;
};

class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual std::optional<std::string> get(std::string_view owner, std::string_view store, std::string_view key) = 0;
  virtual void put(std::string_view owner, std::string_view store, std::string_view key, std::string_view value) = 0;
  virtual void remove(std::string_view owner, std::string_view store, std::string_view key) = 0;
  // Every owner's value of one store and key, ordered by owner, at most `limit` (the user directory's
  // opt-in list, XEP-0055).
  virtual std::vector<std::pair<std::string, std::string>> all(std::string_view store, std::string_view key,
                                                               size_t limit) = 0;
  // Every document of an account, ordered by store then key (XEP-0227 export).
  virtual std::vector<KeyValueEntry> entries(std::string_view owner) = 0;
};

}  // namespace causerie::storage
