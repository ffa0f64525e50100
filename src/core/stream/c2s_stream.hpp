// C2sStream: the client-to-server stream protocol of RFC 6120, whatever carries it (TCP with STARTTLS or
// direct TLS, WebSocket, BOSH): stream headers and features, STARTTLS, SASL (SCRAM-SHA-1/-256 and -PLUS,
// PLAIN over TLS; ANONYMOUS alone on anonymous hosts) as RFC 6120 profiles it or as XEP-0388 SASL2 does
// (with XEP-0484 FAST tokens, XEP-0386 Bind 2 and XEP-0198 resumption inline, and no restart), resource
// binding or XEP-0198 resumption; then it hands what the client sends to its Session and writes what the
// session sends.
//
// It is the StreamHandler of one StreamTransport, which owns it. Its Session is created with it, on the
// same worker, and outlives it when stream management allows resumption; a stream that resumes a session
// living on another worker forwards to it there. Thread rules: one worker thread; every method runs there.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/module/module.hpp"
#include "core/sasl/ht.hpp"
#include "core/sasl/scram.hpp"
#include "core/stream/auth_throttle.hpp"
#include "core/session/session.hpp"
#include "core/stream/stream_transport.hpp"
#include "core/xml/stream_parser.hpp"
#include "storage/fast_token_store.hpp"

namespace causerie {

class C2sStream final : public StreamHandler, private SessionPort {
 public:
  // `connection` is the transport's own id on `host`'s worker (where a session on another worker writes).
  C2sStream(ServerServices& services, AuthThrottle& throttle, StreamTransport& transport, SessionHost& host,
            SessionRef connection);
  ~C2sStream() override;

  // The session this stream carries (here, or nullptr while it resumes one on another worker).
  Session* session() const { return session_.get(); }

  // --- StreamHandler: input from the transport ---
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override;
  void on_element(xml::Element&& el) override;
  void on_stream_close() override;
  void on_parse_error(xml::StreamParser::Error error, const std::string& text) override;
  // TLS is up after STARTTLS: the client starts a new stream.
  void on_tls_established() override;
  // Direct TLS is up (XEP-0368), or the plain connection is ready.
  void on_ready() override { session_->attach(this, t_.secure(), t_.peer_address()); }
  // The connection is gone (closed by either side, or failed). Idempotent.
  void on_disconnect() override;
  void on_shutdown() override { fail_stream(StreamErrorCondition::kSystemShutdown, "the server is shutting down"); }
  void on_timeout() override { fail_stream(StreamErrorCondition::kConnectionTimeout, "authentication took too long"); }
  void on_end(StreamErrorCondition condition, std::string_view text) override { fail_stream(condition, text); }
  // Bytes for the client written by a session on another worker (after a resumption there).
  void deliver(OutStanza out) override { t_.send(std::move(out)); }
  std::string name() const override { return jid_.str(); }
  bool closed() const { return closed_; }

 private:
  enum class State { kHeader, kNegotiating, kAuthWait, kBinding, kResuming, kEstablished, kClosing };

  void open_header(const std::string& from, const std::string& to);
  void send_features();
  std::vector<std::string> offered_mechanisms() const;
  void fail_stream(StreamErrorCondition c, std::string_view text = {});
  void handle_negotiation_element(xml::Element&& el);
  void handle_starttls(const xml::Element& el);
  void handle_preauth_iq(xml::Element&& el);
  void handle_bind(xml::Element&& el);
  void handle_resume(const xml::Element& el);
  // Resumes the session `ref` of this worker on this stream (XEP-0198 §5); false when it cannot be.
  bool resume_here(SessionRef ref, uint32_t h, const Session::ResumedFrame& frame);
  void resumed_elsewhere(SessionRef session);
  // Hands a client element to the session, here or on its worker.
  void to_session(xml::Element&& el);

  // SessionPort (the session writing to this stream, on this worker)
  void write(OutStanza out) override { t_.send(std::move(out)); }
  void close(StreamErrorCondition condition, std::string text) override { fail_stream(condition, text); }
  metrics::Transport transport() const override { return t_.kind(); }

  // SASL (c2s_sasl.cpp)
  void sasl_auth(const xml::Element& el);
  void sasl_response(const xml::Element& el);
  void sasl_abort();
  void sasl_anonymous(const std::string& trace);
  void anonymous_created(const std::string& bare, bool created, const std::string& trace);
  void sasl_continue_scram(std::string username, std::optional<sasl::ScramCredentials> creds);
  void sasl_check_plain(sasl::PlainMessage msg, std::optional<sasl::ScramCredentials> creds);
  void sasl_success(std::string mechanism, const std::string& additional);
  void sasl_failure(sasl::SaslError error, std::string_view text = {}, bool count = true);
  void send_sasl(const char* name, std::string_view payload_base64, bool always_text = false);
  // XEP-0474: the hash of what this stream advertised, for the SCRAM server-first-message.
  std::string downgrade_protection(sasl::ScramHash hash) const;

  // SASL2, Bind 2 and FAST (c2s_sasl2.cpp)
  struct Sasl2Request {
    std::string user_agent_id, software, device;
    std::optional<xml::Element> bind;    // XEP-0386 <bind/>
    std::optional<xml::Element> resume;  // XEP-0198 <resume/>
    std::string request_token;           // XEP-0484 <request-token mechanism/>
    bool invalidate = false;             // XEP-0484 <fast invalidate='true'/>
  };
  struct UsedToken {  // the FAST token that authenticated this attempt
    std::string id, mechanism;
    bool fresh = false;
    int64_t expiry = 0;
  };
  std::vector<std::string> offered_fast_mechanisms() const;
  void add_sasl2_feature(xml::Element& features, const std::vector<std::string>& mechanisms) const;
  void sasl2_authenticate(const xml::Element& el);
  void sasl_ht(const std::string& message);
  void sasl_check_ht(sasl::HtInitialResponse msg, std::string username, std::vector<storage::FastToken> tokens);
  void sasl2_succeeded(const std::string& additional);
  void sasl2_finish(const std::string& additional_base64, const std::string& token_xml);
  bool sasl2_resume(const xml::Element& resume, const std::string& head, const std::string& tail,
                    std::optional<xml::Element> bind, const std::string& user_agent_id);
  void sasl2_bind(const std::string& head, const std::string& sm_failed, const std::string& tail,
                  const std::optional<xml::Element>& bind, const std::string& user_agent_id);
  std::string bind2_resource(const xml::Element& bind, const std::string& user_agent_id) const;
  std::string sasl2_features_xml(bool bound);

  ServerServices& services_;
  AuthThrottle& throttle_;
  StreamTransport& t_;
  SessionHost& host_worker_;
  SessionRef connection_;
  std::shared_ptr<Session> session_;  // the session on this worker, if any
  SessionRef remote_session_;          // a resumed session on another worker
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::vector<xml::Element> waiting_;  // sent by the client while a resumption is being decided
  std::string host_;
  std::string stream_id_;
  Jid jid_;  // the authenticated account (bare), then the bound resource
  State state_ = State::kHeader;
  bool authenticated_ = false;
  bool closed_ = false;
  bool client_closed_ = false;  // the client sent </stream:stream>: its session is over (XEP-0198 §5)
  bool header_sent_ = false;
  unsigned sasl_attempts_ = 0;
  bool lookup_pending_ = false;  // a credential lookup is on its way back from storage
  std::unique_ptr<sasl::ScramServer> scram_;
  std::string mechanism_;
  std::optional<Sasl2Request> sasl2_;  // a SASL2 <authenticate/> in progress
  std::optional<UsedToken> fast_used_;
};

}  // namespace causerie
