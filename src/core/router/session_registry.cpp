#include "core/router/session_registry.hpp"

#include <algorithm>

namespace causerie {

BoundResource* SessionRegistry::locate(Shard& s, const Jid& full) const {
  auto it = s.accounts.find(full.bare_view());
  if (it == s.accounts.end()) return nullptr;
  for (auto& r : it->second)
    if (r.resource == full.resourcepart()) return &r;
  return nullptr;
}

SessionRegistry::BindResult SessionRegistry::bind(const Jid& full, SessionRef ref) {
  Shard& s = shard(full.bare_view());
  std::lock_guard lock(s.mutex);
  auto it = s.accounts.find(full.bare_view());
  if (it == s.accounts.end()) it = s.accounts.emplace(std::string(full.bare_view()), std::vector<BoundResource>{}).first;
  auto& list = it->second;
  for (auto& r : list) {
    if (r.resource == full.resourcepart()) {
      // RFC 6120 §7.7.2.2: our conflict policy is "override": the new session takes over.
      BindResult res{BindStatus::kReplaced, r.ref};
      r = BoundResource{std::string(full.resourcepart()), ref};
      return res;
    }
  }
  if (list.size() >= max_resources_.load(std::memory_order_relaxed)) return {BindStatus::kTooMany, {}};
  list.push_back(BoundResource{std::string(full.resourcepart()), ref});
  return {};
}

void SessionRegistry::unbind(const Jid& full, SessionRef ref) {
  Shard& s = shard(full.bare_view());
  std::lock_guard lock(s.mutex);
  auto it = s.accounts.find(full.bare_view());
  if (it == s.accounts.end()) return;
  std::erase_if(it->second, [&](const BoundResource& r) { return r.resource == full.resourcepart() && r.ref == ref; });
  if (it->second.empty()) s.accounts.erase(it);
}

bool SessionRegistry::set_presence(const Jid& full, bool available, int priority,
                                   std::shared_ptr<const xml::Element> presence) {
  Shard& s = shard(full.bare_view());
  std::lock_guard lock(s.mutex);
  BoundResource* r = locate(s, full);
  if (!r) return false;
  r->available = available;
  r->priority = priority;
  r->presence = std::move(presence);
  return true;
}

bool SessionRegistry::set_flag(const Jid& full, uint32_t flag, bool on) {
  Shard& s = shard(full.bare_view());
  std::lock_guard lock(s.mutex);
  BoundResource* r = locate(s, full);
  if (!r) return false;
  r->flags = on ? (r->flags | flag) : (r->flags & ~flag);
  return true;
}

std::vector<BoundResource> SessionRegistry::resources(std::string_view bare) const {
  Shard& s = shard(bare);
  std::lock_guard lock(s.mutex);
  auto it = s.accounts.find(bare);
  if (it == s.accounts.end()) return {};
  return it->second;
}

std::optional<BoundResource> SessionRegistry::find(const Jid& full) const {
  Shard& s = shard(full.bare_view());
  std::lock_guard lock(s.mutex);
  BoundResource* r = locate(s, full);
  if (!r) return std::nullopt;
  return *r;
}

bool SessionRegistry::has_sessions(std::string_view bare) const {
  Shard& s = shard(bare);
  std::lock_guard lock(s.mutex);
  return s.accounts.find(bare) != s.accounts.end();
}

size_t SessionRegistry::session_count() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [k, v] : s.accounts) n += v.size();
  }
  return n;
}

void SessionRegistry::for_each(const std::function<void(std::string_view, const BoundResource&)>& fn) const {
  for (const auto& s : shards_) {
    std::vector<std::pair<std::string, BoundResource>> copy;
    {
      std::lock_guard lock(s.mutex);
      for (const auto& [k, v] : s.accounts)
        for (const auto& r : v) copy.emplace_back(k, r);
    }
    for (const auto& [k, r] : copy) fn(k, r);
  }
}

}  // namespace causerie
