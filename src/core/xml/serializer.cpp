#include "core/xml/serializer.hpp"

#include <array>
#include <cstdint>

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

namespace {
// For each byte: 0 = copy as is, 1 = escape in text and attributes, 2 = escape in attributes only.
constexpr auto kEscapeClass = [] {
  std::array<uint8_t, 256> t{};
  t['&'] = t['<'] = t['>'] = t['\r'] = 1;
  t['\''] = t['"'] = 2;
  return t;
}();
}  // namespace

void append_escaped(std::string& out, std::string_view text, bool for_attribute) {
  const uint8_t limit = for_attribute ? 2 : 1;
  const char* p = text.data();
  const char* end = p + text.size();
  const char* run = p;
  for (; p != end; ++p) {
    uint8_t cls = kEscapeClass[static_cast<unsigned char>(*p)];
    if (cls == 0 || cls > limit) continue;
    out.append(run, static_cast<size_t>(p - run));
    run = p + 1;
    switch (*p) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '\'': out.append("&apos;"); break;
      case '"': out.append("&quot;"); break;
      // A literal CR would be normalised away by the reader's XML parser; keep it as a reference.
      default: out.append("&#13;"); break;
    }
  }
  out.append(run, static_cast<size_t>(end - run));
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
