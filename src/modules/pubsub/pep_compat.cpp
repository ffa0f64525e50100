// XEP-0402 v1.2 §"Compatibility" (XEP-0048 bookmarks in XEP-0049 private storage) and XEP-0398 v0.2
// (XEP-0084 avatars ↔ XEP-0153 vCard avatars): see pep_compat.hpp.
#include "modules/pubsub/pep_compat.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <set>

#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::pubsub {

namespace {

using Completion = storage::StorageService::Completion;

Service pep_of(const Jid& account) { return Service{account.bare().str(), true, std::string(account.domainpart())}; }

bool truthy(std::string_view v) { return v == "true" || v == "1"; }

std::string without_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out.push_back(c);
  return out;
}

// The publish-options XEP-0402 §"Adding a bookmark" asks for: a private node that keeps every room.
xml::DataForm private_node_options() {
  xml::DataForm f;
  f.type = "submit";
  f.add("FORM_TYPE", "hidden", {ns::kPubsubPublishOptions});
  f.add("pubsub#persist_items", "", {"true"});
  f.add("pubsub#max_items", "", {"max"});
  f.add("pubsub#send_last_published_item", "", {"never"});
  f.add("pubsub#access_model", "", {"whitelist"});
  return f;
}

Engine::Publication publication(std::string node, std::string id, xml::Element payload,
                                std::optional<xml::DataForm> options = std::nullopt) {
  Engine::Publication p;
  p.node = std::move(node);
  p.item_id = std::move(id);
  p.serialized = xml::to_string(payload);
  p.payload = std::move(payload);
  p.options = std::move(options);
  return p;
}

// An iq the account's own client sends to its own account (RFC 6120 §10.3.3: no 'to', or its bare JID).
bool to_own_account(const Stanza& st) { return st.to().empty() || st.to() == st.from().bare(); }

}  // namespace

std::string sha1_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha1(), nullptr) != 1) return {};
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::optional<std::pair<std::string, xml::Element>> bookmark_from_legacy(const xml::Element& conference) {
  auto jid = Jid::parse(conference.attr("jid"));
  if (!jid || jid->has_resource()) return std::nullopt;
  xml::Element c("conference", ns::kBookmarks);
  if (conference.has_attr("name")) c.set_attr("name", conference.attr("name"));
  if (truthy(conference.attr("autojoin"))) c.set_attr("autojoin", "true");
  for (const char* child : {"nick", "password"})
    if (const xml::Element* e = conference.child(child, ns::kLegacyBookmarks)) c.add_text_child(child, e->text(), ns::kBookmarks);
  return std::make_pair(jid->str(), std::move(c));
}

xml::Element bookmark_to_legacy(const std::string& jid, const xml::Element& conference) {
  xml::Element c("conference", ns::kLegacyBookmarks);
  c.set_attr("jid", jid);
  if (conference.has_attr("name")) c.set_attr("name", conference.attr("name"));
  c.set_attr("autojoin", truthy(conference.attr("autojoin")) ? "true" : "false");
  for (const char* child : {"nick", "password"})
    if (const xml::Element* e = conference.child(child, ns::kBookmarks)) c.add_text_child(child, e->text(), ns::kLegacyBookmarks);
  return c;
}

std::optional<Photo> vcard_photo(const xml::Element& vcard) {
  const xml::Element* photo = vcard.child("PHOTO", ns::kVcard);
  if (!photo) return std::nullopt;
  auto bytes = util::base64_decode(without_spaces(photo->child_text("BINVAL", ns::kVcard)));
  if (!bytes || bytes->empty()) return std::nullopt;
  std::string type = photo->child_text("TYPE", ns::kVcard);
  return Photo{std::move(*bytes), type.empty() ? "image/png" : type};
}

VcardNames vcard_temp_names(const xml::Element& vcard) {
  VcardNames out;
  if (const xml::Element* fn = vcard.child("FN", ns::kVcard)) out.fn = fn->text();
  if (const xml::Element* nick = vcard.child("NICKNAME", ns::kVcard)) out.nickname = nick->text();
  return out;
}

