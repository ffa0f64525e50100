#include "core/stream/c2s_stream.hpp"

#include <spdlog/spdlog.h>

#include "core/stream/stream_xml.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

C2sStream::C2sStream(ServerServices& services, AuthThrottle& throttle, StreamTransport& transport, SessionHost& host,
                     SessionRef connection)
    : services_(services),
      throttle_(throttle),
      t_(transport),
      host_worker_(host),
      connection_(connection),
      session_(std::make_shared<Session>(services, host)) {
  host.add_session(session_);
  session_->attach(this, t_.secure(), t_.peer_address());
}

C2sStream::~C2sStream() { *alive_ = false; }

void C2sStream::open_header(const std::string& from, const std::string& to) {
  t_.open(StreamHeader{ns::kClient, from, to, stream_id_});
  header_sent_ = true;
}

void C2sStream::fail_stream(StreamErrorCondition c, std::string_view text) {
  if (closed_ || state_ == State::kClosing) return;
  if (!header_sent_) {
    // RFC 6120 §4.9.1.1: even an error needs our stream header first.
    stream_id_ = util::random_id();
    open_header(host_.empty() ? services_.config().hosts.front().name : host_, {});
  }
  state_ = State::kClosing;
  t_.close(stream_error_xml(c, text));
}

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
  bool ok_host = domain && services_.config().find_host(*domain) && (host_.empty() || host_ == *domain);
  if (ok_host) {
    host_ = *domain;
    if (session_) session_->set_stream_host(host_);
  }
  stream_id_ = util::random_id();
  std::string client_from;
  if (auto f = Jid::parse(header.attr("from")); f && f->has_localpart()) client_from = f->str();
  open_header(ok_host ? host_ : services_.config().hosts.front().name, client_from);
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
  if (!tls && services_.config().require_encryption) return mechs;
  if (const HostConfig* h = services_.config().find_host(host_); h && h->anonymous) {
    mechs.push_back("ANONYMOUS");  // XEP-0175 §2: a guest host has nothing else to offer
    return mechs;
  }
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
      if (services_.config().require_encryption) st.add_child("required");
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
      // XEP-0388 §"Security Considerations": SASL2 only once TLS is up.
      if (t_.secure()) add_sasl2_feature(features, mechs);
    }
    services_.streams.append_features(FeatureStage::kPreAuth, *session_, features);
  } else {
    features.add_child("bind", ns::kBind);
    // RFC 6121 superseded RFC 3921 sessions; old clients still ask, so say it is optional.
    features.add_child("session", ns::kSession).add_child("optional");
    features.add_child("sm", "urn:xmpp:sm:3");  // XEP-0198
    services_.streams.append_features(FeatureStage::kPostAuth, *session_, features);
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
    case State::kResuming:
      waiting_.push_back(std::move(el));
      return;
    case State::kEstablished:
      to_session(std::move(el));
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
  if (ns == ns::kSasl2) {
    // One profile per attempt: a SASL1 exchange is not continued with SASL2 elements.
    if (el.name() == "authenticate") sasl2_authenticate(el);
    else if (el.name() == "response" && (sasl2_ || mechanism_.empty())) sasl_response(el);
    else if (el.name() == "abort" && (sasl2_ || mechanism_.empty())) sasl_abort();
    else fail_stream(StreamErrorCondition::kPolicyViolation, "not part of this authentication");
    return;
  }
  if (ns == ns::kSasl) {
    if (!mechanism_.empty() && sasl2_) fail_stream(StreamErrorCondition::kPolicyViolation, "not part of this authentication");
    else if (el.name() == "auth") sasl_auth(el);
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
  session_->attach(this, t_.secure(), t_.peer_address());  // now secure
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
  IqRequest req{std::move(iq), IqResponder(), session_.get()};
  req.reply = IqResponder(req.stanza, [this, alive = session_->ref()](Stanza&& reply) {
    // The reply may come from a storage thread: hop back to this session's thread.
    auto out = serialize_out(reply.element());
    services_.dispatcher.deliver(alive, std::move(out));
  });
  services_.streams.preauth_iq().dispatch(req);
}

void C2sStream::handle_bind(xml::Element&& el) {
  if (el.ns() == "urn:xmpp:sm:3" && el.name() == "resume") {
    handle_resume(el);
    return;
  }
  if (el.ns() != ns::kClient || el.name() != "iq") {
    if (el.ns() == "urn:xmpp:sm:3" || services_.streams.nonza_handler(el.ns())) {
      session_->handle_element(std::move(el));  // e.g. <enable/> before binding: <failed/> (XEP-0198 §3)
      return;
    }
    fail_stream(StreamErrorCondition::kNotAuthorized, "bind a resource first");
    return;
  }
  std::string id(el.attr("id"));
  const xml::Element* bind = el.child("bind", ns::kBind);
  const xml::Element* session = el.child("session", ns::kSession);
  auto reply_error = [&](StanzaError err) {
    if (auto r = make_error_reply(el, err)) t_.send(serialize_out(*r));
  };
  if (el.attr("type") != "set" || id.empty() || (!bind && !session)) {
    fail_stream(StreamErrorCondition::kNotAuthorized, "bind a resource first");
    return;
  }
  if (session) {
    xml::Element result("iq", ns::kClient);
    result.set_attr("type", "result").set_attr("id", id);
    t_.send(serialize_out(result));
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
  if (!session_->bind(full, id)) return;
  jid_ = full;
  state_ = State::kEstablished;
  t_.set_established();
  xml::Element result("iq", ns::kClient);
  result.set_attr("type", "result").set_attr("id", id);
  result.add_child("bind", ns::kBind).add_text_child("jid", jid_.str());
  session_->send(result);
  spdlog::info("c2s {}: bound {}", t_.peer_address(), jid_.str());
  services_.router.run_session_hooks(SessionHook::kBound, *session_);
}

void C2sStream::handle_resume(const xml::Element& el) {
  // XEP-0198 §5: after authentication, instead of binding.
  auto failed = [this](const char* condition, uint32_t h = 0, bool with_h = false) {
    std::string f = "<failed xmlns='urn:xmpp:sm:3'";
    if (with_h) f += " h='" + std::to_string(h) + "'";
    f += "><";
    f += condition;
    f += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
    t_.send(OutStanza{std::make_shared<const std::string>(std::move(f)), {}, StanzaKind::kOther});
  };
  std::string previd(el.attr("previd"));
  uint32_t h = 0;
  try {
    h = static_cast<uint32_t>(std::stoull(std::string(el.attr("h"))));
  } catch (...) {
    failed("bad-request");
    return;
  }
  auto entry = services_.resumable.find(previd);
  if (!entry || entry->bare != jid_.bare().str()) {
    failed("item-not-found");
    return;
  }
  bool secure = t_.secure();
  std::string peer = t_.peer_address();
  if (entry->ref.worker == host_worker_.index()) {
    if (!resume_here(entry->ref, h, {})) failed("item-not-found");
    return;
  }
  // The session lives on another worker: it takes this stream over there, writing to this connection.
  state_ = State::kResuming;
  services_.dispatcher.with_session(
      entry->ref, [this, alive = alive_, conn = connection_, kind = t_.kind(), secure, peer, h, worker = host_worker_.index(),
                   dispatcher = &services_.dispatcher, ref = entry->ref](ClientSession& s) {
        auto& old = static_cast<Session&>(s);
        bool ok = old.resume_from(conn, kind, secure, peer, h);
        dispatcher->post(worker, [this, alive, ok, ref] {
          if (!*alive || closed_) return;
          if (ok) resumed_elsewhere(ref);
          else {
            state_ = State::kBinding;
            t_.send(OutStanza{std::make_shared<const std::string>(
                                  "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"),
                              {}, StanzaKind::kOther});
          }
        });
      });
}

bool C2sStream::resume_here(SessionRef ref, uint32_t h, const Session::ResumedFrame& frame) {
  bool done = false;
  services_.dispatcher.with_session(ref, [&](ClientSession& s) {
    auto& old = static_cast<Session&>(s);
    if (!old.resume(this, t_.secure(), t_.peer_address(), h, frame)) return;
    done = true;
    // The fresh session of this stream never bound anything: it just goes.
    std::shared_ptr<Session> fresh = std::move(session_);
    fresh->detach(this);
    session_ = old.shared_from_this();
    jid_ = session_->jid();
  });
  if (!done) return false;
  state_ = State::kEstablished;
  t_.set_established();
  return true;
}

void C2sStream::resumed_elsewhere(SessionRef session) {
  spdlog::debug("c2s {}: resumed a session of worker {} from worker {}", t_.peer_address(), session.worker,
                host_worker_.index());
  std::shared_ptr<Session> fresh = std::move(session_);
  fresh->detach(this);
  remote_session_ = session;
  state_ = State::kEstablished;
  t_.set_established();
  std::vector<xml::Element> waiting;
  waiting.swap(waiting_);
  for (auto& el : waiting) to_session(std::move(el));
}

void C2sStream::to_session(xml::Element&& el) {
  if (session_) {
    session_->handle_element(std::move(el));
    return;
  }
  auto shared = std::make_shared<xml::Element>(std::move(el));
  services_.dispatcher.with_session(remote_session_, [shared](ClientSession& s) {
    static_cast<Session&>(s).handle_element(std::move(*shared));
  });
}

void C2sStream::on_stream_close() {
  if (closed_) return;
  client_closed_ = true;
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
  // A clean close ends the session even when it could be resumed: the client said it is done, and
  // what comes for it now must go to its other resources or offline storage (XEP-0198 §5).
  bool resumable = !client_closed_;
  if (session_) {
    session_->detach(this, resumable);
  } else if (remote_session_.valid()) {
    services_.dispatcher.with_session(remote_session_, [conn = connection_, resumable](ClientSession& s) {
      static_cast<Session&>(s).detach_connection(conn, resumable);
    });
  }
}

}  // namespace causerie
