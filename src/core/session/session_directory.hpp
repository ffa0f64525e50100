// SessionDirectory: the sessions that may be resumed (XEP-0198 §5), by resumption id: where each lives
// and whose it is. Any thread (a mutex held only to look up or change an entry).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/router/session_registry.hpp"

namespace causerie {

class SessionDirectory {
 public:
  struct Entry {
    SessionRef ref;
    std::string bare;  // the account it belongs to: only that account may resume it
  };
  void add(const std::string& id, Entry e) {
    std::lock_guard lock(mutex_);
    entries_[id] = std::move(e);
  }
  void remove(const std::string& id) {
    std::lock_guard lock(mutex_);
    entries_.erase(id);
  }
  std::optional<Entry> find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace causerie
