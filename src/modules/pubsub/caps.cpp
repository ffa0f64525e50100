#include "modules/pubsub/caps.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::modules::pubsub {

namespace {
constexpr auto kQueryTimeout = std::chrono::seconds(60);
constexpr std::string_view kNotify = "+notify";
}  // namespace

std::optional<std::string> caps_verification_string(const xml::Element& q) {
  // §5.1 steps 2–4: identities as category/type/lang/name, then features, each followed by '<'.
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> ids;
  for (const xml::Element* i : q.children("identity", ns::kDiscoInfo))
    ids.emplace_back(std::string(i->attr("category")), std::string(i->attr("type")), std::string(i->attr("xml:lang")),
                     std::string(i->attr("name")));
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) return std::nullopt;  // §5.4 3.3
  std::vector<std::string> features;
  for (const xml::Element* f : q.children("feature", ns::kDiscoInfo)) features.emplace_back(f->attr("var"));
  std::sort(features.begin(), features.end());
  if (std::adjacent_find(features.begin(), features.end()) != features.end()) return std::nullopt;  // §5.4 3.4

  std::string s;
  for (const auto& [cat, type, lang, name] : ids) s += cat + "/" + type + "/" + lang + "/" + name + "<";
  for (const auto& f : features) s += f + "<";

  // Step 5: extended forms (XEP-0128) with a hidden FORM_TYPE, sorted by it.
  struct Form {
    std::string type;
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  };
  std::vector<Form> forms;
  for (const xml::Element* x : q.children("x", ns::kDataForms)) {
    Form form;
    bool has_type = false;
    for (const xml::Element* field : x->children("field", ns::kDataForms)) {
      std::vector<std::string> values;
      for (const xml::Element* v : field->children("value", ns::kDataForms)) values.push_back(v->text());
      if (field->attr("var") == "FORM_TYPE") {
        if (field->attr("type") != "hidden") break;  // §5.4 3.6: not a caps form
        if (values.size() != 1) return std::nullopt;
        form.type = values.front();
        has_type = true;
        continue;
      }
      std::sort(values.begin(), values.end());
      form.fields.emplace_back(std::string(field->attr("var")), std::move(values));
    }
    if (!has_type) continue;
    std::sort(form.fields.begin(), form.fields.end());
    forms.push_back(std::move(form));
  }
  std::sort(forms.begin(), forms.end(), [](const Form& a, const Form& b) { return a.type < b.type; });
  for (size_t i = 1; i < forms.size(); ++i)
    if (forms[i].type == forms[i - 1].type) return std::nullopt;  // §5.4 3.5
  for (const auto& form : forms) {
    s += form.type + "<";
    for (const auto& [var, values] : form.fields) {
      s += var + "<";
      for (const auto& v : values) s += v + "<";
    }
  }

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha1(), nullptr) != 1) return std::nullopt;
  return util::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::unordered_set<std::string> notify_nodes(const xml::Element& q) {
  std::unordered_set<std::string> out;
  for (const xml::Element* f : q.children("feature", ns::kDiscoInfo)) {
    std::string_view var = f->attr("var");
    if (var.size() > kNotify.size() && var.ends_with(kNotify)) out.emplace(var.substr(0, var.size() - kNotify.size()));
  }
  return out;
}

std::optional<Caps> parse_caps(const xml::Element& presence) {
  const xml::Element* c = presence.child("c", ns::kCaps);
  if (!c || c->attr("hash").empty() || c->attr("ver").empty()) return std::nullopt;
  return Caps{std::string(c->attr("hash")), std::string(c->attr("node")), std::string(c->attr("ver"))};
}

CapsTracker::CapsTracker(size_t max_cached, size_t max_pending, size_t max_resources)
    : max_cached_(max_cached), max_pending_(max_pending), max_resources_(max_resources) {}

std::string CapsTracker::bare_of(std::string_view full) { return std::string(full.substr(0, full.find('/'))); }

std::string CapsTracker::resource_of(std::string_view full) {
  size_t slash = full.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(full.substr(slash + 1));
}

CapsTracker::Entry* CapsTracker::find(const std::string& full) {
  auto it = by_bare_.find(bare_of(full));
  if (it == by_bare_.end()) return nullptr;
  std::string res = resource_of(full);
  for (auto& e : it->second)
    if (e.resource == res) return &e;
  return nullptr;
}

