// XEP-0060 v1.30.0 §8.1–§8.5 (create, configure, default, delete, purge) and §5 (discovery of the
// service, its nodes, their meta-data and items).
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/engine.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"
#include "modules/pubsub/tags.hpp"
#include "storage/account_store.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr size_t kMaxNodeName = 1024;

const xml::Element* form_in(const xml::Element* parent) {
  return parent ? parent->child("x", ns::kDataForms) : nullptr;
}

xml::Element owner_pubsub() { return xml::Element("pubsub", ns::kPubsubOwner); }

// §5.4: the node's meta-data (XEP-0128 extension of its disco#info), with XEP-0472's item count.
std::vector<std::string> opt(const std::string& v) { return v.empty() ? std::vector<std::string>{} : std::vector<std::string>{v}; }

xml::Element meta_data(const NodeState& n, const std::vector<storage::PubsubAffiliation>& affs, size_t subscribers,
                       size_t items) {
  xml::DataForm f;
  f.type = "result";
  f.add("FORM_TYPE", "hidden", {ns::kPubsubMetaData});
  f.add("pubsub#type", "text-single", opt(n.config.type), "Payload type");
  f.add("pubsub#creator", "jid-single", {n.row.creator}, "Node creator");
  f.add("pubsub#creation_date", "text-single",
        {util::format_datetime(util::SystemTime(std::chrono::milliseconds(n.row.created)))}, "Creation date");
  f.add("pubsub#title", "text-single", opt(n.config.title), "A short name for the node");
  f.add("pubsub#description", "text-single", opt(n.config.description), "A description of the node");
  add_language_field(f, n.config.language, "Default language");
  f.add("pubsub#contact", "jid-multi", n.config.contact, "People to contact with questions");
  f.add("pubsub#access_model", "list-single", {to_string(n.config.access_model)}, "Access model");
  f.add("pubsub#publish_model", "list-single", {to_string(n.config.publish_model)}, "Publish model");
  f.add("pubsub#max_items", "text-single",
        {n.config.max_items_max ? std::string("max") : std::to_string(n.config.max_items)}, "Max # of items to persist");
  std::vector<std::string> owners, publishers;
  for (const auto& a : affs) {
    if (a.affiliation == "owner") owners.push_back(a.jid);
    else if (a.affiliation == "publisher") publishers.push_back(a.jid);
  }
  f.add("pubsub#owner", "jid-multi", owners, "Node owners");
  f.add("pubsub#publisher", "jid-multi", publishers, "Publishers to this node");
  f.add("pubsub#num_subscribers", "text-single", {std::to_string(subscribers)}, "Number of subscribers to this node");
  // XEP-0068 §3.2: a field this project adds to a registered form type is namespaced in Clark notation.
  f.add("{urn:causerie:pubsub}num_items", "text-single", {std::to_string(items)}, "Number of items");
  return f.to_element();
}

}  // namespace

