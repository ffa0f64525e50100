#include "core/module/disco_registry.hpp"

#include <algorithm>

#include "core/xml/namespaces.hpp"

namespace causerie {

void DiscoRegistry::add_unique(std::vector<std::string>& v, std::string s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

std::vector<DiscoItem> DiscoRegistry::server_items(const std::string& host) const {
  std::vector<DiscoItem> out;
  for (const auto& i : items_.get())
    if (i.host == host) out.push_back(i);
  return out;
}

std::vector<xml::Element> DiscoRegistry::server_extensions(const std::string& host) const {
  std::vector<xml::Element> out;
  for (const auto& e : extensions_)
    if (auto form = e(host)) out.push_back(std::move(*form));
  return out;
}

xml::Element DiscoRegistry::info_query(const std::vector<DiscoIdentity>& ids, std::vector<std::string> features,
                                       const std::string& node) {
  xml::Element q("query", ns::kDiscoInfo);
  if (!node.empty()) q.set_attr("node", node);
  std::vector<DiscoIdentity> sorted = ids;
  std::sort(sorted.begin(), sorted.end(), [](const DiscoIdentity& a, const DiscoIdentity& b) {
    return std::tie(a.category, a.type, a.name) < std::tie(b.category, b.type, b.name);
  });
  for (const auto& id : sorted) {
    xml::Element& e = q.add_child("identity");
    e.set_attr("category", id.category).set_attr("type", id.type);
    if (!id.name.empty()) e.set_attr("name", id.name);
  }
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  for (const auto& f : features) q.add_child("feature").set_attr("var", f);
  return q;
}

}  // namespace causerie
