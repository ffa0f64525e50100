// PostIndexStore: the index of public posts behind tag and text search (docs/protocol/explore.md) and
// the /tag/ pages: for each indexed pubsub item (by its global publication sequence number,
// PubsubItem::seq) its normalised hashtags and its text. Like the feed it never copies an item: hits
// are joined to the pubsub store by seq, so a page returns the stored entry, node and publisher.
//
// Which items are indexed is the pubsub module's decision (modules/pubsub/post_index.hpp: public posts
// only); the store keeps the index exact underneath it: removing an item from pubsub_items (retraction,
// trimming, expiry, purge, node or account deletion) or replacing it (an edit: same item id) drops its
// rows in the same statement, by triggers of the schema. Shaped by the data (DESIGN §5): a tag page is
// one range scan of (tag, seq) read backwards; a text page is an FTS5 match walked by rowid (= seq).
//
// Thread rules: like every store, used only on the storage thread that owns its connection.
// Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/pubsub_store.hpp"

namespace causerie::storage {

struct IndexedPost {
  int64_t seq = 0;                // PubsubItem::seq of the stored item
  std::vector<std::string> tags;  // normalised, distinct
  std::string text;               // title and body as plain text ("" = not searchable by text)
};

struct PostHit {
  int64_t seq = 0;
  std::string service, node;
  PubsubItem item;
};

struct PostQuery {
  std::string tag;            // non-empty: posts carrying this (normalised) tag
  std::string match;          // non-empty: an FTS5 query over the text, already quoted by the caller
  int64_t older_than = 0;     // > 0: seq < this (RSM "after")
  int64_t newer_than = 0;     // > 0: seq > this (RSM "before")
  size_t limit = 20;
  bool oldest_first = false;  // walk from the oldest end (RSM "before", the last page)
};

// The backfill of items stored before the index existed: items with next < seq <= until still to do.
struct PostBackfill {
  int64_t next = 0;
  int64_t until = 0;
};

class PostIndexStore {
 public:
  virtual ~PostIndexStore() = default;
  // Indexes (or re-indexes) one stored item.
  virtual void put(const IndexedPost& post) = 0;
  // Drops one item's rows (it stopped being public), or those of every item of a node.
  virtual void remove(int64_t seq) = 0;
  virtual void remove_node(int64_t node_id) = 0;
  // One page, always newest first (at least one of tag and match must be set).
  virtual std::vector<PostHit> search(const PostQuery& q) = 0;
  // Whether a hit of the query lies beyond `seq` (older / newer), whatever the paging fields say.
  virtual bool has_older(const PostQuery& q, int64_t seq) = 0;
  virtual bool has_newer(const PostQuery& q, int64_t seq) = 0;

  // --- backfill (items stored before this index existed) ---
  virtual std::optional<PostBackfill> backfill() = 0;  // nullopt: nothing left to do
  // Stored items with after < seq <= until, oldest first, at most `limit`, with their nodes.
  virtual std::vector<PostHit> items_between(int64_t after, int64_t until, size_t limit) = 0;
  virtual void set_backfill_next(int64_t next) = 0;
};

}  // namespace causerie::storage
