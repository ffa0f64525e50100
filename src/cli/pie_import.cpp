#include "cli/pie_import.hpp"

#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "cli/prosody_data.hpp"
#include "core/accounts/accounts.hpp"
#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/mam/archive_rules.hpp"
#include "modules/muc/room_config.hpp"
#include "modules/pubsub/audience.hpp"
#include "modules/pubsub/node_config.hpp"
#include "storage/blocking_store.hpp"
#include "storage/offline_store.hpp"

namespace causerie {

namespace {

using Error = tl::unexpected<std::string>;

const std::string kExt = std::string("{") + ns::kCauseriePie + "}";
constexpr uint32_t kMinIterations = 4096;        // RFC 7677 §4: at least 4096
constexpr uint32_t kMaxIterations = 10'000'000;  // beyond this a login costs seconds of CPU: a trap
constexpr size_t kMaxSalt = 1024;
constexpr size_t kMaxHistory = 1'000'000;  // what the export reads of a room's history

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> parse_ms(std::string_view stamp) {
  auto t = util::parse_datetime(stamp);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

template <typename T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A prepared JID without resource, or an error naming `what`.
tl::expected<std::string, std::string> bare_jid(std::string_view text, const std::string& what) {
  auto j = Jid::parse(text);
  if (!j || j->has_resource()) return Error(what + ": invalid JID '" + std::string(text) + "'");
  return j->str();
}

tl::expected<std::string, std::string> any_jid(std::string_view text, const std::string& what) {
  auto j = Jid::parse(text);
  if (!j) return Error(what + ": invalid JID '" + std::string(text) + "'");
  return j->str();
}

tl::expected<sasl::ScramCredentials, std::string> parse_scram(const xml::Element& el, size_t key_size) {
  sasl::ScramCredentials c;
  std::string iter = el.child_text("iter-count", ns::kPieScram);
  auto n = parse_number<uint32_t>(iter);
  if (!n || iter[0] == '0') return Error("bad <iter-count/> '" + iter + "'");
  if (*n < kMinIterations || *n > kMaxIterations)
    return Error("iteration count " + iter + " outside [" + std::to_string(kMinIterations) + ", " +
                 std::to_string(kMaxIterations) + "]");
  c.iterations = *n;
  auto salt = util::base64_decode(el.child_text("salt", ns::kPieScram));
  auto server_key = util::base64_decode(el.child_text("server-key", ns::kPieScram));
  auto stored_key = util::base64_decode(el.child_text("stored-key", ns::kPieScram));
  // COMPAT(ejabberd 23.01 export_piefxis): salt and keys are base64 of the base64 text it stores. Taken
  // only when the keys then have exactly the hash's size, which single-encoded keys never need.
  if (server_key && stored_key && server_key->size() != key_size && stored_key->size() != key_size) {
    auto s2 = salt ? util::base64_decode(*salt) : std::nullopt;
    auto k2 = util::base64_decode(*server_key), k3 = util::base64_decode(*stored_key);
    if (s2 && k2 && k3 && k2->size() == key_size && k3->size() == key_size) {
      salt = s2;
      server_key = k2;
      stored_key = k3;
    }
  }
  if (!salt || salt->empty() || salt->size() > kMaxSalt) return Error("bad SCRAM salt");
  if (!server_key || !stored_key || server_key->size() != key_size || stored_key->size() != key_size)
    return Error("SCRAM keys are not " + std::to_string(key_size) + " bytes (wrong hash?)");
  c.salt = *salt;
  c.server_key = *server_key;
  c.stored_key = *stored_key;
  return c;
}

tl::expected<storage::RosterItem, std::string> parse_roster_item(const xml::Element& item, const std::string& who) {
  auto contact = bare_jid(item.attr("jid"), who + ": roster item");
  if (!contact) return Error(contact.error());
  storage::RosterItem r;
  r.jid = *contact;
  r.name = std::string(item.attr("name"));
  std::string_view sub = item.attr("subscription");
  auto s = storage::parse_subscription(sub.empty() ? "none" : sub);
  if (!s) return Error(who + ": roster item " + r.jid + " has subscription '" + std::string(sub) + "'");
  r.subscription = *s;
  std::string_view ask = item.attr("ask");
  if (!ask.empty() && ask != "subscribe") return Error(who + ": roster item " + r.jid + " has ask '" + std::string(ask) + "'");
  r.ask = !ask.empty();
  std::string_view approved = item.attr("approved");
  r.approved = approved == "true" || approved == "1";
  for (const xml::Element* g : item.children("group")) r.groups.push_back(g->text());
  return r;
}

// One stored stanza of `name` in jabber:client (offline, archived, history): serialized as the server
// stores what it routes.
tl::expected<std::string, std::string> client_stanza(const xml::Element& el, std::string_view name,
                                                     const std::string& what) {
  if (el.name() != name || (el.ns() != ns::kClient && !el.ns().empty()))
    return Error(what + ": expected a <" + std::string(name) + " xmlns='jabber:client'/>");
  xml::Element copy = el;
  copy.set_ns(ns::kClient);
  return xml::to_string(copy);
}

// XEP-0297 <forwarded/> with its <delay/>: (time, message element).
tl::expected<std::pair<int64_t, const xml::Element*>, std::string> parse_forwarded(const xml::Element& f,
                                                                                   const std::string& what) {
  if (!f.is("forwarded", ns::kForward)) return Error(what + ": expected <forwarded xmlns='urn:xmpp:forward:0'/>");
  const xml::Element* delay = f.child("delay", ns::kDelay);
  auto ms = delay ? parse_ms(delay->attr("stamp")) : std::nullopt;
  if (!ms) return Error(what + ": missing or bad <delay stamp/>");
  const xml::Element* msg = f.child("message");
  if (!msg) return Error(what + ": no <message/>");
  return std::make_pair(*ms, msg);
}

// XEP-0227 §3.10 archive: `owner` is an account, or a room (room = true).
tl::expected<std::vector<PieArchived>, std::string> parse_archive(const xml::Element& archive, const std::string& owner,
                                                                  bool room) {
  std::vector<PieArchived> out;
  std::set<std::string> ids;
  int64_t last = 0;
  for (const xml::Element* r : archive.children()) {
    std::string what = owner + ": archived message";
    if (!r->is("result", ns::kMam)) return Error(what + ": expected <result xmlns='urn:xmpp:mam:2'/>");
    std::string id(r->attr("id"));
    if (id.empty() || !ids.insert(id).second) return Error(what + ": missing or repeated id '" + id + "'");
    const xml::Element* f = r->child("forwarded", ns::kForward);
    if (!f) return Error(what + " " + id + ": no <forwarded/>");
    auto fw = parse_forwarded(*f, what + " " + id);
    if (!fw) return Error(fw.error());
    auto [ms, msg] = *fw;
    if (ms < last) return Error(what + " " + id + ": the archive is not in chronological order");
    last = ms;
    auto xml = client_stanza(*msg, "message", what + " " + id);
    if (!xml) return Error(xml.error());
    PieArchived a;
    a.time_ms = ms;
    a.message.id = id;
    a.message.xml = *xml;
    a.message.message_id = std::string(msg->attr("id"));
    a.message.body = modules::mam::body_text(*msg);
    auto from = msg->attr("from"), to = msg->attr("to");
    auto from_jid = Jid::parse(from);
    if (!from.empty() && !from_jid) return Error(what + " " + id + ": bad 'from'");
    if (room) {
      a.message.with = from_jid ? from_jid->str() : owner;
    } else {
      a.message.outgoing = from_jid && from_jid->bare().str() == owner;
      auto with = Jid::parse(a.message.outgoing ? to : from);
      if (!with) return Error(what + " " + id + ": no correspondent in 'from'/'to'");
      a.message.with = with->str();
    }
    out.push_back(std::move(a));
  }
  return out;
}

// The node configuration form normalised to what this server stores: known fields applied one by one
// over the defaults (unknown ones dropped, counted in `skipped`); an access model it cannot honour fails.
tl::expected<std::string, std::string> node_config(const xml::Element* configure, bool pep, unsigned& skipped,
                                                   const std::string& what) {
  modules::pubsub::ServiceLimits limits;
  modules::pubsub::ServiceLimits relaxed = limits;
  relaxed.max_items_limit = INT64_MAX;
  relaxed.max_item_expire = INT64_MAX;
  modules::pubsub::NodeConfig config = modules::pubsub::default_config(pep, limits);
  const xml::Element* x = configure ? configure->child("x", ns::kDataForms) : nullptr;
  if (x) {
    auto form = xml::DataForm::parse(*x);
    if (!form) return Error(what + ": the configuration is not a data form");
    for (const auto& f : form->fields) {
      if (f.var == "FORM_TYPE") {
        if (!f.values.empty() && f.values.front() != ns::kPubsubNodeConfig)
          return Error(what + ": the configuration form is of type '" + f.values.front() + "'");
        continue;
      }
      xml::DataForm one;
      one.fields.push_back(f);
      auto applied = modules::pubsub::apply_config_form(config, one, relaxed);
      if (applied) {
        config = *applied;
      } else if (f.var == "pubsub#access_model" || f.var == "pubsub#publish_model") {
        return Error(what + ": " + f.var + " '" + (f.values.empty() ? "" : f.values.front()) +
                     "' is not supported here; refusing rather than opening the node wider");
      } else {
        ++skipped;
      }
    }
  }
  return modules::pubsub::serialize_config(config, limits);
}

// XEP-0227 §3.10 (PEP) and our services: the #owner and plain <pubsub/> elements of one service.
tl::expected<std::vector<PieNode>, std::string> parse_nodes(const xml::Element& parent, const std::string& service,
                                                            bool pep, unsigned& skipped) {
  std::vector<PieNode> nodes;
  std::map<std::string, size_t> index;
  for (const xml::Element* owner : parent.children("pubsub", ns::kPubsubOwner)) {
    for (const xml::Element* c : owner->children()) {
      std::string node(c->attr("node"));
      std::string what = service + " node '" + node + "'";
      if (node.empty()) return Error(service + ": a pubsub <" + c->name() + "/> without 'node'");
      if (c->name() == "configure") {
        if (index.count(node)) return Error(what + ": configured twice");
        auto config = node_config(c, pep, skipped, what);
        if (!config) return Error(config.error());
        PieNode n;
        n.node.service = service;
        n.node.node = node;
        n.node.config = *config;
        std::string_view creator = c->attr(kExt + "creator");
        if (!creator.empty()) {
          auto cj = bare_jid(creator, what + " creator");
          if (!cj) return Error(cj.error());
          n.node.creator = *cj;
        } else {
          n.node.creator = pep ? service : "";
        }
        std::string_view created = c->attr(kExt + "created");
        auto cms = created.empty() ? std::optional<int64_t>(now_ms()) : parse_ms(created);
        if (!cms) return Error(what + ": bad creation time");
        n.node.created = *cms;
        index[node] = nodes.size();
        nodes.push_back(std::move(n));
      }
    }
    for (const xml::Element* c : owner->children()) {
      std::string node(c->attr("node"));
      std::string what = service + " node '" + node + "'";
      if (c->name() == "configure") continue;
      auto it = index.find(node);
      if (it == index.end()) return Error(what + ": <" + c->name() + "/> for a node without <configure/>");
      PieNode& n = nodes[it->second];
      if (c->name() == "affiliations") {
        std::set<std::string> seen;
        for (const xml::Element* a : c->children("affiliation")) {
          auto j = bare_jid(a->attr("jid"), what + " affiliation");
          if (!j) return Error(j.error());
          std::string aff(a->attr("affiliation"));
          static const std::set<std::string> kKnown = {"owner", "publisher", "publish-only", "member", "outcast"};
          if (!kKnown.count(aff)) return Error(what + ": affiliation '" + aff + "'");
          if (!seen.insert(*j).second) return Error(what + ": two affiliations for " + *j);
          n.affiliations.push_back({*j, aff});
        }
      } else if (c->name() == "subscriptions") {
        for (const xml::Element* s : c->children("subscription")) {
          auto j = any_jid(s->attr("jid"), what + " subscription");
          if (!j) return Error(j.error());
          std::string state(s->attr("subscription"));
          if (state != "subscribed" && state != "pending" && state != "unconfigured")
            return Error(what + ": subscription state '" + state + "'");
          storage::PubsubSubscription sub{*j, std::string(s->attr("subid")), state, ""};
          if (const xml::Element* x = s->child("x", ns::kDataForms)) sub.options = xml::to_string(*x);
          n.subscriptions.push_back(std::move(sub));
        }
      } else {
        ++skipped;
      }
    }
  }
  for (const xml::Element* data : parent.children("pubsub", ns::kPubsub)) {
    for (const xml::Element* items : data->children()) {
      std::string node(items->attr("node"));
      std::string what = service + " node '" + node + "'";
      if (items->name() != "items") {
        ++skipped;
        continue;
      }
      auto it = index.find(node);
      if (it == index.end()) return Error(what + ": items for a node without <configure/> (XEP-0227 §3.10)");
      PieNode& n = nodes[it->second];
      std::set<std::string> ids;
      for (const xml::Element* item : items->children("item")) {
        storage::PubsubItem pi;
        pi.id = std::string(item->attr("id"));
        if (pi.id.empty() || !ids.insert(pi.id).second) return Error(what + ": item without id or repeated id '" + pi.id + "'");
        std::string_view publisher = item->attr("publisher");
        if (!publisher.empty()) {
          auto pj = any_jid(publisher, what + " item publisher");
          if (!pj) return Error(pj.error());
          pi.publisher = *pj;
        }
        std::string_view published = item->attr(kExt + "published");
        auto pms = published.empty() ? std::optional<int64_t>(now_ms()) : parse_ms(published);
        if (!pms) return Error(what + " item " + pi.id + ": bad publication time");
        pi.published = *pms;
        pi.access = std::string(item->attr(kExt + "access"));
        // An access model, or a per-post audience (modules/pubsub/audience.hpp): kept as exported.
        if (!modules::pubsub::valid_item_access(pi.access))
          return Error(what + " item " + pi.id + ": access model '" + pi.access + "'");
        if (item->element_count() > 1) return Error(what + " item " + pi.id + ": more than one payload element");
        if (const xml::Element* payload = item->child()) pi.payload = xml::to_string(*payload);
        n.items.push_back(std::move(pi));
      }
    }
  }
  return nodes;
}

tl::expected<PieRoom, std::string> parse_room(const xml::Element& el, const std::string& service) {
  auto jid = bare_jid(el.attr("jid"), service + ": room");
  if (!jid) return Error(jid.error());
  auto parsed = Jid::parse(*jid);
  if (!parsed->has_localpart() || parsed->domainpart() != service)
    return Error(service + ": room '" + *jid + "' is not a room of this service");
  std::string what = "room " + *jid;
  PieRoom r;
  r.room.jid = *jid;
  r.room.service = service;
  std::string_view pub = el.attr("public");
  r.room.is_public = pub == "true" || pub == "1";
  r.room.name = std::string(el.attr("name"));
  modules::muc::RoomConfig config;
  if (const xml::Element* q = el.child("query", ns::kMucOwner)) {
    const xml::Element* x = q->child("x", ns::kDataForms);
    auto form = x ? xml::DataForm::parse(*x) : std::nullopt;
    if (!form) return Error(what + ": the configuration is not a data form");
    auto applied = modules::muc::apply_config_form(*form, config, modules::muc::ConfigLimits{UINT32_MAX, UINT32_MAX});
    if (!applied) return Error(what + ": configuration refused: " + applied.error().text);
    config = applied->config;
  }
  r.room.config = modules::muc::serialize_config(config);
  if (const xml::Element* s = el.child("subject", ns::kCauseriePie)) {
    r.room.subject = s->text();
    r.room.subject_nick = std::string(s->attr("nick"));
    if (s->has_attr("stamp")) {
      auto ms = parse_ms(s->attr("stamp"));
      if (!ms) return Error(what + ": bad subject stamp");
      r.room.subject_stamp_ms = *ms;
    }
  }
  std::set<std::string> seen;
  for (const xml::Element* q : el.children("query", ns::kMucAdmin)) {
    for (const xml::Element* item : q->children("item")) {
      std::string aff(item->attr("affiliation"));
      if (aff != "owner" && aff != "admin" && aff != "member" && aff != "outcast")
        return Error(what + ": affiliation '" + aff + "'");
      auto j = bare_jid(item->attr("jid"), what + " affiliation");
      if (!j) return Error(j.error());
      if (!seen.insert(*j).second) return Error(what + ": two affiliations for " + *j);
      r.room.affiliations.push_back({*j, aff, std::string(item->attr("nick")), item->child_text("reason")});
    }
  }
  if (const xml::Element* h = el.child("history", ns::kCauseriePie)) {
    for (const xml::Element* f : h->children()) {
      auto fw = parse_forwarded(*f, what + " history");
      if (!fw) return Error(fw.error());
      auto xml = client_stanza(*fw->second, "message", what + " history");
      if (!xml) return Error(xml.error());
      r.room.history.push_back({fw->first, *xml});
    }
  }
  if (const xml::Element* a = el.child("archive", ns::kPieMam)) {
    auto archive = parse_archive(*a, *jid, true);
    if (!archive) return Error(archive.error());
    r.archive = std::move(*archive);
  }
  return r;
}

}  // namespace

tl::expected<PieUser, std::string> parse_pie_user(const xml::Element& user, const std::string& host) {
  PieUser u;
  auto local = prep_localpart(user.attr("name"));
  if (!local || local->empty()) return Error("invalid user name '" + std::string(user.attr("name")) + "'");
  const std::string jid = *local + "@" + host;
  u.account.jid = jid;
  u.account.created = static_cast<int64_t>(std::time(nullptr));
  std::set<std::string> mechanisms, private_ns, documents;
  std::map<std::string, size_t> roster_index;
  auto add_item = [&](storage::RosterItem item) -> std::optional<std::string> {
    if (item.jid == jid) return jid + ": the account's own JID in its roster";
    if (roster_index.count(item.jid)) return jid + ": roster item " + item.jid + " appears twice";
    roster_index[item.jid] = u.roster.size();
    u.roster.push_back(std::move(item));
    return std::nullopt;
  };
  std::vector<const xml::Element*> requests;
  for (const xml::Element* child : user.children()) {
    if (child->is("account", ns::kCauseriePie)) {
      auto created = parse_number<int64_t>(child->attr("created"));
      if (!created || *created < 0) return Error(jid + ": bad creation time");
      u.account.created = *created;
    } else if (child->is("scram-credentials", ns::kPieScram)) {
      std::string mech(child->attr("mechanism"));
      if (!mechanisms.insert(mech).second) return Error(jid + ": two sets of " + mech + " credentials");
      if (mech == "SCRAM-SHA-1" || mech == "SCRAM-SHA-256") {
        bool sha1 = mech == "SCRAM-SHA-1";
        auto creds = parse_scram(*child, sha1 ? 20 : 32);
        if (!creds) return Error(jid + ": " + mech + ": " + creds.error());
        (sha1 ? u.account.sha1 : u.account.sha256) = *creds;
        (sha1 ? u.sha1 : u.sha256) = true;
      } else {
        ++u.skipped_elements;  // SCRAM-SHA-512 and others: not used by this server
      }
    } else if (child->is("query", ns::kRoster) || child->is("roster-state", ns::kCauseriePie)) {
      bool hidden = child->name() == "roster-state";
      for (const xml::Element* item : child->children("item", ns::kRoster)) {
        auto r = parse_roster_item(*item, jid);
        if (!r) return Error(r.error());
        r->hidden = hidden;
        if (auto err = add_item(std::move(*r))) return Error(*err);
      }
    } else if (child->name() == "presence" && (child->ns() == ns::kClient || child->ns().empty())) {
      if (child->attr("type") != "subscribe") {
        ++u.skipped_elements;
        continue;
      }
      requests.push_back(child);
    } else if (child->is("vCard", ns::kVcard)) {
      if (!documents.insert("vcard").second) return Error(jid + ": two vCards");
      u.documents.push_back({"vcard", "", xml::to_string(*child)});
    } else if (child->is("query", ns::kPrivate)) {
      for (const xml::Element* doc : child->children()) {
        if (doc->ns().empty() || doc->ns() == ns::kPrivate || doc->ns() == ns::kClient)
          return Error(jid + ": private XML in namespace '" + doc->ns() + "' cannot be stored");
        if (!private_ns.insert(doc->ns()).second) return Error(jid + ": private XML '" + doc->ns() + "' twice");
        u.documents.push_back({"private", doc->ns(), xml::to_string(*doc)});
      }
    } else if (child->is("offline-messages", ns::kPie)) {
      for (const xml::Element* m : child->children()) {
        auto xml = client_stanza(*m, "message", jid + ": offline message");
        if (!xml) return Error(xml.error());
        u.offline.push_back(*xml);
      }
    } else if (child->is("pubsub", ns::kPubsubOwner) || child->is("pubsub", ns::kPubsub)) {
      continue;  // below, both together
    } else if (child->is("archive", ns::kPieMam)) {
      auto archive = parse_archive(*child, jid, false);
      if (!archive) return Error(archive.error());
      for (auto& a : *archive) u.archive.push_back(std::move(a));
    } else if (child->is("prefs", ns::kMam)) {
      storage::ArchivePrefs p;
      p.default_mode = std::string(child->attr("default"));
      if (p.default_mode != "always" && p.default_mode != "never" && p.default_mode != "roster")
        return Error(jid + ": archive preference '" + p.default_mode + "'");
      for (auto [list, name] : {std::pair{&p.always, "always"}, std::pair{&p.never, "never"}}) {
        if (const xml::Element* l = child->child(name, ns::kMam))
          for (const xml::Element* j : l->children("jid", ns::kMam)) {
            auto bj = bare_jid(j->text(), jid + ": archive preferences");
            if (!bj) return Error(bj.error());
            list->push_back(*bj);
          }
      }
      u.prefs = std::move(p);
    } else if (child->is("blocklist", ns::kBlocking)) {
      for (const xml::Element* item : child->children("item", ns::kBlocking)) {
        auto j = any_jid(item->attr("jid"), jid + ": blocklist");
        if (!j) return Error(j.error());
        u.blocked.push_back(*j);
      }
    } else if (child->is("data", ns::kCauseriePie)) {
      std::string store(child->attr("store")), key(child->attr("key"));
      if (store.empty() || store == "vcard" || store == "private")
        return Error(jid + ": a <data/> document for store '" + store + "'");
      if (!documents.insert(store + "\n" + key).second) return Error(jid + ": document " + store + "/" + key + " twice");
      u.documents.push_back({store, key, child->text()});
    } else {
      ++u.skipped_elements;
    }
  }
  for (const xml::Element* p : requests) {
    auto from = Jid::parse(p->attr("from"));
    if (!from) return Error(jid + ": a subscription request without a valid 'from'");
    std::string contact = from->bare().str();
    auto it = roster_index.find(contact);
    if (it == roster_index.end()) {
      storage::RosterItem hidden;
      hidden.jid = contact;
      hidden.hidden = true;
      if (auto err = add_item(std::move(hidden))) return Error(*err);
      it = roster_index.find(contact);
    }
    auto& item = u.roster[it->second];
    if (item.pending_in) return Error(jid + ": two subscription requests from " + contact);
    item.pending_in = true;
    xml::Element copy = *p;
    copy.set_ns(ns::kClient);
    item.pending_in_stanza = xml::to_string(copy);
  }
  auto nodes = parse_nodes(user, jid, true, u.skipped_elements);
  if (!nodes) return Error(jid + ": " + nodes.error());
  u.pep = std::move(*nodes);
  if (!u.sha1 || !u.sha256) {
    // §3.2: with a plaintext password, what is missing is derived from it.
    u.password = std::string(user.attr("password"));
    if (u.password.empty() && !u.sha1 && !u.sha256)
      return Error(jid + ": needs SCRAM-SHA-1 or SCRAM-SHA-256 credentials or a password");
    if (!u.password.empty()) {
      if (auto problem = password_problem(u.password)) return Error(jid + ": " + *problem);
    }
  }
  return u;
}

tl::expected<PieService, std::string> parse_pie_service(const xml::Element& el, const std::string& host) {
  PieService s;
  auto domain = prep_domainpart(el.attr("jid"));
  if (!domain) return Error("invalid service '" + std::string(el.attr("jid")) + "'");
  if (!(*domain == host || (domain->size() > host.size() && domain->ends_with("." + host))))
    return Error("service " + *domain + " is not under host " + host);
  s.domain = *domain;
  std::set<std::string> rooms;
  for (const xml::Element* child : el.children()) {
    if (child->is("room", ns::kCauseriePie)) {
      auto r = parse_room(*child, s.domain);
      if (!r) return Error(r.error());
      if (!rooms.insert(r->room.jid).second) return Error("room " + r->room.jid + " appears twice");
      s.rooms.push_back(std::move(*r));
    } else if (!child->is("pubsub", ns::kPubsubOwner) && !child->is("pubsub", ns::kPubsub)) {
      ++s.skipped_elements;
    }
  }
  auto nodes = parse_nodes(el, s.domain, false, s.skipped_elements);
  if (!nodes) return Error(nodes.error());
  s.nodes = std::move(*nodes);
  return s;
}

std::string PieImportResult::summary() const {
  std::ostringstream o;
  o << "imported " << accounts << " account(s) with " << roster_items << " roster item(s), " << documents
    << " document(s), " << offline << " offline message(s), " << nodes << " pubsub node(s) with " << items
    << " item(s), " << archived << " archived message(s); " << services << " service(s) with " << rooms
    << " room(s); " << skipped_elements << " element(s) not understood";
  return o.str();
}

namespace {

class Importer {
 public:
  Importer(storage::Storage& db, const Config& config, PieImportResult& res) : db_(db), config_(config), res_(res) {}