VcardNames vcard4_names(const xml::Element& vcard) {
  // RFC 6351: each property holds its value in a typed element, <text/> for these two.
  VcardNames out;
  if (const xml::Element* fn = vcard.child("fn", ns::kVcard4Payload))
    if (const xml::Element* t = fn->child("text", ns::kVcard4Payload)) out.fn = t->text();
  if (const xml::Element* nick = vcard.child("nickname", ns::kVcard4Payload))
    if (const xml::Element* t = nick->child("text", ns::kVcard4Payload)) out.nickname = t->text();
  return out;
}

namespace {

// Replaces the first element `name` of `parent` (or appends one) with `replacement`, keeping the order.
void put_first(xml::Element& parent, std::string_view name, std::string_view ns, xml::Element replacement) {
  for (auto& node : parent.nodes())
    if (!node.is_text() && node.is(name, ns)) {
      node = std::move(replacement);
      return;
    }
  parent.add(std::move(replacement));
}

}  // namespace

void set_vcard_temp_names(xml::Element& vcard, const VcardNames& names) {
  auto text = [](const char* name, const std::string& value) {
    xml::Element e(name, ns::kVcard);
    e.add_text(value);
    return e;
  };
  if (names.fn) put_first(vcard, "FN", ns::kVcard, text("FN", *names.fn));
  if (names.nickname) put_first(vcard, "NICKNAME", ns::kVcard, text("NICKNAME", *names.nickname));
}

void set_vcard4_names(xml::Element& vcard, const VcardNames& names) {
  auto prop = [](const char* name, const std::string& value) {
    xml::Element e(name, ns::kVcard4Payload);
    e.add_text_child("text", value, ns::kVcard4Payload);
    return e;
  };
  if (names.fn) put_first(vcard, "fn", ns::kVcard4Payload, prop("fn", *names.fn));
  if (names.nickname) put_first(vcard, "nickname", ns::kVcard4Payload, prop("nickname", *names.nickname));
}

PepCompat::PepCompat(ModuleContext& ctx, Engine& engine) : ctx_(ctx), engine_(engine) {
  ctx.disco().add_account_feature(ns::kBookmarksCompat);
  ctx.disco().add_account_feature(ns::kPepVcardConversion);
  // Above the IM module's presence broadcast (100) and MUC joins (90), so both carry the hash.
  ctx.hook(StanzaHook::kFromClient, 120, [this](StanzaEvent& ev) { return on_client_stanza(ev); });
  engine_.add_publish_observer([this](storage::Storage& db, const Service& svc, const Engine::Published& p) {
    return after_publish(db, svc, p);
  });
  // The hash of an account's vCard photo, known while it has a session; legacy bookmarks stored before
  // the conversion existed.
  ctx.on_session(SessionHook::kBound, [this](ClientSession& s) {
    std::string bare = s.jid().bare().str();
    ctx_.storage().read([this, bare](storage::Storage& db) {
      auto legacy = db.kv().get(bare, "private", ns::kLegacyBookmarks);
      if (legacy && legacy->find("conference") != std::string::npos)
        if (auto account = Jid::parse(bare)) migrate_legacy_bookmarks(*account);
      auto stored = db.kv().get(bare, "vcard", "");
      auto vcard = stored ? xml::parse_fragment(*stored) : std::nullopt;
      if (!vcard) return;
      auto photo = vcard_photo(*vcard);
      remember_hash(bare, photo ? sha1_hex(photo->bytes) : "", false);
    });
  });
  ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) {
    if (!s.bound()) return;
    std::string bare = s.jid().bare().str();
    if (!ctx_.sessions().resources(bare).empty()) return;
    std::lock_guard lock(mutex_);
    photo_hashes_.erase(bare);
  });
}

