// Element: an XML element tree (one stanza, or any fragment of one), as a plain value type.
//
// A text node is an Element with is_text() true; its text is in text(). Every element knows its own
// namespace URI, so a subtree can be moved between documents without losing meaning. Not thread-safe:
// like any value, an Element is used by one thread at a time (move or copy it to hand it over).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace causerie::xml {

struct Attribute {
  // "to", "xml:lang", or "{uri}local" for an attribute in any other namespace.
  std::string name;
  std::string value;
};

class Element {
 public:
  Element() = default;
  explicit Element(std::string name, std::string ns = {}) : data_(std::move(name)), ns_(std::move(ns)) {}
  static Element make_text(std::string text);

  bool is_text() const { return text_node_; }
  // The local name of an element (empty for a text node).
  const std::string& name() const { return text_node_ ? empty_ : data_; }
  const std::string& ns() const { return ns_; }
  void set_name(std::string name) { data_ = std::move(name); }
  void set_ns(std::string ns) { ns_ = std::move(ns); }
  bool is(std::string_view name, std::string_view ns) const {
    return !text_node_ && data_ == name && ns_ == ns;
  }

  // Attributes. attr() returns "" when absent; find_attr() tells absent from empty.
  const std::string* find_attr(std::string_view name) const;
  std::string_view attr(std::string_view name) const;
  bool has_attr(std::string_view name) const { return find_attr(name) != nullptr; }
  Element& set_attr(std::string_view name, std::string_view value);
  void remove_attr(std::string_view name);
  const std::vector<Attribute>& attrs() const { return attrs_; }
  std::vector<Attribute>& attrs() { return attrs_; }

  // Children (elements and text nodes, in document order).
  const std::vector<Element>& nodes() const { return nodes_; }
  std::vector<Element>& nodes() { return nodes_; }
  // Appends a child and returns a reference to it (valid until the next append to this element).
  Element& add(Element child);
  // Appends an element child; an empty ns means "same namespace as this element".
  Element& add_child(std::string name, std::string ns = {});
  // Appends a child element holding only text: <name>text</name>.
  Element& add_text_child(std::string name, std::string_view text, std::string ns = {});
  Element& add_text(std::string_view text);
  void clear_children() { nodes_.clear(); }
  // Removes every element child matching name/ns (empty = any).
  void remove_children(std::string_view name = {}, std::string_view ns = {});

  // First element child matching name and ns (empty = any), or nullptr.
  const Element* child(std::string_view name = {}, std::string_view ns = {}) const;
  Element* child(std::string_view name = {}, std::string_view ns = {});
  std::vector<const Element*> children(std::string_view name = {}, std::string_view ns = {}) const;
  // Number of element (not text) children.
  size_t element_count() const;

  // For a text node: its text. For an element: the concatenation of its direct text children.
  std::string text() const;
  // Text of the first matching child element, or "".
  std::string child_text(std::string_view name, std::string_view ns = {}) const;

 private:
  static const std::string empty_;
  std::string data_;  // element: local name; text node: the text
  std::string ns_;
  std::vector<Attribute> attrs_;
  std::vector<Element> nodes_;
  bool text_node_ = false;
};

}  // namespace causerie::xml