  std::optional<std::string> element(const std::string& raw_host, xml::Element el) {
    auto host = prep_domainpart(raw_host);
    if (!host || !config_.find_host(*host)) return "host '" + raw_host + "' is not served by " + config_.source;
    try {
      if (el.name() == "user") return user(*host, el);
      return service(*host, el);
    } catch (const std::exception& e) {  // never through expat's C frames
      return std::string("storage: ") + e.what();
    }
  }

 private:
  std::optional<std::string> user(const std::string& host, const xml::Element& el) {
    auto u = parse_pie_user(el, host);
    if (!u) return u.error();
    storage::Account& a = u->account;
    if (!u->password.empty() && (!u->sha1 || !u->sha256)) {
      storage::Account derived = make_account(a.jid, u->password, config_.scram_iterations);
      if (!u->sha1) a.sha1 = derived.sha1;
      if (!u->sha256) a.sha256 = derived.sha256;
    }
    if (!db_.accounts().create(a)) return "account " + a.jid + " already exists (or appears twice in the file)";
    for (const auto& item : u->roster) db_.roster().put(a.jid, item);
    for (const auto& d : u->documents) db_.kv().put(a.jid, d.store, d.key, d.value);
    for (const auto& m : u->offline) db_.offline().push(a.jid, m, SIZE_MAX);
    if (auto err = nodes(u->pep)) return err;
    for (auto& m : u->archive) db_.archive().insert_at(a.jid, m.message, m.time_ms);
    if (u->prefs) db_.archive().set_prefs(a.jid, *u->prefs);
    for (const auto& b : u->blocked) db_.blocking().block(a.jid, b);
    ++res_.accounts;
    res_.roster_items += u->roster.size();
    res_.documents += u->documents.size();
    res_.offline += u->offline.size();
    res_.archived += u->archive.size();
    res_.skipped_elements += u->skipped_elements;
    return std::nullopt;
  }

