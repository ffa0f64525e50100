#include "core/xml/serializer.hpp"

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

void append_escaped(std::string& out, std::string_view text, bool for_attribute) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char* rep = nullptr;
    switch (text[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '\'': rep = for_attribute ? "&apos;" : nullptr; break;
      case '"': rep = for_attribute ? "&quot;" : nullptr; break;
      // A literal CR would be normalised away by the reader's XML parser; keep it as a reference.
      case '\r': rep = "&#13;"; break;
      default: break;
    }
    if (rep) {
      out.append(text.data() + start, i - start);
      out.append(rep);
      start = i + 1;
    }
  }
  out.append(text.data() + start, text.size() - start);
}

std::string escape(std::string_view text, bool for_attribute) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text, for_attribute);
  return out;
}

namespace {

void write_attrs(const Element& el, std::string& out) {
  int prefix_no = 0;
  for (const auto& a : el.attrs()) {
    out.push_back(' ');
    if (!a.name.empty() && a.name[0] == '{') {
      // An attribute in a namespace other than xml: declare a prefix for it on this element.
      size_t close = a.name.find('}');
      std::string_view uri(a.name.data() + 1, close == std::string::npos ? 0 : close - 1);
      std::string_view local = close == std::string::npos ? std::string_view(a.name)
                                                          : std::string_view(a.name).substr(close + 1);
      std::string prefix = "a" + std::to_string(prefix_no++);
      out.append("xmlns:").append(prefix).append("='");
      append_escaped(out, uri, true);
      out.append("' ").append(prefix).push_back(':');
      out.append(local);
    } else {
      out.append(a.name);
    }
    out.append("='");
    append_escaped(out, a.value, true);
    out.push_back('\'');
  }
}

void write_element(const Element& el, std::string& out, std::string_view parent_ns, bool declare_ns) {
  if (el.is_text()) {
    append_escaped(out, el.text());
    return;
  }
  out.push_back('<');
  out.append(el.name());
  if (declare_ns && el.ns() != parent_ns) {
    out.append(" xmlns='");
    append_escaped(out, el.ns(), true);
    out.push_back('\'');
  }
  write_attrs(el, out);
  if (el.nodes().empty()) {
    out.append("/>");
    return;
  }
  out.push_back('>');
  for (const auto& c : el.nodes()) write_element(c, out, el.ns(), true);
  out.append("</").append(el.name()).push_back('>');
}

}  // namespace

void serialize(const Element& el, std::string& out, std::string_view parent_ns) {
  write_element(el, out, parent_ns, true);
}

void serialize_stanza(const Element& stanza, std::string& out) {
  const std::string& ns = stanza.ns();
  bool content_ns = ns.empty() || ns == ns::kClient || ns == ns::kServer;
  write_element(stanza, out, content_ns ? std::string_view(ns) : std::string_view(ns::kClient), true);
}

std::string to_string(const Element& el) {
  std::string out;
  write_element(el, out, {}, true);
  return out;
}

}  // namespace causerie::xml
