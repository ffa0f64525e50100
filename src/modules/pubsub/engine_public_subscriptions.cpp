// XEP-0465 v0.5.0 public subscriptions on the engine (attachments.hpp names the nodes). Without XEP-0376
// PAM, a subscription made directly to one of our services with <public xmlns='urn:xmpp:pps:0'/> in its
// <subscribe/> is public: the subscriber's own PEP node urn:xmpp:pps:subscriptions:0 gets an item
// naming the node, and the node's urn:xmpp:pps:subscribers:0/<node> an item naming the subscriber, in
// the job that made the subscription; unsubscribing removes both. The service keeps these nodes:
// users may read them (subscriptions: everyone; subscribers: whoever may read the node) but not
// create, publish, retract, purge or delete them (§"Business Rules": forbidden).
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/engine.hpp"

namespace causerie::modules::pubsub {

void Engine::put_kept_item(storage::Storage& db, const std::string& service, const std::string& node, const NodeConfig& config,
                           const std::string& owner, const std::string& id, const xml::Element* payload) const {
  auto row = db.pubsub().node(service, node);
  if (!row) {
    if (!payload) return;
    storage::PubsubNode n{0, service, node, serialize_config(config, settings_.limits), owner, now_ms(), 0};
    n.id = db.pubsub().create_node(n);
    if (!n.id) return;
    db.pubsub().set_affiliation(n.id, owner, "owner");
    row = std::move(n);
  }
  if (!payload) {
    db.pubsub().remove_item(row->id, id);
    return;
  }
  storage::PubsubItem item;
  item.id = id;
  item.publisher = service;
  item.payload = xml::to_string(*payload);
  item.published = now_ms();
  db.pubsub().put_item(row->id, item);
}

void Engine::set_public_subscription(storage::Storage& db, const Service& svc, const NodeState& n, const std::string& bare,
                                     bool add) const {
  NodeConfig kept;
  kept.max_items_max = true;
  kept.send_last_published_item = SendLastItem::kNever;
  kept.publish_model = PublishModel::kPublishers;
  // The subscriber's list, on its own PEP service when it is one of our accounts: public by nature.
  if (service_at(bare)) {
    NodeConfig mine = kept;
    mine.access_model = AccessModel::kOpen;
    xml::Element s("subscription", std::string(kPpsNs));
    s.set_attr("node", n.row.node).set_attr("jid", svc.jid);
    put_kept_item(db, bare, std::string(kPpsSubscriptions), mine, bare, "xmpp:" + svc.jid + "?;node=" + n.row.node,
                  add ? &s : nullptr);
  }
  // The node's subscribers: as readable as the node.
  NodeConfig theirs = kept;
  theirs.access_model = n.config.access_model;
  theirs.roster_groups_allowed = n.config.roster_groups_allowed;
  xml::Element s("subscriber", std::string(kPpsNs));
  s.set_attr("jid", bare);
  std::string owner = svc.pep ? svc.jid : n.row.creator;
  put_kept_item(db, svc.jid, std::string(kPpsSubscribersPrefix) + n.row.node, theirs, owner, bare, add ? &s : nullptr);
}

}  // namespace causerie::modules::pubsub
