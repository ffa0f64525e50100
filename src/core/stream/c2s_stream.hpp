// C2sStream: the client-to-server stream protocol of RFC 6120, whatever carries it (TCP with STARTTLS or
// direct TLS, WebSocket, BOSH): stream headers and features, STARTTLS, SASL (SCRAM-SHA-1/-256 and -PLUS,
// PLAIN over TLS), resource binding, then stanzas handed to the router with 'from' stamped.
//
// It is the StreamHandler of one StreamTransport, which owns it and feeds it parsed input; it writes
// through the transport's primitives. Thread rules: lives on one worker thread; every method runs there.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/module/module.hpp"
#include "core/sasl/scram.hpp"
#include "core/stream/auth_throttle.hpp"
#include "core/stream/stream_transport.hpp"
#include "core/xml/stream_parser.hpp"

namespace causerie {

class C2sStream final : public ClientSession, public StreamHandler {
 public:
  C2sStream(ServerServices& services, AuthThrottle& throttle, StreamTransport& transport, SessionRef ref);
  ~C2sStream() override;

  // --- ClientSession ---
  const Jid& jid() const override { return jid_; }
  SessionRef ref() const override { return ref_; }
  bool authenticated() const override { return authenticated_; }
  bool bound() const override { return bound_; }
  bool secure() const override { return t_.secure(); }
  const std::string& peer_address() const override { return t_.peer_address(); }
  void send(const xml::Element& element) override;
  void send(OutStanza out) override { t_.send(std::move(out)); }
  void close(StreamErrorCondition condition, std::string_view text = {}) override;

  // --- StreamHandler: input from the transport ---
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override;
  void on_element(xml::Element&& el) override;
  void on_stream_close() override;
  void on_parse_error(xml::StreamParser::Error error, const std::string& text) override;
  // TLS is up after STARTTLS: the client starts a new stream.
  void on_tls_established() override;
  // The connection is gone (closed by either side, or failed). Idempotent.
  void on_disconnect() override;
  void on_shutdown() override { close(StreamErrorCondition::kSystemShutdown, "the server is shutting down"); }
  void on_timeout() override { close(StreamErrorCondition::kConnectionTimeout, "authentication took too long"); }
  void deliver(OutStanza out) override { send(std::move(out)); }
  std::string name() const override { return jid_.str(); }
  bool closed() const { return closed_; }

 private:
  enum class State { kHeader, kNegotiating, kAuthWait, kBinding, kEstablished, kClosing };

  void open_header(const std::string& from, const std::string& to);
  void send_features();
  std::vector<std::string> offered_mechanisms() const;
  void fail_stream(StreamErrorCondition c, std::string_view text = {});
  void handle_negotiation_element(xml::Element&& el);
  void handle_starttls(const xml::Element& el);
  void handle_stanza(xml::Element&& el);
  void handle_preauth_iq(xml::Element&& el);
  void handle_bind(xml::Element&& el);

  // SASL (c2s_sasl.cpp)
  void sasl_auth(const xml::Element& el);
  void sasl_response(const xml::Element& el);
  void sasl_abort();
  void sasl_continue_scram(std::string username, std::optional<sasl::ScramCredentials> creds);
  void sasl_check_plain(sasl::PlainMessage msg, std::optional<sasl::ScramCredentials> creds);
  void sasl_success(std::string mechanism, const std::string& additional);
  void sasl_failure(sasl::SaslError error, std::string_view text = {}, bool count = true);
  void send_sasl(const char* name, std::string_view payload_base64, bool always_text = false);

  ServerServices& services_;
  AuthThrottle& throttle_;
  StreamTransport& t_;
  SessionRef ref_;
  std::string host_;
  std::string stream_id_;
  Jid jid_;
  State state_ = State::kHeader;
  bool authenticated_ = false;
  bool bound_ = false;
  bool closed_ = false;
  bool header_sent_ = false;
  unsigned sasl_attempts_ = 0;
  bool lookup_pending_ = false;  // a credential lookup is on its way back from storage
  std::unique_ptr<sasl::ScramServer> scram_;
  std::string mechanism_;
};

}  // namespace causerie
