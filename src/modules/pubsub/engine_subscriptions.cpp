// XEP-0060 v1.30.0 §6.1–§6.4 (subscribe, unsubscribe, options), §5.6–§5.7 (one's own subscriptions and
// affiliations), §8.6–§8.9 (approval of pending subscriptions, subscription and affiliation management),
// §6.1.7 and XEP-0163 §4.3.2 (sending the last published item).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/account_events.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/engine.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules::pubsub {

namespace {

xml::Element subscription_element(const std::string& node, const storage::PubsubSubscription& s, const char* ns) {
  xml::Element e("subscription", ns);
  if (!node.empty()) e.set_attr("node", node);
  e.set_attr("jid", s.jid);
  if (!s.subid.empty()) e.set_attr("subid", s.subid);
  e.set_attr("subscription", s.state);
  return e;
}

// The subscriber a request names ('jid'), by default the requester's bare JID.
tl::expected<Jid, StanzaError> subscriber_of(const xml::Element& el, const Jid& from) {
  if (!el.has_attr("jid")) return from.bare();
  auto j = Jid::parse(el.attr("jid"));
  if (!j) return tl::unexpected(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-jid", "malformed JID"));
  return *j;
}

const storage::PubsubSubscription* pick(const std::vector<storage::PubsubSubscription>& subs, std::string_view subid) {
  for (const auto& s : subs)
    if (subid.empty() || s.subid == subid) return &s;
  return nullptr;
}

}  // namespace

std::optional<xml::Element> Engine::last_item_message(storage::Storage& db, const NodeState& n, const Requester& r) const {
  if (!n.config.persist_items) return std::nullopt;
  storage::PubsubItemQuery q;
  if (n.social) q.access_in = visible_access(db, n, r);
  if (n.config.item_expire) q.published_after = now_ms() - n.config.item_expire * 1000;
  q.limit = 1;
  auto items = db.pubsub().items(n.row.id, q);
  if (items.empty()) return std::nullopt;
  xml::Element items_el("items", ns::kPubsubEvent);
  items_el.set_attr("node", n.row.node);
  items_el.add(item_element(items.front(), n.config.deliver_payloads, ns::kPubsubEvent));
  xml::Element msg = event_message(n, std::move(items_el));
  // XEP-0203: it is not news, it was published then.
  xml::Element& delay = msg.add_child("delay", ns::kDelay);
  delay.set_attr("stamp", util::format_datetime(util::SystemTime(std::chrono::milliseconds(items.front().published))));
  return msg;
}

void Engine::notify_subscription(const Service& svc, const std::string& node, const storage::PubsubSubscription& sub,
                                 const std::string& state) const {
  // §8.8.4 / §12.7: tell the subscriber its subscription's new state.
  xml::Element msg("message", ns::kClient);
  msg.set_attr("id", notifier_.next_id());
  storage::PubsubSubscription s = sub;
  s.state = state;
  msg.add_child("event", ns::kPubsubEvent).add(subscription_element(node, s, ns::kPubsubEvent));
  notifier_.send_one(svc.jid, sub.jid, std::move(msg));
}

void Engine::request_approval(const Service& svc, const NodeState& n, const std::vector<std::string>& owners,
                              const storage::PubsubSubscription& sub) const {
  // §8.6: a form each owner submits with pubsub#allow; sent as a normal message, so an owner who is
  // offline finds it at the next login.
  for (const auto& owner : owners) {
    xml::DataForm f;
    f.type = "form";
    f.title = "PubSub subscriber request";
    f.instructions = "To approve this entity's subscription request, set pubsub#allow and submit the form.";
    f.add("FORM_TYPE", "hidden", {ns::kPubsubSubscribeAuthorization});
    f.add("pubsub#subid", "hidden", {sub.subid});
    f.add("pubsub#node", "text-single", {n.row.node}, "Node ID");
    f.add("pubsub#subscriber_jid", "jid-single", {sub.jid}, "Subscriber Address");
    f.add("pubsub#allow", "boolean", {"false"}, "Allow this JID to subscribe to this pubsub node?");
    xml::Element msg("message", ns::kClient);
    msg.set_attr("id", notifier_.next_id());
    msg.add_text_child("body", sub.jid + " asks to subscribe to " + n.row.node + " on " + svc.jid);
    msg.add(f.to_element());
    notifier_.send_one(svc.jid, owner, std::move(msg));
  }
}

void Engine::subscribe(IqRequest& req, const Service& svc) {
  const xml::Element& ps = req.payload();
  const xml::Element* sub = ps.child("subscribe", ns::kPubsub);
  std::string node(sub->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  auto jid = subscriber_of(*sub, req.from());
  if (!jid) return req.reply.error(jid.error());
  if (jid->bare() != req.from().bare())
    return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-jid",
                                        "you may subscribe only your own JID"));  // §6.1.3.1
  // XEP-0465: <public/> makes the subscription public (recorded once it is "subscribed").
  const bool make_public = sub->child("public", kPpsNs) != nullptr;
  if (make_public && is_service_kept_node(node)) return req.reply.error(bad_request("this node cannot be followed publicly"));
  // §6.3.7: subscribe and configure in one request.
  SubscriptionOptions opts;
  if (const xml::Element* o = ps.child("options", ns::kPubsub)) {
    if (o->has_attr("node") || o->has_attr("jid")) return req.reply.error(bad_request("<options/> here names no node or JID"));
    if (const xml::Element* x = o->child("x", ns::kDataForms)) {
      auto form = xml::DataForm::parse(*x);
      if (!form) return req.reply.error(bad_request("malformed options form"));
      auto applied = apply_options_form(opts, *form);
      if (!applied) return req.reply.error(applied.error());
      opts = *applied;
    }
  }
  ctx_.storage().write([this, svc, node, jid = *jid, opts, make_public, reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto n = load(db, svc, node);
    if (!n) {
      reply.error(no_node(db, svc));  // §6.1.3.12
      return nullptr;
    }
    auto existing = db.pubsub().subscriptions_for(n->row.id, jid.str());
    storage::PubsubSubscription s;
    bool fresh = false;
    if (const auto* e = pick(existing, ""); e && e->state == "subscribed") {
      s = *e;  // §6.1.6: one subscription per JID; asking again returns it
    } else {
      Requester r = facts(db, svc, *n, jid);
      auto outcome = check_subscribe(n->config, r);
      if (!outcome) {
        reply.error(outcome.error());
        return nullptr;
      }
      s.jid = jid.str();
      s.subid = existing.empty() ? util::random_id(9) : existing.front().subid;
      s.state = *outcome == SubscribeOutcome::kPending ? "pending" : "subscribed";
      s.options = serialize_options(opts);
      db.pubsub().put_subscription(n->row.id, s);
      fresh = true;
      if (s.state == "subscribed")
        for (const auto& observer : sub_observers_) observer(db, svc, *n, bare_string(jid));
    }
    if (make_public && s.state == "subscribed") set_public_subscription(db, svc, *n, bare_string(jid), true);
    std::vector<std::string> owners;
    if (svc.pep) owners.push_back(svc.jid);
    else
      for (const auto& a : db.pubsub().affiliations(n->row.id))
        if (a.affiliation == "owner") owners.push_back(a.jid);
    std::optional<xml::Element> last;
    if (s.state == "subscribed" && n->config.send_last_published_item != SendLastItem::kNever)
      last = last_item_message(db, *n, facts(db, svc, *n, jid));  // §6.1.7
    std::optional<AccountEvent> follow;
    if (fresh && s.state == "subscribed") follow = follow_event(svc, *n, bare_string(jid));
    NodeState state = *n;
    return [this, svc, state, s, fresh, owners, last = std::move(last), reply, follow]() mutable {
      xml::Element ps("pubsub", ns::kPubsub);
      ps.add(subscription_element(state.row.node, s, ns::kPubsub));
      reply.result(std::move(ps));
      if (s.state == "pending") request_approval(svc, state, owners, s);
      if (follow) ctx_.router().account_event(*follow);
      // pubsub#notify_sub: owners hear of new subscribers.
      if (fresh && s.state == "subscribed" && state.config.notify_sub)
        for (const auto& owner : owners) {
          xml::Element msg("message", ns::kClient);
          msg.set_attr("id", notifier_.next_id());
          msg.add_child("event", ns::kPubsubEvent).add(subscription_element(state.row.node, s, ns::kPubsubEvent));
          notifier_.send_one(svc.jid, owner, std::move(msg));
        }
      if (last) notifier_.send_one(svc.jid, s.jid, std::move(*last));
    };
  });
}

