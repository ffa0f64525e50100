#include "core/stanza/errors.hpp"

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

using C = StanzaErrorCondition;
using T = StanzaErrorType;

StanzaError::StanzaError(StanzaErrorCondition c, std::string t)
    : condition(c), type(default_type(c)), text(std::move(t)) {}
StanzaError::StanzaError(StanzaErrorCondition c, StanzaErrorType ty, std::string t)
    : condition(c), type(ty), text(std::move(t)) {}

const char* to_string(StanzaErrorCondition c) {
  switch (c) {
    case C::kBadRequest: return "bad-request";
    case C::kConflict: return "conflict";
    case C::kFeatureNotImplemented: return "feature-not-implemented";
    case C::kForbidden: return "forbidden";
    case C::kGone: return "gone";
    case C::kInternalServerError: return "internal-server-error";
    case C::kItemNotFound: return "item-not-found";
    case C::kJidMalformed: return "jid-malformed";
    case C::kNotAcceptable: return "not-acceptable";
    case C::kNotAllowed: return "not-allowed";
    case C::kNotAuthorized: return "not-authorized";
    case C::kPolicyViolation: return "policy-violation";
    case C::kRecipientUnavailable: return "recipient-unavailable";
    case C::kRedirect: return "redirect";
    case C::kRegistrationRequired: return "registration-required";
    case C::kRemoteServerNotFound: return "remote-server-not-found";
    case C::kRemoteServerTimeout: return "remote-server-timeout";
    case C::kResourceConstraint: return "resource-constraint";
    case C::kServiceUnavailable: return "service-unavailable";
    case C::kSubscriptionRequired: return "subscription-required";
    case C::kUndefinedCondition: return "undefined-condition";
    case C::kUnexpectedRequest: return "unexpected-request";
  }
  return "undefined-condition";
}

const char* to_string(StanzaErrorType t) {
  switch (t) {
    case T::kAuth: return "auth";
    case T::kCancel: return "cancel";
    case T::kContinue: return "continue";
    case T::kModify: return "modify";
    case T::kWait: return "wait";
  }
  return "cancel";
}

// RFC 6120 §8.3.3: the type each condition's definition uses in its example.
StanzaErrorType default_type(StanzaErrorCondition c) {
  switch (c) {
    case C::kBadRequest: case C::kJidMalformed: case C::kNotAcceptable: case C::kPolicyViolation:
    case C::kRedirect:
      return T::kModify;
    case C::kForbidden: case C::kNotAuthorized: case C::kRegistrationRequired: case C::kSubscriptionRequired:
      return T::kAuth;
    case C::kInternalServerError: case C::kRecipientUnavailable: case C::kRemoteServerTimeout:
    case C::kResourceConstraint: case C::kUnexpectedRequest:
      return T::kWait;
    default:
      return T::kCancel;
  }
}

xml::Element StanzaError::to_element() const {
  xml::Element err("error", ns::kClient);
  err.set_attr("type", to_string(type));
  xml::Element& cond = err.add_child(to_string(condition), ns::kStanzas);
  if (!redirect_uri.empty() && (condition == C::kGone || condition == C::kRedirect)) cond.add_text(redirect_uri);
  if (!text.empty()) {
    err.add_child("text", ns::kStanzas).add_text(text);
  }
  if (app_condition) err.add(*app_condition);
  return err;
}

std::optional<xml::Element> make_error_reply(const xml::Element& stanza, const StanzaError& error) {
  if (stanza.attr("type") == "error") return std::nullopt;
  xml::Element reply(stanza.name(), stanza.ns());
  for (const auto& a : stanza.attrs()) {
    if (a.name == "to") reply.set_attr("from", a.value);
    else if (a.name == "from") reply.set_attr("to", a.value);
    else if (a.name != "type") reply.attrs().push_back(a);
  }
  reply.set_attr("type", "error");
  for (const auto& n : stanza.nodes())
    if (!n.is_text() && n.name() != "error") reply.add(n);
  xml::Element err = error.to_element();
  err.set_ns(reply.ns());
  reply.add(std::move(err));
  return reply;
}

const char* to_string(StreamErrorCondition c) {
  using S = StreamErrorCondition;
  switch (c) {
    case S::kBadFormat: return "bad-format";
    case S::kBadNamespacePrefix: return "bad-namespace-prefix";
    case S::kConflict: return "conflict";
    case S::kConnectionTimeout: return "connection-timeout";
    case S::kHostGone: return "host-gone";
    case S::kHostUnknown: return "host-unknown";
    case S::kImproperAddressing: return "improper-addressing";
    case S::kInternalServerError: return "internal-server-error";
    case S::kInvalidFrom: return "invalid-from";
    case S::kInvalidNamespace: return "invalid-namespace";
    case S::kInvalidXml: return "invalid-xml";
    case S::kNotAuthorized: return "not-authorized";
    case S::kNotWellFormed: return "not-well-formed";
    case S::kPolicyViolation: return "policy-violation";
    case S::kRemoteConnectionFailed: return "remote-connection-failed";
    case S::kReset: return "reset";
    case S::kResourceConstraint: return "resource-constraint";
    case S::kRestrictedXml: return "restricted-xml";
    case S::kSeeOtherHost: return "see-other-host";
    case S::kSystemShutdown: return "system-shutdown";
    case S::kUndefinedCondition: return "undefined-condition";
    case S::kUnsupportedEncoding: return "unsupported-encoding";
    case S::kUnsupportedFeature: return "unsupported-feature";
    case S::kUnsupportedStanzaType: return "unsupported-stanza-type";
    case S::kUnsupportedVersion: return "unsupported-version";
  }
  return "undefined-condition";
}

std::string stream_error_xml(StreamErrorCondition c, std::string_view text, std::string_view see_other) {
  std::string out = "<stream:error><";
  out += to_string(c);
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'";
  if (!see_other.empty()) {
    out += '>';
    xml::append_escaped(out, see_other);
    out += "</";
    out += to_string(c);
    out += '>';
  } else {
    out += "/>";
  }
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>";
    xml::append_escaped(out, text);
    out += "</text>";
  }
  out += "</stream:error>";
  return out;
}

}  // namespace causerie
