#include "core/stanza/stanza.hpp"

namespace causerie {

StanzaKind stanza_kind(const xml::Element& el) {
  const std::string& n = el.name();
  if (n == "message") return StanzaKind::kMessage;
  if (n == "presence") return StanzaKind::kPresence;
  if (n == "iq") return StanzaKind::kIq;
  return StanzaKind::kOther;
}

tl::expected<Stanza, StanzaError> Stanza::parse(xml::Element&& el) {
  Stanza s;
  s.kind_ = stanza_kind(el);
  if (const std::string* f = el.find_attr("from")) {
    auto j = Jid::parse(*f);
    if (!j) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid 'from' address"));
    s.from_ = std::move(*j);
  }
  if (const std::string* t = el.find_attr("to")) {
    auto j = Jid::parse(*t);
    if (!j) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid 'to' address"));
    s.to_ = std::move(*j);
  }
  s.el_ = std::move(el);
  return s;
}

tl::expected<Stanza, StanzaError> Stanza::parse_stamped(xml::Element&& el, const Jid& from) {
  Stanza s;
  s.kind_ = stanza_kind(el);
  if (const std::string* t = el.find_attr("to")) {
    auto j = Jid::parse(*t);
    if (!j) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid 'to' address"));
    s.to_ = std::move(*j);
  }
  el.set_attr("from", from.str());
  s.from_ = from;
  s.el_ = std::move(el);
  return s;
}

Stanza::Stanza(xml::Element el, Jid from, Jid to) : el_(std::move(el)), from_(std::move(from)), to_(std::move(to)) {
  kind_ = stanza_kind(el_);
  if (from_.empty()) el_.remove_attr("from");
  else el_.set_attr("from", from_.str());
  if (to_.empty()) el_.remove_attr("to");
  else el_.set_attr("to", to_.str());
}

void Stanza::set_from(Jid j) {
  from_ = std::move(j);
  if (from_.empty()) el_.remove_attr("from");
  else el_.set_attr("from", from_.str());
}

void Stanza::set_to(Jid j) {
  to_ = std::move(j);
  if (to_.empty()) el_.remove_attr("to");
  else el_.set_attr("to", to_.str());
}

}  // namespace causerie