void Engine::create(IqRequest& req, const Service& svc) {
  const xml::Element& ps = req.payload();
  const xml::Element* create_el = ps.child("create", ns::kPubsub);
  const xml::Element* conf = ps.child("configure", ns::kPubsub);
  std::string node(create_el->attr("node"));
  // §8.1.3: <configure/> carries no node of its own.
  if (conf && conf->has_attr("node")) return req.reply.error(bad_request("<configure/> must not name a node when creating"));
  if (node.size() > kMaxNodeName) return req.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "node name too long"));
  if (!may_create(svc, req.from()))
    return req.reply.error(forbidden(svc.pep ? "only the account itself may create nodes on its PEP service"
                                             : "you may not create nodes on this service"));
  // XEP-0470 §"Manual Node Creation Rejection".
  if (is_attachments_node(node) || is_summary_node(node))
    return req.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "attachments and summary nodes are created by the service"));
  if (is_service_kept_node(node)) return req.reply.error(forbidden("public subscription nodes are created by the service"));
  if (node.empty()) node = util::random_id(12);  // §8.1.2: an instant node
  NodeConfig config = defaults_for(svc, node);
  if (const xml::Element* x = form_in(conf)) {
    auto form = xml::DataForm::parse(*x);
    if (form && form->type != "cancel") {
      auto applied = apply_config_form(config, *form, settings_.limits);
      if (!applied) return req.reply.error(applied.error());
      config = *applied;
    }
  }
  std::string creator = bare_string(req.from());
  ctx_.storage().write([this, svc, node, config, creator, reply = req.reply](storage::Storage& db) mutable -> Completion {
    if (db.pubsub().node(svc.jid, node)) {
      reply.error(StanzaError(StanzaErrorCondition::kConflict, "the node already exists"));  // §8.1.3.4
      return nullptr;
    }
    if (auto quota = node_quota(db, svc, creator)) {
      reply.error(*quota);
      return nullptr;
    }
    NodeState n;
    n.row.node = node;
    n.config = config;
    inherit_post_access(db, svc, n, creator);
    storage::PubsubNode row{0, svc.jid, node, serialize_config(n.config, settings_.limits), creator, now_ms(), 0};
    int64_t id = db.pubsub().create_node(row);
    if (!id) {
      reply.error(StanzaError(StanzaErrorCondition::kConflict, "the node already exists"));
      return nullptr;
    }
    db.pubsub().set_affiliation(id, creator, "owner");
    return [reply, node] {
      xml::Element ps("pubsub", ns::kPubsub);
      ps.add_child("create").set_attr("node", node);
      reply.result(std::move(ps));
    };
  });
}

void Engine::inherit_post_access(storage::Storage& db, const Service& svc, NodeState& comments,
                                 const std::string& creator) const {
  if (svc.pep || !is_comments_node(comments.row.node)) return;
  std::string post_id = comments.row.node.substr(kCommentsPrefix.size());
  auto author = service_at(creator);
  if (!author || !author->pep) return;
  auto blog = load(db, *author, ns::kMicroblog);
  if (!blog) return;
  auto post = db.pubsub().item(blog->row.id, post_id);
  if (!post) return;
  // A per-post audience: the comments node lets in the same roster groups of the same owner (§4.5).
  Visibility v = with_groups(visibility_of(*blog, *post), blog->config);
  comments.config.access_model = v.model;
  if (v.groups) comments.config.roster_groups_allowed = *v.groups;
}

void Engine::sync_comments_access(storage::Storage& db, const std::string& author, const Visibility& visibility,
                                  const xml::Element& entry) const {
  auto link = comments_link(entry);
  if (!link) return;
  auto svc = service_at(link->service);
  if (!svc || svc->pep) return;
  auto node = load(db, *svc, link->node);
  if (!node) return;
  // Only the post's author steers the comments node it links to: it must own that node.
  if (db.pubsub().affiliation(node->row.id, author) != std::optional<std::string>("owner")) return;
  NodeConfig config = node->config;
  config.access_model = visibility.model;
  if (visibility.groups) config.roster_groups_allowed = *visibility.groups;
  if (config == node->config) return;
  node->config = std::move(config);
  db.pubsub().set_node_config(node->row.id, serialize_config(node->config, settings_.limits));
}

