#include "cli/prosody_data.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "cli/lua_data.hpp"
#include "core/jid/jid.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/element.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::prosody {

namespace fs = std::filesystem;

namespace {

using Error = tl::unexpected<std::string>;
constexpr uintmax_t kMaxFile = 1ull << 30;

// util.datamanager's encoding: every non-alphanumeric byte as %xx.
std::optional<std::string> decode(std::string_view s) { return util::percent_decode_strict(s); }

std::optional<std::string> hex_decode(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = s[i + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return std::nullopt;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

tl::expected<std::string, std::string> read_file(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return Error(p.string() + ": " + ec.message());
  if (size > kMaxFile) return Error(p.string() + ": larger than " + std::to_string(kMaxFile) + " bytes");
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// store/<user>.dat, when it exists.
tl::expected<std::optional<LuaValue>, std::string> read_dat(const fs::path& file) {
  if (!fs::exists(file)) return std::optional<LuaValue>();
  auto text = read_file(file);
  if (!text) return Error(text.error());
  auto v = parse_lua_return(*text);
  if (!v) return Error(file.string() + ": " + v.error());
  return std::optional<LuaValue>(std::move(*v));
}

tl::expected<std::vector<LuaValue>, std::string> read_list(const fs::path& file) {
  if (!fs::exists(file)) return std::vector<LuaValue>();
  auto text = read_file(file);
  if (!text) return Error(text.error());
  auto v = parse_lua_items(*text);
  if (!v) return Error(file.string() + ": " + v.error());
  // Appended in time order; kept so even if a clock went back.
  std::stable_sort(v->begin(), v->end(), [](const LuaValue& a, const LuaValue& b) {
    const LuaValue* wa = a.get("when");
    const LuaValue* wb = b.get("when");
    return (wa ? wa->number : 0) < (wb ? wb->number : 0);
  });
  return std::move(*v);
}

std::string stamp_of(const LuaValue& item) {
  const LuaValue* when = item.get("when");
  double s = when ? when->number : 0;
  auto ms = static_cast<int64_t>(std::llround(s * 1000));
  return util::format_datetime(util::SystemTime(std::chrono::milliseconds(ms)));
}

// util.stanza as serialized: { name=, attr={ xmlns=, ["uri\1local"]=… }, [1]=child or text, … }.
tl::expected<xml::Element, std::string> stanza(const LuaValue& t, const std::string& parent_ns, int depth,
                                              bool top = false) {
  if (depth > 64) return Error("stanza nested too deep");
  std::string name = t.str("name");
  if (!t.is_table() || name.empty()) return Error("not a stanza");
  const LuaValue* attr = t.get("attr");
  std::string ns = attr ? attr->str("xmlns") : "";
  if (ns.empty()) ns = parent_ns;
  xml::Element el(name, ns);
  if (attr && attr->is_table()) {
    for (const auto& [k, v] : attr->entries) {
      if (k.type != LuaValue::Type::kString || k.string == "xmlns" || v.type != LuaValue::Type::kString) continue;
      if (top && k.string == "stamp") continue;  // Prosody's own bookkeeping on stored stanzas
      size_t sep = k.string.find('\1');
      if (sep != std::string::npos)
        el.set_attr("{" + k.string.substr(0, sep) + "}" + k.string.substr(sep + 1), v.string);
      else
        el.set_attr(k.string, v.string);
    }
  }
  for (const LuaValue* c : t.array()) {
    if (c->is_string()) {
      el.add_text(c->string);
    } else if (c->is_table()) {
      auto child = stanza(*c, ns, depth + 1);
      if (!child) return child;
      el.add(std::move(*child));
    }
  }
  return el;
}

xml::Element delay(const std::string& stamp, const std::string& from) {
  xml::Element d("delay", ns::kDelay);
  if (!from.empty()) d.set_attr("from", from);
  d.set_attr("stamp", stamp);
  return d;
}

std::string text_of(const xml::Element& parent, std::string_view name) {
  const xml::Element* c = parent.child(name);
  return c ? c->child_text("text") : std::string();
}

struct UserFiles {
  fs::path host_dir;
  std::string user_file;  // encoded user name, without extension
  fs::path dat(const char* store) const { return host_dir / store / (user_file + ".dat"); }
  fs::path list(const std::string& store) const { return host_dir / store / (user_file + ".list"); }
};

tl::expected<void, std::string> add_roster(xml::Element& user, const UserFiles& f) {
  auto roster = read_dat(f.dat("roster"));
  if (!roster) return Error(roster.error());
  if (!*roster) return {};
  xml::Element q("query", ns::kRoster);
  std::vector<std::string> pending;
  std::vector<std::pair<std::string, const LuaValue*>> items;
  for (const auto& [k, v] : (*roster)->entries) {
    if (k.type == LuaValue::Type::kBool) {  // [false]: the roster's own metadata
      if (const LuaValue* p = v.get("pending"))
        for (const auto& [pj, _] : p->entries)
          if (pj.is_string()) pending.push_back(pj.string);
    } else if (k.is_string() && v.is_table()) {
      items.emplace_back(k.string, &v);
    }
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [jid, v] : items) {
    auto& item = q.add_child("item");
    item.set_attr("jid", jid);
    if (std::string name = v->str("name"); !name.empty()) item.set_attr("name", name);
    std::string sub = v->str("subscription");
    item.set_attr("subscription", sub.empty() ? "none" : sub);
    if (v->str("ask") == "subscribe") item.set_attr("ask", "subscribe");
    std::vector<std::string> groups;
    if (const LuaValue* g = v->get("groups"))
      for (const auto& [gk, gv] : g->entries)
        if (gk.is_string()) groups.push_back(gk.string);
    std::sort(groups.begin(), groups.end());
    for (const auto& g : groups) item.add_text_child("group", g);
  }
  if (q.element_count() > 0) user.add(std::move(q));
  std::sort(pending.begin(), pending.end());
  for (const auto& jid : pending) {
    auto& p = user.add_child("presence", ns::kClient);
    p.set_attr("type", "subscribe");
    p.set_attr("from", jid);
  }
  return {};
}

// Stores of `dir` whose decoded names start with `prefix` (directories, or files with `ext`): the rest of
// the name → path. Prosody names a node's item store "<prefix><node>", percent-encoded.
std::map<std::string, fs::path> stores_named(const fs::path& dir, std::string_view prefix, std::string_view ext) {
  std::map<std::string, fs::path> out;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(dir, ec)) {
    bool want = ext.empty() ? d.is_directory() : (d.is_regular_file() && d.path().extension() == ext);
    if (!want) continue;
    auto name = decode(ext.empty() ? d.path().filename().string() : d.path().stem().string());
    if (name && name->starts_with(prefix)) out[name->substr(prefix.size())] = d.path();
  }
  return out;
}

// A submitted XEP-0004 form of `form_type` (XEP-0068), to be filled with form_field().
xml::Element submitted_form(const char* form_type) {
  xml::Element x("x", ns::kDataForms);
  x.set_attr("type", "submit");
  auto& ft = x.add_child("field");
  ft.set_attr("var", "FORM_TYPE");
  ft.set_attr("type", "hidden");
  ft.add_text_child("value", form_type);
  return x;
}

void form_field(xml::Element& x, const std::string& var, const std::vector<std::string>& values) {
  auto& f = x.add_child("field");
  f.set_attr("var", var);
  for (const auto& v : values) f.add_text_child("value", v);
}

// One node of util.pubsub's node store ({ name, config, affiliations, subscribers }) and its item store
// (an archive: the payload, key = item id, with = publisher), into XEP-0227 §3.10's #owner and plain
// <pubsub/> elements. `items_file` may not exist (a node without items).
tl::expected<void, std::string> add_node(const std::string& node, const LuaValue& v, const fs::path* items_file,
                                         xml::Element& owner, xml::Element& data,
                                         std::optional<xml::Element>* vcard4) {
  xml::Element cfg("configure", ns::kPubsubOwner);
  cfg.set_attr("node", node);
  xml::Element x = submitted_form(ns::kPubsubNodeConfig);
  if (const LuaValue* config = v.get("config")) {
    for (const auto& [ck, cv] : config->entries) {
      if (!ck.is_string() || ck.string.starts_with("_")) continue;
      auto& field = x.add_child("field");
      field.set_attr("var", "pubsub#" + ck.string);
      if (cv.type == LuaValue::Type::kBool) field.add_text_child("value", cv.boolean ? "1" : "0");
      else if (cv.is_table())
        for (const LuaValue* e : cv.array()) field.add_text_child("value", e->is_string() ? e->string : "");
      else field.add_text_child("value", config->str(ck.string));
    }
  }
  cfg.add(std::move(x));
  owner.add(std::move(cfg));
  std::vector<std::pair<std::string, std::string>> affs;
  if (const LuaValue* a = v.get("affiliations"))
    for (const auto& [ak, av] : a->entries)
      if (ak.is_string() && av.is_string()) affs.emplace_back(ak.string, av.string);
  std::sort(affs.begin(), affs.end());
  if (!affs.empty()) {
    auto& list = owner.add_child("affiliations");
    list.set_attr("node", node);
    for (const auto& [jid, aff] : affs) {
      auto& e = list.add_child("affiliation");
      e.set_attr("jid", jid);
      e.set_attr("affiliation", aff);
    }
  }
  std::vector<std::string> subs;
  if (const LuaValue* s = v.get("subscribers"))
    for (const auto& [sk, sv] : s->entries)
      if (sk.is_string()) subs.push_back(sk.string);
  std::sort(subs.begin(), subs.end());
  if (!subs.empty()) {
    auto& list = owner.add_child("subscriptions");
    list.set_attr("node", node);
    for (const auto& jid : subs) {
      auto& e = list.add_child("subscription");
      e.set_attr("jid", jid);
      e.set_attr("subscription", "subscribed");
    }
  }
  xml::Element items("items", ns::kPubsub);
  items.set_attr("node", node);
  if (items_file) {
    auto list = read_list(*items_file);
    if (!list) return Error(list.error());
    // A re-published id replaces the older item: keep the last one.
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < list->size(); ++i) last[(*list)[i].str("key")] = i;
    for (size_t i = 0; i < list->size(); ++i) {
      const LuaValue& it = (*list)[i];
      std::string id = it.str("key");
      if (last[id] != i) continue;
      auto payload = stanza(it, "", 0, true);
      if (!payload) return Error(items_file->string() + ": item " + id + ": " + payload.error());
      if (vcard4 && node == ns::kVcard4) *vcard4 = *payload;
      auto& item = items.add_child("item");
      item.set_attr("id", id);
      if (std::string with = it.str("with"); !with.empty()) item.set_attr("publisher", with);
      item.set_attr(std::string("{") + ns::kCauseriePie + "}published", stamp_of(it));
      item.add(std::move(*payload));
    }
  }
  data.add(std::move(items));
  return {};
}

// The string-keyed tables of a .dat file, sorted by key.
std::vector<std::pair<std::string, const LuaValue*>> sorted_tables(const LuaValue& v) {
  std::vector<std::pair<std::string, const LuaValue*>> out;
  for (const auto& [k, e] : v.entries)
    if (k.is_string() && e.is_table()) out.emplace_back(k.string, &e);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

tl::expected<void, std::string> add_pep(xml::Element& user, const UserFiles& f, std::optional<xml::Element>& vcard4) {
  auto pep = read_dat(f.dat("pep"));
  if (!pep) return Error(pep.error());
  // Items live in one store per node, pep_<node>/<user>.list.
  auto item_dirs = stores_named(f.host_dir, "pep_", "");
  xml::Element owner("pubsub", ns::kPubsubOwner), data("pubsub", ns::kPubsub);
  if (*pep) {
    for (const auto& [node, v] : sorted_tables(**pep)) {
      std::optional<fs::path> items;
      if (auto dir = item_dirs.find(node); dir != item_dirs.end()) items = dir->second / (f.user_file + ".list");
      if (auto r = add_node(node, *v, items ? &*items : nullptr, owner, data, &vcard4); !r) return r;
    }
  }
  if (owner.element_count() > 0) {
    user.add(std::move(owner));
    user.add(std::move(data));
  }
  return {};
}

tl::expected<xml::Element, std::string> convert_user(const std::string& host, const UserFiles& f,
                                                    const std::string& name) {
  xml::Element user("user", ns::kPie);
  user.set_attr("name", name);
  auto account = read_dat(f.dat("accounts"));
  if (!account) return Error(account.error());
  const LuaValue& a = **account;
  if (std::string pw = a.str("password"); !pw.empty()) user.set_attr("password", pw);
  if (a.get("stored_key")) {
    auto stored = hex_decode(a.str("stored_key")), server = hex_decode(a.str("server_key"));
    if (!stored || !server) return Error(f.dat("accounts").string() + ": keys are not hexadecimal");
    auto& s = user.add_child("scram-credentials", ns::kPieScram);
    s.set_attr("mechanism", "SCRAM-SHA-1");  // Prosody 0.12's internal_hashed keeps SHA-1 keys only
    s.add_text_child("iter-count", a.str("iteration_count"));
    s.add_text_child("salt", util::base64_encode(a.str("salt")));
    s.add_text_child("server-key", util::base64_encode(*server));
    s.add_text_child("stored-key", util::base64_encode(*stored));
  }
  if (auto r = add_roster(user, f); !r) return Error(r.error());

  auto vcard = read_dat(f.dat("vcard"));
  if (!vcard) return Error(vcard.error());
  std::optional<xml::Element> vcard_temp;
  if (*vcard) {
    auto v = stanza(**vcard, ns::kVcard, 0);
    if (!v) return Error(f.dat("vcard").string() + ": " + v.error());
    vcard_temp = std::move(*v);
  }

  auto priv = read_dat(f.dat("private"));
  if (!priv) return Error(priv.error());
  std::optional<xml::Element> private_query;
  if (*priv) {
    xml::Element q("query", ns::kPrivate);
    std::vector<std::pair<std::string, const LuaValue*>> docs;
    for (const auto& [k, v] : (*priv)->entries)
      if (k.is_string() && v.is_table()) docs.emplace_back(k.string, &v);
    std::sort(docs.begin(), docs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [key, v] : docs) {
      auto el = stanza(*v, "", 0);
      if (!el) return Error(f.dat("private").string() + ": " + key + ": " + el.error());
      q.add(std::move(*el));
    }
    if (q.element_count() > 0) private_query = std::move(q);
  }

  auto offline = read_list(f.list("offline"));
  if (!offline) return Error(offline.error());
  std::optional<xml::Element> offline_el;
  if (!offline->empty()) {
    xml::Element list("offline-messages", ns::kPie);
    for (const auto& m : *offline) {
      auto msg = stanza(m, ns::kClient, 0, true);
      if (!msg) return Error(f.list("offline").string() + ": " + msg.error());
      if (msg->name() != "message") continue;
      msg->add(delay(stamp_of(m), host));
      list.add(std::move(*msg));
    }
    offline_el = std::move(list);
  }

  xml::Element pep_holder("user", ns::kPie);
  std::optional<xml::Element> vcard4;
  if (auto r = add_pep(pep_holder, f, vcard4); !r) return Error(r.error());
  if (!vcard_temp && vcard4) {
    // mod_vcard_legacy answers vcard-temp from the vCard4 item: FN and NICKNAME (XEP-0292 §"Mapping").
    xml::Element v("vCard", ns::kVcard);
    if (std::string fn = text_of(*vcard4, "fn"); !fn.empty()) v.add_text_child("FN", fn);
    if (std::string nick = text_of(*vcard4, "nickname"); !nick.empty()) v.add_text_child("NICKNAME", nick);
    if (v.element_count() > 0) vcard_temp = std::move(v);
  }
  if (vcard_temp) user.add(std::move(*vcard_temp));
  if (private_query) user.add(std::move(*private_query));
  if (offline_el) user.add(std::move(*offline_el));
  for (auto& n : pep_holder.nodes()) user.add(std::move(n));

  auto archive = read_list(f.list("archive"));
  if (!archive) return Error(archive.error());
  if (!archive->empty()) {
    xml::Element list("archive", ns::kPieMam);
    for (const auto& m : *archive) {
      auto msg = stanza(m, ns::kClient, 0, true);
      if (!msg) return Error(f.list("archive").string() + ": " + msg.error());
      auto& r = list.add_child("result", ns::kMam);
      r.set_attr("id", m.str("key"));
      auto& fw = r.add_child("forwarded", ns::kForward);
      fw.add(delay(stamp_of(m), ""));
      fw.add(std::move(*msg));
    }
    user.add(std::move(list));
  }
  return user;
}

// --- Components: mod_muc's rooms and mod_pubsub's nodes ------------------------------------------------

// The values of a room's _data, checked for the type mod_muc gives them (a wrong type is a damaged file,
// refused rather than guessed at).
struct RoomData {
  const LuaValue& data;
  const std::string& file;
  tl::expected<std::optional<std::string>, std::string> text(std::string_view key) const {
    const LuaValue* v = data.get(key);
    if (!v || v->type == LuaValue::Type::kNil) return std::optional<std::string>();
    if (!v->is_string()) return Error(file + ": _data." + std::string(key) + " is not a string");
    return std::optional<std::string>(v->string);
  }
  tl::expected<std::optional<bool>, std::string> flag(std::string_view key) const {
    const LuaValue* v = data.get(key);
    if (!v || v->type == LuaValue::Type::kNil) return std::optional<bool>();
    if (v->type != LuaValue::Type::kBool) return Error(file + ": _data." + std::string(key) + " is not true or false");
    return std::optional<bool>(v->boolean);
  }
  tl::expected<std::optional<double>, std::string> number(std::string_view key) const {
    const LuaValue* v = data.get(key);
    if (!v || v->type == LuaValue::Type::kNil) return std::optional<double>();
    if (v->type != LuaValue::Type::kNumber || v->number < 0)
      return Error(file + ": _data." + std::string(key) + " is not a non-negative number");
    return std::optional<double>(v->number);
  }
};

// mod_muc's room settings (muc/*.lib.lua, each keeping one key of _data) as the muc#roomconfig form
// XEP-0045 §10.1.3 defines, with Prosody's meaning of an absent key: the setting's default there.
tl::expected<xml::Element, std::string> room_form(const RoomData& d) {
  xml::Element x = submitted_form(ns::kMucRoomConfig);
  form_field(x, "muc#roomconfig_persistentroom", {"1"});
  using Text = std::pair<const char*, const char*>;
  for (auto [key, var] : {Text{"name", "muc#roomconfig_roomname"}, Text{"description", "muc#roomconfig_roomdesc"},
                          Text{"language", "muc#roomconfig_lang"}}) {
    auto v = d.text(key);
    if (!v) return Error(v.error());
    if (*v) form_field(x, var, {**v});
  }
  // Absent booleans are false in mod_muc, except `hidden` (absent: listed) and `archiving` (absent:
  // mod_muc_mam's muc_log_by_default, which this file does not tell; the default here is the same, on).
  using Flag = std::tuple<const char*, const char*, bool>;
  for (auto [key, var, invert] : {Flag{"hidden", "muc#roomconfig_publicroom", true},
                                  Flag{"members_only", "muc#roomconfig_membersonly", false},
                                  Flag{"moderated", "muc#roomconfig_moderatedroom", false},
                                  Flag{"changesubject", "muc#roomconfig_changesubject", false},
                                  Flag{"allow_member_invites", "muc#roomconfig_allowinvites", false}}) {
    auto v = d.flag(key);
    if (!v) return Error(v.error());
    form_field(x, var, {v->value_or(false) != invert ? "1" : "0"});
  }
  auto archiving = d.flag("archiving");
  if (!archiving) return Error(archiving.error());
  if (*archiving) form_field(x, "muc#roomconfig_enablearchiving", {**archiving ? "1" : "0"});
  auto password = d.text("password");
  if (!password) return Error(password.error());
  bool has_password = *password && !(*password)->empty();
  form_field(x, "muc#roomconfig_passwordprotectedroom", {has_password ? "1" : "0"});
  if (has_password) form_field(x, "muc#roomconfig_roomsecret", {**password});
  auto whois = d.text("whois");
  if (!whois) return Error(whois.error());
  std::string w = whois->value_or("moderators");
  if (w != "moderators" && w != "anyone") return Error(d.file + ": _data.whois is '" + w + "'");
  form_field(x, "muc#roomconfig_whois", {w});
  // history_length: how many messages a joining occupant gets at most (Prosody's default 20, ours too).
  auto history = d.number("history_length");
  if (!history) return Error(history.error());
  if (*history) form_field(x, "muc#maxhistoryfetch", {std::to_string(static_cast<uint64_t>(**history))});
  if (const LuaValue* pb = d.data.get("presence_broadcast"); pb && pb->type != LuaValue::Type::kNil) {
    if (!pb->is_table()) return Error(d.file + ": _data.presence_broadcast is not a table");
    std::vector<std::string> roles;
    for (const auto& [role, on] : pb->entries)
      if (role.is_string() && on.type == LuaValue::Type::kBool && on.boolean) roles.push_back(role.string);
    std::sort(roles.begin(), roles.end());
    form_field(x, "muc#roomconfig_presencebroadcast", roles);
  }
  return x;
}

int64_t file_time_ms(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

// One room of mod_muc's `config` store (muc.lib.lua's room:freeze(): _jid, _data, _affiliation_data and
// one bare JID → affiliation entry each; before Prosody 0.11, jid and an _affiliations table), with its
// messages from mod_muc_mam's `muc_log` archive. nullopt: a room Prosody would not keep (not persistent,
// or the tombstone of a destroyed one).
tl::expected<std::optional<xml::Element>, std::string> convert_room(const fs::path& dir, const std::string& domain,
                                                                   const fs::path& file) {
  std::string what = file.string();
  auto node = decode(file.stem().string());
  if (!node) return Error(what + ": not a Prosody room file name");
  auto frozen = read_dat(file);
  if (!frozen) return Error(frozen.error());
  const LuaValue& r = **frozen;
  const std::string expected = *node + "@" + domain;
  std::string jid = r.get("_jid") ? r.str("_jid") : r.str("jid");
  if (jid != expected) return Error(what + ": holds room '" + jid + "', expected '" + expected + "'");
  const LuaValue* data = r.get("_data");
  if (!data || !data->is_table()) return Error(what + ": no _data table (not a room mod_muc wrote)");
  RoomData d{*data, what};
  auto persistent = d.flag("persistent");
  if (!persistent) return Error(persistent.error());
  auto destroyed = d.flag("destroyed");
  if (!destroyed) return Error(destroyed.error());
  // A live room saved at shutdown (persistent or not) and a tombstone left by a destroyed one are not
  // rooms anyone created to keep.
  if (!persistent->value_or(false) || destroyed->value_or(false)) return std::optional<xml::Element>();

  xml::Element room("room", ns::kCauseriePie);
  room.set_attr("jid", expected);
  auto hidden = d.flag("hidden");
  if (!hidden) return Error(hidden.error());
  room.set_attr("public", hidden->value_or(false) ? "false" : "true");
  if (std::string name = data->str("name"); !name.empty()) room.set_attr("name", name);
  auto form = room_form(d);
  if (!form) return Error(form.error());
  room.add_child("query", ns::kMucOwner).add(std::move(*form));

  auto subject = d.text("subject");
  if (!subject) return Error(subject.error());
  if (*subject && !(*subject)->empty()) {
    auto from = d.text("subject_from");
    if (!from) return Error(from.error());
    auto time = d.number("subject_time");
    if (!time) return Error(time.error());
    auto& s = room.add_text_child("subject", **subject, ns::kCauseriePie);
    // subject_from is the occupant JID of whoever set it (or the room's own JID): its nickname is the resource.
    if (*from) {
      auto j = Jid::parse(**from);
      if (j && j->has_resource()) s.set_attr("nick", std::string(j->resourcepart()));
    }
    int64_t ms = *time ? static_cast<int64_t>(std::llround(**time * 1000)) : file_time_ms(file);
    s.set_attr("stamp", util::format_datetime(util::SystemTime(std::chrono::milliseconds(ms))));
  }

  // Affiliations: every other key that is not Prosody's own (those begin with '_').
  const LuaValue* aff_data = r.get("_affiliation_data");
  const LuaValue* old_affs = r.get("_affiliations");
  const LuaValue& affs_from = old_affs && old_affs->is_table() && !r.get("_jid") ? *old_affs : r;
  std::vector<std::tuple<std::string, std::string, std::string>> affs;
  for (const auto& [k, v] : affs_from.entries) {
    if (!k.is_string() || k.string.starts_with("_") || (&affs_from == &r && k.string == "jid")) continue;
    static const std::set<std::string> kKnown = {"owner", "admin", "member", "outcast"};
    if (!v.is_string() || !kKnown.count(v.string))
      return Error(what + ": affiliation '" + (v.is_string() ? v.string : std::string("(not text)")) + "' for " +
                   k.string);
    std::string nick;
    if (aff_data && aff_data->is_table())
      if (const LuaValue* e = aff_data->get(k.string); e && e->is_table()) nick = e->str("reserved_nickname");
    affs.emplace_back(k.string, v.string, nick);
  }
  std::sort(affs.begin(), affs.end());
  if (!affs.empty()) {
    auto& q = room.add_child("query", ns::kMucAdmin);
    for (const auto& [j, aff, nick] : affs) {
      auto& item = q.add_child("item");
      item.set_attr("affiliation", aff);
      item.set_attr("jid", j);
      if (!nick.empty()) item.set_attr("nick", nick);
    }
  }

  // mod_muc_mam keeps the room's messages (with = "message<groupchat"; presences too when configured,
  // left out here); the newest of them are also what Prosody gives a joining occupant as history.
  auto log = read_list(dir / "muc_log" / (file.stem().string() + ".list"));
  if (!log) return Error(log.error());
  xml::Element archive("archive", ns::kPieMam);
  std::vector<xml::Element> history;
  for (const auto& m : *log) {
    if (m.str("name") != "message") continue;
    auto msg = stanza(m, ns::kClient, 0, true);
    if (!msg) return Error(dir.string() + "/muc_log: " + m.str("key") + ": " + msg.error());
    if (msg->attr("type") != "groupchat") continue;
    std::string key = m.str("key");
    if (key.empty()) return Error(dir.string() + "/muc_log: a message without a key");
    auto& res = archive.add_child("result", ns::kMam);
    res.set_attr("id", key);
    auto& fw = res.add_child("forwarded", ns::kForward);
    fw.add(delay(stamp_of(m), ""));
    fw.add(*msg);
    if (msg->child("body")) {
      xml::Element h("forwarded", ns::kForward);
      h.add(delay(stamp_of(m), ""));
      msg->remove_attr("to");
      h.add(std::move(*msg));
      history.push_back(std::move(h));
    }
  }
  auto history_length = d.number("history_length");
  size_t keep = history_length && *history_length ? static_cast<size_t>(**history_length) : 20;
  if (history.size() > keep) history.erase(history.begin(), history.end() - static_cast<ptrdiff_t>(keep));
  if (!history.empty()) {
    auto& h = room.add_child("history", ns::kCauseriePie);
    for (auto& e : history) h.add(std::move(e));
  }
  if (archive.element_count() > 0) room.add(std::move(archive));
  return std::optional<xml::Element>(std::move(room));
}

// A component directory as our <service/> (urn:causerie:pie:0): mod_muc's rooms (config/<room>.dat;
// persistent.dat only lists them) and mod_pubsub's nodes (pubsub_nodes/<node>.dat, the items of each in
// pubsub_<node>.list beside it — an archive store without a user). nullopt when it holds neither.
tl::expected<std::optional<xml::Element>, std::string> convert_service(const std::string& domain, const fs::path& dir,
                                                                      bool muc) {
  xml::Element svc("service", ns::kCauseriePie);
  svc.set_attr("jid", domain);
  if (muc && fs::is_directory(dir / "config")) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(dir / "config"))
      if (f.path().extension() == ".dat") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto room = convert_room(dir, domain, f);
      if (!room) return Error(room.error());
      if (*room) svc.add(std::move(**room));
    }
  }
  if (fs::is_directory(dir / "pubsub_nodes")) {
    auto item_files = stores_named(dir, "pubsub_", ".list");
    std::vector<std::pair<std::string, fs::path>> files;
    for (const auto& f : fs::directory_iterator(dir / "pubsub_nodes")) {
      if (f.path().extension() != ".dat") continue;
      auto node = decode(f.path().stem().string());
      if (!node) return Error(f.path().string() + ": not a Prosody node file name");
      files.emplace_back(*node, f.path());
    }
    std::sort(files.begin(), files.end());
    xml::Element owner("pubsub", ns::kPubsubOwner), data("pubsub", ns::kPubsub);
    for (const auto& [node, file] : files) {
      auto v = read_dat(file);
      if (!v) return Error(v.error());
      const LuaValue& n = **v;
      if (!n.is_table() || n.str("name") != node)
        return Error(file.string() + ": not the node '" + node + "' util.pubsub writes (its name is '" +
                     n.str("name") + "')");
      auto items = item_files.find(node);
      auto r = add_node(node, n, items == item_files.end() ? nullptr : &items->second, owner, data, nullptr);
      if (!r) return Error(r.error());
    }
    if (owner.element_count() > 0) {
      svc.add(std::move(owner));
      svc.add(std::move(data));
    }
  }
  if (svc.element_count() == 0) return std::optional<xml::Element>();
  return std::optional<xml::Element>(std::move(svc));
}

}  // namespace

