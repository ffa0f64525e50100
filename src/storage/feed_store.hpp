// FeedStore: every account's news feed (docs/protocol/feed.md), a list of references to pubsub items
// (by their global publication sequence number, PubsubItem::seq) per reader, newest first. A row says
// why the reader sees the item (kinds, a bit set), never copies it: the item's payload, node and
// publisher are joined from the pubsub store when a page is read, so a retracted item drops out of every
// feed at once, and a re-published one (which gets a new seq) appears again at its new place.
//
// Shaped by the data (DESIGN §5): the fan-out of one item to N readers is one batched write, and a page
// of one reader is one index range scan on (reader, seq), whatever the number of posts stored.
//
// Thread rules: like every store, used only on the storage thread that owns its connection.
// Failures throw StorageError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/pubsub_store.hpp"

namespace causerie::storage {

// Why a reader sees an item (bits, combined when several apply).
enum FeedKind : uint32_t {
  kFeedPeople = 1,        // a post on the microblog of someone the reader follows (or its own)
  kFeedCommunity = 2,     // a post on a pubsub service node the reader subscribed to
  kFeedMention = 4,       // an Atom entry naming xmpp:reader
  kFeedComment = 8,       // a comment on one of the reader's posts
  kFeedLike = 16,         // a like or reaction on one of the reader's posts (XEP-0470, Movim's "♥" comments)
};

struct FeedRow {
  std::string reader;  // bare JID
  int64_t seq = 0;     // PubsubItem::seq
  uint32_t kinds = 0;
};

struct FeedEntry {
  int64_t seq = 0;
  uint32_t kinds = 0;
  std::string service, node;
  PubsubItem item;
};

struct FeedQuery {
  std::string reader;
  uint32_t kinds = 0;         // non-zero: only rows with one of these bits
  int64_t older_than = 0;     // > 0: seq < this (RSM "after")
  int64_t newer_than = 0;     // > 0: seq > this (RSM "before")
  size_t limit = 20;
  bool oldest_first = false;  // walk from the oldest end (RSM "before", the last page)
};

class FeedStore {
 public:
  virtual ~FeedStore() = default;
  // Adds the rows (a row for a reader and seq already there gains the new kinds), in one batch.
  virtual void add(const std::vector<FeedRow>& rows) = 0;
  // One page, always returned newest first; rows whose item is gone are skipped.
  virtual std::vector<FeedEntry> page(const FeedQuery& q) = 0;
  // Whether any row of the reader matching the query's kinds is older than `seq` / newer than `seq`.
  virtual bool has_older(const FeedQuery& q, int64_t seq) = 0;
  virtual bool has_newer(const FeedQuery& q, int64_t seq) = 0;
  // The account went.
  virtual void remove_reader(std::string_view reader) = 0;
};

}  // namespace causerie::storage