void Engine::configure_get(IqRequest& req, const Service& svc) {
  std::string node(req.payload().child("configure", ns::kPubsubOwner)->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  ctx_.storage().read([this, svc, node, from = req.from(), reply = req.reply](storage::Storage& db) {
    auto n = load_for(db, svc, node, from, check_owner, reply);
    if (!n) return;
    xml::Element ps = owner_pubsub();
    xml::Element& c = ps.add_child("configure");
    c.set_attr("node", node);
    c.add(config_form(n->config, settings_.limits).to_element());
    reply.result(std::move(ps));
  });
}

void Engine::configure_set(IqRequest& req, const Service& svc) {
  const xml::Element* conf = req.payload().child("configure", ns::kPubsubOwner);
  std::string node(conf->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  const xml::Element* x = form_in(conf);
  auto form = x ? xml::DataForm::parse(*x) : std::nullopt;
  if (!form) return req.reply.error(bad_request("a configuration form is required"));
  bool cancel = form->type == "cancel";  // §8.2.5: the configuration stays as it is
  ctx_.storage().write([this, svc, node, form = *form, cancel, from = req.from(),
                        reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto n = load_for(db, svc, node, from, check_owner, reply);
    if (!n) return nullptr;
    if (cancel) return [reply] { reply.result(); };
    auto applied = apply_config_form(n->config, form, settings_.limits);
    if (!applied) {
      reply.error(applied.error());
      return nullptr;
    }
    NodeState updated = *n;
    updated.config = *applied;
    inherit_post_access(db, svc, updated, n->row.creator);  // a comments node keeps its post's visibility
    db.pubsub().set_node_config(n->row.id, serialize_config(updated.config, settings_.limits));
    for (const auto& observer : config_observers_) observer(db, svc, updated);
    if (!updated.config.notify_config) return [reply] { reply.result(); };
    // §8.2.6: subscribers hear of the change, with the new form when payloads are delivered.
    FanOut fan = plan(audience(db, svc, updated), svc, updated, std::nullopt);
    xml::Element c("configuration", ns::kPubsubEvent);
    c.set_attr("node", node);
    if (updated.config.deliver_payloads) {
      xml::DataForm result = config_form(updated.config, settings_.limits);
      result.type = "result";
      c.add(result.to_element());
    }
    xml::Element msg = event_message(updated, std::move(c));
    return [this, reply, fan = std::move(fan), msg = std::move(msg)]() mutable {
      reply.result();
      notifier_.send(std::move(fan), std::move(msg));
    };
  });
}

void Engine::default_config(IqRequest& req, const Service& svc) {
  const xml::Element* d = req.payload().child("default", ns::kPubsubOwner);
  std::string_view type = d->attr("type");
  if (!type.empty() && type != "leaf") return req.reply.error(unsupported("collections", "only leaf nodes are supported"));
  xml::Element ps = owner_pubsub();
  ps.add_child("default").add(config_form(defaults_for(svc, ""), settings_.limits).to_element());
  req.reply.result(std::move(ps));
}

void Engine::delete_node(IqRequest& req, const Service& svc) {
  const xml::Element* d = req.payload().child("delete", ns::kPubsubOwner);
  std::string node(d->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  if (is_service_kept_node(node)) return req.reply.error(forbidden("this node is maintained by the service"));
  std::string redirect;
  if (const xml::Element* r = d->child("redirect", ns::kPubsubOwner)) redirect = std::string(r->attr("uri"));
  ctx_.storage().write([this, svc, node, redirect, from = req.from(), reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto n = load_for(db, svc, node, from, check_owner, reply);
    if (!n) return nullptr;
    // §8.4.2: every subscriber (pending ones too) hears of the deletion, with the redirect if any.
    std::optional<FanOut> fan;
    if (n->config.notify_delete) {
      Audience a = audience(db, svc, *n);
      for (auto& s : a.subscriptions)
        if (s.state == "pending" || s.state == "unconfigured") s.state = "subscribed";
      fan = plan(a, svc, *n, std::nullopt);
    }
    db.pubsub().delete_node(n->row.id);
    xml::Element del("delete", ns::kPubsubEvent);
    del.set_attr("node", node);
    if (!redirect.empty()) del.add_child("redirect").set_attr("uri", redirect);
    xml::Element msg = event_message(*n, std::move(del));
    return [this, reply, fan = std::move(fan), msg = std::move(msg)]() mutable {
      reply.result();
      if (fan) notifier_.send(std::move(*fan), std::move(msg));
    };
  });
}

void Engine::purge(IqRequest& req, const Service& svc) {
  std::string node(req.payload().child("purge", ns::kPubsubOwner)->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  if (is_service_kept_node(node)) return req.reply.error(forbidden("this node is maintained by the service"));
  ctx_.storage().write([this, svc, node, from = req.from(), reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto n = load_for(db, svc, node, from, check_purge, reply);
    if (!n) return nullptr;
    if (!n->config.persist_items) {
      reply.error(unsupported("persistent-items", "this node does not keep items"));  // §8.5.3.3
      return nullptr;
    }
    db.pubsub().purge_items(n->row.id);
    if (!n->config.notify_retract) return [reply] { reply.result(); };
    // §8.5.2: one <purge/> notification rather than one retraction per item.
    FanOut fan = plan(audience(db, svc, *n), svc, *n, std::nullopt);
    xml::Element p("purge", ns::kPubsubEvent);
    p.set_attr("node", node);
    xml::Element msg = event_message(*n, std::move(p));
    return [this, reply, fan = std::move(fan), msg = std::move(msg)]() mutable {
      reply.result();
      notifier_.send(std::move(fan), std::move(msg));
    };
  });
}

// --- discovery ---

namespace {
const char* kServiceFeatures[] = {
    "access-authorize", "access-open", "access-presence", "access-roster", "access-whitelist", "auto-create",
    "auto-subscribe", "config-node", "create-and-configure", "create-nodes", "delete-items", "delete-nodes",
    "filtered-notifications", "instant-nodes", "item-ids", "last-published", "manage-subscriptions",
    "member-affiliation", "meta-data", "modify-affiliations", "multi-items", "outcast-affiliation",
    "persistent-items", "presence-notifications", "presence-subscribe", "publish", "publish-options",
    "publish-only-affiliation", "publisher-affiliation", "purge-nodes", "retract-items", "retrieve-affiliations",
    "retrieve-default", "retrieve-default-sub", "retrieve-items", "retrieve-subscriptions", "rsm", "subscribe",
    "subscription-notifications", "subscription-options", "item-expire"};
}  // namespace

std::vector<std::string> pubsub_features() {
  std::vector<std::string> out = {ns::kPubsub, ns::kPubsubOwner, ns::kDiscoInfo, ns::kDiscoItems};
  for (const char* f : kServiceFeatures) out.push_back(std::string(ns::kPubsub) + "#" + f);
  out.push_back(ns::kSocialFeed);  // XEP-0472 §3
  out.emplace_back(kAttachmentsNs);
  out.emplace_back(kPpsNs);  // XEP-0465 (subscriptions made directly to our services, no XEP-0376 PAM)  // XEP-0470: fully compliant (checks, automatic and summary nodes)
  return out;
}

void Engine::disco_info(IqRequest& req, const Service& svc) {
  std::string node(req.payload().attr("node"));
  if (node.empty()) {
    // §5.1 (the PEP account itself is described by the disco module's account answer).
    xml::Element q = DiscoRegistry::info_query({{"pubsub", "service", "Publish-Subscribe"}}, pubsub_features());
    return req.reply.result(std::move(q));
  }
  ctx_.storage().read([this, svc, node, from = req.from(), reply = req.reply](storage::Storage& db) {
    auto n = load(db, svc, node);
    if (!n) return reply.error(no_node(db, svc));
    Requester r = facts(db, svc, *n, from);
    // Nodes the requester can neither read nor subscribe to are not disclosed (XEP-0163 §8).
    bool visible = n->social ? (r.affiliation != Affiliation::kOutcast) : (!check_retrieve(n->config, r) || check_subscribe(n->config, r));
    if (!visible) return reply.error(item_not_found("no such node"));
    // §5.3: identity pubsub/leaf; §5.4: meta-data.
    xml::Element q = DiscoRegistry::info_query({{"pubsub", "leaf", ""}}, {ns::kPubsub}, node);
    size_t subscribers = 0;
    for (const auto& s : db.pubsub().subscriptions(n->row.id))
      if (s.state == "subscribed") ++subscribers;
    storage::PubsubItemQuery iq;
    if (n->social) iq.access_in = visible_access(db, *n, r);
    if (n->config.item_expire) iq.published_after = now_ms() - n->config.item_expire * 1000;
    q.add(meta_data(*n, db.pubsub().affiliations(n->row.id), subscribers, db.pubsub().count_items(n->row.id, iq)));
    reply.result(std::move(q));
  });
}

namespace {
constexpr std::string_view kGalleryType = "urn:xmpp:pubsub-social-feed:gallery:1";  // XEP-0472 §"Gallery profile"
constexpr size_t kPicturesLooked = 5;
}  // namespace

void Engine::list_channels(const std::string& host, std::function<void(std::vector<ChannelInfo>)> done) {
  std::vector<Service> services;
  for (const auto& d : service_domains(host)) services.push_back(Service{d, false, host});
  ctx_.storage().read([this, services, done = std::move(done)](storage::Storage& db) {
    std::vector<ChannelInfo> out;
    for (const auto& svc : services) {
      for (auto& row : db.pubsub().nodes(svc.jid, settings_.max_nodes_listed)) {
        if (row.node.starts_with(kCommentsPrefix)) continue;
        NodeConfig config = parse_config(row.config, defaults_for(svc, row.node), settings_.limits);
        if (config.access_model != AccessModel::kOpen) continue;
        // The channel's address is a JID (XEP-0433 §7.2): node@service, for nodes whose name is a
        // valid localpart; the exact node name goes with it.
        auto address = Jid::from_parts(row.node, svc.jid);
        if (!address) continue;
        ChannelInfo c;
        c.address = address->str();
        c.node = row.node;
        c.service_type = "{urn:causerie:channel-search}pubsub";
        c.name = config.title.empty() ? row.node : config.title;
        c.description = config.description;
        c.language = config.language;
        size_t subscribers = 0;
        for (const auto& sub : db.pubsub().subscriptions(row.id))
          if (sub.state == "subscribed") ++subscribers;
        c.nusers = subscribers;
        c.is_open = true;
        // The explore extension: type, size, last activity and a picture (the newest image enclosure
        // among the latest posts: a gallery's latest picture, a blog's latest illustrated post).
        c.kind = config.type == kGalleryType ? "gallery"
                 : config.type.empty() || is_social_feed(row.node, config) ? "blog"
                                                                           : config.type;
        c.items = static_cast<size_t>(row.item_count);
        storage::PubsubItemQuery latest;
        latest.limit = kPicturesLooked;
        for (const auto& item : db.pubsub().items(row.id, latest)) {
          if (c.last_activity == 0) c.last_activity = item.published;
          if (!c.avatar.empty() || item.payload.find("enclosure") == std::string::npos) continue;
          if (auto entry = xml::parse_fragment(item.payload)) c.avatar = entry_image(*entry);
        }
        out.push_back(std::move(c));
      }
    }
    done(std::move(out));
  });
}

void Engine::disco_items(IqRequest& req, const Service& svc) {
  std::string node(req.payload().attr("node"));
  ctx_.storage().read([this, svc, node, from = req.from(), reply = req.reply](storage::Storage& db) {
    xml::Element q("query", ns::kDiscoItems);
    if (node.empty()) {
      // §5.2: the nodes the requester may use.
      auto rows = db.pubsub().nodes(svc.jid, settings_.max_nodes_listed);
      if (svc.pep && rows.empty() && !db.accounts().exists(svc.jid))
        return reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));  // RFC 6121 §8.5.1
      for (auto& row : rows) {
        NodeState n;
        n.config = parse_config(row.config, defaults_for(svc, row.node), settings_.limits);
        n.social = is_social_feed(row.node, n.config);
        n.row = std::move(row);
        Requester r = facts(db, svc, n, from);
        bool visible = n.social ? r.affiliation != Affiliation::kOutcast
                                : (!check_retrieve(n.config, r) || check_subscribe(n.config, r).has_value());
        if (!visible) continue;
        xml::Element& i = q.add_child("item");
        i.set_attr("jid", svc.jid).set_attr("node", n.row.node);
        if (!n.config.title.empty()) i.set_attr("name", n.config.title);
      }
      return reply.result(std::move(q));
    }
    // §5.5: a node's items, by id.
    auto n = load(db, svc, node);
    if (!n) return reply.error(item_not_found("no such node"));
    Requester r = facts(db, svc, *n, from);
    storage::PubsubItemQuery iq;
    if (n->social) {
      if (r.affiliation == Affiliation::kOutcast) return reply.error(forbidden());
      iq.access_in = visible_access(db, *n, r);
    } else if (auto err = check_retrieve(n->config, r)) {
      return reply.error(*err);
    }
    if (n->config.item_expire) iq.published_after = now_ms() - n->config.item_expire * 1000;
    iq.limit = settings_.max_items_per_request;
    q.set_attr("node", node);
    for (const auto& item : db.pubsub().items(n->row.id, iq)) {
      xml::Element& i = q.add_child("item");
      i.set_attr("jid", svc.jid).set_attr("name", item.id);
    }
    reply.result(std::move(q));
  });
}

}  // namespace causerie::modules::pubsub
