// Stanza errors (RFC 6120 §8.3) and stream errors (RFC 6120 §4.9) as values, and the XML for them.
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/xml/element.hpp"

namespace causerie {

enum class StanzaErrorCondition {
  kBadRequest, kConflict, kFeatureNotImplemented, kForbidden, kGone, kInternalServerError, kItemNotFound,
  kJidMalformed, kNotAcceptable, kNotAllowed, kNotAuthorized, kPolicyViolation, kRecipientUnavailable,
  kRedirect, kRegistrationRequired, kRemoteServerNotFound, kRemoteServerTimeout, kResourceConstraint,
  kServiceUnavailable, kSubscriptionRequired, kUndefinedCondition, kUnexpectedRequest,
};

enum class StanzaErrorType { kAuth, kCancel, kContinue, kModify, kWait };

struct StanzaError {
  StanzaErrorCondition condition = StanzaErrorCondition::kUndefinedCondition;
  StanzaErrorType type = StanzaErrorType::kCancel;
  std::string text;
  // An application-specific condition element (e.g. pubsub's <invalid-jid/>), placed after the condition.
  std::optional<xml::Element> app_condition;
  // Only for gone/redirect: the new address.
  std::string redirect_uri;

  StanzaError() = default;
  // The type defaults to the one RFC 6120 §8.3.3 gives for the condition.
  explicit StanzaError(StanzaErrorCondition c, std::string text = {});
  StanzaError(StanzaErrorCondition c, StanzaErrorType t, std::string text = {});
  StanzaError& with_app(xml::Element app) & {
    app_condition = std::move(app);
    return *this;
  }
  StanzaError&& with_app(xml::Element app) && {
    app_condition = std::move(app);
    return std::move(*this);
  }

  xml::Element to_element() const;
};

const char* to_string(StanzaErrorCondition c);
const char* to_string(StanzaErrorType t);
StanzaErrorType default_type(StanzaErrorCondition c);

// The error reply to `stanza` (RFC 6120 §8.3.1): from/to swapped, type='error', id kept, the original
// payload kept so the sender can tell what failed. Returns nullopt for a stanza that must never be
// answered with an error (type='error' itself, §8.3.1 rule 4).
std::optional<xml::Element> make_error_reply(const xml::Element& stanza, const StanzaError& error);

enum class StreamErrorCondition {
  kBadFormat, kBadNamespacePrefix, kConflict, kConnectionTimeout, kHostGone, kHostUnknown, kImproperAddressing,
  kInternalServerError, kInvalidFrom, kInvalidNamespace, kInvalidXml, kNotAuthorized, kNotWellFormed,
  kPolicyViolation, kRemoteConnectionFailed, kReset, kResourceConstraint, kRestrictedXml, kSeeOtherHost,
  kSystemShutdown, kUndefinedCondition, kUnsupportedEncoding, kUnsupportedFeature, kUnsupportedStanzaType,
  kUnsupportedVersion,
};
const char* to_string(StreamErrorCondition c);

// <stream:error><condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>[<text/>]</stream:error>
std::string stream_error_xml(StreamErrorCondition c, std::string_view text = {}, std::string_view see_other = {});

}  // namespace causerie
