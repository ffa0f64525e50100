// ComponentAccept: the server side of the jabber:component:accept protocol (XEP-0114 v1.6 §3) as a state
// machine without I/O, so that its decisions can be tested on the XEP's own example. ComponentStream
// feeds it what the transport parsed and carries out what it answers.
//
//   kHeader ──open()──► kHandshake ──handshake()──► (caller claims the domain) ──established()──►
//   kEstablished ──stanza()── … ; any failure ──► kClosed
//
// Our stream header has an id and no version (a component's stream has no features), and comes from the
// component's domain. A stanza from the component must carry 'from' and 'to' (§3), its 'from' in exactly
// the component's domain (§3: "MUST match the hostname of the component"); it is then moved from
// jabber:component:accept into jabber:client, the namespace every stanza has inside the server.
//
// Thread rules: one stream's, like the stream that owns it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/config/config.hpp"
#include "core/stanza/errors.hpp"
#include "core/stanza/stanza.hpp"
#include "core/stream/stream_transport.hpp"
#include "core/xml/element.hpp"

namespace causerie::component {

class ComponentAccept {
 public:
  enum class State { kHeader, kHandshake, kEstablished, kClosed };

  // A stream error that ends the stream.
  struct Failure {
    StreamErrorCondition condition;
    std::string text;
  };

  explicit ComponentAccept(const Config& config) : config_(config) {}

  // The component's stream header. `reply` is always our header (RFC 6120 §4.9.1.1: an error too comes
  // after a header); `failure`, when set, ends the stream.
  struct Opened {
    StreamHeader reply;
    std::optional<Failure> failure;
  };
  Opened open(const xml::Element& header, std::string_view content_ns, std::string stream_id);

  // The first element after our header: nullopt when it is a <handshake/> with the right value. The
  // caller then claims the domain (a component already connected for it: fail(kConflict)) and calls
  // established() before answering <handshake/>.
  std::optional<Failure> handshake(const xml::Element& el);
  void established() { state_ = State::kEstablished; }

  // A top-level element from an established component: the stanza to route; or a stanza error to send back
  // to the component (a malformed 'to', an iq without id or type) while its stream goes on; or nothing
  // (such a stanza was itself an error, which is never answered); or a failure.
  using Checked = std::variant<Stanza, xml::Element, std::monostate, Failure>;
  Checked stanza(xml::Element&& el);

  // The stream is ending; nothing more is accepted.
  void close() { state_ = State::kClosed; }

  State state() const { return state_; }
  // The component's domain, once open() accepted it.
  const std::string& domain() const { return domain_; }

 private:
  Failure fail(StreamErrorCondition c, std::string text = {});

  const Config& config_;
  State state_ = State::kHeader;
  std::string stream_id_;
  std::string domain_;
  const ComponentConfig* component_ = nullptr;
};

// Moves `el` and every descendant in jabber:component:accept into jabber:client (the content namespace
// that children such as <body/> and <error/> inherit from the stanza).
void to_client_namespace(xml::Element& el);

}  // namespace causerie::component
