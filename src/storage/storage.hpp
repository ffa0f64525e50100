// Storage: one backend connection seen as the set of stores it implements, each an interface shaped by
// the data rather than by a backend (DESIGN §5), in its own header (account_store.hpp, roster_store.hpp,
// offline_store.hpp, key_value_store.hpp, muc_store.hpp, pubsub_store.hpp,
// blocking_store.hpp, archive_store.hpp, invite_store.hpp,
// fast_token_store.hpp, feed_store.hpp, post_index_store.hpp, webpush_store.hpp, preview_store.hpp). A backend (SQLite now)
// implements them all over one connection. This header only names the stores: a unit includes the
// header of each store it uses.
//
// Thread rules: a Storage object belongs to the one storage thread that runs jobs on it (see
// StorageService); nothing here is called from network threads. Failures throw StorageError.
#pragma once

#include <stdexcept>

namespace causerie::storage {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AccountStore;
class RosterStore;
class OfflineStore;
class KeyValueStore;
class MucStore;
class PubsubStore;
class BlockingStore;
class ArchiveStore;
class InviteStore;
class FastTokenStore;
class FeedStore;
class PostIndexStore;
class WebPushStore;
class PreviewStore;

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
  virtual ArchiveStore& archive() = 0;
  virtual InviteStore& invites() = 0;
  virtual FastTokenStore& fast_tokens() = 0;
  virtual FeedStore& feed() = 0;
  virtual PostIndexStore& post_index() = 0;
  virtual WebPushStore& webpush() = 0;
  virtual PreviewStore& previews() = 0;
  // Group commit: the service brackets a batch of jobs; each job runs in a savepoint inside it.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
  // Called once on the write lane's connection: it may keep more in memory than a reader (a batch's
  // dirty pages, the index pages every batch touches).
  virtual void use_as_write_lane() {}
};

}  // namespace causerie::storage
