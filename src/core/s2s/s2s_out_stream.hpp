// S2sOutStream: the initiating side of a server-to-server stream from one of our domains (`local`) to a
// remote one (RFC 6120 §§4-6, 13): our header, STARTTLS as a TLS client, the receiving server's
// certificate checked (RFC 6125 / 9525), then authentication of our domain by SASL EXTERNAL with our
// certificate (XEP-0178) or else by dialback (XEP-0220). It also carries <db:verify/> requests when we act
// as Receiving Server for the peer's domain, and, when the peer agrees to XEP-0288, stanzas back to us.
//
// It is the StreamHandler of one TcpTransport and reports to its Owner (the link of this domain pair).
// Thread rules: one worker; the Owner lives there too.
#pragma once

#include <memory>
#include <string>

#include "core/s2s/s2s_hub.hpp"
#include "core/stream/stream_transport.hpp"
#include "core/util/rate_limiter.hpp"

namespace causerie::s2s {

class S2sOutStream final : public StreamHandler, public S2sSender {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Our domain is authenticated: stanzas may be written now.
    virtual void out_authenticated(S2sOutStream& stream) = 0;
    // Past TLS (when there is TLS): <db:verify/> requests may be sent now.
    virtual void out_ready_for_verify(S2sOutStream& stream) = 0;
    virtual void out_verify_result(const std::string& stream_id, bool valid) = 0;
    // The stream is gone; `authenticated` tells whether it got that far, `why` what to bounce with.
    virtual void out_closed(S2sOutStream& stream, bool authenticated, LinkFailure why, const std::string& reason) = 0;
  };

  S2sOutStream(S2sHub& hub, StreamTransport& transport, std::string local, std::string remote,
               std::shared_ptr<Owner> owner);
  ~S2sOutStream() override;

  const std::string& local() const { return local_; }
  const std::string& remote() const { return remote_; }
  bool authenticated() const { return state_ == State::kEstablished; }
  bool ready_for_verify() const { return verify_ok_; }
  const std::string& auth_method() const { return auth_method_; }

  // XEP-0220 §2.1.2: asks the peer, as Authoritative Server, about a key it should have made.
  void send_verify(const std::string& stream_id, const std::string& key, const std::string& from);
  // Ends the stream cleanly (idle, shutdown).
  void close_cleanly();

  // S2sSender
  void send_stanza(OutStanza out) override;

  // StreamHandler
  void on_ready() override;
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override;
  void on_element(xml::Element&& el) override;
  void on_stream_close() override;
  void on_parse_error(xml::StreamParser::Error error, const std::string& text) override;
  void on_tls_established() override;
  void on_timeout() override;
  void on_disconnect() override;
  void on_shutdown() override { close_cleanly(); }
  void deliver(OutStanza out) override { send_stanza(std::move(out)); }
  std::string name() const override { return local_ + " -> " + remote_; }

 private:
  enum class State { kHeader, kFeatures, kStartTls, kSasl, kDialback, kEstablished, kClosing };

  void send_header();
  void on_features(const xml::Element& features);
  void authenticate(const xml::Element& features);
  void on_db_result(const xml::Element& el);
  void on_db_verify(const xml::Element& el);
  void on_stanza(xml::Element&& el);
  void route_from_peer(xml::Element&& el);
  void fail(StreamErrorCondition condition, std::string_view text, LinkFailure why);
  void established(std::string method);
  void arm_idle_check();

  S2sHub& hub_;
  StreamTransport& t_;
  std::string local_, remote_;
  std::shared_ptr<Owner> owner_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  State state_ = State::kHeader;
  std::string stream_id_;  // the receiving server's id: the dialback key depends on it
  std::string auth_method_;
  std::string failure_reason_;
  LinkFailure failure_ = LinkFailure::kRefused;
  bool verify_ok_ = false;
  bool tls_done_ = false;
  bool direct_tls_ = false;     // XEP-0368: TLS from the first byte
  bool sasl_tried_ = false;
  bool peer_dialback_ = false;  // the peer's header declared the dialback namespace, or its features did
  bool bidi_ = false;           // XEP-0288 negotiated: the peer may send us stanzas on this stream
  bool closed_ = false;
  bool was_established_ = false;
  bool we_closed_cleanly_ = false;  // our closing tag went first, without an error (idle, shutdown)
  bool active_ = false;         // traffic since the last idle check
  RateLimiter rate_;
};

}  // namespace causerie::s2s
