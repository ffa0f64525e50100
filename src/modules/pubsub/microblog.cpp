#include "modules/pubsub/microblog.hpp"

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::modules::pubsub {

bool is_social_feed(std::string_view node, const NodeConfig& c) {
  if (node == ns::kMicroblog) return true;
  std::string_view type = c.type;
  return type == ns::kMicroblog || type.starts_with("urn:xmpp:pubsub-social-feed");
}

bool is_comments_node(std::string_view node) { return node.starts_with(kCommentsPrefix) && node.size() > kCommentsPrefix.size(); }

NodeConfig comments_defaults(NodeConfig c) {
  c.publish_model = PublishModel::kOpen;
  c.notify_retract = true;
  c.max_items_max = true;
  c.send_last_published_item = SendLastItem::kNever;
  return c;
}

std::optional<NodeAddress> parse_node_uri(std::string_view uri) {
  if (!uri.starts_with("xmpp:")) return std::nullopt;
  uri.remove_prefix(5);
  if (uri.starts_with("//")) return std::nullopt;  // an authority component: not a node address
  size_t q = uri.find('?');
  if (q == std::string_view::npos || q == 0) return std::nullopt;
  auto service = util::percent_decode_strict(uri.substr(0, q));
  if (!service) return std::nullopt;
  NodeAddress out;
  out.service = *service;
  std::string_view query = uri.substr(q + 1);
  // "?;node=…;item=…", or "?pubsub;action=…;node=…"
  while (!query.empty()) {
    size_t semi = query.find(';');
    std::string_view part = query.substr(0, semi);
    // Tolerate line breaks and spaces inside the attribute, as in XEP-0277's own examples.
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.remove_prefix(1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.remove_suffix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      auto value = util::percent_decode_strict(part.substr(eq + 1));
      if (!value) return std::nullopt;
      if (part.substr(0, eq) == "node") out.node = *value;
      else if (part.substr(0, eq) == "item") out.item = *value;
    }
    if (semi == std::string_view::npos) break;
    query.remove_prefix(semi + 1);
  }
  if (out.node.empty()) return std::nullopt;
  return out;
}

std::optional<NodeAddress> comments_link(const xml::Element& entry) {
  for (const xml::Element* link : entry.children("link", ns::kAtom)) {
    if (link->attr("rel") != "replies") continue;
    if (!link->has_attr("title") || link->attr("title") == "comments")
      if (auto a = parse_node_uri(link->attr("href"))) return a;
  }
  return std::nullopt;
}

std::string entry_title(const xml::Element& entry) {
  const xml::Element* t = entry.child("title", ns::kAtom);
  if (!t) return {};
  // type='xhtml' titles hold a <div/>: collect the text of the whole subtree.
  std::string out;
  auto collect = [&out](const xml::Element& e, auto& self) -> void {
    for (const auto& n : e.nodes()) {
      if (n.is_text()) out += n.text();
      else self(n, self);
    }
  };
  collect(*t, collect);
  return out;
}

xml::Element forwarded_item(const std::string& service, const std::string& node, const storage::PubsubItem& item,
                            const std::string& to) {
  xml::Element fwd("forwarded", ns::kForward);
  fwd.add_child("delay", ns::kDelay)
      .set_attr("stamp", util::format_datetime(util::SystemTime(std::chrono::milliseconds(item.published))));
  xml::Element& msg = fwd.add_child("message", ns::kClient);
  msg.set_attr("from", service);
  if (!to.empty()) msg.set_attr("to", to);
  msg.set_attr("type", "headline");
  xml::Element& items = msg.add_child("event", ns::kPubsubEvent).add_child("items");
  items.set_attr("node", node);
  xml::Element& el = items.add_child("item");
  el.set_attr("id", item.id).set_attr("publisher", item.publisher);
  if (auto p = xml::parse_fragment(item.payload)) el.add(std::move(*p));
  return fwd;
}

}  // namespace causerie::modules::pubsub