void Engine::unsubscribe(IqRequest& req, const Service& svc) {
  const xml::Element* u = req.payload().child("unsubscribe", ns::kPubsub);
  std::string node(u->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  auto jid = subscriber_of(*u, req.from());
  if (!jid) return req.reply.error(jid.error());
  std::string subid(u->attr("subid"));
  ctx_.storage().write([this, svc, node, jid = *jid, subid, from = req.from(), reply = req.reply](storage::Storage& db) mutable -> Completion {
    auto fail = [&reply](StanzaError e) -> Completion {
      reply.error(e);
      return nullptr;
    };
    auto n = load(db, svc, node);
    if (!n) return fail(item_not_found("no such node"));  // §6.2.3.4
    // §6.2.3.3: only the subscriber itself, or an owner, may end a subscription.
    if (jid.bare() != from.bare() && check_owner(facts(db, svc, *n, from)))
      return fail(forbidden("you may unsubscribe only your own JID"));
    auto subs = db.pubsub().subscriptions_for(n->row.id, jid.str());
    if (subs.empty())
      return fail(pubsub_error(StanzaErrorCondition::kUnexpectedRequest, "not-subscribed", "not subscribed"));  // §6.2.3.2
    const auto* s = pick(subs, subid);
    if (!s) return fail(pubsub_error(StanzaErrorCondition::kNotAcceptable, "invalid-subid"));  // §6.2.3.5
    db.pubsub().remove_subscription(n->row.id, s->jid, s->subid);
    // XEP-0465: a public subscription ends with the last subscription of that bare JID to the node.
    std::string bare = bare_string(jid);
    bool still = false;
    for (const auto& other : db.pubsub().subscriptions(n->row.id))
      if (other.state == "subscribed" && other.jid.substr(0, other.jid.find('/')) == bare) still = true;
    if (!still) set_public_subscription(db, svc, *n, bare, false);
    return [reply] { reply.result(); };
  });
}

void Engine::options(IqRequest& req, const Service& svc) {
  const xml::Element* o = req.payload().child("options", ns::kPubsub);
  std::string node(o->attr("node"));
  if (!o->has_attr("jid")) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "jid-required"));  // §6.3.4.3
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  auto jid = Jid::parse(o->attr("jid"));
  if (!jid) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-jid"));
  if (jid->bare() != req.from().bare()) return req.reply.error(forbidden("these are not your subscription options"));  // §6.3.4.1
  std::string subid(o->attr("subid"));
  std::optional<xml::DataForm> form;
  if (req.is_set()) {
    const xml::Element* x = o->child("x", ns::kDataForms);
    if (x) form = xml::DataForm::parse(*x);
    if (!form) return req.reply.error(bad_request("an options form is required"));
  }
  auto job = [this, svc, node, jid = *jid, subid, form](storage::Storage& db, const IqResponder& reply) -> bool {
    auto n = load(db, svc, node);
    if (!n) {
      reply.error(item_not_found("no such node"));
      return false;
    }
    auto subs = db.pubsub().subscriptions_for(n->row.id, jid.str());
    if (subs.empty()) {
      reply.error(pubsub_error(StanzaErrorCondition::kUnexpectedRequest, "not-subscribed", "not subscribed"));
      return false;
    }
    const auto* s = pick(subs, subid);
    if (!s) {
      reply.error(pubsub_error(StanzaErrorCondition::kNotAcceptable, "invalid-subid"));
      return false;
    }
    SubscriptionOptions current = parse_options(s->options);
    if (!form) {
      xml::Element ps("pubsub", ns::kPubsub);
      xml::Element& oe = ps.add_child("options");
      oe.set_attr("node", node).set_attr("jid", jid.str());
      if (!s->subid.empty()) oe.set_attr("subid", s->subid);
      oe.add(options_form(current).to_element());
      reply.result(std::move(ps));
      return false;
    }
    auto applied = apply_options_form(current, *form);  // §6.3.6: an invalid set is bad-request
    if (!applied) {
      reply.error(applied.error());
      return false;
    }
    storage::PubsubSubscription updated = *s;
    updated.options = serialize_options(*applied);
    db.pubsub().put_subscription(n->row.id, updated);
    return true;
  };
  run(form.has_value(), job, req.reply);
}