std::string CapsTracker::start_query(const Caps& caps, const std::string& key) {
  if (pending_ids_.count(key)) return {};  // already asked: the entry waits for that answer
  auto now = std::chrono::steady_clock::now();
  if (pending_.size() >= max_pending_) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now - it->second.since > kQueryTimeout) {
        pending_ids_.erase(it->second.key);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (pending_.size() >= max_pending_) return {};  // bound hit: this resource gets no notifications
  }
  std::string id = "caps-" + std::to_string(++next_id_) + "-" + util::random_id(6);
  pending_[id] = Pending{key, caps.hash, caps.ver, now};
  pending_ids_[key] = id;
  return id;
}

CapsTracker::Seen CapsTracker::available(const std::string& full, const std::optional<Caps>& caps,
                                         const std::string& owner) {
  std::lock_guard lock(mu_);
  std::string key = caps ? caps->hash + "/" + caps->ver : std::string();
  Entry* e = find(full);
  bool fresh = e == nullptr;
  if (fresh) {
    if (!owner.empty() && resources_ >= max_resources_) {
      spdlog::warn("caps: tracking {} resources already; ignoring remote presence from {}", resources_, full);
      return Seen{true, {}, {}};
    }
    ++resources_;
    auto& list = by_bare_[bare_of(full)];
    list.push_back(Entry{resource_of(full), {}, nullptr, {}});
    e = &list.back();
  }
  bool new_owner = false;
  if (!owner.empty() && std::find(e->owners.begin(), e->owners.end(), owner) == e->owners.end()) {
    e->owners.push_back(owner);
    new_owner = true;
  }
  Seen seen;
  std::shared_ptr<const NodeSet> interests;
  if (key.empty()) {
    interests = std::make_shared<const NodeSet>();
  } else if (auto it = by_key_.find(key); it != by_key_.end()) {
    interests = it->second;
  } else {
    e->key = key;
    seen.query_id = start_query(*caps, key);
    return seen;
  }
  std::shared_ptr<const NodeSet> old = (fresh || new_owner) ? nullptr : e->interests;
  e->key = key;
  e->interests = interests;
  seen.known = true;
  for (const auto& n : *interests)
    if (!old || !old->count(n)) seen.gained.push_back(n);
  return seen;
}

void CapsTracker::unavailable(const std::string& full, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = by_bare_.find(bare_of(full));
  if (it == by_bare_.end()) return;
  std::string res = resource_of(full);
  auto& list = it->second;
  for (auto e = list.begin(); e != list.end(); ++e) {
    if (e->resource != res) continue;
    if (!owner.empty()) {
      e->owners.erase(std::remove(e->owners.begin(), e->owners.end(), owner), e->owners.end());
      if (!e->owners.empty()) return;
    }
    list.erase(e);
    --resources_;
    break;
  }
  if (list.empty()) by_bare_.erase(it);
}

std::vector<CapsTracker::Resolved> CapsTracker::answer(std::string_view id, const xml::Element* query) {
  std::lock_guard lock(mu_);
  std::vector<Resolved> out;
  auto p = pending_.find(std::string(id));
  if (p == pending_.end()) return out;
  Pending pending = p->second;
  pending_.erase(p);
  pending_ids_.erase(pending.key);
  auto interests = std::make_shared<const NodeSet>(query ? notify_nodes(*query) : NodeSet{});
  // Only a verified answer speaks for everyone announcing this 'ver' (§5.4); an unverifiable one still
  // speaks for the resources that announced it.
  if (query && pending.hash == "sha-1" && caps_verification_string(*query) == pending.ver) {
    if (by_key_.size() >= max_cached_) by_key_.erase(by_key_.begin());  // bound: forget an arbitrary one
    by_key_[pending.key] = interests;
    spdlog::debug("caps: {} verified, {} +notify nodes", pending.key, interests->size());
  } else {
    spdlog::debug("caps: the answer for {} does not verify; used for its own resources only", pending.key);
  }
  for (auto& [bare, list] : by_bare_) {
    for (auto& e : list) {
      if (e.key != pending.key) continue;
      Resolved r{bare + "/" + e.resource, e.owners, {}};
      for (const auto& n : *interests)
        if (!e.interests || !e.interests->count(n)) r.gained.push_back(n);
      e.interests = interests;
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool CapsTracker::is_pending(std::string_view id) const {
  std::lock_guard lock(mu_);
  return pending_.count(std::string(id)) != 0;
}

std::vector<std::string> CapsTracker::interested(std::string_view bare, std::string_view node) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  auto it = by_bare_.find(std::string(bare));
  if (it == by_bare_.end()) return out;
  std::string n(node);
  for (const auto& e : it->second)
    if (e.interests && e.interests->count(n)) out.push_back(std::string(bare) + "/" + e.resource);
  return out;
}

bool CapsTracker::has_resources(std::string_view bare) const {
  std::lock_guard lock(mu_);
  return by_bare_.count(std::string(bare)) != 0;
}

}  // namespace causerie::modules::pubsub
