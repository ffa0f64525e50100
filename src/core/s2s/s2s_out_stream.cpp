#include "core/s2s/s2s_out_stream.hpp"

#include <spdlog/spdlog.h>

#include "core/router/router.hpp"
#include "core/s2s/s2s_common.hpp"
#include "core/util/encoding.hpp"
#include "core/util/metrics.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::s2s {

S2sOutStream::S2sOutStream(S2sHub& hub, StreamTransport& transport, std::string local, std::string remote,
                           std::shared_ptr<Owner> owner)
    : hub_(hub),
      t_(transport),
      local_(std::move(local)),
      remote_(std::move(remote)),
      owner_(std::move(owner)),
      rate_(hub.config().s2s.stanzas_per_second) {
  metrics::add(metrics::Counter::kS2sOut);
}

S2sOutStream::~S2sOutStream() {
  *alive_ = false;
  metrics::add(metrics::Counter::kS2sOut, -1);
}

void S2sOutStream::send_header() {
  t_.open(StreamHeader{ns::kServer, local_, remote_, {}, hub_.config().s2s.dialback, true});
  state_ = State::kHeader;
}

void S2sOutStream::on_ready() {
  tls_done_ = direct_tls_ = t_.secure();  // direct TLS (XEP-0368): the handshake is already done
  send_header();
}

void S2sOutStream::on_stream_open(const xml::Element& header, std::string_view content_ns) {
  if (state_ != State::kHeader) {
    fail(StreamErrorCondition::kBadFormat, "a second stream header", LinkFailure::kRefused);
    return;
  }
  // RFC 6120 §4.8: the streams namespace and jabber:server as content.
  if (header.name() != "stream" || header.ns() != ns::kStream || content_ns != ns::kServer) {
    fail(StreamErrorCondition::kInvalidNamespace, "expected a jabber:server stream", LinkFailure::kRefused);
    return;
  }
  std::string_view version = header.attr("version");
  if (version.substr(0, 2) != "1.") {
    fail(StreamErrorCondition::kUnsupportedVersion, "XMPP 1.0 streams only", LinkFailure::kRefused);
    return;
  }
  stream_id_ = std::string(header.attr("id"));
  state_ = State::kFeatures;
}

void S2sOutStream::on_element(xml::Element&& el) {
  if (closed_) return;
  const std::string& ns = el.ns();
  if (state_ == State::kClosing) {
    // RFC 6120 §4.4: after our closing tag the peer may still send what it had, until it closes its own
    // stream. On a bidirectional stream we closed cleanly (idle), those are stanzas for us: delivered.
    if (we_closed_cleanly_ && was_established_ && bidi_ && ns == ns::kServer) route_from_peer(std::move(el));
    return;
  }
  if (ns == ns::kStream && el.name() == "features") {
    if (state_ != State::kFeatures) {
      fail(StreamErrorCondition::kBadFormat, "unexpected stream features", LinkFailure::kRefused);
      return;
    }
    on_features(el);
    return;
  }
  if (ns == ns::kStream && el.name() == "error") {
    std::string condition = el.element_count() ? el.nodes().front().name() : "undefined-condition";
    failure_reason_ = "the peer ended the stream with " + condition;
    spdlog::info("s2s {} -> {}: stream error from the peer: {}", local_, remote_, condition);
    // RFC 6120 §4.9.1.3: a stream error closes the stream; answer the close.
    state_ = State::kClosing;
    t_.close({});
    return;
  }
  if (ns == ns::kTls) {
    if (state_ != State::kStartTls) {
      fail(StreamErrorCondition::kBadFormat, "unexpected TLS negotiation", LinkFailure::kRefused);
    } else if (el.name() == "proceed") {
      t_.starttls();
    } else {
      fail(StreamErrorCondition::kUndefinedCondition, "the peer refused STARTTLS", LinkFailure::kRefused);
    }
    return;
  }
  if (ns == ns::kSasl) {
    if (state_ != State::kSasl) {
      fail(StreamErrorCondition::kBadFormat, "unexpected SASL element", LinkFailure::kRefused);
    } else if (el.name() == "success") {
      // RFC 6120 §6.4.6: a new stream over the same TLS; its features end the negotiation.
      auth_method_ = "SASL EXTERNAL";
      t_.restart();
      send_header();
    } else if (el.name() == "failure") {
      spdlog::info("s2s {} -> {}: SASL EXTERNAL refused, trying dialback", local_, remote_);
      if (!peer_dialback_ || !hub_.config().s2s.dialback) {
        fail(StreamErrorCondition::kNotAuthorized, "SASL EXTERNAL refused and no dialback", LinkFailure::kRefused);
        return;
      }
      state_ = State::kDialback;
      t_.send(nonza(db_element("result", local_, remote_, {}, {}, hub_.dialback_key(remote_, local_, stream_id_))));
    } else {
      fail(StreamErrorCondition::kBadFormat, "unexpected SASL element", LinkFailure::kRefused);
    }
    return;
  }
  if (ns == ns::kDialback) {
    if (el.name() == "result") on_db_result(el);
    else if (el.name() == "verify") on_db_verify(el);
    else fail(StreamErrorCondition::kBadFormat, "unknown dialback element", LinkFailure::kRefused);
    return;
  }
  if (ns == ns::kServer) {
    on_stanza(std::move(el));
    return;
  }
  fail(StreamErrorCondition::kUnsupportedStanzaType, "unexpected element", LinkFailure::kRefused);
}

