#include "core/s2s/s2s_common.hpp"

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::s2s {

void to_client_namespace(xml::Element& el) {
  if (el.is_text()) return;
  if (el.ns() == ns::kServer) el.set_ns(ns::kClient);
  for (auto& child : el.nodes()) to_client_namespace(child);
}

tl::expected<Stanza, StreamErrorCondition> accept_stanza(xml::Element&& el) {
  if (el.attr("from").empty() || el.attr("to").empty()) return tl::unexpected(StreamErrorCondition::kImproperAddressing);
  to_client_namespace(el);
  auto parsed = Stanza::parse(std::move(el));
  if (!parsed) return tl::unexpected(StreamErrorCondition::kImproperAddressing);
  return std::move(*parsed);
}

OutStanza nonza(std::string bytes) {
  return OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther};
}

std::string db_element(std::string_view name, std::string_view from, std::string_view to, std::string_view id,
                       std::string_view type, std::string_view key) {
  std::string out = "<db:";
  out += name;
  for (const auto& [attr, value] : {std::pair<const char*, std::string_view>{"from", from}, {"to", to}, {"id", id},
                                    {"type", type}}) {
    if (value.empty()) continue;
    out += ' ';
    out += attr;
    out += "='";
    xml::append_escaped(out, value, true);
    out += '\'';
  }
  if (key.empty()) {
    out += "/>";
    return out;
  }
  out += '>';
  xml::append_escaped(out, key);
  out += "</db:";
  out += name;
  out += '>';
  return out;
}

}  // namespace causerie::s2s
