// Parsing one standalone XML element from text (stored documents, test fixtures). Any thread.
#pragma once

#include <optional>
#include <string_view>

#include "core/xml/element.hpp"

namespace causerie::xml {

// The single top-level element in `text`, or nullopt if it is not exactly one well-formed element.
// Limits as for stanzas are applied (max_bytes, depth 96); restricted XML is refused.
std::optional<Element> parse_fragment(std::string_view text, size_t max_bytes = 16 << 20);

}  // namespace causerie::xml
