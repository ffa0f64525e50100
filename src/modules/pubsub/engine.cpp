// XEP-0060 v1.30.0: request dispatch and the helpers every storage job of the engine shares.
#include "modules/pubsub/engine.hpp"

#include <algorithm>
#include <chrono>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"
#include "storage/account_store.hpp"

namespace causerie::modules::pubsub {

int64_t now_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall().time_since_epoch()).count();
}

int64_t Engine::now_ms() const { return pubsub::now_ms(ctx_.clock()); }

std::string bare_string(const Jid& j) { return std::string(j.bare_view()); }

bool has_presence_from(storage::Subscription s) {
  return s == storage::Subscription::kFrom || s == storage::Subscription::kBoth;
}

Engine::Engine(ModuleContext& ctx, Settings settings, CapsTracker& caps, Notifier& notifier)
    : ctx_(ctx), settings_(std::move(settings)), caps_(caps), notifier_(notifier) {}

std::vector<std::string> Engine::service_domains(const std::string& host) const {
  std::vector<std::string> out;
  for (const auto& p : settings_.service_prefixes) out.push_back(p + "." + host);
  return out;
}

std::optional<Service> Engine::service_at(std::string_view jid) const {
  size_t at = jid.find('@');
  if (at != std::string_view::npos) {
    std::string_view host = jid.substr(at + 1);
    if (jid.find('/') != std::string_view::npos || !ctx_.router().is_local_host(host)) return std::nullopt;
    return Service{std::string(jid), true, std::string(host)};
  }
  for (const auto& host : ctx_.router().local_hosts())
    for (const auto& d : service_domains(host))
      if (d == jid) return Service{d, false, host};
  return std::nullopt;
}

void Engine::handle(IqRequest& req, const Service& svc) {
  const xml::Element& ps = req.payload();
  bool owner_ns = ps.ns() == ns::kPubsubOwner;
  // The action is the first child; an RSM <set/> may come before it (Movim sends it first).
  const xml::Element* action = nullptr;
  for (const auto& c : ps.nodes()) {
    if (c.is_text() || c.is("set", ns::kRsm)) continue;
    action = &c;
    break;
  }
  if (!action) {
    req.reply.error(bad_request("no pubsub action in the request"));
    return;
  }
  const std::string& name = action->name();
  bool set = req.is_set();
  auto wrong_type = [&] { req.reply.error(bad_request("<" + name + "/> is not allowed in an iq of type " + std::string(req.stanza.type()))); };
  if (!owner_ns) {
    if (name == "publish") return set ? publish(req, svc) : wrong_type();
    if (name == "items") return set ? wrong_type() : items(req, svc);
    if (name == "retract") return set ? retract(req, svc) : wrong_type();
    if (name == "subscribe") return set ? subscribe(req, svc) : wrong_type();
    if (name == "unsubscribe") return set ? unsubscribe(req, svc) : wrong_type();
    if (name == "create") return set ? create(req, svc) : wrong_type();
    if (name == "options") return options(req, svc);
    if (name == "subscriptions") return set ? wrong_type() : own_subscriptions(req, svc);
    if (name == "affiliations") return set ? wrong_type() : own_affiliations(req, svc);
    if (name == "default") return set ? wrong_type() : default_options(req);
    // §6.1.2 / §6.3: <configure/> and <publish-options/> only accompany create and publish.
  } else {
    if (name == "configure") return set ? configure_set(req, svc) : configure_get(req, svc);
    if (name == "default") return set ? wrong_type() : default_config(req, svc);
    if (name == "delete") return set ? delete_node(req, svc) : wrong_type();
    if (name == "purge") return set ? purge(req, svc) : wrong_type();
    if (name == "subscriptions") return manage_subscriptions(req, svc);
    if (name == "affiliations") return manage_affiliations(req, svc);
  }
  req.reply.error(StanzaError(StanzaErrorCondition::kFeatureNotImplemented, "unsupported pubsub request <" + name + "/>"));
}

// --- job helpers ---

