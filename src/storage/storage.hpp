// Storage: the interfaces for every kind of persistent data, shaped by the data rather than by a backend
// (DESIGN §5). A backend (SQLite now) implements them all over one connection.
//
// Thread rules: a Storage object belongs to the one storage thread that runs jobs on it (see
// StorageService); nothing here is called from network threads. Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/sasl/scram.hpp"
#include "storage/blocking_store.hpp"
#include "storage/muc_store.hpp"
#include "storage/pubsub_store.hpp"

namespace causerie::storage {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Account {
  std::string jid;  // bare JID, prepared
  sasl::ScramCredentials sha1, sha256;
  int64_t created = 0;  // unix seconds
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // False when the account already exists.
  virtual bool create(const Account& account) = 0;
  virtual std::optional<Account> get(std::string_view jid) = 0;
  virtual bool exists(std::string_view jid) = 0;
  virtual bool set_credentials(std::string_view jid, const sasl::ScramCredentials& sha1,
                               const sasl::ScramCredentials& sha256) = 0;
  // Removes the account and every piece of data stored for it. False when it did not exist.
  virtual bool remove(std::string_view jid) = 0;
  virtual std::vector<std::string> list(std::string_view host) = 0;
  // A number that changes whenever any account is created, changed or removed, by any process.
  virtual int64_t generation() = 0;
};

// RFC 6121 Appendix A subscription state, stored per roster item.
enum class Subscription : uint8_t { kNone, kTo, kFrom, kBoth };
const char* to_string(Subscription s);
std::optional<Subscription> parse_subscription(std::string_view s);

struct RosterItem {
  std::string jid;  // contact's bare JID
  std::string name;
  Subscription subscription = Subscription::kNone;
  bool ask = false;        // outbound subscription request pending ("Pending Out")
  bool pending_in = false; // inbound subscription request pending ("Pending In")
  bool approved = false;   // pre-approved (RFC 6121 §3.4)
  bool hidden = false;     // exists only to hold state (pending-in or pre-approval), not shown in roster results
  std::vector<std::string> groups;
  std::string pending_in_stanza;  // the subscribe request as received, redelivered at login (§3.1.3)
};

class RosterStore {
 public:
  virtual ~RosterStore() = default;
  virtual std::vector<RosterItem> items(std::string_view owner) = 0;
  virtual std::optional<RosterItem> item(std::string_view owner, std::string_view contact) = 0;
  // Insert or replace; returns the new roster version.
  virtual int64_t put(std::string_view owner, const RosterItem& item) = 0;
  // Returns the new roster version (unchanged when there was no such item).
  virtual int64_t remove(std::string_view owner, std::string_view contact) = 0;
  virtual int64_t version(std::string_view owner) = 0;
};

struct OfflineMessage {
  int64_t id = 0;
  std::string xml;  // the stanza with its <delay/> already added
};

class OfflineStore {
 public:
  virtual ~OfflineStore() = default;
  // False when the account already has `limit` messages waiting.
  virtual bool push(std::string_view owner, std::string_view xml, size_t limit) = 0;
  virtual std::vector<OfflineMessage> pending(std::string_view owner) = 0;
  virtual void remove_up_to(std::string_view owner, int64_t last_id) = 0;
  virtual size_t count(std::string_view owner) = 0;
};

// Small documents per account and key: vCard ("vcard", ""), private XML ("private", namespace),
// last activity ("last", "")…
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual std::optional<std::string> get(std::string_view owner, std::string_view store, std::string_view key) = 0;
  virtual void put(std::string_view owner, std::string_view store, std::string_view key, std::string_view value) = 0;
  virtual void remove(std::string_view owner, std::string_view store, std::string_view key) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual AccountStore& accounts() = 0;
  virtual RosterStore& roster() = 0;
  virtual OfflineStore& offline() = 0;
  virtual KeyValueStore& kv() = 0;
  virtual MucStore& muc() = 0;
  virtual PubsubStore& pubsub() = 0;
  virtual BlockingStore& blocking() = 0;
  // Group commit: the service brackets a batch of jobs; each job runs in a savepoint inside it.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
};

}  // namespace causerie::storage