void PepCompat::remember_hash(const std::string& bare, std::string hash, bool replace) {
  std::lock_guard lock(mutex_);
  if (replace) photo_hashes_[bare] = std::move(hash);
  else photo_hashes_.emplace(bare, std::move(hash));  // a newer value from a set stays
}

HookResult PepCompat::on_client_stanza(StanzaEvent& ev) {
  Stanza& st = ev.stanza;
  if (!ev.origin || !ev.origin->bound()) return HookResult::kContinue;
  if (st.is_presence()) {
    if (st.type().empty()) add_photo_hash(st);
    return HookResult::kContinue;
  }
  if (!st.is_iq() || !to_own_account(st)) return HookResult::kContinue;
  const xml::Element* payload = st.element().child();
  if (!payload) return HookResult::kContinue;
  std::string_view type = st.type();
  if (type == "set" && payload->is("vCard", ns::kVcard)) {
    vcard_set(st.from(), *payload);  // stored by the vcard module, which answers
    return HookResult::kContinue;
  }
  if (!payload->is("query", ns::kPrivate) || (type != "get" && type != "set")) return HookResult::kContinue;
  auto children = payload->children();
  bool bookmarks = false;
  std::vector<xml::Element> others;
  for (const xml::Element* c : children) {
    if (c->is("storage", ns::kLegacyBookmarks)) bookmarks = true;
    else if (c->ns() == ns::kPrivate || c->ns() == ns::kClient || c->ns().empty()) return HookResult::kContinue;
    else others.push_back(*c);
  }
  if (!bookmarks || (type == "get" && children.size() != 1)) return HookResult::kContinue;  // the private module's
  IqRequest req{std::move(st), IqResponder(), ev.origin};
  req.reply = ctx_.router().responder_for(req.stanza);
  if (type == "get") private_bookmarks_get(std::move(req));
  else private_bookmarks_set(std::move(req), std::move(others));
  return HookResult::kHandled;
}

void PepCompat::private_bookmarks_get(IqRequest req) {
  Service svc = pep_of(req.from());
  ctx_.storage().read([this, svc, reply = req.reply](storage::Storage& db) {
    xml::Element storage("storage", ns::kLegacyBookmarks);
    auto n = engine_.load(db, svc, ns::kBookmarks);
    // What is not a room (XEP-0048 <url/>) stays in private storage; so do rooms stored before the
    // conversion existed, until they are moved (migrate_legacy_bookmarks).
    if (auto stored = db.kv().get(svc.jid, "private", ns::kLegacyBookmarks))
      if (auto el = xml::parse_fragment(*stored))
        for (const xml::Element* c : el->children())
          if (!n || !c->is("conference", ns::kLegacyBookmarks)) storage.add(*c);
    if (n) {
      storage::PubsubItemQuery q;
      q.oldest_first = true;
      for (const auto& item : db.pubsub().items(n->row.id, q)) {
        auto payload = xml::parse_fragment(item.payload);
        if (payload && payload->is("conference", ns::kBookmarks)) storage.add(bookmark_to_legacy(item.id, *payload));
      }
    }
    xml::Element q("query", ns::kPrivate);
    q.add(std::move(storage));
    reply.result(std::move(q));
  });
}

tl::expected<LegacyBookmarks, StanzaError> parse_legacy_bookmarks(const xml::Element& storage) {
  LegacyBookmarks out;
  std::set<std::string> seen;
  for (const xml::Element* c : storage.children()) {
    if (c->is("conference", ns::kLegacyBookmarks)) {
      auto room = bookmark_from_legacy(*c);
      if (!room) return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "a conference bookmark needs a room JID"));
      if (seen.insert(room->first).second) out.rooms.push_back(std::move(*room));
    } else {
      out.rest.add(*c);
    }
  }
  return out;
}

