// Stanza: a top-level <message/>, <presence/> or <iq/> with its addresses parsed once.
//
// The element keeps its 'from'/'to' attributes in sync with the parsed Jids through set_from/set_to.
// Internally every stanza is in the jabber:client namespace; other stream types translate at their edge.
// A value type, used by one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include <tl/expected.hpp>

#include "core/jid/jid.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"

namespace causerie {

enum class StanzaKind : uint8_t { kMessage, kPresence, kIq, kOther };
StanzaKind stanza_kind(const xml::Element& el);

class Stanza {
 public:
  Stanza() = default;
  // Parses 'from' and 'to' (either may be absent). A malformed address is a jid-malformed error.
  static tl::expected<Stanza, StanzaError> parse(xml::Element&& el);  // el untouched on failure
  // Same, with 'from' already known (stamped by the server, RFC 6120 §8.1.2.1): only 'to' is parsed.
  static tl::expected<Stanza, StanzaError> parse_stamped(xml::Element&& el, const Jid& from);
  // A stanza the server builds itself, addresses already known.
  Stanza(xml::Element el, Jid from, Jid to);

  StanzaKind kind() const { return kind_; }
  bool is_message() const { return kind_ == StanzaKind::kMessage; }
  bool is_presence() const { return kind_ == StanzaKind::kPresence; }
  bool is_iq() const { return kind_ == StanzaKind::kIq; }
  std::string_view type() const { return el_.attr("type"); }
  std::string_view id() const { return el_.attr("id"); }

  const Jid& from() const { return from_; }
  const Jid& to() const { return to_; }
  void set_from(Jid j);
  void set_to(Jid j);

  const xml::Element& element() const { return el_; }
  xml::Element& element() { return el_; }
  xml::Element release() && { return std::move(el_); }

 private:
  xml::Element el_;
  Jid from_, to_;
  StanzaKind kind_ = StanzaKind::kOther;
};

}  // namespace causerie