void Engine::default_options(IqRequest& req) {
  // §6.4: the default subscription options (the same for every node here).
  xml::Element ps("pubsub", ns::kPubsub);
  xml::Element& d = ps.add_child("default");
  if (const xml::Element* in = req.payload().child("default", ns::kPubsub); in && in->has_attr("node"))
    d.set_attr("node", in->attr("node"));
  d.add(options_form({}).to_element());
  req.reply.result(std::move(ps));
}

void Engine::own_subscriptions(IqRequest& req, const Service& svc) {
  std::string node(req.payload().child("subscriptions", ns::kPubsub)->attr("node"));
  ctx_.storage().read([svc, node, bare = bare_string(req.from()), reply = req.reply](storage::Storage& db) {
    xml::Element ps("pubsub", ns::kPubsub);
    xml::Element& list = ps.add_child("subscriptions");
    if (!node.empty()) list.set_attr("node", node);
    for (const auto& s : db.pubsub().subscriptions_of(bare, svc.jid))
      if (node.empty() || s.node == node) list.add(subscription_element(s.node, s.sub, ns::kPubsub));
    reply.result(std::move(ps));  // §5.6: empty when there are none
  });
}

void Engine::own_affiliations(IqRequest& req, const Service& svc) {
  std::string node(req.payload().child("affiliations", ns::kPubsub)->attr("node"));
  ctx_.storage().read([svc, node, bare = bare_string(req.from()), reply = req.reply](storage::Storage& db) {
    xml::Element ps("pubsub", ns::kPubsub);
    xml::Element& list = ps.add_child("affiliations");
    if (!node.empty()) list.set_attr("node", node);
    for (const auto& a : db.pubsub().affiliations_of(bare, svc.jid)) {
      if (!node.empty() && a.node != node) continue;
      list.add_child("affiliation").set_attr("node", a.node).set_attr("affiliation", a.affiliation);
    }
    reply.result(std::move(ps));
  });
}

