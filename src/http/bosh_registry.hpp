// BoshRegistry: which worker holds the BOSH session with a given 'sid' (XEP-0124 §7.2), so that a
// request arriving on any HTTP connection reaches its session. One mutex, held only to look up or change
// an entry. Any thread.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/router/session_registry.hpp"

namespace causerie::http {

class BoshRegistry {
 public:
  // Registers a session under a new unpredictable sid (XEP-0124 §7.2) and returns it.
  std::string add(SessionRef ref);
  std::optional<SessionRef> find(const std::string& sid) const;
  void remove(const std::string& sid);
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, SessionRef> sessions_;
};

}  // namespace causerie::http
