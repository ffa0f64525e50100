#include "core/xml/element.hpp"

#include <algorithm>

namespace causerie::xml {

const std::string Element::empty_;

Element Element::make_text(std::string text) {
  Element e;
  e.data_ = std::move(text);
  e.text_node_ = true;
  return e;
}

const std::string* Element::find_attr(std::string_view name) const {
  for (const auto& a : attrs_)
    if (a.name == name) return &a.value;
  return nullptr;
}

std::string_view Element::attr(std::string_view name) const {
  const std::string* v = find_attr(name);
  return v ? std::string_view(*v) : std::string_view();
}

Element& Element::set_attr(std::string_view name, std::string_view value) {
  for (auto& a : attrs_) {
    if (a.name == name) {
      a.value.assign(value);
      return *this;
    }
  }
  attrs_.push_back(Attribute{std::string(name), std::string(value)});
  return *this;
}

void Element::remove_attr(std::string_view name) {
  std::erase_if(attrs_, [&](const Attribute& a) { return a.name == name; });
}

Element& Element::add(Element child) {
  nodes_.push_back(std::move(child));
  return nodes_.back();
}

Element& Element::add_child(std::string name, std::string ns) {
  return add(Element(std::move(name), ns.empty() ? ns_ : std::move(ns)));
}

Element& Element::add_text_child(std::string name, std::string_view text, std::string ns) {
  Element& c = add_child(std::move(name), std::move(ns));
  if (!text.empty()) c.add_text(text);
  return c;
}

Element& Element::add_text(std::string_view text) {
  if (!nodes_.empty() && nodes_.back().text_node_) {
    nodes_.back().data_.append(text);
  } else {
    nodes_.push_back(make_text(std::string(text)));
  }
  return *this;
}

static bool matches(const Element& e, std::string_view name, std::string_view ns) {
  return !e.is_text() && (name.empty() || e.name() == name) && (ns.empty() || e.ns() == ns);
}

void Element::remove_children(std::string_view name, std::string_view ns) {
  std::erase_if(nodes_, [&](const Element& e) { return matches(e, name, ns); });
}

const Element* Element::child(std::string_view name, std::string_view ns) const {
  for (const auto& n : nodes_)
    if (matches(n, name, ns)) return &n;
  return nullptr;
}

Element* Element::child(std::string_view name, std::string_view ns) {
  for (auto& n : nodes_)
    if (matches(n, name, ns)) return &n;
  return nullptr;
}

std::vector<const Element*> Element::children(std::string_view name, std::string_view ns) const {
  std::vector<const Element*> out;
  for (const auto& n : nodes_)
    if (matches(n, name, ns)) out.push_back(&n);
  return out;
}

size_t Element::element_count() const {
  return static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const Element& e) { return !e.is_text(); }));
}

std::string Element::text() const {
  if (text_node_) return data_;
  std::string out;
  for (const auto& n : nodes_)
    if (n.text_node_) out += n.data_;
  return out;
}

std::string Element::child_text(std::string_view name, std::string_view ns) const {
  const Element* c = child(name, ns);
  return c ? c->text() : std::string();
}

}  // namespace causerie::xml
