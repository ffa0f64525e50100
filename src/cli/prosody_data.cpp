#include "cli/prosody_data.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "cli/lua_data.hpp"
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

tl::expected<void, std::string> add_pep(xml::Element& user, const UserFiles& f, std::optional<xml::Element>& vcard4) {
  auto pep = read_dat(f.dat("pep"));
  if (!pep) return Error(pep.error());
  // Items live in one store per node, pep_<node>: find them by decoding the directory names.
  std::map<std::string, fs::path> item_dirs;
  for (const auto& d : fs::directory_iterator(f.host_dir)) {
    auto name = decode(d.path().filename().string());
    if (d.is_directory() && name && name->starts_with("pep_")) item_dirs[name->substr(4)] = d.path();
  }
  std::vector<std::pair<std::string, const LuaValue*>> nodes;
  if (*pep)
    for (const auto& [k, v] : (*pep)->entries)
      if (k.is_string() && v.is_table()) nodes.emplace_back(k.string, &v);
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  xml::Element owner("pubsub", ns::kPubsubOwner), data("pubsub", ns::kPubsub);
  for (const auto& [node, v] : nodes) {
    xml::Element cfg("configure", ns::kPubsubOwner);
    cfg.set_attr("node", node);
    xml::Element x("x", ns::kDataForms);
    x.set_attr("type", "submit");
    auto& ft = x.add_child("field");
    ft.set_attr("var", "FORM_TYPE");
    ft.set_attr("type", "hidden");
    ft.add_text_child("value", ns::kPubsubNodeConfig);
    if (const LuaValue* config = v->get("config")) {
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
    if (const LuaValue* a = v->get("affiliations"))
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
    if (const LuaValue* s = v->get("subscribers"))
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
    if (auto dir = item_dirs.find(node); dir != item_dirs.end()) {
      auto list = read_list(dir->second / (f.user_file + ".list"));
      if (!list) return Error(list.error());
      // A re-published id replaces the older item: keep the last one.
      std::map<std::string, size_t> last;
      for (size_t i = 0; i < list->size(); ++i) last[(*list)[i].str("key")] = i;
      for (size_t i = 0; i < list->size(); ++i) {
        const LuaValue& it = (*list)[i];
        std::string id = it.str("key");
        if (last[id] != i) continue;
        auto payload = stanza(it, "", 0, true);
        if (!payload) return Error(dir->second.string() + ": item " + id + ": " + payload.error());
        if (node == ns::kVcard4) vcard4 = *payload;
        auto& item = items.add_child("item");
        item.set_attr("id", id);
        if (std::string with = it.str("with"); !with.empty()) item.set_attr("publisher", with);
        item.set_attr(std::string("{") + ns::kCauseriePie + "}published", stamp_of(it));
        item.add(std::move(*payload));
      }
    }
    data.add(std::move(items));
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

}  // namespace

tl::expected<std::string, std::string> pie_from_data_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error(dir.string() + " is not a directory");
  std::vector<std::pair<std::string, fs::path>> hosts;
  for (const auto& d : fs::directory_iterator(dir, ec)) {
    if (!d.is_directory() || !fs::is_directory(d.path() / "accounts")) continue;
    auto host = decode(d.path().filename().string());
    if (!host) return Error(d.path().string() + ": not a Prosody host directory name");
    hosts.emplace_back(*host, d.path());
  }
  if (ec) return Error(dir.string() + ": " + ec.message());
  if (hosts.empty()) return Error(dir.string() + " holds no Prosody host with accounts");
  std::sort(hosts.begin(), hosts.end());
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
    out += "</host>\n";
  }
  out += "</server-data>\n";
  return out;
}

}  // namespace causerie::prosody