void S2sOutStream::on_features(const xml::Element& features) {
  const S2sConfig& cfg = hub_.config().s2s;
  if (!auth_method_.empty()) {
    // The features of the stream restarted after SASL success: authentication is complete.
    established(auth_method_);
    return;
  }
  peer_dialback_ = features.child("dialback", ns::kDialbackFeature) != nullptr;
  if (!tls_done_) {
    if (features.child("starttls", ns::kTls) && t_.can_starttls()) {
      state_ = State::kStartTls;
      t_.send(nonza("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
      return;
    }
    if (cfg.require_encryption) {
      // RFC 7590 §3.1: no cleartext between servers unless the configuration says so.
      fail(StreamErrorCondition::kPolicyViolation, "TLS is required", LinkFailure::kRefused);
      return;
    }
  } else {
    // RFC 6120 §13.7.2: the receiving server proves its domain with its certificate; only a domain the
    // configuration lets authenticate insecurely (trusting DNS, as dialback does) may do without.
    PeerCertificate cert = t_.peer_certificate();
    if (!cert.authenticates(remote_) && !cfg.insecure_allowed(remote_)) {
      std::string why = !cert.present ? "no certificate"
                        : !cert.chain_valid ? cert.chain_error
                                            : "the certificate does not name " + remote_;
      fail(StreamErrorCondition::kPolicyViolation, "cannot verify " + remote_ + ": " + why, LinkFailure::kRefused);
      return;
    }
  }
  if (!verify_ok_) {
    verify_ok_ = true;
    owner_->out_ready_for_verify(*this);
    if (closed_ || state_ == State::kClosing) return;
  }
  // XEP-0288 §2: ask for a bidirectional stream before authenticating.
  if (cfg.bidi && !bidi_ && features.child("bidi", ns::kBidiFeature)) {
    bidi_ = true;
    t_.send(nonza("<bidi xmlns='urn:xmpp:bidi'/>"));
  }
  authenticate(features);
}

void S2sOutStream::authenticate(const xml::Element& features) {
  const xml::Element* mechs = features.child("mechanisms", ns::kSasl);
  bool external = false;
  if (mechs)
    for (const xml::Element* m : mechs->children("mechanism", ns::kSasl)) external |= m->text() == "EXTERNAL";
  if (external && tls_done_ && !sasl_tried_) {
    // XEP-0178 §4: our certificate names our domain; the authorization identity is that domain.
    sasl_tried_ = true;
    state_ = State::kSasl;
    t_.send(nonza("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" + util::base64_encode(local_) +
                  "</auth>"));
    return;
  }
  if (peer_dialback_ && hub_.config().s2s.dialback) {
    state_ = State::kDialback;
    t_.send(nonza(db_element("result", local_, remote_, {}, {}, hub_.dialback_key(remote_, local_, stream_id_))));
    return;
  }
  fail(StreamErrorCondition::kNotAuthorized, "no authentication method in common", LinkFailure::kRefused);
}

void S2sOutStream::on_db_result(const xml::Element& el) {
  if (state_ != State::kDialback || el.attr("from") != remote_ || el.attr("to") != local_) {
    fail(StreamErrorCondition::kBadFormat, "unexpected dialback result", LinkFailure::kRefused);
    return;
  }
  std::string_view type = el.attr("type");
  if (type == "valid") {
    established("dialback");
    return;
  }
  std::string why = type == "invalid" ? "the peer found our dialback key invalid" : "the peer answered dialback with an error";
  if (const xml::Element* e = el.child("error", ns::kDialback); e && e->element_count())
    why += " (" + e->nodes().front().name() + ")";
  else if (const xml::Element* e2 = el.child("error", ns::kServer); e2 && e2->element_count())
    why += " (" + e2->nodes().front().name() + ")";
  fail(StreamErrorCondition::kNotAuthorized, why, LinkFailure::kRefused);
}

void S2sOutStream::on_db_verify(const xml::Element& el) {
  std::string id(el.attr("id"));
  if (id.empty()) {
    fail(StreamErrorCondition::kBadFormat, "dialback verification without an id", LinkFailure::kRefused);
    return;
  }
  owner_->out_verify_result(id, el.attr("type") == "valid");
}

void S2sOutStream::on_stanza(xml::Element&& el) {
  // XEP-0288: stanzas come back on our stream only when it was made bidirectional.
  if (!bidi_ || state_ != State::kEstablished) {
    fail(StreamErrorCondition::kNotAuthorized, "stanzas on a stream that is not bidirectional", LinkFailure::kRefused);
    return;
  }
  route_from_peer(std::move(el));
}

void S2sOutStream::route_from_peer(xml::Element&& el) {
  active_ = true;
  if (!rate_.allow(RateLimiter::Clock::now())) {
    fail(StreamErrorCondition::kPolicyViolation, "too many stanzas", LinkFailure::kRefused);
    return;
  }
  auto stanza = accept_stanza(std::move(el));
  if (!stanza) {
    fail(stanza.error(), "stanzas between servers carry valid 'from' and 'to'", LinkFailure::kRefused);
    return;
  }
  // The peer proved one domain, the one we connected to.
  if (stanza->from().domainpart() != remote_ || !hub_.is_local_domain(stanza->to().domainpart())) {
    fail(StreamErrorCondition::kInvalidFrom, "addresses not authenticated on this stream", LinkFailure::kRefused);
    return;
  }
  metrics::count_stanza(true, static_cast<uint8_t>(stanza->kind()));
  hub_.router().route(std::move(*stanza));
}

void S2sOutStream::established(std::string method) {
  state_ = State::kEstablished;
  was_established_ = true;
  auth_method_ = std::move(method);
  t_.set_established();
  std::string tls = t_.tls_version();
  spdlog::info("s2s outgoing {} -> {} ({}): authenticated by {}, {}{}{}", local_, remote_, t_.peer_address(),
               auth_method_, tls.empty() ? "without TLS" : tls, direct_tls_ ? " (direct TLS)" : "",
               bidi_ ? ", bidirectional" : "");
  arm_idle_check();
  owner_->out_authenticated(*this);
}

void S2sOutStream::send_verify(const std::string& stream_id, const std::string& key, const std::string& from) {
  if (closed_ || state_ == State::kClosing) return;
  t_.send(nonza(db_element("verify", from, remote_, stream_id, {}, key)));
}

void S2sOutStream::send_stanza(OutStanza out) {
  if (closed_ || state_ == State::kClosing) return;
  active_ = true;
  metrics::count_stanza(false, static_cast<uint8_t>(out.kind));
  t_.send(std::move(out));
}

void S2sOutStream::close_cleanly() {
  if (closed_ || state_ == State::kClosing) return;
  state_ = State::kClosing;
  we_closed_cleanly_ = true;
  t_.close({});
}

void S2sOutStream::arm_idle_check() {
  t_.after(std::chrono::duration_cast<std::chrono::milliseconds>(hub_.config().s2s.idle_timeout),
           [this, alive = alive_] {
             if (!*alive || closed_ || state_ == State::kClosing) return;
             if (!active_) {
               spdlog::info("s2s {} -> {}: idle, closing", local_, remote_);
               close_cleanly();
               return;
             }
             active_ = false;
             arm_idle_check();
           });
}

void S2sOutStream::fail(StreamErrorCondition condition, std::string_view text, LinkFailure why) {
  if (closed_ || state_ == State::kClosing) return;
  failure_ = why;
  failure_reason_ = std::string(text);
  spdlog::info("s2s {} -> {}: {}", local_, remote_, text);
  state_ = State::kClosing;
  t_.close(stream_error_xml(condition, text));
}

void S2sOutStream::on_stream_close() {
  if (state_ != State::kClosing) {
    if (failure_reason_.empty()) failure_reason_ = "the peer closed the stream";
    state_ = State::kClosing;
    t_.close({});
  }
}

void S2sOutStream::on_parse_error(xml::StreamParser::Error error, const std::string& text) {
  using E = xml::StreamParser::Error;
  switch (error) {
    case E::kRestrictedXml: fail(StreamErrorCondition::kRestrictedXml, text, LinkFailure::kRefused); break;
    case E::kTooLarge:
    case E::kTooDeep: fail(StreamErrorCondition::kPolicyViolation, text, LinkFailure::kRefused); break;
    case E::kBadFormat: fail(StreamErrorCondition::kBadFormat, text, LinkFailure::kRefused); break;
    default: fail(StreamErrorCondition::kNotWellFormed, text, LinkFailure::kRefused); break;
  }
}

void S2sOutStream::on_tls_established() {
  tls_done_ = true;
  send_header();
}

void S2sOutStream::on_timeout() {
  fail(StreamErrorCondition::kConnectionTimeout, "authentication took too long", LinkFailure::kTimeout);
}

void S2sOutStream::on_disconnect() {
  if (closed_) return;
  closed_ = true;
  spdlog::debug("s2s {} -> {}: closed", local_, remote_);
  if (failure_reason_.empty()) failure_reason_ = "connection lost";
  owner_->out_closed(*this, was_established_, failure_, failure_reason_);
}

}  // namespace causerie::s2s
