// CredentialCache: SCRAM credentials of accounts that logged in recently, so that a login usually needs
// no trip to the storage thread (that hop, two thread wake-ups, was ~40% of the CPU of a plain login).
//
// Only existing accounts are cached. Changes made in this process (password change, removal) call
// invalidate(); changes made by another process (the `causerie user` commands beside a running server)
// are caught by a generation counter the database keeps for the accounts table, checked at most once a
// second: any change clears the cache. A lookup that raced with a change cannot reinstall stale data:
// put() only stores what was read under the current epoch. Any thread; one mutex, held briefly.
//
// Memory (issue 3: RSS per idle session): an entry keeps only the credentials of the hash its logins
// used, packed into one string (~64–90 bytes beside the JID), not a whole storage::Account (~560 bytes
// in seven allocations, a tenth of an idle session's memory).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/sasl/scram.hpp"

namespace causerie {

class CredentialCache {
 public:
  explicit CredentialCache(size_t capacity = 65536) : capacity_(capacity) {}

  std::optional<sasl::ScramCredentials> find(std::string_view jid, sasl::ScramHash hash);
  // The epoch to pass to put() for a lookup starting now.
  uint64_t epoch();
  void put(std::string_view jid, sasl::ScramHash hash, const sasl::ScramCredentials& credentials,
           uint64_t epoch_at_lookup);
  void invalidate(std::string_view jid);

  // Whether the database's account generation should be checked now (at most once a second); the
  // caller then reads it from storage and reports it with observe_generation().
  bool generation_check_due(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  void observe_generation(int64_t generation);
  size_t size();

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  std::mutex mutex_;
  // JID → packed credentials, per hash: [hash id][iterations, 4 bytes][salt length][salt][key length]
  // [stored key][server key], once or twice.
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> entries_;
  size_t capacity_;
  uint64_t epoch_ = 0;
  int64_t generation_ = -1;
  bool check_in_flight_ = false;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace causerie
