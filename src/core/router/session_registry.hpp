// SessionRegistry: every bound client session of this node, by account, with its routing state
// (resource, priority, availability, flags). The router reads it on every stanza to a local account.
//
// Thread rules: sharded by bare JID; each shard has its own small mutex, held only to copy or update
// entries (never while calling out), so there is no global lock on the stanza path. Any thread.
#pragma once

#include <atomic>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/jid/jid.hpp"
#include "core/xml/element.hpp"

namespace causerie {

// Where a session lives: its worker thread and its id there. Ids are never reused.
struct SessionRef {
  uint32_t worker = 0;
  uint64_t id = 0;
  bool valid() const { return id != 0; }
  bool operator==(const SessionRef&) const = default;
};

struct BoundResource {
  std::string resource;
  SessionRef ref;
  int priority = 0;
  bool available = false;  // RFC 6121 §4.2: sent initial presence, not yet unavailable
  uint32_t flags = 0;      // bits handed out to modules by SessionFlags
  // The last available presence it broadcast, or nullptr for a bare <presence/> (nothing to repeat).
  std::shared_ptr<const xml::Element> presence;
};

class SessionRegistry {
 public:
  explicit SessionRegistry(size_t max_resources_per_account = 32) : max_resources_(max_resources_per_account) {}
  // A reload's new limit: later binds are held to it; sessions already bound stay.
  void set_max_resources(size_t n) { max_resources_.store(n, std::memory_order_relaxed); }

  enum class BindStatus { kOk, kReplaced, kTooMany };
  struct BindResult {
    BindStatus status = BindStatus::kOk;
    SessionRef replaced;  // for kReplaced: the session that held the resource (end it with <conflict/>)
  };
  BindResult bind(const Jid& full, SessionRef ref);
  // Removes the session if `ref` still holds the resource (a replaced session must not remove its successor).
  void unbind(const Jid& full, SessionRef ref);

  // Updates availability and priority; returns false when the session is no longer bound.
  bool set_presence(const Jid& full, bool available, int priority, std::shared_ptr<const xml::Element> presence);
  bool set_flag(const Jid& full, uint32_t flag, bool on);

  // Copies of an account's sessions, taken under the shard lock.
  std::vector<BoundResource> resources(std::string_view bare) const;
  // Calls fn(const std::vector<BoundResource>&) under the shard lock, without copying: for the hot
  // routing path. fn must be quick and must not call back into the registry or route anything.
  template <typename Fn>
  void inspect(std::string_view bare, Fn&& fn) const {
    Shard& s = shard(bare);
    std::lock_guard lock(s.mutex);
    auto it = s.accounts.find(bare);
    static const std::vector<BoundResource> kNone;
    fn(it == s.accounts.end() ? kNone : it->second);
  }
  std::optional<BoundResource> find(const Jid& full) const;
  bool has_sessions(std::string_view bare) const;
  size_t session_count() const;
  // Calls fn for every bound session (admin tools, shutdown). fn must not call back into the registry.
  void for_each(const std::function<void(std::string_view bare, const BoundResource&)>& fn) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<BoundResource>, Hash, std::equal_to<>> accounts;
  };
  static constexpr size_t kShards = 64;
  Shard& shard(std::string_view bare) const { return shards_[Hash()(bare) % kShards]; }
  BoundResource* locate(Shard& s, const Jid& full) const;

  std::atomic<size_t> max_resources_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace causerie