NodeConfig Engine::defaults_for(const Service& svc, std::string_view node) const {
  NodeConfig c = pubsub::default_config(svc.pep, settings_.limits);
  if (is_comments_node(node)) return comments_defaults(c);
  if (node == ns::kMicroblog) {
    // XEP-0277 §7.1: announce retractions, keep many posts, do not push the last post at every login.
    c.max_items_max = true;
    c.send_last_published_item = SendLastItem::kNever;
  } else if (node == ns::kBookmarks || node == ns::kMdsDisplayed) {
    // XEP-0402 §"Adding a bookmark", XEP-0490 §"Flagging chat as displayed": private, one item per room
    // or chat, never pushed at login; what a client that omits its publish-options still gets.
    c.access_model = AccessModel::kWhitelist;
    c.max_items_max = true;
    c.send_last_published_item = SendLastItem::kNever;
  } else if (node == ns::kVcard4) {
    // XEP-0292 §"Publication": each publish carries the entire vCard, so one item is the vCard; who
    // reads it is the PEP default's (presence) unless the owner opens it.
    c.max_items = 1;
  }
  return c;
}

std::optional<NodeState> Engine::load(storage::Storage& db, const Service& svc, std::string_view node) const {
  auto row = db.pubsub().node(svc.jid, node);
  if (!row) return std::nullopt;
  NodeState n;
  n.config = parse_config(row->config, defaults_for(svc, node), settings_.limits);
  n.social = is_social_feed(node, n.config);
  n.row = std::move(*row);
  return n;
}

StanzaError Engine::no_node(storage::Storage& db, const Service& svc) const {
  if (svc.pep && !db.accounts().exists(svc.jid)) return StanzaError(StanzaErrorCondition::kServiceUnavailable);
  return item_not_found("no such node");
}

std::optional<NodeState> Engine::load_for(storage::Storage& db, const Service& svc, const std::string& node,
                                          const Jid& from, Permission allowed, const IqResponder& reply) const {
  auto n = load(db, svc, node);
  if (!n) {
    reply.error(no_node(db, svc));
    return std::nullopt;
  }
  if (auto err = allowed(facts(db, svc, *n, from))) {
    reply.error(*err);
    return std::nullopt;
  }
  return n;
}

void Engine::run(bool set, AnsweringJob job, const IqResponder& reply) {
  if (!set) {
    ctx_.storage().read([job = std::move(job), reply](storage::Storage& db) { job(db, reply); });
    return;
  }
  ctx_.storage().write([job = std::move(job), reply](storage::Storage& db) -> Completion {
    if (!job(db, reply)) return nullptr;
    return [reply] { reply.result(); };  // a no-op when the job already answered (an error with partial success)
  });
}

bool Engine::is_admin(const std::string& host, const std::string& bare) const {
  const HostConfig* h = ctx_.config().find_host(host);
  return h && std::find(h->admins.begin(), h->admins.end(), bare) != h->admins.end();
}

bool Engine::may_create(const Service& svc, const Jid& who) const {
  std::string bare = bare_string(who);
  if (svc.pep) return bare == svc.jid;  // XEP-0163 §3: one publisher (and creator) per PEP service
  switch (settings_.create) {
    case CreatePolicy::kAnyone: return true;
    case CreatePolicy::kAdmins: return is_admin(svc.host, bare);
    case CreatePolicy::kLocalUsers: return who.has_localpart() && ctx_.router().is_local_host(who.domainpart());
  }
  return false;
}

std::optional<StanzaError> Engine::node_quota(storage::Storage& db, const Service& svc, const std::string& creator) const {
  if (!svc.pep && is_admin(svc.host, creator)) return std::nullopt;
  size_t n = db.pubsub().count_nodes(svc.jid, svc.pep ? std::string_view() : std::string_view(creator));
  if (n < settings_.max_nodes_per_owner) return std::nullopt;
  return StanzaError(StanzaErrorCondition::kPolicyViolation,
                     "you have reached this service's limit of " + std::to_string(settings_.max_nodes_per_owner) + " nodes");
}

