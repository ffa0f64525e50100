// S2sInStream: the receiving side of a server-to-server stream (RFC 6120 §§4-6, 13): a peer connects to
// one of our domains, negotiates TLS (required by default, RFC 7590), then proves the domains it sends
// from — by SASL EXTERNAL with its certificate (XEP-0178) or by dialback (XEP-0220: checked with the
// certificate when it verifies, else asked of the peer domain's Authoritative Server over our own
// outgoing link) — several domains on one stream if it likes. Only stanzas from a domain proven on this
// stream, to one of ours, are routed (invalid-from otherwise). It also answers <db:verify/> for keys we
// made as Originating Server, and may carry our stanzas back when the peer asks for XEP-0288.
//
// The StreamHandler of one TcpTransport. Thread rules: one worker.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "core/s2s/s2s_hub.hpp"
#include "core/stream/stream_transport.hpp"
#include "core/util/rate_limiter.hpp"

namespace causerie::s2s {

class S2sInStream final : public StreamHandler, public S2sSender {
 public:
  S2sInStream(S2sHub& hub, StreamTransport& transport, uint32_t worker);
  ~S2sInStream() override;

  // S2sSender (XEP-0288: our stanzas to the peer, once it made the stream bidirectional)
  void send_stanza(OutStanza out) override;

  // StreamHandler
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override;
  void on_element(xml::Element&& el) override;
  void on_stream_close() override;
  void on_parse_error(xml::StreamParser::Error error, const std::string& text) override;
  void on_tls_established() override;
  void on_ready() override { tls_done_ = direct_tls_ = t_.secure(); }
  void on_timeout() override;
  void on_disconnect() override;
  void on_shutdown() override;
  void deliver(OutStanza out) override { send_stanza(std::move(out)); }
  std::string name() const override { return (peer_from_.empty() ? std::string("?") : peer_from_) + " -> " + local_; }

  const std::set<std::string>& authenticated_domains() const { return domains_; }

 private:
  enum class State { kHeader, kNegotiating, kClosing };

  void send_features();
  void on_starttls();
  void on_sasl_auth(const xml::Element& el);
  void on_db_result(const xml::Element& el);
  void on_db_verify(const xml::Element& el);
  void on_stanza(xml::Element&& el);
  // Answers a <db:result/>; anything but "valid" is logged once with `reason`.
  void dialback_answer(const std::string& local, const std::string& remote, std::string_view type,
                       std::string_view error_condition = {}, std::string_view reason = {});
  // For log lines: the domains proven on this stream, else the header's 'from', else "?".
  std::string describe_peer() const;
  bool authenticate(const std::string& remote, const std::string& method);
  bool certificate_proves(const std::string& domain) const;
  void fail(StreamErrorCondition condition, std::string_view text = {});
  void arm_idle_check();
  void offer_bidi();
  // The links stop using this stream for our stanzas (it is ending): what they send next opens a new one.
  void withdraw_bidi();

  S2sHub& hub_;
  StreamTransport& t_;
  uint32_t worker_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  State state_ = State::kHeader;
  std::string local_;        // the domain of ours the peer's header named ('to')
  std::string peer_from_;    // the header's 'from', when given
  std::string stream_id_;
  std::set<std::string> domains_;  // remote domains proven on this stream
  std::set<std::string> pending_;  // remote domains whose dialback is being verified
  bool tls_done_ = false;
  bool direct_tls_ = false;      // XEP-0368: TLS from the first byte
  bool sasl_done_ = false;
  bool bidi_ = false;            // the peer asked for XEP-0288
  std::shared_ptr<BidiHandle> bidi_handle_;  // given to links while the stream carries our stanzas
  std::set<std::string> bidi_offered_;       // the domains whose links have it
  bool closed_ = false;
  bool we_closed_cleanly_ = false;  // our closing tag went first, without an error (idle)
  bool active_ = false;
  bool logged_ = false;
  RateLimiter rate_;
};

}  // namespace causerie::s2s