void Engine::manage_subscriptions(IqRequest& req, const Service& svc) {
  const xml::Element* list = req.payload().child("subscriptions", ns::kPubsubOwner);
  std::string node(list->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  struct Change {
    std::string jid, subid, state;
  };
  std::vector<Change> changes;
  if (req.is_set()) {
    for (const xml::Element* s : list->children("subscription", ns::kPubsubOwner)) {
      auto j = Jid::parse(s->attr("jid"));
      if (!j) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-jid"));
      changes.push_back(Change{j->str(), std::string(s->attr("subid")), std::string(s->attr("subscription"))});
    }
  }
  bool set = req.is_set();
  auto job = [this, svc, node, changes, set, from = req.from()](storage::Storage& db, const IqResponder& reply,
                                                               std::vector<std::pair<storage::PubsubSubscription, std::string>>& notes) -> bool {
    auto n = load_for(db, svc, node, from, check_owner, reply);
    if (!n) return false;
    if (!set) {
      // §8.8.1: subscribed and unconfigured subscriptions (pending ones come as approval forms).
      xml::Element ps("pubsub", ns::kPubsubOwner);
      xml::Element& out = ps.add_child("subscriptions");
      out.set_attr("node", node);
      for (const auto& s : db.pubsub().subscriptions(n->row.id))
        if (s.state != "pending") out.add(subscription_element("", s, ns::kPubsubOwner));
      reply.result(std::move(ps));
      return false;
    }
    // §8.8.2: a delta; invalid entries come back in the error, the others take effect.
    std::vector<xml::Element> failed;
    for (const auto& c : changes) {
      auto subs = db.pubsub().subscriptions_for(n->row.id, c.jid);
      const auto* existing = pick(subs, c.subid);
      if (c.state == "none") {
        if (existing) {
          db.pubsub().remove_subscription(n->row.id, existing->jid, existing->subid);
          notes.emplace_back(*existing, "none");
        }
        continue;
      }
      if (c.state != "subscribed" && c.state != "unconfigured") {
        xml::Element e("subscription", ns::kPubsubOwner);
        e.set_attr("jid", c.jid).set_attr("subscription", existing ? existing->state : "none");
        failed.push_back(std::move(e));
        continue;
      }
      storage::PubsubSubscription s = existing ? *existing : storage::PubsubSubscription{c.jid, util::random_id(9), "", ""};
      s.state = c.state;
      db.pubsub().put_subscription(n->row.id, s);
      notes.emplace_back(s, s.state);
    }
    if (!failed.empty()) {
      StanzaError err(StanzaErrorCondition::kNotAcceptable, "some subscription changes were refused");
      xml::Element ps("pubsub", ns::kPubsubOwner);
      xml::Element& out = ps.add_child("subscriptions");
      out.set_attr("node", node);
      for (auto& f : failed) out.add(std::move(f));
      err.app_condition = std::move(ps);
      reply.error(err);
      notes.clear();
      return true;  // the valid changes still commit
    }
    return true;
  };
  if (!set) {
    ctx_.storage().read([job, reply = req.reply](storage::Storage& db) {
      std::vector<std::pair<storage::PubsubSubscription, std::string>> notes;
      job(db, reply, notes);
    });
    return;
  }
  ctx_.storage().write([this, svc, node, job, reply = req.reply](storage::Storage& db) -> Completion {
    std::vector<std::pair<storage::PubsubSubscription, std::string>> notes;
    if (!job(db, reply, notes)) return nullptr;
    return [this, svc, node, notes, reply] {
      reply.result();
      for (const auto& [s, state] : notes) notify_subscription(svc, node, s, state);
    };
  });
}

void Engine::manage_affiliations(IqRequest& req, const Service& svc) {
  const xml::Element* list = req.payload().child("affiliations", ns::kPubsubOwner);
  std::string node(list->attr("node"));
  if (node.empty()) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "nodeid-required"));
  std::vector<AffiliationChange> changes;
  if (req.is_set()) {
    for (const xml::Element* a : list->children("affiliation", ns::kPubsubOwner)) {
      auto j = Jid::parse(a->attr("jid"));
      if (!j) return req.reply.error(pubsub_error(StanzaErrorCondition::kBadRequest, "invalid-jid"));
      auto aff = parse_affiliation(a->attr("affiliation"));
      if (!aff) return req.reply.error(bad_request("unknown affiliation '" + std::string(a->attr("affiliation")) + "'"));
      for (const auto& c : changes)
        if (c.jid == j->bare().str()) return req.reply.error(bad_request("one change per JID"));  // §8.9.2.4
      changes.push_back(AffiliationChange{j->bare().str(), *aff});
    }
  }
  bool set = req.is_set();
  auto job = [this, svc, node, changes, set, from = req.from()](storage::Storage& db, const IqResponder& reply) -> bool {
    auto n = load_for(db, svc, node, from, check_owner, reply);
    if (!n) return false;
    auto current_rows = db.pubsub().affiliations(n->row.id);
    if (!set) {
      xml::Element ps("pubsub", ns::kPubsubOwner);
      xml::Element& out = ps.add_child("affiliations");
      out.set_attr("node", node);
      for (const auto& a : current_rows)
        out.add_child("affiliation").set_attr("jid", a.jid).set_attr("affiliation", a.affiliation);
      reply.result(std::move(ps));
      return false;
    }
    std::vector<std::pair<std::string, Affiliation>> current;
    for (const auto& a : current_rows)
      if (auto p = parse_affiliation(a.affiliation)) current.emplace_back(a.jid, *p);
    auto refused = refused_affiliation_changes(current, changes, svc.pep ? svc.jid : std::string());
    auto current_of = [&](const std::string& jid) {
      for (const auto& [j, a] : current)
        if (j == jid) return a;
      return Affiliation::kNone;
    };
    for (size_t i = 0; i < changes.size(); ++i) {
      if (std::find(refused.begin(), refused.end(), i) != refused.end()) continue;
      db.pubsub().set_affiliation(n->row.id, changes[i].jid, to_string(changes[i].affiliation));
      // An outcast loses its subscriptions (§4.1: outcasts may not subscribe).
      if (changes[i].affiliation == Affiliation::kOutcast)
        for (const auto& s : db.pubsub().subscriptions(n->row.id))
          if (s.jid.substr(0, s.jid.find('/')) == changes[i].jid) db.pubsub().remove_subscription(n->row.id, s.jid, s.subid);
    }
    if (!refused.empty()) {
      // §8.9.2.4: the refused entries come back with their current affiliation; the rest took effect.
      StanzaError err(StanzaErrorCondition::kNotAcceptable, "a node keeps at least one owner");
      xml::Element ps("pubsub", ns::kPubsubOwner);
      xml::Element& out = ps.add_child("affiliations");
      out.set_attr("node", node);
      for (size_t i : refused)
        out.add_child("affiliation").set_attr("jid", changes[i].jid).set_attr("affiliation", to_string(current_of(changes[i].jid)));
      err.app_condition = std::move(ps);
      reply.error(err);
    }
    return true;
  };
  run(set, job, req.reply);
}

