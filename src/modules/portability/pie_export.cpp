#include "modules/portability/pie_export.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "storage/account_store.hpp"
#include "storage/archive_store.hpp"
#include "storage/blocking_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/muc_store.hpp"
#include "storage/offline_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/roster_store.hpp"

namespace causerie::portability {

namespace {

const std::string kExt = std::string("{") + ns::kCauseriePie + "}";

xml::Element parse_stored(const std::string& text, const std::string& what) {
  auto el = xml::parse_fragment(text, 512u << 20);
  if (!el) throw storage::StorageError("stored " + what + " is not well-formed XML");
  return std::move(*el);
}

std::string stamp(int64_t ms) {
  return util::format_datetime(util::SystemTime(std::chrono::milliseconds(ms)));
}

void add_scram(xml::Element& user, const char* mechanism, const sasl::ScramCredentials& c) {
  if (c.iterations == 0) return;  // an account imported with the other hash only
  auto& s = user.add_child("scram-credentials", ns::kPieScram);
  s.set_attr("mechanism", mechanism);
  s.add_text_child("iter-count", std::to_string(c.iterations));
  s.add_text_child("salt", util::base64_encode(c.salt));
  s.add_text_child("server-key", util::base64_encode(c.server_key));
  s.add_text_child("stored-key", util::base64_encode(c.stored_key));
}

xml::Element roster_item(const storage::RosterItem& it) {
  xml::Element item("item", ns::kRoster);
  item.set_attr("jid", it.jid);
  if (!it.name.empty()) item.set_attr("name", it.name);
  item.set_attr("subscription", storage::to_string(it.subscription));
  if (it.ask) item.set_attr("ask", "subscribe");
  if (it.approved) item.set_attr("approved", "true");  // RFC 6121 §3.4
  for (const auto& g : it.groups) item.add_text_child("group", g);
  return item;
}

// XEP-0227 §3.9: a pending inbound request is the <presence type='subscribe'/> as received.
xml::Element pending_request(const storage::RosterItem& it) {
  if (!it.pending_in_stanza.empty()) {
    xml::Element p = parse_stored(it.pending_in_stanza, "subscription request of " + it.jid);
    if (p.name() == "presence") {
      p.set_ns(ns::kClient);
      return p;
    }
  }
  xml::Element p("presence", ns::kClient);
  p.set_attr("type", "subscribe");
  p.set_attr("from", it.jid);
  return p;
}

xml::Element forwarded(const std::string& xml, int64_t ms, const std::string& what) {
  xml::Element f("forwarded", ns::kForward);
  f.add_child("delay", ns::kDelay).set_attr("stamp", stamp(ms));
  f.add(parse_stored(xml, what));
  return f;
}

// XEP-0227 §3.10: the archive, oldest first, as XEP-0313 results.
void export_archive(storage::Storage& db, const std::string& owner, xml::Element& parent) {
  xml::Element archive("archive", ns::kPieMam);
  storage::ArchiveQuery q;
  q.limit = 1000;
  for (;;) {
    auto page = db.archive().query(owner, q);
    if (!page) break;
    for (const auto& m : page->messages) {
      auto& r = archive.add_child("result", ns::kMam);
      r.set_attr("id", m.id);
      r.add(forwarded(m.xml, m.time_ms(), "archived message " + m.id + " of " + owner));
    }
    if (page->complete || page->messages.empty()) break;
    q.after = {page->messages.back().id};
  }
  if (archive.element_count() > 0) parent.add(std::move(archive));
}

// XEP-0227 §3.10 for PEP, and the same shape for a pubsub service's nodes.
void export_nodes(storage::Storage& db, const std::string& service, xml::Element& parent) {
  auto nodes = db.pubsub().nodes(service);
  if (nodes.empty()) return;
  xml::Element owner("pubsub", ns::kPubsubOwner), data("pubsub", ns::kPubsub);
  for (const auto& n : nodes) {
    {
      xml::Element cfg("configure", ns::kPubsubOwner);
      cfg.set_attr("node", n.node);
      cfg.set_attr(kExt + "creator", n.creator);
      cfg.set_attr(kExt + "created", stamp(n.created));
      if (!n.config.empty()) cfg.add(parse_stored(n.config, "configuration of node " + n.node));
      owner.add(std::move(cfg));
    }
    auto affs = db.pubsub().affiliations(n.id);
    std::sort(affs.begin(), affs.end(), [](const auto& a, const auto& b) { return a.jid < b.jid; });
    if (!affs.empty()) {
      xml::Element list("affiliations", ns::kPubsubOwner);
      list.set_attr("node", n.node);
      for (const auto& a : affs) {
        auto& e = list.add_child("affiliation");
        e.set_attr("jid", a.jid);
        e.set_attr("affiliation", a.affiliation);
      }
      owner.add(std::move(list));
    }
    auto subs = db.pubsub().subscriptions(n.id);
    std::sort(subs.begin(), subs.end(),
              [](const auto& a, const auto& b) { return std::tie(a.jid, a.subid) < std::tie(b.jid, b.subid); });
    if (!subs.empty()) {
      xml::Element list("subscriptions", ns::kPubsubOwner);
      list.set_attr("node", n.node);
      for (const auto& s : subs) {
        xml::Element e("subscription", ns::kPubsubOwner);
        e.set_attr("jid", s.jid);
        e.set_attr("subscription", s.state);
        if (!s.subid.empty()) e.set_attr("subid", s.subid);
        if (!s.options.empty()) e.add(parse_stored(s.options, "subscription options on node " + n.node));
        list.add(std::move(e));
      }
      owner.add(std::move(list));
    }
    storage::PubsubItemQuery q;
    q.oldest_first = true;
    xml::Element items("items", ns::kPubsub);
    items.set_attr("node", n.node);
    for (const auto& it : db.pubsub().items(n.id, q)) {
      xml::Element item("item", ns::kPubsub);
      item.set_attr("id", it.id);
      if (!it.publisher.empty()) item.set_attr("publisher", it.publisher);
      item.set_attr(kExt + "published", stamp(it.published));
      // The item's own visibility, per-post audiences included (modules/pubsub/audience.hpp's form).
      if (!it.access.empty()) item.set_attr(kExt + "access", it.access);
      if (!it.payload.empty()) item.add(parse_stored(it.payload, "item " + it.id + " of node " + n.node));
      items.add(std::move(item));
    }
    data.add(std::move(items));
  }
  parent.add(std::move(owner));
  parent.add(std::move(data));
}

xml::Element export_room(storage::Storage& db, const std::string& jid) {
  auto room = db.muc().load_room(jid, 1'000'000);
  xml::Element r("room", ns::kCauseriePie);
  if (!room) return r;
  r.set_attr("jid", room->jid);
  r.set_attr("public", room->is_public ? "true" : "false");
  if (!room->name.empty()) r.set_attr("name", room->name);
  if (!room->config.empty()) {
    auto& q = r.add_child("query", ns::kMucOwner);
    q.add(parse_stored(room->config, "configuration of room " + jid));
  }
  if (room->subject_stamp_ms != 0 || !room->subject.empty()) {
    auto& s = r.add_text_child("subject", room->subject);
    if (!room->subject_nick.empty()) s.set_attr("nick", room->subject_nick);
    if (room->subject_stamp_ms != 0) s.set_attr("stamp", stamp(room->subject_stamp_ms));
  }
  auto affs = room->affiliations;
  std::sort(affs.begin(), affs.end(), [](const auto& a, const auto& b) { return a.jid < b.jid; });
  if (!affs.empty()) {
    xml::Element q("query", ns::kMucAdmin);
    for (const auto& a : affs) {
      auto& item = q.add_child("item");
      item.set_attr("affiliation", a.affiliation);
      item.set_attr("jid", a.jid);
      if (!a.nick.empty()) item.set_attr("nick", a.nick);
      if (!a.reason.empty()) item.add_text_child("reason", a.reason);
    }
    r.add(std::move(q));
  }
  if (!room->history.empty()) {
    xml::Element h("history", ns::kCauseriePie);
    for (const auto& m : room->history) h.add(forwarded(m.xml, m.stamp_ms, "history of room " + jid));
    r.add(std::move(h));
  }
  export_archive(db, jid, r);
  return r;
}

bool under(const std::string& domain, const std::string& host) {
  return domain == host || (domain.size() > host.size() && domain.ends_with(host) &&
                            domain[domain.size() - host.size() - 1] == '.');
}

}  // namespace

xml::Element export_user(storage::Storage& db, const std::string& bare_jid) {
  auto account = db.accounts().get(bare_jid);
  if (!account) throw storage::StorageError("no account " + bare_jid);
  xml::Element user("user", ns::kPie);
  user.set_attr("name", bare_jid.substr(0, bare_jid.find('@')));
  user.add_child("account", ns::kCauseriePie).set_attr("created", std::to_string(account->created));
  add_scram(user, "SCRAM-SHA-1", account->sha1);
  add_scram(user, "SCRAM-SHA-256", account->sha256);

  xml::Element roster("query", ns::kRoster), hidden("roster-state", ns::kCauseriePie);
  std::vector<xml::Element> requests;
  for (const auto& it : db.roster().items(bare_jid)) {
    if (it.pending_in) requests.push_back(pending_request(it));
    // A hidden item holds only state: a pending request (said above) or a pre-approval.
    if (!it.hidden) roster.add(roster_item(it));
    else if (it.approved || it.ask || it.subscription != storage::Subscription::kNone || !it.pending_in)
      hidden.add(roster_item(it));
  }
  if (roster.element_count() > 0) user.add(std::move(roster));
  if (hidden.element_count() > 0) user.add(std::move(hidden));
  for (auto& p : requests) user.add(std::move(p));

  std::optional<xml::Element> vcard;
  xml::Element priv("query", ns::kPrivate);
  std::vector<xml::Element> other;
  for (const auto& e : db.kv().entries(bare_jid)) {
    if (e.store == "vcard" && e.key.empty()) {
      vcard = parse_stored(e.value, "vCard");
    } else if (e.store == "private") {
      priv.add(parse_stored(e.value, "private XML " + e.key));
    } else {
      xml::Element d("data", ns::kCauseriePie);
      d.set_attr("store", e.store);
      d.set_attr("key", e.key);
      d.add_text(e.value);
      other.push_back(std::move(d));
    }
  }
  if (vcard) user.add(std::move(*vcard));
  if (priv.element_count() > 0) user.add(std::move(priv));

  auto offline = db.offline().pending(bare_jid);
  if (!offline.empty()) {
    xml::Element list("offline-messages", ns::kPie);
    for (const auto& m : offline) {
      xml::Element msg = parse_stored(m.xml, "offline message");
      msg.set_ns(ns::kClient);
      list.add(std::move(msg));
    }
    user.add(std::move(list));
  }
  export_nodes(db, bare_jid, user);
  export_archive(db, bare_jid, user);
  if (auto prefs = db.archive().prefs(bare_jid)) {
    xml::Element p("prefs", ns::kMam);
    p.set_attr("default", prefs->default_mode);
    auto& always = p.add_child("always");
    for (const auto& j : prefs->always) always.add_text_child("jid", j);
    auto& never = p.add_child("never");
    for (const auto& j : prefs->never) never.add_text_child("jid", j);
    user.add(std::move(p));
  }
  auto blocked = db.blocking().blocked(bare_jid);
  if (!blocked.empty()) {
    xml::Element b("blocklist", ns::kBlocking);
    for (const auto& j : blocked) b.add_child("item").set_attr("jid", j);
    user.add(std::move(b));
  }
  for (auto& d : other) user.add(std::move(d));
  return user;
}

xml::Element export_service(storage::Storage& db, const std::string& domain) {
  xml::Element svc("service", ns::kCauseriePie);
  svc.set_attr("jid", domain);
  for (const auto& room : db.muc().rooms(domain)) svc.add(export_room(db, room));
  export_nodes(db, domain, svc);
  return svc;
}

namespace {

void write_line(std::string& out, const xml::Element& el) {
  xml::serialize(el, out, ns::kPie);
  out += '\n';
}

}  // namespace

size_t export_pie(storage::Storage& db, const ExportScope& scope, std::ostream& out) {
  std::vector<std::string> hosts = scope.hosts;
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  // Each service domain goes under the most specific host it belongs to.
  std::map<std::string, std::set<std::string>> services;
  if (scope.user.empty()) {
    std::set<std::string> all;
    for (auto& s : db.muc().services()) all.insert(s);
    for (auto& s : db.pubsub().services())
      if (s.find('@') == std::string::npos) all.insert(s);
    for (const auto& s : all) {
      const std::string* best = nullptr;
      for (const auto& h : hosts)
        if (under(s, h) && (!best || h.size() > best->size())) best = &h;
      if (best) services[*best].insert(s);
    }
  }
  size_t users = 0;
  out << "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n";
  for (const auto& h : hosts) {
    std::string chunk = "<host jid='" + xml::escape(h, true) + "'>\n";
    std::vector<std::string> accounts = scope.user.empty() ? db.accounts().list(h) : std::vector{scope.user};
    for (const auto& a : accounts) {
      write_line(chunk, export_user(db, a));
      ++users;
      out << chunk;
      chunk.clear();
    }
    for (const auto& s : services[h]) {
      xml::Element svc = export_service(db, s);
      if (svc.element_count() > 0) write_line(chunk, svc);
    }
    chunk += "</host>\n";
    out << chunk;
  }
  out << "</server-data>\n";
  return users;
}

std::string pie_document(const std::string& host, const xml::Element& user) {
  std::string out = "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='" +
                    xml::escape(host, true) + "'>\n";
  write_line(out, user);
  out += "</host>\n</server-data>\n";
  return out;
}

}  // namespace causerie::portability