void PepCompat::private_bookmarks_set(IqRequest req, std::vector<xml::Element> others) {
  auto list = parse_legacy_bookmarks(*req.payload().child("storage", ns::kLegacyBookmarks));
  if (!list) return req.reply.error(list.error());
  std::vector<std::pair<std::string, std::string>> docs;
  for (const auto& o : others) docs.emplace_back(o.ns(), xml::to_string(o));
  Service svc = pep_of(req.from());
  ctx_.storage().write([this, svc, list = std::move(*list), docs = std::move(docs), from = req.from(),
                        reply = req.reply](storage::Storage& db) mutable -> Completion {
    for (const auto& [ns, xml] : docs) db.kv().put(svc.jid, "private", ns, xml);
    auto applied = apply_legacy(db, svc, from, std::move(list));
    return [this, reply, applied = std::move(applied)]() mutable {
      if (applied.error) reply.error(*applied.error);
      else reply.result();
      for (auto& e : applied.events) engine_.send_event(std::move(e));
    };
  });
}

PepCompat::Applied PepCompat::apply_legacy(storage::Storage& db, const Service& svc, const Jid& from,
                                           LegacyBookmarks list) {
  Applied out;
  std::unordered_map<std::string, std::string> existing;  // item id → payload
  if (auto n = engine_.load(db, svc, ns::kBookmarks)) {
    // XEP-0411 §7: rooms copied from private storage must stay private to the account.
    NodeConfig c = n->config;
    if (c.access_model != AccessModel::kWhitelist || c.send_last_published_item != SendLastItem::kNever ||
        !c.max_items_max) {
      c.access_model = AccessModel::kWhitelist;
      c.send_last_published_item = SendLastItem::kNever;
      c.max_items_max = true;
      db.pubsub().set_node_config(n->row.id, serialize_config(c, engine_.settings().limits));
    }
    for (auto& item : db.pubsub().items(n->row.id, {})) existing.emplace(item.id, std::move(item.payload));
  }
  db.kv().put(svc.jid, "private", ns::kLegacyBookmarks, xml::to_string(list.rest));
  // XEP-0402 §"Publishing via the old specification": only the rooms that changed are announced.
  std::set<std::string> ids;
  for (auto& [jid, conference] : list.rooms) {
    ids.insert(jid);
    if (auto it = existing.find(jid); it != existing.end()) {
      // Compared as XEP-0048 sees them; a changed room keeps what only XEP-0402 has (<extensions/>).
      auto before = xml::parse_fragment(it->second);
      if (before && xml::to_string(bookmark_to_legacy(jid, *before)) == xml::to_string(bookmark_to_legacy(jid, conference)))
        continue;
      if (const xml::Element* ext = before ? before->child("extensions", ns::kBookmarks) : nullptr) conference.add(*ext);
    }
    auto done = engine_.publish_in(db, svc, from, publication(ns::kBookmarks, jid, std::move(conference), private_node_options()));
    if (!done) {
      // What was stored before stays (and is announced); the client learns the list was not all taken.
      out.error = done.error();
      return out;
    }
    out.events.push_back(std::move(done->event));
  }
  for (const auto& [id, payload] : existing) {
    if (ids.count(id)) continue;
    auto done = engine_.retract_in(db, svc, from, ns::kBookmarks, id, true);
    if (done) out.events.push_back(std::move(*done));
  }
  return out;
}

void PepCompat::migrate_legacy_bookmarks(const Jid& account) {
  // XEP-0411 §6: rooms a legacy client stored before the conversion existed become PEP items before a
  // PEP client looks for them. Written once: afterwards private storage holds no <conference/>.
  Service svc = pep_of(account);
  ctx_.storage().write([this, svc, account](storage::Storage& db) -> Completion {
    auto stored = db.kv().get(svc.jid, "private", ns::kLegacyBookmarks);
    auto el = stored ? xml::parse_fragment(*stored) : std::nullopt;
    if (!el || !el->child("conference", ns::kLegacyBookmarks) || engine_.load(db, svc, ns::kBookmarks)) return nullptr;
    auto list = parse_legacy_bookmarks(*el);
    if (!list) {
      // Rooms without a JID are useless to anyone; keep the rest.
      LegacyBookmarks valid;
      for (const xml::Element* c : el->children()) {
        if (!c->is("conference", ns::kLegacyBookmarks)) valid.rest.add(*c);
        else if (auto room = bookmark_from_legacy(*c)) valid.rooms.push_back(std::move(*room));
      }
      list = std::move(valid);
    }
    auto applied = apply_legacy(db, svc, account, std::move(*list));
    return [this, applied = std::move(applied)]() mutable {
      for (auto& e : applied.events) engine_.send_event(std::move(e));
    };
  });
}

