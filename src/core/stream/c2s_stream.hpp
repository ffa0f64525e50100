// C2sStream: the client-to-server stream logic of RFC 6120, whatever carries it (TCP with STARTTLS or
// direct TLS, WebSocket, BOSH): stream headers and features, STARTTLS, SASL (SCRAM-SHA-1/-256 and -PLUS,
// PLAIN over TLS), resource binding, then stanzas handed to the router with 'from' stamped.
//
// A transport subclass feeds parsed input through the handle_*() methods and implements the transport_*()
// primitives. Thread rules: lives on one worker thread; every method runs there.
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
#include "core/xml/stream_parser.hpp"

namespace causerie {

class C2sStream : public ClientSession {
 public:
  C2sStream(ServerServices& services, AuthThrottle& throttle, SessionRef ref, std::string peer_address);
  ~C2sStream() override;

  // --- ClientSession ---
  const Jid& jid() const override { return jid_; }
  SessionRef ref() const override { return ref_; }
  bool authenticated() const override { return authenticated_; }
  bool bound() const override { return bound_; }
  bool secure() const override { return transport_secure(); }
  const std::string& peer_address() const override { return peer_; }
  void send(const xml::Element& element) override;
  void send(OutStanza out) override { transport_send(std::move(out)); }
  void close(StreamErrorCondition condition, std::string_view text = {}) override;

  // --- input, from the transport ---
  void handle_stream_open(const xml::Element& header, std::string_view content_ns);
  void handle_element(xml::Element&& el);
  void handle_stream_close();
  void handle_parse_error(xml::StreamParser::Error error, const std::string& text);
  // TLS is up after STARTTLS: the client starts a new stream.
  void handle_tls_established();
  // The connection is gone (closed by either side, or failed). Idempotent.
  void handle_disconnect();
  bool closed() const { return closed_; }

 protected:
  // --- transport primitives ---
  // Writes our stream header (or its framing equivalent) for a stream from `from` with id `id`.
  virtual void transport_open(const std::string& from, const std::string& id, const std::string& to) = 0;
  virtual void transport_send(OutStanza out) = 0;
  // Ends the stream (after a stream error when given) and closes the connection once output is flushed.
  virtual void transport_close(const std::string& stream_error) = 0;
  virtual bool transport_can_starttls() const = 0;
  // Flushes, then negotiates TLS; calls handle_tls_established() or handle_disconnect().
  virtual void transport_starttls() = 0;
  // After the current element: a new stream begins (RFC 6120 §4.3.3).
  virtual void transport_restart() = 0;
  virtual bool transport_secure() const = 0;
  // Channel bindings this connection supports (RFC 5929, RFC 9266), name → data.
  virtual std::vector<std::pair<std::string, std::string>> transport_channel_bindings() const = 0;
  // Binding types to accept beyond those advertised (see COMPAT in c2s_sasl.cpp).
  virtual std::vector<std::pair<std::string, std::string>> transport_compat_bindings() const { return {}; }
  // Runs fn on this thread after `delay`, unless the connection is gone by then.
  virtual void transport_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;

  ServerServices& services_;

 private:
  enum class State { kHeader, kNegotiating, kAuthWait, kBinding, kEstablished, kClosing };

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

  AuthThrottle& throttle_;
  SessionRef ref_;
  std::string peer_;
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
