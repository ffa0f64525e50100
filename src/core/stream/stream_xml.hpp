// Stream-level XML every stream protocol writes the same way. Pure functions.
#pragma once

#include <string>

#include "core/xml/element.hpp"

namespace causerie {

// <stream:features/> (RFC 6120 §4.3.2) with the stream prefix our header bound, from an element in the
// streams namespace whose children carry their own namespaces.
std::string stream_features_xml(const xml::Element& features);

}  // namespace causerie
