// XEP-0059 v1.0 Result Set Management: the <set/> a requester sends to page through a result set, and
// the one a responder returns with the page's bounds. Pure value types and functions, any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/xml/element.hpp"

namespace causerie::xml {

struct RsmRequest {
  std::optional<size_t> max;
  std::optional<std::string> after;
  // An empty <before/> asks for the last page (§2.5): before has a value, and that value is "".
  std::optional<std::string> before;
  std::optional<size_t> index;
};

// The <set xmlns='http://jabber.org/protocol/rsm'/> child of `parent`: nullopt when there is none,
// an error text when it is malformed (a non-numeric max or index).
struct RsmParse {
  std::optional<RsmRequest> request;
  std::string error;
};
RsmParse parse_rsm(const Element& parent);

struct RsmResult {
  std::string first, last;  // both empty for an empty page
  std::optional<size_t> first_index;
  std::optional<size_t> count;
};
Element to_element(const RsmResult& r);

}  // namespace causerie::xml
