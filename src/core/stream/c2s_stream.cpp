#include "core/stream/c2s_stream.hpp"

#include <spdlog/spdlog.h>

#include "core/stream/stream_xml.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

C2sStream::C2sStream(ServerServices& services, AuthThrottle& throttle, StreamTransport& transport, SessionRef ref)
    : services_(services), throttle_(throttle), t_(transport), ref_(ref) {}

C2sStream::~C2sStream() = default;

void C2sStream::open_header(const std::string& from, const std::string& to) {
  t_.open(StreamHeader{ns::kClient, from, to, stream_id_});
  header_sent_ = true;
}

void C2sStream::send(const xml::Element& element) {
  if (closed_) return;
  t_.send(serialize_out(element));
}

void C2sStream::fail_stream(StreamErrorCondition c, std::string_view text) {
  if (closed_ || state_ == State::kClosing) return;
  if (!header_sent_) {
    // RFC 6120 §4.9.1.1: even an error needs our stream header first.
    stream_id_ = util::random_id();
    open_header(host_.empty() ? services_.config.hosts.front().name : host_, {});
  }
  state_ = State::kClosing;
  t_.close(stream_error_xml(c, text));
}

void C2sStream::close(StreamErrorCondition condition, std::string_view text) { fail_stream(condition, text); }

void C2sStream::on_stream_open(const xml::Element& header, std::string_view content_ns) {
  if (state_ != State::kHeader) {
    fail_stream(StreamErrorCondition::kBadFormat);
    return;
  }
  // RFC 6120 §4.8.1 and §4.8.2: the stream namespace and the content namespace.
  if (header.name() != "stream" || header.ns() != ns::kStream) {
    fail_stream(StreamErrorCondition::kInvalidNamespace);
    return;
  }
  if (content_ns != ns::kClient) {
    fail_stream(StreamErrorCondition::kInvalidNamespace, "this port serves jabber:client streams");
    return;
  }
  std::string_view to = header.attr("to");
  auto domain = prep_domainpart(to);
  std::string requested = domain ? *domain : std::string(to);
  // RFC 6120 §4.7.2: a restarted stream must be for the same host.
  bool ok_host = domain && services_.config.find_host(*domain) && (host_.empty() || host_ == *domain);
  if (ok_host) host_ = *domain;
  stream_id_ = util::random_id();
  std::string client_from;
  if (auto f = Jid::parse(header.attr("from")); f && f->has_localpart()) client_from = f->str();
  open_header(ok_host ? host_ : services_.config.hosts.front().name, client_from);
  if (!ok_host) {
    fail_stream(StreamErrorCondition::kHostUnknown, "this server does not serve '" + requested + "'");
    return;
  }
  // RFC 6120 §4.7.5: no version means 0.9, which we do not speak; any 1.x is 1.0 for us.
  std::string_view version = header.attr("version");
  if (version.empty() || version.substr(0, 2) != "1.") {
    fail_stream(StreamErrorCondition::kUnsupportedVersion, "XMPP 1.0 streams only");
    return;
  }
  state_ = authenticated_ ? State::kBinding : State::kNegotiating;
  send_features();
}

std::vector<std::string> C2sStream::offered_mechanisms() const {
  std::vector<std::string> mechs;
  bool tls = t_.secure();
  if (!tls && services_.config.require_encryption) return mechs;
  if (tls && !t_.channel_bindings().empty()) {
    mechs.push_back("SCRAM-SHA-256-PLUS");
    mechs.push_back("SCRAM-SHA-1-PLUS");
  }
  mechs.push_back("SCRAM-SHA-256");
  mechs.push_back("SCRAM-SHA-1");
  if (tls) mechs.push_back("PLAIN");  // RFC 4616 §6: only inside TLS
  return mechs;
}

void C2sStream::send_features() {
  xml::Element features("features", ns::kStream);
  if (!authenticated_) {
    // XEP-0170 order: TLS, then SASL.
    if (!t_.secure() && t_.can_starttls()) {
      xml::Element& st = features.add_child("starttls", ns::kTls);
      if (services_.config.require_encryption) st.add_child("required");
    }
    auto mechs = offered_mechanisms();
    if (!mechs.empty()) {
      xml::Element& m = features.add_child("mechanisms", ns::kSasl);
      for (const auto& name : mechs) m.add_text_child("mechanism", name);
      // XEP-0440: which channel-binding types the -PLUS mechanisms can use here.
      auto bindings = t_.channel_bindings();
      if (t_.secure() && !bindings.empty()) {
        xml::Element& cb = features.add_child("sasl-channel-binding", ns::kSaslCb);
        for (const auto& [type, data] : bindings) cb.add_child("channel-binding").set_attr("type", type);
      }
    }
    services_.streams.append_features(FeatureStage::kPreAuth, *this, features);
  } else {
    features.add_child("bind", ns::kBind);
    // RFC 6121 superseded RFC 3921 sessions; old clients still ask, so say it is optional.
    features.add_child("session", ns::kSession).add_child("optional");
    services_.streams.append_features(FeatureStage::kPostAuth, *this, features);
  }
  t_.send(OutStanza{std::make_shared<const std::string>(stream_features_xml(features)), {}, StanzaKind::kOther});
}

