// The index of public posts (post_index.hpp).
#include "modules/pubsub/post_index.hpp"

#include <map>

#include <spdlog/spdlog.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/tags.hpp"

namespace causerie::modules::pubsub {

bool is_public_post(const Service& svc, const NodeState& n, const storage::PubsubItem& item) {
  const std::string& node = n.row.node;
  if (is_comments_node(node) || is_attachments_node(node) || is_summary_node(node) || is_service_kept_node(node))
    return false;
  if (svc.pep && !n.social) return false;  // PEP data other than social feeds (avatars, bookmarks, …)
  if (!n.config.persist_items) return false;
  // A social feed's post: the one decision of access.hpp (its own model, or a per-post audience, which is
  // never public; stored text that is no visibility fails closed).
  if (n.social) return is_public(item_visibility(n.config, item.access), n.config);
  const Requester anyone;  // no affiliation, no presence subscription, no groups: the public
  return !check_retrieve(n.config, anyone);
}

std::optional<storage::IndexedPost> PostIndex::entry_for(const Service& svc, const NodeState& n,
                                                         const storage::PubsubItem& item) {
  if (item.seq <= 0 || item.payload.find(ns::kAtom) == std::string::npos) return std::nullopt;
  if (!is_public_post(svc, n, item)) return std::nullopt;
  auto entry = xml::parse_fragment(item.payload);
  if (!entry || !entry->is("entry", ns::kAtom)) return std::nullopt;
  storage::IndexedPost p;
  p.seq = item.seq;
  p.tags = entry_tags(*entry);
  p.text = entry_text(*entry);
  if (p.tags.empty() && p.text.empty()) return std::nullopt;
  return p;
}

void PostIndex::reindex(storage::Storage& db, const Service& svc, const NodeState& n, const storage::PubsubItem& item) {
  if (auto p = entry_for(svc, n, item)) db.post_index().put(*p);
  else db.post_index().remove(item.seq);
}

PostIndex::PostIndex(ModuleContext& ctx, Engine& engine) : ctx_(ctx), engine_(engine) {
  engine_.add_publish_observer([](storage::Storage& db, const Service& svc, const Engine::Published& p) {
    // The item replaced by this one (an edit) lost its rows when the new row was stored (schema trigger).
    if (p.item.seq > 0) reindex(db, svc, p.state, p.item);
    return std::function<void()>();
  });
  engine_.add_configure_observer([this](storage::Storage& db, const Service& svc, const NodeState& n) {
    reindex_node(db, svc, n);
  });
  backfill_step();
}

void PostIndex::reindex_node(storage::Storage& db, const Service& svc, const NodeState& n) const {
  db.post_index().remove_node(n.row.id);
  // The node's items as they are: bounded by its max_items like any retrieval of the node.
  storage::PubsubItemQuery q;
  q.limit = static_cast<size_t>(n.config.effective_max_items(engine_.settings().limits));
  for (const auto& item : db.pubsub().items(n.row.id, q))
    if (auto p = entry_for(svc, n, item)) db.post_index().put(*p);
}

void PostIndex::backfill_step() {
  ctx_.storage().write([this](storage::Storage& db) -> storage::StorageService::Completion {
    auto state = db.post_index().backfill();
    if (!state) return nullptr;
    auto hits = db.post_index().items_between(state->next, state->until, kBackfillBatch);
    // Nodes are loaded once per batch; items of services no longer served are left out.
    std::map<std::pair<std::string, std::string>, std::optional<std::pair<Service, NodeState>>> nodes;
    size_t indexed = 0;
    for (const auto& h : hits) {
      auto key = std::make_pair(h.service, h.node);
      auto it = nodes.find(key);
      if (it == nodes.end()) {
        std::optional<std::pair<Service, NodeState>> loaded;
        if (auto svc = engine_.service_at(h.service))
          if (auto n = engine_.load(db, *svc, h.node)) loaded.emplace(*svc, std::move(*n));
        it = nodes.emplace(key, std::move(loaded)).first;
      }
      if (!it->second) continue;
      if (auto p = entry_for(it->second->first, it->second->second, h.item)) {
        db.post_index().put(*p);
        ++indexed;
      }
    }
    int64_t next = hits.size() < kBackfillBatch ? state->until : hits.back().seq;
    db.post_index().set_backfill_next(next);
    bool more = next < state->until;
    return [this, more, indexed, next] {
      spdlog::info("pubsub: post index backfill: {} public posts indexed up to item {}{}", indexed, next,
                   more ? ", continuing" : ", done");
      if (more) backfill_step();
    };
  });
}

}  // namespace causerie::modules::pubsub
