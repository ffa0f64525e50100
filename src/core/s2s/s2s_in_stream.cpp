#include "core/s2s/s2s_in_stream.hpp"

#include <spdlog/spdlog.h>

#include "core/jid/jid.hpp"
#include "core/router/router.hpp"
#include "core/s2s/s2s_common.hpp"
#include "core/stream/stream_xml.hpp"
#include "core/util/encoding.hpp"
#include "core/util/metrics.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::s2s {

namespace {
bool same_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}
}  // namespace

S2sInStream::S2sInStream(S2sHub& hub, StreamTransport& transport, uint32_t worker)
    : hub_(hub), t_(transport), worker_(worker), rate_(hub.config().s2s.stanzas_per_second) {
  metrics::add(metrics::Counter::kS2sIn);
}

S2sInStream::~S2sInStream() {
  metrics::add(metrics::Counter::kS2sIn, -1);
  *alive_ = false;
  if (bidi_handle_) bidi_handle_->sender = nullptr;
}

void S2sInStream::on_stream_open(const xml::Element& header, std::string_view content_ns) {
  const Config& cfg = hub_.config();
  if (state_ != State::kHeader) {
    fail(StreamErrorCondition::kBadFormat, "a second stream header");
    return;
  }
  auto to = prep_domainpart(header.attr("to"));
  bool known = to && hub_.is_local_domain(*to) && (local_.empty() || local_ == *to);
  if (known) local_ = *to;
  stream_id_ = util::random_id();
  if (auto from = prep_domainpart(header.attr("from"))) peer_from_ = *from;
  // RFC 6120 §4.9.1.1: our header goes first, even before an error.
  t_.open(StreamHeader{ns::kServer, known ? local_ : cfg.hosts.front().name, peer_from_, stream_id_,
                       cfg.s2s.dialback, true});
  state_ = State::kNegotiating;
  if (header.name() != "stream" || header.ns() != ns::kStream || content_ns != ns::kServer) {
    fail(StreamErrorCondition::kInvalidNamespace, "this port serves jabber:server streams");
    return;
  }
  if (!known) {
    fail(StreamErrorCondition::kHostUnknown, "this server does not serve '" + std::string(header.attr("to")) + "'");
    return;
  }
  if (header.attr("version").substr(0, 2) != "1.") {
    fail(StreamErrorCondition::kUnsupportedVersion, "XMPP 1.0 streams only");
    return;
  }
  if (!peer_from_.empty() && !cfg.s2s.domain_allowed(peer_from_)) {
    fail(StreamErrorCondition::kPolicyViolation, "this server does not federate with " + peer_from_);
    return;
  }
  send_features();
  offer_bidi();
}

std::string S2sInStream::describe_peer() const {
  if (domains_.empty()) return peer_from_.empty() ? "?" : peer_from_;
  std::string out;
  for (const auto& d : domains_) out += (out.empty() ? "" : ",") + d;
  return out;
}

bool S2sInStream::certificate_proves(const std::string& domain) const {
  return tls_done_ && !domain.empty() && t_.peer_certificate().authenticates(domain);
}

void S2sInStream::send_features() {
  const S2sConfig& cfg = hub_.config().s2s;
  xml::Element features("features", ns::kStream);
  if (!tls_done_ && t_.can_starttls()) {
    xml::Element& st = features.add_child("starttls", ns::kTls);
    if (cfg.require_encryption) st.add_child("required");
  }
  // RFC 7590: with TLS required, nothing but STARTTLS is offered in the clear.
  if (tls_done_ || !cfg.require_encryption) {
    // XEP-0178 §3: EXTERNAL only when the certificate proves the domain the header claims.
    if (!sasl_done_ && certificate_proves(peer_from_))
      features.add_child("mechanisms", ns::kSasl).add_text_child("mechanism", "EXTERNAL");
    if (cfg.dialback && !sasl_done_) features.add_child("dialback", ns::kDialbackFeature).add_child("errors");
    if (cfg.bidi && !bidi_) features.add_child("bidi", ns::kBidiFeature);
  }
  t_.send(nonza(stream_features_xml(features)));
}

