// XEP-0124 v1.11 (BOSH) and XEP-0206 v1.4 (XMPP over BOSH): the session rules as pure functions —
// what a session creation request is granted, where a request's 'rid' falls against the window, and the
// <body/> wrappers the connection manager answers with. BoshSession (bosh_session.hpp) applies them.
// Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/xml/element.hpp"
#include "core/xml/stream_parser.hpp"

namespace causerie::http {

// What the connection manager grants a session (XEP-0124 §7.2).
struct BoshParams {
  std::chrono::seconds wait{60};
  unsigned hold = 1;
  unsigned requests = 2;  // simultaneous requests allowed: hold + 1 (§7.2, RECOMMENDED)
  std::chrono::seconds inactivity{60};
  std::chrono::seconds polling{2};
  std::chrono::seconds maxpause{300};
  std::string ver = "1.11";
  std::string content_type = "text/xml; charset=utf-8";
  bool acks = false;  // the client asked for acknowledgements (ack='1')
};

// The grant for a session creation request, or the terminal condition refusing it.
struct BoshGrant {
  BoshParams params;
  std::string condition;  // non-empty: refuse with this terminal binding condition
};
BoshGrant negotiate_bosh(const xml::Element& body, const HttpConfig& config);

// §14.1: a 'rid' is a positive integer below 2^53.
std::optional<uint64_t> parse_rid(std::string_view text);

// §14.2-§14.3: where a request's rid falls, given the last rid processed in order and the window
// (the number of simultaneous requests allowed).
enum class RidPlace {
  kNext,       // the next one: process it
  kAhead,      // inside the window but early: keep it until the gap is filled
  kRepeat,     // already received: answer again (buffered response, or the newer connection)
  kOutside,    // beyond the window: item-not-found
};
RidPlace place_rid(uint64_t rid, uint64_t last, unsigned window);

// A request's <body/> wrapper with its payloads as children. Parsed like a stream whose root is the
// wrapper, so each payload is held to the stanza limits a TCP client has; `condition` says why not
// (bad-request for malformed XML or a wrong wrapper, policy-violation for a payload over the limits),
// and `sid` is kept when the wrapper was readable, so that the session can be ended.
struct BoshBody {
  std::optional<xml::Element> body;
  std::string condition;
  std::string sid;
};
BoshBody parse_bosh_body(std::string_view text, const xml::StreamLimits& limits);

// §17.2: a terminal binding condition ends the session.
std::string bosh_terminate_body(std::string_view condition);
// §17.3: a recoverable binding error; the client resends its unanswered requests.
std::string bosh_recoverable_error_body();
// The empty response.
std::string bosh_empty_body();

}  // namespace causerie::http
