#include "core/xml/rsm.hpp"

#include <charconv>

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

namespace {
std::optional<size_t> parse_size(const std::string& s) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
}  // namespace

RsmParse parse_rsm(const Element& parent) {
  RsmParse out;
  const Element* set = parent.child("set", ns::kRsm);
  if (!set) return out;
  RsmRequest r;
  if (const Element* m = set->child("max", ns::kRsm)) {
    r.max = parse_size(m->text());
    if (!r.max) {
      out.error = "<max/> must be a non-negative integer";
      return out;
    }
  }
  if (const Element* i = set->child("index", ns::kRsm)) {
    r.index = parse_size(i->text());
    if (!r.index) {
      out.error = "<index/> must be a non-negative integer";
      return out;
    }
  }
  if (const Element* a = set->child("after", ns::kRsm)) r.after = a->text();
  if (const Element* b = set->child("before", ns::kRsm)) r.before = b->text();
  out.request = std::move(r);
  return out;
}

Element to_element(const RsmResult& r) {
  Element set("set", ns::kRsm);
  if (!r.first.empty()) {
    Element& f = set.add_text_child("first", r.first);
    if (r.first_index) f.set_attr("index", std::to_string(*r.first_index));
    set.add_text_child("last", r.last);
  }
  if (r.count) set.add_text_child("count", std::to_string(*r.count));
  return set;
}

}  // namespace causerie::xml