tl::expected<std::string, std::string> pie_from_data_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error(dir.string() + " is not a directory");
  // Hosts are the directories with accounts; components (MUC, pubsub) are read from the others, and a
  // host's own pubsub_nodes store (mod_pubsub on a VirtualHost) too.
  std::vector<std::pair<std::string, fs::path>> hosts, others;
  for (const auto& d : fs::directory_iterator(dir, ec)) {
    if (!d.is_directory()) continue;
    bool is_host = fs::is_directory(d.path() / "accounts");
    auto name = decode(d.path().filename().string());
    if (!name) {
      if (is_host) return Error(d.path().string() + ": not a Prosody host directory name");
      continue;  // not something Prosody wrote (a backup copy beside the data, …)
    }
    (is_host ? hosts : others).emplace_back(*name, d.path());
  }
  if (ec) return Error(dir.string() + ": " + ec.message());
  if (hosts.empty()) return Error(dir.string() + " holds no Prosody host with accounts");
  std::sort(hosts.begin(), hosts.end());
  std::sort(others.begin(), others.end());
  // Each service goes under the most specific host whose subdomain it is (or that it is).
  std::map<std::string, std::vector<xml::Element>> services;
  auto place = [&](const std::string& domain, const fs::path& path, bool muc) -> tl::expected<void, std::string> {
    auto svc = convert_service(domain, path, muc);
    if (!svc) return Error(svc.error());
    if (!*svc) return {};
    const std::string* best = nullptr;
    for (const auto& [host, _] : hosts)
      if ((domain == host || domain.ends_with("." + host)) && (!best || host.size() > best->size())) best = &host;
    if (!best)
      return Error(path.string() + ": the component " + domain +
                   " is not a subdomain of any host with accounts here, so no host can take its rooms and nodes");
    services[*best].push_back(std::move(**svc));
    return {};
  };
  for (const auto& [domain, path] : others)
    if (auto r = place(domain, path, true); !r) return Error(r.error());
  for (const auto& [host, path] : hosts)
    if (auto r = place(host, path, false); !r) return Error(r.error());
  std::string out = "<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>\n";
  for (const auto& [host, path] : hosts) {
    out += "<host jid='" + xml::escape(host, true) + "'>\n";
    std::vector<std::pair<std::string, std::string>> users;
    for (const auto& f : fs::directory_iterator(path / "accounts")) {
      if (f.path().extension() != ".dat") continue;
      std::string stem = f.path().stem().string();
      auto name = decode(stem);
      if (!name) return Error(f.path().string() + ": not a Prosody account file name");
      users.emplace_back(*name, stem);
    }
    std::sort(users.begin(), users.end());
    for (const auto& [name, stem] : users) {
      auto user = convert_user(host, UserFiles{path, stem}, name);
      if (!user) return Error(user.error());
      xml::serialize(*user, out, ns::kPie);
      out += '\n';
    }
    for (const auto& svc : services[host]) {
      xml::serialize(svc, out, ns::kPie);
      out += '\n';
    }
    out += "</host>\n";
  }
  out += "</server-data>\n";
  return out;
}

}  // namespace causerie::prosody