std::vector<std::string> Engine::local_owners(storage::Storage& db, const Service& svc, const NodeState& n) const {
  if (svc.pep) return {svc.jid};
  std::vector<std::string> out;
  for (const auto& a : db.pubsub().affiliations(n.row.id)) {
    if (a.affiliation != "owner") continue;
    size_t at = a.jid.find('@');
    if (at != std::string::npos && ctx_.router().is_local_host(std::string_view(a.jid).substr(at + 1))) out.push_back(a.jid);
  }
  return out;
}

Requester Engine::facts(storage::Storage& db, const Service& svc, const NodeState& n, const Jid& who) const {
  Requester r;
  std::string bare = bare_string(who);
  // The subscription: the requester's own (full JID), else its bare JID's.
  auto best = [&r](const std::vector<storage::PubsubSubscription>& subs) {
    for (const auto& s : subs)
      if (auto st = parse_sub_state(s.state); st && *st > r.subscription) r.subscription = *st;
  };
  best(db.pubsub().subscriptions_for(n.row.id, who.str()));
  if (who.has_resource()) best(db.pubsub().subscriptions_for(n.row.id, bare));
  if (svc.pep && bare == svc.jid) {
    r.affiliation = Affiliation::kOwner;
    r.presence_subscribed = true;
    return r;
  }
  if (auto a = db.pubsub().affiliation(n.row.id, bare))
    if (auto p = parse_affiliation(*a)) r.affiliation = *p;
  if (!svc.pep && is_admin(svc.host, bare)) r.affiliation = Affiliation::kOwner;
  // Presence and roster facts come from the owners' rosters (§4.5: "subscribed to the owner's presence").
  bool need_roster = svc.pep || n.social || n.config.access_model == AccessModel::kPresence ||
                     n.config.access_model == AccessModel::kRoster;
  if (need_roster) {
    for (const auto& owner : local_owners(db, svc, n)) {
      auto item = db.roster().item(owner, bare);
      if (!item) continue;
      if (has_presence_from(item->subscription)) r.presence_subscribed = true;
      r.groups.insert(r.groups.end(), item->groups.begin(), item->groups.end());
    }
  }
  return r;
}

Engine::Audience Engine::audience(storage::Storage& db, const Service& svc, const NodeState& n) const {
  Audience a;
  std::vector<std::string> owners;
  for (const auto& af : db.pubsub().affiliations(n.row.id)) {
    auto p = parse_affiliation(af.affiliation);
    if (!p) continue;
    a.affiliations[af.jid] = *p;
    if (*p == Affiliation::kOwner) owners.push_back(af.jid);
  }
  a.subscriptions = db.pubsub().subscriptions(n.row.id);
  bool need_roster = svc.pep || n.social || n.config.access_model == AccessModel::kPresence ||
                     n.config.access_model == AccessModel::kRoster;
  if (!need_roster) return a;
  if (svc.pep) owners = {svc.jid};
  for (const auto& owner : owners) {
    size_t at = owner.find('@');
    if (at == std::string::npos || !ctx_.router().is_local_host(std::string_view(owner).substr(at + 1))) continue;
    for (const auto& item : db.roster().items(owner)) {
      auto& c = a.contacts[item.jid];
      c.first = c.first || has_presence_from(item.subscription);
      c.second.insert(c.second.end(), item.groups.begin(), item.groups.end());
    }
  }
  return a;
}

Requester Engine::requester_in(const Audience& a, const Service& svc, const std::string& bare, SubState sub) const {
  Requester r;
  r.subscription = sub;
  if (svc.pep && bare == svc.jid) {
    r.affiliation = Affiliation::kOwner;
    r.presence_subscribed = true;
    return r;
  }
  if (auto it = a.affiliations.find(bare); it != a.affiliations.end()) r.affiliation = it->second;
  if (!svc.pep && is_admin(svc.host, bare)) r.affiliation = Affiliation::kOwner;
  if (auto it = a.contacts.find(bare); it != a.contacts.end()) {
    r.presence_subscribed = it->second.first;
    r.groups = it->second.second;
  }
  return r;
}