  std::optional<std::string> service(const std::string& host, const xml::Element& el) {
    auto s = parse_pie_service(el, host);
    if (!s) return s.error();
    if (!services_.insert(s->domain).second) return "service " + s->domain + " appears twice";
    for (auto& r : s->rooms) {
      if (db_.muc().load_room(r.room.jid, 0)) return "room " + r.room.jid + " already exists";
      db_.muc().save_room(r.room);
      for (const auto& a : r.room.affiliations) db_.muc().set_affiliation(r.room.jid, a);
      for (const auto& h : r.room.history) db_.muc().append_history(r.room.jid, h, kMaxHistory);
      for (auto& m : r.archive) db_.archive().insert_at(r.room.jid, m.message, m.time_ms);
      res_.archived += r.archive.size();
      ++res_.rooms;
    }
    if (auto err = nodes(s->nodes)) return err;
    res_.skipped_elements += s->skipped_elements;
    ++res_.services;
    return std::nullopt;
  }

  std::optional<std::string> nodes(const std::vector<PieNode>& nodes) {
    for (const auto& n : nodes) {
      int64_t id = db_.pubsub().create_node(n.node);
      if (id == 0) return "pubsub node '" + n.node.node + "' of " + n.node.service + " already exists";
      for (const auto& it : n.items) db_.pubsub().put_item(id, it);
      for (const auto& a : n.affiliations) db_.pubsub().set_affiliation(id, a.jid, a.affiliation);
      for (const auto& s : n.subscriptions) db_.pubsub().put_subscription(id, s);
      ++res_.nodes;
      res_.items += n.items.size();
    }
    return std::nullopt;
  }

