// KeyValueStore: small documents per account, store and key: vCard ("vcard", ""), private XML
// ("private", namespace), last activity ("last", "")…
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace causerie::storage {

class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual std::optional<std::string> get(std::string_view owner, std::string_view store, std::string_view key) = 0;
  virtual void put(std::string_view owner, std::string_view store, std::string_view key, std::string_view value) = 0;
  virtual void remove(std::string_view owner, std::string_view store, std::string_view key) = 0;
};

}  // namespace causerie::storage
