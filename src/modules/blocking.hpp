// XEP-0191 v1.3 Blocking Command: the decisions the blocking module takes (pure functions, table-tested)
// and BlockLists, every account's blocklist in memory.
//
// The hooks consult the blocklists on every stanza to or from a local account, so they cannot wait for
// storage: BlockLists holds them all (read at startup; an account with nothing blocked costs nothing) and
// the module changes it in the completions of its storage jobs, after COMMIT, in the write lane's order.
//
// Thread rules: BlockLists is read by hooks on every worker thread and changed from storage completions;
// it is sharded, each shard's mutex held only for one lookup or update. The free functions: any thread.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/jid/jid.hpp"
#include "core/stanza/stanza.hpp"

namespace causerie::modules::blocking {

using JidSet = std::set<std::string, std::less<>>;

// §6 JID matching: `jid` is blocked by an item equal to it, to its bare JID, to its domain/resource, or
// to its domain (which also covers every user@domain and domain/resource).
bool matches(const JidSet& items, const Jid& jid);

// §3.3: a stanza from a blocked JID to the user. Presence of any type is dropped without a word; a
// message is answered service-unavailable, so is an iq get or set; iq results and errors are dropped.
enum class Inbound { kDrop, kServiceUnavailable };
Inbound inbound_action(StanzaKind kind, std::string_view type);

// §3.3: a stanza the user's client sends to a blocked JID is not routed; the client is told with
// not-acceptable + <blocked xmlns='urn:xmpp:blocking:errors'/>, except for what is never answered with an
// error (errors; iq results, which answer nothing the blocked JID could have sent).
enum class Outbound { kDrop, kNotAcceptable };
Outbound client_outbound_action(StanzaKind kind, std::string_view type);

// Whether a stanza the server sends on the user's behalf (presence broadcasts and probes, answers) may
// reach a blocked JID: only errors, which are §3.3's own answers to it. (The unavailable presence §3.3
// sends when blocking is let through by the module itself; later ones would tell the blocked JID that
// the user had been online.)
bool server_may_send(StanzaKind kind, std::string_view type);

class BlockLists {
 public:
  // Whether the account `owner` (a bare JID) blocks `other`.
  bool blocks(std::string_view owner, const Jid& other) const;
  // No account blocks anything.
  bool empty() const { return owners_.load(std::memory_order_relaxed) == 0; }
  JidSet list(std::string_view owner) const;
  size_t size(std::string_view owner) const;
  void add(std::string_view owner, const std::vector<std::string>& jids);
  void remove(std::string_view owner, const std::vector<std::string>& jids);
  void clear(std::string_view owner);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, JidSet, Hash, std::equal_to<>> lists;  // only non-empty lists
  };
  static constexpr size_t kShards = 16;
  Shard& shard(std::string_view owner) const { return shards_[Hash()(owner) % kShards]; }

  mutable std::array<Shard, kShards> shards_;
  // Accounts with a non-empty list: while it is 0 (most servers, most of the time) every check returns
  // at once, without a lock.
  std::atomic<size_t> owners_{0};
};

}  // namespace causerie::modules::blocking
