// XEP-0060 v1.30.0 §7.1 publish (with §7.1.5 publish-options, XEP-0223), §7.2 retract, §6.5 retrieve
// (all, by id, max_items, and XEP-0059 paging).
#include <algorithm>
#include <charconv>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/engine.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"
#include "storage/account_store.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr size_t kMaxItemId = 1024;

std::optional<size_t> parse_count(std::string_view s) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

void Engine::publish(IqRequest& req, const Service& svc) {
  const xml::Element& ps = req.payload();
  const xml::Element* pub = ps.child("publish", ns::kPubsub);
  std::string node(pub->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  auto items = pub->children("item", ns::kPubsub);
  // §7.1.1: batch publishing was removed in version 1.13.
  if (items.size() > 1) return req.reply.error(bad_request("publish one item at a time"));
  const xml::Element* item = items.empty() ? nullptr : items.front();
  // §7.1.3.5: exactly one payload element.
  if (item && item->element_count() > 1)
    return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-payload", "an item carries one payload element"));
  std::optional<xml::Element> payload;
  if (item && item->element_count() == 1) payload = *item->child();
  std::string item_id = item ? std::string(item->attr("id")) : std::string();
  if (item_id.size() > kMaxItemId) return req.reply.error(bad_request("item id too long"));
  std::string serialized = payload ? xml::to_string(*payload) : std::string();
  // Refused here already when over the service-wide limit: no storage job for an oversized payload.
  if (static_cast<int64_t>(serialized.size()) > settings_.limits.max_payload_size)
    return req.reply.error(pubsub_error(StanzaErrorCondition::kNotAcceptable, "payload-too-big",
                                        "the item's payload is " + std::to_string(serialized.size()) +
                                            " bytes; this service accepts at most " +
                                            std::to_string(settings_.limits.max_payload_size)));
  std::optional<xml::DataForm> options;
  if (const xml::Element* po = ps.child("publish-options", ns::kPubsub)) {
    if (const xml::Element* x = po->child("x", ns::kDataForms)) options = xml::DataForm::parse(*x);
    if (options && !options->form_type().empty() && options->form_type() != ns::kPubsubPublishOptions)
      return req.reply.error(bad_request("publish-options need FORM_TYPE " + std::string(ns::kPubsubPublishOptions)));
  }
  Publication pub_req{node, item_id, item != nullptr, std::move(payload), std::move(serialized), std::move(options)};
  ctx_.storage().write([this, svc, pub_req = std::move(pub_req), from = req.from(),
                        reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto done = publish_in(db, svc, from, std::move(pub_req));
    if (!done) {
      reply.error(done.error());
      return nullptr;
    }
    // Conversions to the legacy forms of the same data (pep_compat.hpp), in the same transaction.
    std::vector<std::function<void()>> converted;
    for (const auto& observer : observers_)
      if (auto after = observer(db, svc, *done)) converted.push_back(std::move(after));
    return [this, reply, done = std::move(*done), converted = std::move(converted)]() mutable {
      xml::Element ps("pubsub", ns::kPubsub);
      xml::Element& p = ps.add_child("publish");
      p.set_attr("node", done.node);
      p.add_child("item").set_attr("id", done.item.id);
      reply.result(std::move(ps));
      for (const auto& after : converted) after();
      send_event(std::move(done.event));
      for (auto& more : done.more) send_event(std::move(more));
    };
  });
}

tl::expected<Engine::Published, StanzaError> Engine::publish_in(storage::Storage& db, const Service& svc, const Jid& from,
                                                                Publication p) const {
  const std::string& node = p.node;
  const bool has_item = p.has_item;
  const std::optional<xml::Element>& payload = p.payload;
  const std::optional<xml::DataForm>& options = p.options;
  std::string publisher = bare_string(from);
  auto fail = [](StanzaError e) { return tl::unexpected<StanzaError>(std::move(e)); };
  // XEP-0470: summary nodes are the service's; attachments are checked against their target.
  if (is_summary_node(node))
    return fail(StanzaError(StanzaErrorCondition::kNotAllowed, "summary nodes are maintained by the service (XEP-0470)"));
  if (is_service_kept_node(node))
    return fail(forbidden("public subscription nodes are maintained by the service (XEP-0465)"));
  std::optional<AttachmentTarget> target;
  NodeConfig attachments_config;
  if (is_attachments_node(node)) {
    target = attachment_target(db, svc, node);
    if (!target) return fail(item_not_found("the item these attachments are about does not exist here"));
    if (auto err = check_attachment(db, svc, publisher, p, *target, attachments_config)) return fail(*err);
  }
  std::optional<NodeState> loaded = load(db, svc, node);
  NodeState n;
  // The visibility the publication states (audience.hpp); it matters on social feeds only.
  auto stated = stated_visibility(options ? &*options : nullptr, payload ? &*payload : nullptr);
  const bool per_post_audience = stated && *stated && (*stated)->groups;
  // Refused before anything is written (a node auto-created for a refused post would stay).
  if (!stated && (loaded ? loaded->social : is_social_feed(node, defaults_for(svc, node)))) return fail(stated.error());
  if (!loaded && target) {
    // §"Automatic Node Creation": the target's access model; owned by the target node's owner.
    n.config = attachments_config;
    n.social = is_social_feed(node, n.config);
    n.row = storage::PubsubNode{0, svc.jid, node, serialize_config(n.config, settings_.limits), target->node.row.creator, now_ms(), 0};
    n.row.id = db.pubsub().create_node(n.row);
    if (!n.row.id) return fail(StanzaError(StanzaErrorCondition::kInternalServerError));
    db.pubsub().set_affiliation(n.row.id, target->node.row.creator, "owner");
  } else if (!loaded) {
    if (!may_create(svc, from)) {
      if (svc.pep && !db.accounts().exists(svc.jid)) return fail(StanzaError(StanzaErrorCondition::kServiceUnavailable));
      if (svc.pep) return fail(forbidden("only the account itself may publish to nodes of its PEP service that do not exist yet"));
      return fail(item_not_found("no such node"));  // §7.1.3.3
    }
    if (auto quota = node_quota(db, svc, publisher)) return fail(*quota);
    // §7.1.4 auto-create, §7.1.5: the defaults except for the preconditions.
    NodeConfig config = defaults_for(svc, node);
    if (options) {
      // A per-post audience configures the post, not the social feed created for it.
      bool post_only = per_post_audience && is_social_feed(node, config);
      auto c = config_with_options(config, post_only ? without_visibility_fields(*options) : *options, settings_.limits);
      if (!c) return fail(c.error());
      config = *c;
    }
    n.row.node = node;
    n.config = config;
    n.social = is_social_feed(node, config);
    inherit_post_access(db, svc, n, publisher);
    n.row = storage::PubsubNode{0, svc.jid, node, serialize_config(n.config, settings_.limits), publisher, now_ms(), 0};
    n.row.id = db.pubsub().create_node(n.row);
    if (!n.row.id) return fail(StanzaError(StanzaErrorCondition::kInternalServerError));
    db.pubsub().set_affiliation(n.row.id, publisher, "owner");
  } else {
    n = std::move(*loaded);
    Requester r = facts(db, svc, n, from);
    if (auto err = check_publish(n.config, r)) return fail(*err);
    if (options) {
      // On a social feed the visibility fields set the post's visibility instead of being preconditions.
      if (auto field = unmet_precondition(n.config, n.social ? without_visibility_fields(*options) : *options, settings_.limits))
        return fail(pubsub_error(StanzaErrorCondition::kConflict, "precondition-not-met",
                                 "publish-options field " + *field + " does not match the node's configuration"));
    }
  }
  // The post's visibility on a social feed: what the publisher stated (publish-options, or the entry's
  // <audience/>); else, for a new version of a post that has a per-post audience, that audience (an edit
  // never widens a post by omission); else the node's model now.
  std::optional<Visibility> visibility;
  if (n.social) {
    if (!stated) return fail(stated.error());
    visibility = Visibility(n.config.access_model);
    if (*stated) {
      visibility = **stated;
    } else if (loaded && !p.item_id.empty()) {
      if (auto old = db.pubsub().item(n.row.id, p.item_id))
        if (auto v = parse_visibility(old->access); v && v->groups) visibility = *v;
    }
  }
  // An attachment is as visible as the item it is about.
  if (target && n.social) visibility = visibility_of(target->node, target->item);
  // §7.1.3.6: the node's event type decides what a request must carry.
  if (n.config.persist_items && !has_item)
    return fail(pubsub_error(StanzaErrorCondition::kBadRequest, "item-required", "this node keeps items: publish one"));
  if (!n.config.persist_items && !n.config.deliver_payloads && has_item)
    return fail(pubsub_error(StanzaErrorCondition::kBadRequest, "item-forbidden", "this node takes notifications without items"));
  if (has_item && n.config.deliver_payloads && !payload)
    return fail(pubsub_error(StanzaErrorCondition::kBadRequest, "payload-required", "this node delivers payloads: include one"));
  int64_t limit = n.config.effective_max_payload(settings_.limits);
  if (static_cast<int64_t>(p.serialized.size()) > limit)
    return fail(pubsub_error(StanzaErrorCondition::kNotAcceptable, "payload-too-big",
                             "the item's payload is " + std::to_string(p.serialized.size()) +
                                 " bytes; this node accepts at most " + std::to_string(limit)));

  Published out;
  out.node = node;
  storage::PubsubItem& stored = out.item;
  stored.id = p.item_id.empty() ? util::random_id(12) : p.item_id;
  stored.publisher = publisher;
  stored.payload = p.serialized;
  stored.access = visibility ? encode_visibility(*visibility) : "";
  stored.published = now_ms();
  if (has_item && n.config.persist_items) {
    int64_t max = n.config.effective_max_items(settings_.limits);
    if (n.config.item_expire) db.pubsub().expire_items(n.row.id, stored.published - n.config.item_expire * 1000);
    // §7.1.3.4: a full node either refuses the item or drops its oldest (retract-oldest, the default).
    if (n.config.publish_node_full == NodeFullPolicy::kReject && !db.pubsub().item(n.row.id, stored.id) &&
        static_cast<int64_t>(db.pubsub().count_items(n.row.id, {})) >= max)
      return fail(pubsub_error(StanzaErrorCondition::kConflict, "node-full", "the node holds its maximum of items"));
    db.pubsub().put_item(n.row.id, stored);
    if (auto kept = db.pubsub().item(n.row.id, stored.id)) stored.seq = kept->seq;
    db.pubsub().trim_items(n.row.id, static_cast<size_t>(max));
    if (n.social && payload && payload->is("entry", ns::kAtom))
      sync_comments_access(db, publisher, with_groups(*visibility, n.config), *payload);
  }

  // §7.1.2: the notification, with the payload when the node delivers payloads.
  if (n.config.deliver_notifications) {
    Notification& ev = out.event;
    ev.fan = plan(audience(db, svc, n), svc, n, visibility);
    xml::Element items_el("items", ns::kPubsubEvent);
    items_el.set_attr("node", node);
    if (has_item) {
      xml::Element& ev_item = items_el.add_child("item");
      ev_item.set_attr("id", stored.id).set_attr("publisher", publisher);
      if (n.config.deliver_payloads && payload) ev_item.add(*payload);
    }
    ev.msg = event_message(n, std::move(items_el));
    // XEP-0277 §8 / pubsub#include_body: the post's title as a body, for those who asked.
    if (payload && payload->is("entry", ns::kAtom)) {
      xml::Element with_body = ev.msg;
      with_body.add_text_child("body", entry_title(*payload), ns::kClient);
      ev.with_body = std::move(with_body);
    }
  }
  if (has_item && n.config.persist_items) {
    if (target) {
      if (auto ev = update_summary(db, svc, target->node, target->item.id)) out.more.push_back(std::move(*ev));
    } else if (is_comments_node(node) && payload && payload->is("entry", ns::kAtom) && entry_title(*payload) == kMovimLike) {
      if (auto ev = like_comment_summary(db, svc, n, stored)) out.more.push_back(std::move(*ev));
    }
  }
  out.state = std::move(n);
  return out;
}

void Engine::send_event(Notification ev) const {
  if (ev.fan) notifier_.send(std::move(*ev.fan), std::move(ev.msg), std::move(ev.with_body));
}

void Engine::retract(IqRequest& req, const Service& svc) {
  const xml::Element* rt = req.payload().child("retract", ns::kPubsub);
  std::string node(rt->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  auto items = rt->children("item", ns::kPubsub);
  if (items.size() != 1 || items.front()->attr("id").empty())
    return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "item-required", "name one item to retract"));
  std::string item_id(items.front()->attr("id"));
  if (is_service_kept_node(node)) return req.reply.error(forbidden("this node is maintained by the service"));
  std::optional<bool> notify;
  if (rt->has_attr("notify")) notify = xml::parse_form_bool(rt->attr("notify"));
  ctx_.storage().write([this, svc, node, item_id, notify, from = req.from(), reply = req.reply](storage::Storage& db) mutable -> Completion {
    std::optional<storage::PubsubItem> before;
    std::optional<NodeState> comments;
    if (is_comments_node(node) && (comments = load(db, svc, node))) before = db.pubsub().item(comments->row.id, item_id);
    auto done = retract_in(db, svc, from, node, item_id, notify);
    if (!done) {
      reply.error(done.error());
      return nullptr;
    }
    // XEP-0470: a retracted attachment or "♥" comment no longer counts.
    std::optional<Notification> summary;
    if (auto target = is_attachments_node(node) ? attachment_target(db, svc, node) : std::nullopt)
      summary = update_summary(db, svc, target->node, target->item.id);
    else if (before && before->payload.find(kMovimLike) != std::string::npos)
      summary = like_comment_summary(db, svc, *comments, *before);
    return [this, reply, ev = std::move(*done), summary = std::move(summary)]() mutable {
      reply.result();
      send_event(std::move(ev));
      if (summary) send_event(std::move(*summary));
    };
  });
}

