// OfflineStore: messages kept for an account while none of its resources is available (XEP-0160),
// in arrival order, bounded per account, and delivered then removed at the next available presence.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

struct OfflineMessage {
  int64_t id = 0;
  std::string xml;  // the stanza with its <delay/> already added
};

class OfflineStore {
 public:
  virtual ~OfflineStore() = default;
  // False when the account already has `limit` messages waiting.
  virtual bool push(std::string_view owner, std::string_view xml, size_t limit) = 0;
  virtual std::vector<OfflineMessage> pending(std::string_view owner) = 0;
  virtual void remove_up_to(std::string_view owner, int64_t last_id) = 0;
  virtual size_t count(std::string_view owner) = 0;
};

}  // namespace causerie::storage
