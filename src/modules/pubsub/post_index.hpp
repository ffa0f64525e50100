// PostIndex: keeps the index of public posts (storage/post_index_store.hpp) that tag and text search
// (docs/protocol/explore.md) and the /tag/ pages read. A post is indexed — its hashtags (Atom
// <category term/>, normalised by tags.hpp) and its text — in the very job that stores it (a publish
// observer), so an item and its index rows commit together; an edit (same item id) is re-indexed, and
// a post that is no longer public (a new version with a narrower visibility) is dropped. Retractions
// and every other removal are handled by the store's triggers. A node whose configuration changes
// (a community closing, a microblog opening) is re-indexed in the configure job.
//
// Items stored before the index existed are indexed by a backfill that starts with the module: chains
// of write jobs of kBackfillBatch items each, in seq order, resuming where the last run stopped.
//
// is_public_post() is the one decision of what "public" means; everything here goes through it.
//
// Thread rules: observers run in storage jobs on the write lane; no mutable state.
#pragma once

#include "modules/pubsub/engine.hpp"
#include "storage/post_index_store.hpp"

namespace causerie::modules::pubsub {

// Whether an item of node `n` on `svc` is a public post: an Atom entry on a microblog or other social
// feed of a PEP service, or on a community node of a pubsub service (not a comments, attachments,
// summary or XEP-0465 node), that the public — an entity with no affiliation, no presence
// subscription, no roster group — may read under the existing access checks (the node's access model,
// and on social feeds the post's own visibility).
bool is_public_post(const Service& svc, const NodeState& n, const storage::PubsubItem& item);

class PostIndex {
 public:
  static constexpr size_t kBackfillBatch = 500;

  PostIndex(ModuleContext& ctx, Engine& engine);

  // What the index holds for an item: nullopt when it is not a public post (or has nothing to find).
  static std::optional<storage::IndexedPost> entry_for(const Service& svc, const NodeState& n,
                                                       const storage::PubsubItem& item);
  // Re-indexes one stored item (write lane).
  static void reindex(storage::Storage& db, const Service& svc, const NodeState& n, const storage::PubsubItem& item);

 private:
  void reindex_node(storage::Storage& db, const Service& svc, const NodeState& n) const;
  void backfill_step();

  ModuleContext& ctx_;
  Engine& engine_;
};

}  // namespace causerie::modules::pubsub