tl::expected<Engine::Notification, StanzaError> Engine::retract_in(storage::Storage& db, const Service& svc, const Jid& from,
                                                                   const std::string& node, const std::string& item_id,
                                                                   std::optional<bool> notify) const {
  auto fail = [](StanzaError e) { return tl::unexpected<StanzaError>(std::move(e)); };
  auto n = load(db, svc, node);
  if (!n) return fail(item_not_found("no such node"));
  if (!n->config.persist_items) return fail(unsupported("persistent-items", "this node does not keep items"));
  Requester r = facts(db, svc, *n, from);
  // An item the requester may not see is as absent as a missing one (no "forbidden" that would tell).
  auto item = visible_item(db, *n, r, item_id);
  if (!item) return fail(item_not_found("no such item"));
  if (auto err = check_retract(n->config, r, item->publisher == bare_string(from))) return fail(*err);
  db.pubsub().remove_item(n->row.id, item_id);
  // §7.2.2.1: notify when asked to, else as the node is configured.
  Notification ev;
  if (!notify.value_or(n->config.notify_retract)) return ev;
  ev.fan = plan(audience(db, svc, *n), svc, *n, visibility_of(*n, *item));
  xml::Element items_el("items", ns::kPubsubEvent);
  items_el.set_attr("node", node);
  items_el.add_child("retract").set_attr("id", item_id);
  ev.msg = event_message(*n, std::move(items_el));
  return ev;
}