void S2sInStream::on_element(xml::Element&& el) {
  if (closed_) return;
  const std::string& ns = el.ns();
  if (state_ == State::kClosing) {
    // RFC 6120 §4.4: after our closing tag (idle) the peer may still send what it had, until it closes its
    // own stream: stanzas from domains proven here are still delivered.
    if (we_closed_cleanly_ && ns == ns::kServer) on_stanza(std::move(el));
    return;
  }
  if (state_ != State::kNegotiating) return;
  if (ns == ns::kServer) {
    on_stanza(std::move(el));
  } else if (ns == ns::kStream && el.name() == "error") {
    // RFC 6120 §4.9.1.3: the peer ended its stream with an error; we close ours.
    spdlog::info("s2s incoming {} ({}): stream error from the peer: {}", peer_from_.empty() ? "?" : peer_from_,
                 t_.peer_address(), el.element_count() ? el.nodes().front().name() : "?");
    state_ = State::kClosing;
    t_.close({});
  } else if (ns == ns::kDialback && el.name() == "result") {
    on_db_result(el);
  } else if (ns == ns::kDialback && el.name() == "verify") {
    on_db_verify(el);
  } else if (ns == ns::kTls && el.name() == "starttls") {
    on_starttls();
  } else if (ns == ns::kSasl && el.name() == "auth") {
    on_sasl_auth(el);
  } else if (ns == ns::kSasl && el.name() == "abort") {
    t_.send(nonza("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>"));
  } else if (ns == ns::kBidi && el.name() == "bidi") {
    // XEP-0288 §2: from now on our stanzas to the proven domains may use this stream.
    if (!hub_.config().s2s.bidi) {
      fail(StreamErrorCondition::kUnsupportedFeature, "bidirectional streams are off");
      return;
    }
    if (!bidi_ && !domains_.empty()) {
      // Asked after authentication (the authentication line said nothing of it): say so once.
      spdlog::info("s2s incoming {} -> {} ({}): now bidirectional (XEP-0288)", peer_from_.empty() ? "?" : peer_from_,
                   local_, t_.peer_address());
    }
    bidi_ = true;
    offer_bidi();
  } else {
    fail(StreamErrorCondition::kUnsupportedStanzaType);
  }
}

