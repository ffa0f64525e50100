#include "core/stream/stream_xml.hpp"

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

std::string stream_features_xml(const xml::Element& features) {
  std::string bytes;
  xml::serialize(features, bytes, ns::kStream);
  // The stream prefix is bound on our header; write <stream:features> rather than a default namespace.
  bytes.replace(0, 9, "<stream:features");
  if (bytes.ends_with("</features>")) bytes.replace(bytes.size() - 11, 11, "</stream:features>");
  return bytes;
}

}  // namespace causerie