void Engine::authorization_answer(const Service& svc, const Jid& from, const xml::DataForm& form) {
  if (form.type == "cancel") return;  // §8.6: the request stays pending
  std::string node = form.value("pubsub#node");
  std::string subscriber = form.value("pubsub#subscriber_jid");
  std::string subid = form.value("pubsub#subid");
  auto allow = xml::parse_form_bool(form.value("pubsub#allow"));
  if (node.empty() || subscriber.empty() || !allow) return;
  ctx_.storage().write([this, svc, node, subscriber, subid, allow = *allow, from](storage::Storage& db) -> Completion {
    auto n = load(db, svc, node);
    if (!n || check_owner(facts(db, svc, *n, from))) {
      spdlog::debug("pubsub: ignored an authorization answer from {} for {} {}", from.str(), svc.jid, node);
      return nullptr;
    }
    auto subs = db.pubsub().subscriptions_for(n->row.id, subscriber);
    const auto* s = pick(subs, subid);
    if (!s || s->state != "pending") return nullptr;
    storage::PubsubSubscription sub = *s;
    std::optional<xml::Element> last;
    if (allow) {
      sub.state = "subscribed";
      db.pubsub().put_subscription(n->row.id, sub);
      auto j = Jid::parse(sub.jid);
      if (j)
        for (const auto& observer : sub_observers_) observer(db, svc, *n, bare_string(*j));
      if (j && n->config.send_last_published_item != SendLastItem::kNever)
        last = last_item_message(db, *n, facts(db, svc, *n, *j));
    } else {
      db.pubsub().remove_subscription(n->row.id, sub.jid, sub.subid);
    }
    std::optional<AccountEvent> follow;
    if (allow)
      if (auto j = Jid::parse(sub.jid)) follow = follow_event(svc, *n, bare_string(*j));
    return [this, svc, node, sub, allow, last = std::move(last), follow]() mutable {
      notify_subscription(svc, node, sub, allow ? "subscribed" : "none");
      if (follow) ctx_.router().account_event(*follow);
      if (last) notifier_.send_one(svc.jid, sub.jid, std::move(*last));
    };
  });
}