void PepCompat::vcard_set(const Jid& from, const xml::Element& vcard) {
  std::optional<Photo> photo = vcard_photo(vcard);
  VcardNames names = vcard_temp_names(vcard);
  Service svc = pep_of(from);
  ctx_.storage().write([this, svc, from, photo = std::move(photo), names](storage::Storage& db) -> Completion {
    std::vector<Engine::Notification> events;
    // A vCard without a photo says "no avatar" to XEP-0153 readers; the XEP-0084 nodes are left as they
    // are (XEP-0398 §3.2 converts a valid photo only).
    std::string id = photo ? sha1_hex(photo->bytes) : "";
    if (photo) publish_avatar(db, svc, from, *photo, id, events);
    if (names.fn || names.nickname) copy_names_to_vcard4(db, svc, from, names, events);
    return [this, bare = svc.jid, id, events = std::move(events)]() mutable {
      remember_hash(bare, id, true);
      for (auto& e : events) engine_.send_event(std::move(e));
    };
  });
}

void PepCompat::publish_avatar(storage::Storage& db, const Service& svc, const Jid& from, const Photo& photo,
                               const std::string& id, std::vector<Engine::Notification>& events) {
  // XEP-0398 §3.2: the data item first, named by the image's SHA-1, then the metadata pointing to it.
  auto current = engine_.load(db, svc, ns::kAvatarMetadata);
  if (current && db.pubsub().item(current->row.id, id)) return;  // that avatar already
  xml::Element data("data", ns::kAvatarData);
  data.add_text(util::base64_encode(photo.bytes));
  auto d = engine_.publish_in(db, svc, from, publication(ns::kAvatarData, id, std::move(data)));
  if (!d) {
    spdlog::info("pep: the vCard photo of {} is not published as an avatar: {}", svc.jid, d.error().text);
    return;
  }
  events.push_back(std::move(d->event));
  xml::Element meta("metadata", ns::kAvatarMetadata);
  xml::Element& info = meta.add_child("info", ns::kAvatarMetadata);
  info.set_attr("bytes", std::to_string(photo.bytes.size())).set_attr("id", id).set_attr("type", photo.type);
  if (auto m = engine_.publish_in(db, svc, from, publication(ns::kAvatarMetadata, id, std::move(meta))))
    events.push_back(std::move(m->event));
}

void PepCompat::copy_names_to_vcard4(storage::Storage& db, const Service& svc, const Jid& from, const VcardNames& names,
                                     std::vector<Engine::Notification>& events) {
  // The newest vCard4 item, or a new one (XEP-0292 names no item id; "current" like other singletons).
  std::string item_id = "current";
  std::optional<xml::Element> card;
  if (auto n = engine_.load(db, svc, ns::kVcard4)) {
    storage::PubsubItemQuery q;
    q.limit = 1;
    auto items = db.pubsub().items(n->row.id, q);
    if (!items.empty()) {
      item_id = items.front().id;
      card = xml::parse_fragment(items.front().payload);
    }
  }
  if (!card || !card->is("vcard", ns::kVcard4Payload)) card = xml::Element("vcard", ns::kVcard4Payload);
  std::string before = xml::to_string(*card);
  set_vcard4_names(*card, names);
  if (xml::to_string(*card) == before) return;
  if (auto p = engine_.publish_in(db, svc, from, publication(ns::kVcard4, item_id, std::move(*card))))
    events.push_back(std::move(p->event));
}

