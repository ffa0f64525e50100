#include "core/component/component_accept.hpp"

#include "core/component/component_handshake.hpp"
#include "core/jid/jid.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::component {

ComponentAccept::Failure ComponentAccept::fail(StreamErrorCondition c, std::string text) {
  state_ = State::kClosed;
  return Failure{c, std::move(text)};
}

ComponentAccept::Opened ComponentAccept::open(const xml::Element& header, std::string_view content_ns,
                                              std::string stream_id) {
  Opened out;
  out.reply = StreamHeader{ns::kComponentAccept, config_.hosts.front().name, {}, stream_id};
  out.reply.version = false;  // XEP-0114 streams predate version='1.0' and its features
  if (state_ != State::kHeader) {
    out.failure = fail(StreamErrorCondition::kBadFormat, "the stream is already open");
    return out;
  }
  stream_id_ = std::move(stream_id);
  if (header.name() != "stream" || header.ns() != ns::kStream) {
    out.failure = fail(StreamErrorCondition::kInvalidNamespace);
    return out;
  }
  // §3: a namespace the server does not serve here is <invalid-namespace/>.
  if (content_ns != ns::kComponentAccept) {
    out.failure = fail(StreamErrorCondition::kInvalidNamespace, "this port serves jabber:component:accept streams");
    return out;
  }
  // §3: 'to' names the component; one the server does not serve gets a stream error (<host-unknown/>).
  std::string_view to = header.attr("to");
  auto domain = prep_domainpart(to);
  component_ = domain ? config_.find_component(*domain) : nullptr;
  if (!component_) {
    out.failure = fail(StreamErrorCondition::kHostUnknown,
                       to.empty() ? "'to' must name the component's domain"
                                  : "no component '" + std::string(to) + "' is configured here");
    return out;
  }
  domain_ = component_->domain;
  out.reply.from = domain_;
  state_ = State::kHandshake;
  return out;
}

std::optional<ComponentAccept::Failure> ComponentAccept::handshake(const xml::Element& el) {
  if (state_ != State::kHandshake) return fail(StreamErrorCondition::kNotAuthorized, "not expecting a handshake");
  if (!el.is("handshake", ns::kComponentAccept))
    return fail(StreamErrorCondition::kNotAuthorized, "authenticate with <handshake/> first");
  // §3: wrong credentials close the stream with <not-authorized/>.
  if (!handshake_matches(el.text(), stream_id_, component_->secret))
    return fail(StreamErrorCondition::kNotAuthorized, "wrong handshake");
  return std::nullopt;
}

void to_client_namespace(xml::Element& el) {
  if (el.is_text()) return;
  if (el.ns() == ns::kComponentAccept) el.set_ns(ns::kClient);
  for (auto& child : el.nodes()) to_client_namespace(child);
}

ComponentAccept::Checked ComponentAccept::stanza(xml::Element&& el) {
  if (state_ == State::kHandshake) return fail(StreamErrorCondition::kNotAuthorized, "authenticate first");
  if (state_ != State::kEstablished) return fail(StreamErrorCondition::kBadFormat, "the stream is closed");
  StanzaKind kind = stanza_kind(el);
  if (el.ns() != ns::kComponentAccept || kind == StanzaKind::kOther)
    return fail(StreamErrorCondition::kUnsupportedStanzaType, "only message, presence and iq in jabber:component:accept");
  // §3: "All stanzas sent to the server MUST possess a 'from' attribute and a 'to' attribute";
  // RFC 6120 §4.9.3.7 names the error for a stanza between servers that lacks either.
  if (!el.has_attr("from") || !el.has_attr("to"))
    return fail(StreamErrorCondition::kImproperAddressing, "a component's stanzas need 'from' and 'to'");
  auto from = Jid::parse(el.attr("from"));
  // §3: 'from' must be in the component's domain (not a subdomain: that could be another component's).
  if (!from || from->domainpart() != domain_)
    return fail(StreamErrorCondition::kInvalidFrom, "'from' must be in " + domain_);
  to_client_namespace(el);
  el.set_attr("from", from->str());  // as prepared, so the server compares it as it compares its own
  auto parsed = Stanza::parse_stamped(std::move(el), *from);
  if (!parsed) {
    // Only 'to' can be wrong here: jid-malformed back to the component (RFC 6120 §8.3.3.8), from the server.
    xml::Element original = std::move(el);
    original.remove_attr("to");
    auto reply = make_error_reply(original, parsed.error());
    if (!reply) return std::monostate{};
    reply->set_attr("from", config_.hosts.front().name);
    return std::move(*reply);
  }
  if (kind == StanzaKind::kIq) {
    std::string_view type = parsed->type();
    // RFC 6120 §8.2.3: an iq needs an id and one of four types.
    if ((type != "get" && type != "set" && type != "result" && type != "error") || parsed->id().empty()) {
      auto reply = make_error_reply(parsed->element(), StanzaError(StanzaErrorCondition::kBadRequest,
                                                                   "iq needs an id and a type of get, set, result or error"));
      if (!reply) return std::monostate{};
      return std::move(*reply);
    }
  }
  return std::move(*parsed);
}

}  // namespace causerie::component
