#include "http/bosh_registry.hpp"

#include "core/util/encoding.hpp"

namespace causerie::http {

std::string BoshRegistry::add(SessionRef ref) {
  std::lock_guard lock(mutex_);
  for (;;) {
    std::string sid = util::random_id(18);  // 144 random bits
    if (sessions_.emplace(sid, ref).second) return sid;
  }
}

std::optional<SessionRef> BoshRegistry::find(const std::string& sid) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

void BoshRegistry::remove(const std::string& sid) {
  std::lock_guard lock(mutex_);
  sessions_.erase(sid);
}

size_t BoshRegistry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace causerie::http