std::function<void()> PepCompat::after_publish(storage::Storage& db, const Service& svc, const Engine::Published& p) {
  if (!svc.pep) return nullptr;
  if (p.node == ns::kVcard4) {
    // XEP-0292 → vcard-temp: the names only (see pep_compat.hpp).
    auto card = xml::parse_fragment(p.item.payload);
    VcardNames names = card && card->is("vcard", ns::kVcard4Payload) ? vcard4_names(*card) : VcardNames{};
    if (!names.fn && !names.nickname) return nullptr;
    auto stored = db.kv().get(svc.jid, "vcard", "");
    std::optional<xml::Element> vcard = stored ? xml::parse_fragment(*stored) : std::nullopt;
    if (!vcard || !vcard->is("vCard", ns::kVcard)) vcard = xml::Element("vCard", ns::kVcard);
    std::string before = xml::to_string(*vcard);
    set_vcard_temp_names(*vcard, names);
    if (xml::to_string(*vcard) != before) db.kv().put(svc.jid, "vcard", "", xml::to_string(*vcard));
    return nullptr;
  }
  if (p.node != ns::kAvatarMetadata) return nullptr;
  auto meta = xml::parse_fragment(p.item.payload);
  if (!meta || !meta->is("metadata", ns::kAvatarMetadata)) return nullptr;
  // XEP-0398 §3.1: the info element without a url points into the data node; no info at all is
  // XEP-0084 §4.7 "avatar disabled".
  std::optional<Photo> photo;
  std::string id;
  bool disabled = meta->children("info", ns::kAvatarMetadata).empty();
  for (const xml::Element* info : meta->children("info", ns::kAvatarMetadata)) {
    if (info->has_attr("url")) continue;
    id = std::string(info->attr("id"));
    auto data_node = engine_.load(db, svc, ns::kAvatarData);
    auto item = data_node ? db.pubsub().item(data_node->row.id, id) : std::nullopt;
    auto data = item ? xml::parse_fragment(item->payload) : std::nullopt;
    auto bytes = data ? util::base64_decode(without_spaces(data->text())) : std::nullopt;
    // §3.1: SHOULD verify that the SHA-1 of the image matches the id.
    if (bytes && sha1_hex(*bytes) == id) {
      std::string type(info->attr("type"));
      photo = Photo{std::move(*bytes), type.empty() ? "image/png" : type};
    }
    break;
  }
  if (!photo && !disabled) return nullptr;
  auto stored = db.kv().get(svc.jid, "vcard", "");
  std::optional<xml::Element> vcard = stored ? xml::parse_fragment(*stored) : std::nullopt;
  if (!vcard || !vcard->is("vCard", ns::kVcard)) vcard = xml::Element("vCard", ns::kVcard);
  vcard->remove_children("PHOTO", ns::kVcard);
  if (photo) {
    xml::Element& ph = vcard->add_child("PHOTO", ns::kVcard);
    ph.add_text_child("TYPE", photo->type, ns::kVcard);
    ph.add_text_child("BINVAL", util::base64_encode(photo->bytes), ns::kVcard);
  } else {
    id.clear();
  }
  db.kv().put(svc.jid, "vcard", "", xml::to_string(*vcard));
  return [this, bare = svc.jid, id] { remember_hash(bare, id, true); };
}

void PepCompat::add_photo_hash(Stanza& presence) {
  std::string hash;
  {
    std::lock_guard lock(mutex_);
    auto it = photo_hashes_.find(std::string(presence.from().bare_view()));
    if (it == photo_hashes_.end()) return;
    hash = it->second;
  }
  // XEP-0398 §4: a presence with a <photo/> of its own is left alone; an <x/> without one gets it.
  xml::Element& el = presence.element();
  xml::Element* x = el.child("x", ns::kVcardUpdate);
  if (x && x->child("photo", ns::kVcardUpdate)) return;
  if (!x) x = &el.add_child("x", ns::kVcardUpdate);
  x->add_text_child("photo", hash, ns::kVcardUpdate);
}

}  // namespace causerie::modules::pubsub