void C2sStream::on_element(xml::Element&& el) {
  if (closed_ || state_ == State::kClosing) return;
  switch (state_) {
    case State::kHeader:
      fail_stream(StreamErrorCondition::kBadFormat);
      return;
    case State::kNegotiating:
    case State::kAuthWait:
      handle_negotiation_element(std::move(el));
      return;
    case State::kBinding:
      handle_bind(std::move(el));
      return;
    case State::kEstablished:
      handle_stanza(std::move(el));
      return;
    case State::kClosing:
      return;
  }
}

void C2sStream::handle_negotiation_element(xml::Element&& el) {
  const std::string& ns = el.ns();
  if (ns == ns::kTls && el.name() == "starttls") {
    handle_starttls(el);
    return;
  }
  if (ns == ns::kSasl) {
    if (el.name() == "auth") sasl_auth(el);
    else if (el.name() == "response") sasl_response(el);
    else if (el.name() == "abort") sasl_abort();
    else fail_stream(StreamErrorCondition::kUnsupportedStanzaType);
    return;
  }
  if (ns == ns::kClient && el.name() == "iq" && state_ == State::kNegotiating) {
    handle_preauth_iq(std::move(el));
    return;
  }
  // RFC 6120 §4.9.3.12: stanzas before authentication.
  fail_stream(StreamErrorCondition::kNotAuthorized, "authenticate first");
}

