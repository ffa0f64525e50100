// XEP-0470 v0.2.0 pubsub attachments on the engine: validity checks, automatic attachments nodes and
// the summary node the service keeps (attachments.hpp).
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/engine.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules::pubsub {

namespace {

// The configuration of the service-made nodes beside a target: its access model, one item per person
// (attachments) or per target item (summary), kept up to the service's limit; on a social feed their
// items carry the target item's visibility.
NodeConfig derived_config(const NodeConfig& target, bool social, PublishModel publish) {
  NodeConfig c;
  c.access_model = target.access_model;
  c.roster_groups_allowed = target.roster_groups_allowed;
  c.publish_model = publish;
  c.max_items_max = true;
  c.send_last_published_item = SendLastItem::kNever;
  if (social) c.type = "urn:xmpp:pubsub-social-feed:attachments";
  return c;
}

}  // namespace

std::optional<Engine::AttachmentTarget> Engine::attachment_target(storage::Storage& db, const Service& svc,
                                                                  std::string_view node) const {
  auto addr = attachments_target_address(node);
  if (!addr || addr->service != svc.jid || is_attachments_node(addr->node) || is_summary_node(addr->node)) return std::nullopt;
  auto n = load(db, svc, addr->node);
  if (!n) return std::nullopt;
  auto item = db.pubsub().item(n->row.id, *addr->item);
  if (!item) return std::nullopt;
  return AttachmentTarget{std::move(*n), std::move(*item)};
}

std::optional<StanzaError> Engine::check_attachment(storage::Storage& db, const Service& svc, const std::string& publisher,
                                                    Publication& p, const AttachmentTarget& target, NodeConfig& config) const {
  // §"Checking Validity of Attachments Items": bad-request unless the id is the publisher's bare JID
  // and the payload an <attachments/>.
  if (!p.has_item || !p.payload || !p.payload->is("attachments", kAttachmentsNs))
    return bad_request("an attachments item carries <attachments xmlns='urn:xmpp:pubsub-attachments:1'/>");
  if (p.item_id.empty()) p.item_id = publisher;
  if (p.item_id != publisher) return bad_request("an attachments item's id is its publisher's bare JID");
  // Only those who may read the item may attach to it (the node is "open" to publish; this is the check).
  // An item it may not see is as absent to it as a missing one (the same answer as attachment_target's).
  if (!may_read(db, svc, target.node, target.item, publisher))
    return item_not_found("the item these attachments are about does not exist here");
  // §"Automatic Node Creation": publish-options are ignored.
  p.options.reset();
  config = derived_config(target.node.config, target.node.social, PublishModel::kOpen);
  return std::nullopt;
}

std::optional<Engine::Notification> Engine::update_summary(storage::Storage& db, const Service& svc, const NodeState& target,
                                                           const std::string& item_id) const {
  auto item = db.pubsub().item(target.row.id, item_id);
  if (!item) return std::nullopt;
  AttachmentTally tally;
  // The attachments node, whichever way its name's URI was percent-encoded: any node of this service
  // whose name points at this item.
  std::string prefix = std::string(kAttachmentsPrefix) + "xmpp:" + svc.jid + "?";
  for (const auto& row : db.pubsub().nodes_with_prefix(svc.jid, prefix)) {
    auto addr = attachments_target_address(row.node);
    if (!addr || addr->node != target.row.node || addr->item != item_id) continue;
    for (const auto& a : db.pubsub().items(row.id, {}))
      if (auto el = xml::parse_fragment(a.payload)) tally.add(a.id, *el);
  }
  // Movim's likes: "♥" comments on the post's comments node, one per person.
  std::optional<xml::Element> entry = xml::parse_fragment(item->payload);
  if (entry && entry->is("entry", ns::kAtom))
    if (auto link = comments_link(*entry))
      if (auto csvc = service_at(link->service))
        if (auto cn = db.pubsub().node(csvc->jid, link->node))
          for (const auto& c : db.pubsub().items(cn->id, {}))
            if (c.payload.find(kMovimLike) != std::string::npos)
              if (auto ce = xml::parse_fragment(c.payload); ce && entry_title(*ce) == kMovimLike) tally.noticed.insert(c.publisher);

  std::string name = summary_node_for(target.row.node);
  std::optional<NodeState> sn = load(db, svc, name);
  if (!sn) {
    NodeState n;
    n.config = derived_config(target.config, target.social, PublishModel::kPublishers);
    n.social = is_social_feed(name, n.config);
    n.row = storage::PubsubNode{0, svc.jid, name, serialize_config(n.config, settings_.limits), target.row.creator, now_ms(), 0};
    n.row.id = db.pubsub().create_node(n.row);
    if (!n.row.id) return std::nullopt;
    db.pubsub().set_affiliation(n.row.id, target.row.creator, "owner");
    sn = std::move(n);
  }
  xml::Element summary = tally.summary();
  storage::PubsubItem s;
  s.id = item_id;
  s.publisher = svc.jid;
  s.payload = xml::to_string(summary);
  s.access = sn->social ? encode_visibility(visibility_of(target, *item)) : "";
  s.published = now_ms();
  db.pubsub().put_item(sn->row.id, s);
  std::optional<Visibility> visibility;
  if (sn->social) visibility = visibility_of(target, *item);
  Notification ev;
  ev.fan = plan(audience(db, svc, *sn), svc, *sn, visibility);
  xml::Element items_el("items", ns::kPubsubEvent);
  items_el.set_attr("node", name);
  xml::Element& ev_item = items_el.add_child("item");
  ev_item.set_attr("id", item_id).set_attr("publisher", svc.jid);
  ev_item.add(std::move(summary));
  ev.msg = event_message(*sn, std::move(items_el));
  return ev;
}

std::optional<Engine::Notification> Engine::like_comment_summary(storage::Storage& db, const Service& svc,
                                                                 const NodeState& comments,
                                                                 const storage::PubsubItem& comment) const {
  (void)comment;
  // Movim names a post's comments node after the post, on a service, created by the post's author:
  // the post is the author's microblog item of that id, when it links back to this node.
  std::string post_id = comments.row.node.substr(kCommentsPrefix.size());
  auto author = service_at(comments.row.creator);
  if (!author || !author->pep) return std::nullopt;
  auto target = load(db, *author, ns::kMicroblog);
  if (!target) return std::nullopt;
  auto post = db.pubsub().item(target->row.id, post_id);
  if (!post) return std::nullopt;
  auto entry = xml::parse_fragment(post->payload);
  auto link = entry ? comments_link(*entry) : std::nullopt;
  if (!link || link->service != svc.jid || link->node != comments.row.node) return std::nullopt;
  return update_summary(db, *author, *target, post_id);
}

}  // namespace causerie::modules::pubsub
