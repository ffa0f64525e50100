// XEP-0215 v1.0 External Service Discovery: what the extdisco module answers, as pure functions over a
// host's configured services ([[host.external_service]], core/config/config.hpp) and the time, so they
// are table-tested without a server. The module (extdisco.cpp) only checks who asks and replies.
//
// TURN credentials follow the TURN REST API scheme (draft-uberti-behave-turn-rest-00 §2.2) that coturn
// implements under `use-auth-secret`: username "<expiry as Unix time>:<bare JID>", password
// base64(HMAC-SHA1(secret, username)). The TURN server recomputes the password from its copy of the secret
// and refuses the username once its expiry has passed; nothing is stored here.
//
// Thread rules: pure functions, any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/config/config.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"

namespace causerie::modules::extdisco {

struct TurnCredentials {
  std::string username, password;
  std::chrono::system_clock::time_point expires;
};

// Credentials valid until `now` + `lifetime` (whole seconds) for `user` at a TURN server sharing `secret`.
TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view user,
                                      std::chrono::system_clock::time_point now, std::chrono::seconds lifetime);

// The answer to a request's payload, or the error to reply with.
using Answer = std::variant<xml::Element, StanzaError>;

// §3.1/§3.2: <services/> lists every service of the host, or those of the requested 'type'; a service with
// a secret carries fresh credentials for `user` (the requester's bare JID) with 'expires' and
// restricted='1', so a client need not ask again (§3.3) before they expire.
Answer answer_services(const std::vector<ExternalService>& services, const xml::Element& request,
                       std::string_view user, std::chrono::system_clock::time_point now);

// §3.3: <credentials><service host='…' type='…' [port='…']/></credentials>: credentials for every
// service matching each <service/> (several when the port is left out and the host has more, §3.3's
// last paragraph). bad-request without 'host' and 'type'; item-not-found when no service of the host
// matches, or when the one that does issues no credentials (a STUN server, a TURN server without a secret).
Answer answer_credentials(const std::vector<ExternalService>& services, const xml::Element& request,
                          std::string_view user, std::chrono::system_clock::time_point now);

}  // namespace causerie::modules::extdisco