void Engine::items(IqRequest& req, const Service& svc) {
  const xml::Element& ps = req.payload();
  const xml::Element* it = ps.child("items", ns::kPubsub);
  std::string node(it->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  std::optional<size_t> max_items;
  if (it->has_attr("max_items")) {
    max_items = parse_count(it->attr("max_items"));
    if (!max_items) return req.reply.error(bad_request("max_items must be a number"));
  }
  std::vector<std::string> ids;
  for (const xml::Element* i : it->children("item", ns::kPubsub))
    if (!i->attr("id").empty()) ids.emplace_back(i->attr("id"));
  if (ids.size() > settings_.max_items_per_request) return req.reply.error(bad_request("too many items requested"));
  xml::RsmParse rsm = xml::parse_rsm(ps);
  if (!rsm.error.empty()) return req.reply.error(bad_request(rsm.error));
  ctx_.storage().read([this, svc, node, max_items, ids, rsm = rsm.request, from = req.from(),
                       reply = req.reply](storage::Storage& db) {
    auto n = load(db, svc, node);
    if (!n) return reply.error(no_node(db, svc));
    Requester r = facts(db, svc, *n, from);
    if (n->social) {
      // Social feeds are read post by post (microblog.hpp): only bans and publish-only refuse outright.
      if (r.affiliation == Affiliation::kOutcast || r.affiliation == Affiliation::kPublishOnly)
        return reply.error(forbidden("you may not read this node"));
    } else if (auto err = check_retrieve(n->config, r)) {
      return reply.error(*err);
    }
    if (!n->config.persist_items) return reply.error(unsupported("persistent-items", "this node does not keep items"));
    storage::PubsubItemQuery base;
    if (n->social) base.access_in = visible_access(db, *n, r);
    if (n->config.item_expire) base.published_after = now_ms() - n->config.item_expire * 1000;

    xml::Element out("pubsub", ns::kPubsub);
    xml::Element& items_el = out.add_child("items");
    items_el.set_attr("node", node);
    auto add = [&](const storage::PubsubItem& item) { items_el.add(item_element(item, true, ns::kPubsub)); };

    if (!ids.empty()) {
      // §6.5.8: particular items; missing ones are simply absent (§6.5.9.11), and so are those the
      // requester may not see: the answer does not tell a hidden post from one that never existed.
      for (const auto& id : ids) {
        auto item = visible_item(db, *n, r, id);
        if (!item || (base.published_after && item->published <= base.published_after)) continue;
        add(*item);
      }
      return reply.result(std::move(out));
    }

    size_t cap = settings_.max_items_per_request;
    storage::PubsubItemQuery q = base;
    std::vector<storage::PubsubItem> page;
    std::optional<xml::RsmResult> set;
    if (rsm) {
      // XEP-0059 over the items, newest first: "after" pages towards older items, "before" towards newer.
      size_t max = std::min(rsm->max.value_or(cap), cap);
      bool backwards = false;
      if (rsm->after && !rsm->after->empty()) {
        auto anchor = visible_item(db, *n, r, *rsm->after);
        if (!anchor) return reply.error(item_not_found("no item " + *rsm->after + " in this node"));  // XEP-0059 §2.6
        q.older_than_seq = anchor->seq;
      }
      if (rsm->before) {
        backwards = true;
        if (!rsm->before->empty()) {
          auto anchor = visible_item(db, *n, r, *rsm->before);
          if (!anchor) return reply.error(item_not_found("no item " + *rsm->before + " in this node"));
          q.newer_than_seq = anchor->seq;
        }
        q.oldest_first = true;
      }
      if (rsm->index && !rsm->after && !rsm->before) q.offset = *rsm->index;
      q.limit = max;
      if (max > 0) page = db.pubsub().items(n->row.id, q);
      if (backwards) std::reverse(page.begin(), page.end());
      xml::RsmResult res;
      res.count = db.pubsub().count_items(n->row.id, base);
      if (!page.empty()) {
        res.first = page.front().id;
        res.last = page.back().id;
        if (rsm->index && !rsm->after && !rsm->before) res.first_index = *rsm->index;
        else if (!rsm->after && !rsm->before) res.first_index = 0;
        else if (rsm->before && rsm->before->empty()) res.first_index = *res.count - page.size();
      }
      set = res;
    } else {
      // §6.5.7: the N most recent; otherwise everything, truncated with an RSM notice (§6.5.4).
      q.limit = max_items ? std::min(*max_items, cap) : cap;
      if (q.limit > 0) page = db.pubsub().items(n->row.id, q);
      if (!max_items && page.size() == cap) {
        size_t count = db.pubsub().count_items(n->row.id, base);
        if (count > cap) set = xml::RsmResult{page.front().id, page.back().id, 0, count};
      }
    }
    for (const auto& item : page) add(item);
    if (set) out.add(xml::to_element(*set));
    reply.result(std::move(out));
  });
}

std::optional<Engine::PublicItems> Engine::public_items(storage::Storage& db, const Service& svc, const std::string& node,
                                                       const std::string& after, size_t limit) const {
  auto n = load(db, svc, node);
  if (!n || !n->config.persist_items) return std::nullopt;
  Requester anyone;  // no affiliation, no presence subscription: the public
  storage::PubsubItemQuery q;
  if (n->social) q.access_in = visible_access(db, *n, anyone);
  else if (check_retrieve(n->config, anyone)) return std::nullopt;
  if (n->config.item_expire) q.published_after = now_ms() - n->config.item_expire * 1000;
  if (!after.empty())
    if (auto anchor = visible_item(db, *n, anyone, after)) q.older_than_seq = anchor->seq;
  q.limit = limit + 1;
  PublicItems out;
  out.items = db.pubsub().items(n->row.id, q);
  if (out.items.size() > limit) {
    out.items.resize(limit);
    out.more = true;
  }
  out.node = std::move(*n);
  return out;
}

}  // namespace causerie::modules::pubsub
