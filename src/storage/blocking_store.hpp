// BlockingStore: each account's XEP-0191 blocklist, the JIDs it blocks (full, bare, domain/resource or
// domain; stored prepared, as the module's Jid::str() gives them). Blocklists are small and read whole,
// so the store is a set of (owner, jid) rows; `for_each` reads every list at once for a server that keeps
// them in memory.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

class BlockingStore {
 public:
  virtual ~BlockingStore() = default;
  // The account's blocked JIDs, sorted.
  virtual std::vector<std::string> blocked(std::string_view owner) = 0;
  // Adds a JID; false when it was already there.
  virtual bool block(std::string_view owner, std::string_view jid) = 0;
  // Removes a JID; false when it was not there.
  virtual bool unblock(std::string_view owner, std::string_view jid) = 0;
  // Empties the account's blocklist; returns how many JIDs it held.
  virtual size_t unblock_all(std::string_view owner) = 0;
  // Calls fn(owner, jid) for every blocked JID of every account, ordered by owner then JID.
  virtual void for_each(const std::function<void(std::string_view owner, std::string_view jid)>& fn) = 0;
};

}  // namespace causerie::storage
