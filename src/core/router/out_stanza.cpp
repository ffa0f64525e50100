#include "core/router/out_stanza.hpp"

#include "core/xml/serializer.hpp"

namespace causerie {

OutStanza serialize_out(const xml::Element& stanza) {
  auto bytes = std::make_shared<std::string>();
  bytes->reserve(256);
  xml::serialize_stanza(stanza, *bytes);
  return OutStanza{std::move(bytes), {}, stanza_kind(stanza)};
}

SharedStanza::SharedStanza(const xml::Element& stanza) : name_(stanza.name()), kind_(stanza_kind(stanza)) {
  xml::Element copy_without_to = stanza;
  copy_without_to.remove_attr("to");
  std::string all;
  all.reserve(256);
  xml::serialize_stanza(copy_without_to, all);
  rest_ = std::make_shared<std::string>(all.substr(1 + name_.size()));
}

OutStanza SharedStanza::out_for(std::string_view to) const {
  OutStanza o;
  o.kind = kind_;
  o.body = rest_;
  o.head.reserve(name_.size() + to.size() + 8);
  o.head.push_back('<');
  o.head.append(name_).append(" to='");
  xml::append_escaped(o.head, to, true);
  o.head.push_back('\'');
  return o;
}

OutStanza SharedStanza::out_without_to() const {
  OutStanza o;
  o.kind = kind_;
  o.body = rest_;
  o.head = "<" + name_;
  return o;
}

}  // namespace causerie