void C2sStream::handle_starttls(const xml::Element&) {
  if (t_.secure() || !t_.can_starttls() || state_ != State::kNegotiating) {
    // RFC 6120 §5.4.2.2: <failure/> and close.
    t_.send(OutStanza{std::make_shared<const std::string>("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                             {}, StanzaKind::kOther});
    state_ = State::kClosing;
    t_.close({});
    return;
  }
  t_.send(OutStanza{std::make_shared<const std::string>("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                           {}, StanzaKind::kOther});
  state_ = State::kHeader;
  header_sent_ = false;
  t_.starttls();
}

void C2sStream::on_tls_established() {
  if (closed_) return;
  state_ = State::kHeader;
}

void C2sStream::handle_preauth_iq(xml::Element&& el) {
  auto parsed = Stanza::parse(std::move(el));
  if (!parsed) {
    fail_stream(StreamErrorCondition::kNotAuthorized, "authenticate first");
    return;
  }
  Stanza iq = std::move(*parsed);
  std::string_view type = iq.type();
  if ((type != "get" && type != "set") || iq.id().empty() ||
      !services_.streams.preauth_iq().find(iq)) {
    fail_stream(StreamErrorCondition::kNotAuthorized, "authenticate first");
    return;
  }
  if (iq.to().empty()) iq.set_to(*Jid::parse(host_));
  iq.set_from(Jid());
  IqRequest req{std::move(iq), IqResponder(), this};
  req.reply = IqResponder(req.stanza, [this, alive = ref_](Stanza&& reply) {
    // The reply may come from a storage thread: hop back to this session's thread.
    auto out = serialize_out(reply.element());
    services_.dispatcher.deliver(alive, std::move(out));
  });
  services_.streams.preauth_iq().dispatch(req);
}

void C2sStream::handle_bind(xml::Element&& el) {
  if (el.ns() != ns::kClient || el.name() != "iq") {
    if (services_.streams.nonza_handler(el.ns())) {
      (*services_.streams.nonza_handler(el.ns()))(*this, std::move(el));
      return;
    }
    fail_stream(StreamErrorCondition::kNotAuthorized, "bind a resource first");
    return;
  }
  std::string id(el.attr("id"));
  const xml::Element* bind = el.child("bind", ns::kBind);
  const xml::Element* session = el.child("session", ns::kSession);
  auto reply_error = [&](StanzaError err) {
    if (auto r = make_error_reply(el, err)) send(*r);
  };
  if (el.attr("type") != "set" || id.empty() || (!bind && !session)) {
    fail_stream(StreamErrorCondition::kNotAuthorized, "bind a resource first");
    return;
  }
  if (session) {
    xml::Element result("iq", ns::kClient);
    result.set_attr("type", "result").set_attr("id", id);
    send(result);
    return;
  }
  std::string requested = bind->child_text("resource", ns::kBind);
  Jid full;
  if (!requested.empty()) {
    auto j = jid_.with_resource(requested);
    if (!j) {
      // RFC 6120 §7.7.2.1
      reply_error(StanzaError(StanzaErrorCondition::kBadRequest, "invalid resource"));
      return;
    }
    full = std::move(*j);
  } else {
    full = *jid_.with_resource(util::random_id(9));
  }
  auto res = services_.sessions.bind(full, ref_);
  if (res.status == SessionRegistry::BindStatus::kTooMany) {
    // RFC 6120 §7.6.2.1
    reply_error(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many sessions for this account"));
    return;
  }
  if (res.status == SessionRegistry::BindStatus::kReplaced) {
    // RFC 6120 §7.7.2.2, policy "override": the older session ends with <conflict/>.
    services_.dispatcher.with_session(res.replaced, [](ClientSession& old) {
      old.close(StreamErrorCondition::kConflict, "replaced by a new connection");
    });
  }
  jid_ = full;
  bound_ = true;
  state_ = State::kEstablished;
  t_.set_established();
  xml::Element result("iq", ns::kClient);
  result.set_attr("type", "result").set_attr("id", id);
  result.add_child("bind", ns::kBind).add_text_child("jid", jid_.str());
  send(result);
  spdlog::info("c2s {}: bound {}", peer_address(), jid_.str());
  services_.router.run_session_hooks(SessionHook::kBound, *this);
}

void C2sStream::handle_stanza(xml::Element&& el) {
  if (el.ns() != ns::kClient) {
    if (const NonzaHandler* h = services_.streams.nonza_handler(el.ns())) {
      (*h)(*this, std::move(el));
      return;
    }
    fail_stream(StreamErrorCondition::kUnsupportedStanzaType);
    return;
  }
  StanzaKind kind = stanza_kind(el);
  if (kind == StanzaKind::kOther) {
    fail_stream(StreamErrorCondition::kUnsupportedStanzaType);
    return;
  }
  if (kind == StanzaKind::kIq && el.attr("type") == "set" && el.child("session", ns::kSession) &&
      (el.attr("to").empty() || el.attr("to") == host_)) {
    // COMPAT(Strophe.js 3 in Converse.js 14): RFC 3921 session establishment after binding, although we
    // advertise it as optional; RFC 6121 made it a no-op, so the answer is a plain result.
    xml::Element result("iq", ns::kClient);
    result.set_attr("type", "result").set_attr("id", el.attr("id"));
    send(result);
    return;
  }
  // RFC 6120 §8.1.2.1: 'from', when given, must be this session's full or bare JID.
  if (const std::string* from = el.find_attr("from")) {
    auto f = Jid::parse(*from);
    if (!f || (*f != jid_ && *f != jid_.bare())) {
      fail_stream(StreamErrorCondition::kInvalidFrom);
      return;
    }
  }
  auto parsed = Stanza::parse_stamped(std::move(el), jid_);
  if (!parsed) {
    // Only 'to' can be malformed here: jid-malformed (RFC 6120 §8.3.3.8), and the stream goes on. The
    // error comes from the server, since the address it was sent to does not exist.
    xml::Element original = std::move(el);
    original.remove_attr("to");
    original.remove_attr("from");
    if (auto r = make_error_reply(original, parsed.error())) {
      r->set_attr("to", jid_.str());
      send(*r);
    }
    return;
  }
  Stanza stanza = std::move(*parsed);
  if (kind == StanzaKind::kIq) {
    std::string_view type = stanza.type();
    bool valid_type = type == "get" || type == "set" || type == "result" || type == "error";
    if (!valid_type || stanza.id().empty()) {
      // RFC 6120 §8.2.3: iq needs an id and one of four types.
      if (auto r = make_error_reply(stanza.element(), StanzaError(StanzaErrorCondition::kBadRequest,
                                                                   "iq needs an id and a type of get, set, result or error")))
        send(*r);
      return;
    }
  }
  try {
    services_.router.from_client(std::move(stanza), *this);
  } catch (const std::exception& e) {
    spdlog::error("c2s {}: routing failed: {}", jid_.str(), e.what());
  }
}

void C2sStream::on_stream_close() {
  if (closed_) return;
  if (state_ != State::kClosing) {
    state_ = State::kClosing;
    t_.close({});
  }
}

void C2sStream::on_parse_error(xml::StreamParser::Error error, const std::string& text) {
  using E = xml::StreamParser::Error;
  switch (error) {
    case E::kRestrictedXml: fail_stream(StreamErrorCondition::kRestrictedXml, text); break;
    case E::kTooLarge:
    case E::kTooDeep: fail_stream(StreamErrorCondition::kPolicyViolation, text); break;
    case E::kBadFormat: fail_stream(StreamErrorCondition::kBadFormat, text); break;
    default: fail_stream(StreamErrorCondition::kNotWellFormed, text); break;
  }
}

void C2sStream::on_disconnect() {
  if (closed_) return;
  closed_ = true;
  state_ = State::kClosing;
  if (bound_) {
    services_.sessions.unbind(jid_, ref_);
    try {
      services_.router.run_session_hooks(SessionHook::kClosed, *this);
    } catch (const std::exception& e) {
      spdlog::error("c2s {}: close hook failed: {}", jid_.str(), e.what());
    }
    spdlog::info("c2s {}: {} disconnected", peer_address(), jid_.str());
  }
}

}  // namespace causerie
