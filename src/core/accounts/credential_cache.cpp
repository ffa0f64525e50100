#include "core/accounts/credential_cache.hpp"

namespace causerie {

namespace {

// One credential set in the packed form described in the header; false when a field is too long for
// its one-byte length (never for what we derive: 16-byte salts, 20/32-byte keys), so it is not cached.
bool append_packed(std::string& out, sasl::ScramHash hash, const sasl::ScramCredentials& c) {
  if (c.salt.size() > 255 || c.stored_key.size() > 255 || c.stored_key.size() != c.server_key.size()) return false;
  out += static_cast<char>(hash);
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((c.iterations >> shift) & 0xff);
  out += static_cast<char>(c.salt.size());
  out += c.salt;
  out += static_cast<char>(c.stored_key.size());
  out += c.stored_key;
  out += c.server_key;
  return true;
}

// Walks the packed sets; calls fn(hash, offset of the set, its length, credentials).
template <typename Fn>
void for_each_packed(std::string_view packed, Fn fn) {
  size_t pos = 0;
  while (pos + 6 <= packed.size()) {
    size_t start = pos;
    auto hash = static_cast<sasl::ScramHash>(packed[pos++]);
    sasl::ScramCredentials c;
    for (int shift = 0; shift < 32; shift += 8) c.iterations |= static_cast<uint32_t>(static_cast<uint8_t>(packed[pos++])) << shift;
    size_t salt_len = static_cast<uint8_t>(packed[pos++]);
    if (pos + salt_len + 1 > packed.size()) return;
    c.salt.assign(packed.substr(pos, salt_len));
    pos += salt_len;
    size_t key_len = static_cast<uint8_t>(packed[pos++]);
    if (pos + 2 * key_len > packed.size()) return;
    c.stored_key.assign(packed.substr(pos, key_len));
    c.server_key.assign(packed.substr(pos + key_len, key_len));
    pos += 2 * key_len;
    fn(hash, start, pos - start, std::move(c));
  }
}

}  // namespace

std::optional<sasl::ScramCredentials> CredentialCache::find(std::string_view jid, sasl::ScramHash hash) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(jid);
  if (it == entries_.end()) return std::nullopt;
  std::optional<sasl::ScramCredentials> found;
  for_each_packed(it->second, [&](sasl::ScramHash h, size_t, size_t, sasl::ScramCredentials c) {
    if (h == hash) found = std::move(c);
  });
  return found;
}

uint64_t CredentialCache::epoch() {
  std::lock_guard lock(mutex_);
  return epoch_;
}

void CredentialCache::put(std::string_view jid, sasl::ScramHash hash, const sasl::ScramCredentials& credentials,
                          uint64_t epoch_at_lookup) {
  std::lock_guard lock(mutex_);
  if (epoch_at_lookup != epoch_) return;  // something changed since the lookup began
  auto it = entries_.find(jid);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) entries_.clear();  // simple bound; the hot accounts come back at once
    it = entries_.emplace(std::string(jid), std::string()).first;
  }
  // Keep the other hash's set (a client that uses both mechanisms), replace this one's.
  std::string packed;
  for_each_packed(it->second, [&](sasl::ScramHash h, size_t offset, size_t length, const sasl::ScramCredentials&) {
    if (h != hash) packed.append(it->second, offset, length);
  });
  if (!append_packed(packed, hash, credentials) && packed.empty()) {
    entries_.erase(it);
    return;
  }
  packed.shrink_to_fit();
  it->second = std::move(packed);
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