void Engine::send_last_for_interests(const std::string& full, const std::vector<std::string>& nodes,
                                     const std::vector<std::string>& owners) {
  auto who = Jid::parse(full);
  if (!who || nodes.empty()) return;
  ctx_.storage().read([this, who = *who, nodes, owners](storage::Storage& db) {
    std::vector<std::string> from = owners;
    if (from.empty()) {
      // A local resource: its own PEP service and its contacts' (those whose presence it receives).
      std::string bare = bare_string(who);
      from.push_back(bare);
      for (const auto& item : db.roster().items(bare))
        if (item.subscription == storage::Subscription::kTo || item.subscription == storage::Subscription::kBoth)
          from.push_back(item.jid);
    }
    for (const auto& owner : from) {
      auto svc = service_at(owner);
      if (!svc || !svc->pep) continue;
      for (const auto& node : nodes) {
        auto n = load(db, *svc, node);
        if (!n || n->config.send_last_published_item == SendLastItem::kNever) continue;
        Requester r = facts(db, *svc, *n, who);
        if (!n->social && check_retrieve(n->config, r)) continue;
        if (auto msg = last_item_message(db, *n, r)) notifier_.send_one(svc->jid, who.str(), std::move(*msg));
      }
    }
  });
}

void Engine::send_last_for_subscriptions(const Jid& full) {
  ctx_.storage().read([this, full](storage::Storage& db) {
    std::string bare = bare_string(full);
    for (const auto& s : db.pubsub().subscriptions_of(bare)) {
      if (s.sub.state != "subscribed" || (s.sub.jid != bare && s.sub.jid != full.str())) continue;
      auto svc = service_at(s.service);
      if (!svc || svc->pep) continue;  // PEP: the caps-based path (XEP-0163 §4.3.2) sends them
      auto n = load(db, *svc, s.node);
      if (!n || n->config.send_last_published_item != SendLastItem::kOnSubAndPresence) continue;
      Requester r = facts(db, *svc, *n, full);
      if (!n->social && check_retrieve(n->config, r)) continue;
      if (auto msg = last_item_message(db, *n, r)) notifier_.send_one(svc->jid, full.str(), std::move(*msg));
    }
  });
}

}  // namespace causerie::modules::pubsub