FanOut Engine::plan(const Audience& a, const Service& svc, const NodeState& n, std::optional<Visibility> item_access) const {
  FanOut f;
  f.from = svc.jid;
  f.node = n.row.node;
  f.pep = svc.pep;
  // Kept for an offline subscriber only when normal messages and not presence-based delivery.
  f.normal_type = n.config.notification_type == "normal" && !n.config.presence_based_delivery;
  auto allowed = [&](const Requester& r) {
    if (n.social) return may_see(item_access.value_or(Visibility(n.config.access_model)), n.config, r);
    return !check_retrieve(n.config, r);
  };
  for (const auto& s : a.subscriptions) {
    if (s.state != "subscribed") continue;
    std::string bare = s.jid.substr(0, s.jid.find('/'));
    if (!allowed(requester_in(a, svc, bare, SubState::kSubscribed))) continue;
    SubscriptionOptions o = parse_options(s.options);
    if (!o.deliver) continue;
    f.targets.push_back(Target{s.jid, o.include_body, o.show_values});
  }
  if (svc.pep) {
    // XEP-0163 §4.3: the owner, and every contact sharing presence whom the node lets in, are
    // implicitly subscribed; the Notifier keeps the resources that asked "+notify".
    f.implicit.push_back(svc.jid);
    for (const auto& [contact, info] : a.contacts) {
      if (!info.first || contact == svc.jid) continue;
      if (allowed(requester_in(a, svc, contact, SubState::kNone))) f.implicit.push_back(contact);
    }
  }
  return f;
}

std::vector<std::string> Engine::visible_access(storage::Storage& db, const NodeState& n, const Requester& r) const {
  static const AccessModel kAll[] = {AccessModel::kOpen, AccessModel::kPresence, AccessModel::kRoster,
                                     AccessModel::kAuthorize, AccessModel::kWhitelist};
  // Owners and members see everything: no filter, and no need to read the node's audiences.
  if (may_see(Visibility(AccessModel::kRoster, std::vector<std::string>{}), n.config, r)) return {};
  std::vector<std::string> out;
  for (AccessModel m : kAll)
    if (may_see(m, n.config, r)) out.push_back(to_string(m));
  if (may_see(n.config.access_model, n.config, r)) out.push_back("");
  // Per-post audiences: each distinct one in use on the node, judged by the same decision.
  for (auto& stored : db.pubsub().item_audiences(n.row.id, kMaxAudiencesPerNode))
    if (may_see(item_visibility(n.config, stored), n.config, r)) out.push_back(std::move(stored));
  if (out.empty()) out.push_back("\x1f");  // nothing visible: a value no item has
  return out;
}

std::optional<storage::PubsubItem> Engine::visible_item(storage::Storage& db, const NodeState& n, const Requester& r,
                                                        std::string_view id) const {
  auto item = db.pubsub().item(n.row.id, id);
  if (item && n.social && !may_see(visibility_of(n, *item), n.config, r)) return std::nullopt;
  return item;
}

bool Engine::may_read(storage::Storage& db, const Service& svc, const NodeState& n, const storage::PubsubItem& item,
                      const std::string& reader) const {
  auto who = Jid::parse(reader);
  if (!who) return false;
  Requester r = facts(db, svc, n, *who);
  if (n.social) return may_see(visibility_of(n, item), n.config, r);
  return !check_retrieve(n.config, r);
}

Visibility Engine::visibility_of(const NodeState& n, const storage::PubsubItem& item) const {
  if (!n.social) return Visibility(n.config.access_model);
  return item_visibility(n.config, item.access);
}

xml::Element Engine::event_message(const NodeState& n, xml::Element payload) const {
  xml::Element m("message", ns::kClient);
  if (n.config.notification_type == "headline") m.set_attr("type", "headline");
  m.set_attr("id", notifier_.next_id());
  m.add_child("event", ns::kPubsubEvent).add(std::move(payload));
  return m;
}

xml::Element Engine::item_element(const storage::PubsubItem& item, bool with_payload, const char* ns) const {
  xml::Element el("item", ns);
  el.set_attr("id", item.id);
  if (!item.publisher.empty()) el.set_attr("publisher", item.publisher);
  if (with_payload && !item.payload.empty())
    if (auto p = xml::parse_fragment(item.payload)) el.add(std::move(*p));
  return el;
}

}  // namespace causerie::modules::pubsub