  storage::Storage& db_;
  const Config& config_;
  PieImportResult& res_;
  std::set<std::string> services_;
};

PieImportResult run_import(storage::Storage& db, const Config& config,
                           const std::function<std::optional<std::string>(PieReader&)>& read, PieLimits limits) {
  PieImportResult res;
  Importer importer(db, config, res);
  PieReader reader([&](const std::string& host, xml::Element el) { return importer.element(host, std::move(el)); },
                   limits);
  db.begin();
  std::optional<std::string> err;
  try {
    err = read(reader);
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (err) {
    db.rollback();
    PieImportResult failed;
    failed.error = *err + " — nothing was imported";
    return failed;
  }
  db.commit();
  res.skipped_elements += reader.skipped();
  res.ok = true;
  return res;
}

}  // namespace

PieImportResult import_pie(std::istream& in, storage::Storage& db, const Config& config,
                           const PieImportOptions& options) {
  return run_import(
      db, config, [&](PieReader& r) { return r.read(in, options.name, options.base_dir); }, options.limits);
}

PieImportResult import_pie_file(const std::filesystem::path& path, storage::Storage& db, const Config& config,
                                PieLimits limits) {
  return run_import(db, config, [&](PieReader& r) { return r.read_file(path); }, limits);
}

PieImportResult import_prosody_dir(const std::filesystem::path& dir, storage::Storage& db, const Config& config,
                                   PieLimits limits) {
  auto doc = prosody::pie_from_data_dir(dir);
  if (!doc) {
    PieImportResult failed;
    failed.error = doc.error() + " — nothing was imported";
    return failed;
  }
  std::istringstream in(*doc);
  return import_pie(in, db, config, PieImportOptions{limits, ".", dir.string()});
}

}  // namespace causerie
