#include "core/accounts/credential_cache.hpp"

namespace causerie {

std::optional<storage::Account> CredentialCache::find(std::string_view jid) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(jid);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

uint64_t CredentialCache::epoch() {
  std::lock_guard lock(mutex_);
  return epoch_;
}

void CredentialCache::put(const storage::Account& account, uint64_t epoch_at_lookup) {
  std::lock_guard lock(mutex_);
  if (epoch_at_lookup != epoch_) return;  // something changed since the lookup began
  if (entries_.size() >= capacity_) entries_.clear();  // simple bound; the hot accounts come back at once
  entries_[account.jid] = account;
}

void CredentialCache::invalidate(std::string_view jid) {
  std::lock_guard lock(mutex_);
  ++epoch_;
  if (auto it = entries_.find(jid); it != entries_.end()) entries_.erase(it);
}

bool CredentialCache::generation_check_due(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (check_in_flight_ || now - last_check_ < std::chrono::seconds(1)) return false;
  check_in_flight_ = true;
  last_check_ = now;
  return true;
}

void CredentialCache::observe_generation(int64_t generation) {
  std::lock_guard lock(mutex_);
  check_in_flight_ = false;
  if (generation != generation_) {
    if (generation_ != -1) {
      entries_.clear();
      ++epoch_;
    }
    generation_ = generation;
  }
}

size_t CredentialCache::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace causerie
