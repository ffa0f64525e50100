#include "modules/pubsub/account_events.hpp"

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/microblog.hpp"

namespace causerie::modules::pubsub {

std::vector<AccountEvent> publish_events(const Engine& engine, storage::Storage& db, const Service& svc,
                                         const Engine::Published& p) {
  std::vector<AccountEvent> out;
  const std::string& node = p.state.row.node;
  const std::string& publisher = p.item.publisher;
  if (is_comments_node(node) && p.state.row.creator != publisher && !p.item.payload.empty()) {
    auto entry = xml::parse_fragment(p.item.payload);
    if (entry && entry->is("entry", ns::kAtom)) {
      std::string title = entry_title(*entry);
      bool like = title == kMovimLike;
      out.push_back(AccountEvent{like ? AccountEvent::Kind::kLike : AccountEvent::Kind::kComment, p.state.row.creator,
                                 publisher, svc.jid, node, p.item.id, like ? std::string() : title});
    }
  } else if (is_attachments_node(node)) {
    if (auto target = engine.attachment_target(db, svc, node); target && target->item.publisher != publisher)
      out.push_back(AccountEvent{AccountEvent::Kind::kLike, target->item.publisher, publisher, svc.jid,
                                 target->node.row.node, target->item.id, {}});
  }
  return out;
}

std::optional<AccountEvent> follow_event(const Service& svc, const NodeState& n, const std::string& subscriber) {
  if (!svc.pep || !n.social || subscriber == svc.jid) return std::nullopt;
  return AccountEvent{AccountEvent::Kind::kFollower, svc.jid, subscriber, svc.jid, n.row.node, {}, {}};
}

}  // namespace causerie::modules::pubsub
