// XEP-0060 v1.30.0 §14 error conditions: a stanza error with its pubsub-specific application condition
// (<invalid-jid xmlns='http://jabber.org/protocol/pubsub#errors'/>, <unsupported feature='…'/>, …).
// Pure functions, any thread.
#pragma once

#include <string>

#include "core/stanza/errors.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::modules::pubsub {

inline StanzaError pubsub_error(StanzaErrorCondition c, const char* app, std::string text = {}) {
  return StanzaError(c, std::move(text)).with_app(xml::Element(app, ns::kPubsubErrors));
}

// feature-not-implemented with <unsupported feature='…'/>.
inline StanzaError unsupported(const char* feature, std::string text = {}) {
  xml::Element app("unsupported", ns::kPubsubErrors);
  app.set_attr("feature", feature);
  return StanzaError(StanzaErrorCondition::kFeatureNotImplemented, std::move(text)).with_app(std::move(app));
}

inline StanzaError item_not_found(std::string text = {}) {
  return StanzaError(StanzaErrorCondition::kItemNotFound, std::move(text));
}

inline StanzaError forbidden(std::string text = {}) { return StanzaError(StanzaErrorCondition::kForbidden, std::move(text)); }

inline StanzaError bad_request(std::string text = {}) {
  return StanzaError(StanzaErrorCondition::kBadRequest, std::move(text));
}

}  // namespace causerie::modules::pubsub