void S2sInStream::on_starttls() {
  if (tls_done_ || !t_.can_starttls()) {
    // RFC 6120 §5.4.2.2
    t_.send(nonza("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
    state_ = State::kClosing;
    t_.close({});
    return;
  }
  t_.send(nonza("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"));
  state_ = State::kHeader;
  t_.starttls();
}

void S2sInStream::on_tls_established() {
  tls_done_ = true;
  state_ = State::kHeader;
}

void S2sInStream::on_sasl_auth(const xml::Element& el) {
  auto refuse = [&](const char* condition, std::string_view text) {
    // Logged once per refusal, with the peer and why (issue 11: every refused authentication is visible).
    spdlog::info("s2s incoming {} -> {} ({}): SASL EXTERNAL refused ({}): {}", peer_from_.empty() ? "?" : peer_from_,
                 local_, t_.peer_address(), condition, text);
    std::string b = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><";
    b += condition;
    b += "/><text xml:lang='en'>";
    b += xml::escape(text);
    b += "</text></failure>";
    t_.send(nonza(std::move(b)));
  };
  if (el.attr("mechanism") != "EXTERNAL" || !tls_done_ || sasl_done_) {
    refuse("invalid-mechanism", "EXTERNAL over TLS only");
    return;
  }
  // XEP-0178 §4: the authorization identity, when given, is the domain; else the header's 'from'.
  std::string text = el.text();
  std::optional<std::string> authzid = text.empty() || text == "=" ? std::optional<std::string>("")
                                                                     : util::base64_decode(text);
  if (!authzid) {
    refuse("incorrect-encoding", "invalid base64");
    return;
  }
  auto domain = prep_domainpart(authzid->empty() ? peer_from_ : *authzid);
  if (!domain || domain->empty()) {
    refuse("invalid-authzid", "no domain to authenticate");
    return;
  }
  if (!hub_.config().s2s.domain_allowed(*domain)) {
    refuse("not-authorized", "this server does not federate with " + *domain);
    return;
  }
  if (!certificate_proves(*domain)) {
    refuse("not-authorized", "the certificate does not prove " + *domain);
    return;
  }
  // RFC 6120 §6.4.6: the peer starts a new stream after our success (so no stanza of ours may come
  // between them: the state says so before authenticate() tells the links).
  sasl_done_ = true;
  state_ = State::kHeader;
  if (!authenticate(*domain, "SASL EXTERNAL")) return;
  t_.send(nonza("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"));
  t_.restart();
}

void S2sInStream::dialback_answer(const std::string& local, const std::string& remote, std::string_view type,
                                  std::string_view error_condition, std::string_view reason) {
  if (type != "valid")
    spdlog::info("s2s incoming {} -> {} ({}): dialback {}{}{}: {}", remote, local, t_.peer_address(), type,
                 error_condition.empty() ? "" : " ", error_condition, reason);
  std::string b = db_element("result", local, remote, {}, type, {});
  if (!error_condition.empty()) {
    // XEP-0220 §2.4: the error, in the stream's default namespace, inside the result.
    b.resize(b.size() - 2);
    b += "><error type='cancel'><";
    b += error_condition;
    b += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></db:result>";
  }
  t_.send(nonza(std::move(b)));
}

void S2sInStream::on_db_result(const xml::Element& el) {
  const Config& cfg = hub_.config();
  auto remote = prep_domainpart(el.attr("from"));
  auto local = prep_domainpart(el.attr("to"));
  std::string key = el.text();
  if (!remote || !local || remote->empty() || local->empty() || key.empty()) {
    fail(StreamErrorCondition::kImproperAddressing, "dialback needs 'from', 'to' and a key");
    return;
  }
  if (!hub_.is_local_domain(*local)) {
    dialback_answer(*local, *remote, "error", "item-not-found", "not a domain of this server");
    return;
  }
  if (!cfg.s2s.domain_allowed(*remote)) {
    dialback_answer(*local, *remote, "error", "forbidden", "this server does not federate with " + *remote);
    return;
  }
  if (cfg.s2s.require_encryption && !tls_done_) {
    dialback_answer(*local, *remote, "error", "policy-violation", "TLS is required");
    return;
  }
  if (domains_.count(*remote)) {
    dialback_answer(*local, *remote, "valid");
    return;
  }
  if (certificate_proves(*remote)) {
    // The certificate already proves the domain: no need to ask its Authoritative Server (as XEP-0344
    // describes); the key is not checked, only the peer's identity matters.
    if (authenticate(*remote, "dialback, certificate")) dialback_answer(*local, *remote, "valid");
    return;
  }
  if (!cfg.s2s.insecure_allowed(*remote)) {
    // Only a certificate that verifies may prove this domain (s2s.secure_auth).
    dialback_answer(*local, *remote, "error", "not-authorized", "its certificate does not verify");
    return;
  }
  if (!pending_.insert(*remote).second) return;  // already being verified
  hub_.verify_dialback(*local, *remote, stream_id_, key, worker_,
                       [this, alive = alive_, local = *local, remote = *remote](bool valid) {
                         if (!*alive || closed_) return;
                         pending_.erase(remote);
                         if (!valid) {
                           dialback_answer(local, remote, "invalid", {},
                                           "its Authoritative Server did not confirm the key");
                           return;
                         }
                         if (authenticate(remote, "dialback")) dialback_answer(local, remote, "valid");
                       });
}

void S2sInStream::on_db_verify(const xml::Element& el) {
  // XEP-0220 §2.1.3: we are the Authoritative Server of 'to'; the key must be one we made.
  std::string receiving(el.attr("from")), originating(el.attr("to")), id(el.attr("id"));
  if (receiving.empty() || originating.empty() || id.empty()) {
    fail(StreamErrorCondition::kImproperAddressing, "dialback verification needs 'from', 'to' and 'id'");
    return;
  }
  if (hub_.config().s2s.require_encryption && !tls_done_) {
    fail(StreamErrorCondition::kPolicyViolation, "TLS is required");
    return;
  }
  bool valid = hub_.is_local_domain(originating) &&
               same_in_constant_time(el.text(), hub_.dialback_key(receiving, originating, id));
  t_.send(nonza(db_element("verify", originating, receiving, id, valid ? "valid" : "invalid", {})));
}

bool S2sInStream::authenticate(const std::string& remote, const std::string& method) {
  if (domains_.count(remote)) return true;
  if (!hub_.incoming_authenticated(remote, local_)) {
    fail(StreamErrorCondition::kPolicyViolation, "too many streams from " + remote);
    return false;
  }
  domains_.insert(remote);
  t_.set_established();
  std::string tls = t_.tls_version();
  spdlog::info("s2s incoming {} -> {} ({}): authenticated by {}, {}{}{}", remote, local_, t_.peer_address(), method,
               tls.empty() ? "without TLS" : tls, direct_tls_ ? " (direct TLS)" : "", bidi_ ? ", bidirectional" : "");
  offer_bidi();
  if (!logged_) {
    logged_ = true;
    arm_idle_check();
  }
  return true;
}

void S2sInStream::on_stanza(xml::Element&& el) {
  if (domains_.empty()) {
    // RFC 6120 §4.9.3.12: nothing is routed for an unauthenticated peer.
    fail(StreamErrorCondition::kNotAuthorized, "authenticate first");
    return;
  }
  active_ = true;
  if (!rate_.allow(RateLimiter::Clock::now())) {
    fail(StreamErrorCondition::kPolicyViolation, "too many stanzas");
    return;
  }
  auto stanza = accept_stanza(std::move(el));
  if (!stanza) {
    fail(stanza.error(), "stanzas between servers carry valid 'from' and 'to'");
    return;
  }
  std::string from_domain(stanza->from().domainpart());
  if (!domains_.count(from_domain)) {
    // RFC 6120 §4.9.3.10: a 'from' the peer has not proven on this stream.
    fail(StreamErrorCondition::kInvalidFrom, from_domain + " is not authenticated on this stream");
    return;
  }
  if (!hub_.is_local_domain(stanza->to().domainpart())) {
    hub_.router().bounce(*stanza, StanzaError(StanzaErrorCondition::kItemNotFound, "not a domain of this server"));
    return;
  }
  metrics::count_stanza(true, static_cast<uint8_t>(stanza->kind()));
  hub_.router().route(std::move(*stanza));
}

void S2sInStream::offer_bidi() {
  // Between a SASL success and the peer's new stream header our stanzas would land outside any stream:
  // the links learn of this stream once it is open again.
  if (!bidi_ || state_ != State::kNegotiating) return;
  if (!bidi_handle_) bidi_handle_ = std::make_shared<BidiHandle>(BidiHandle{this, worker_});
  for (const auto& d : domains_)
    if (bidi_offered_.insert(d).second) hub_.incoming_bidi(local_, d, bidi_handle_);
}

void S2sInStream::withdraw_bidi() {
  if (!bidi_handle_) return;
  bidi_handle_->sender = nullptr;
  for (const auto& d : bidi_offered_) hub_.incoming_bidi_gone(local_, d, bidi_handle_);
  bidi_offered_.clear();
}

void S2sInStream::send_stanza(OutStanza out) {
  if (closed_ || state_ == State::kClosing) return;
  active_ = true;
  metrics::count_stanza(false, static_cast<uint8_t>(out.kind));
  t_.send(std::move(out));
}

void S2sInStream::arm_idle_check() {
  t_.after(std::chrono::duration_cast<std::chrono::milliseconds>(hub_.config().s2s.idle_timeout),
           [this, alive = alive_] {
             if (!*alive || closed_ || state_ == State::kClosing) return;
             if (!active_) {
               spdlog::info("s2s incoming {} -> {} ({}): idle, closing", describe_peer(), local_, t_.peer_address());
               state_ = State::kClosing;
               we_closed_cleanly_ = true;
               withdraw_bidi();
               t_.close({});
               return;
             }
             active_ = false;
             arm_idle_check();
           });
}

void S2sInStream::fail(StreamErrorCondition condition, std::string_view text) {
  if (closed_ || state_ == State::kClosing) return;
  spdlog::info("s2s incoming {} ({}): {} {}", peer_from_.empty() ? "?" : peer_from_, t_.peer_address(),
               to_string(condition), text);
  state_ = State::kClosing;
  withdraw_bidi();
  t_.close(stream_error_xml(condition, text));
}

void S2sInStream::on_stream_close() {
  if (state_ != State::kClosing) {
    state_ = State::kClosing;
    // The peer ended the stream: our stanzas must not be written to it any more (RFC 6120 §4.4).
    withdraw_bidi();
    t_.close({});
  }
}

void S2sInStream::on_parse_error(xml::StreamParser::Error error, const std::string& text) {
  using E = xml::StreamParser::Error;
  switch (error) {
    case E::kRestrictedXml: fail(StreamErrorCondition::kRestrictedXml, text); break;
    case E::kTooLarge:
    case E::kTooDeep: fail(StreamErrorCondition::kPolicyViolation, text); break;
    case E::kBadFormat: fail(StreamErrorCondition::kBadFormat, text); break;
    default: fail(StreamErrorCondition::kNotWellFormed, text); break;
  }
}

void S2sInStream::on_timeout() { fail(StreamErrorCondition::kConnectionTimeout, "authentication took too long"); }

void S2sInStream::on_shutdown() { fail(StreamErrorCondition::kSystemShutdown, "the server is shutting down"); }

void S2sInStream::on_disconnect() {
  if (closed_) return;
  closed_ = true;
  withdraw_bidi();
  for (const auto& d : domains_) hub_.incoming_closed(d, local_);
  // After the links and the per-domain count heard of it (tests wait for this line before reconnecting).
  spdlog::debug("s2s incoming {} -> {} ({}): closed", describe_peer(), local_, t_.peer_address());
}

}  // namespace causerie::s2s
