// BoshSession: one XMPP client session carried over BOSH (XEP-0124 v1.11, XEP-0206 v1.4): the
// StreamTransport of a C2sStream like a TCP client's — same features, SASL and limits — made of a series of
// HTTP requests, each a <body/> wrapper; it holds up to 'hold' of them to answer when stanzas arrive.
//
// Thread rules: the session lives on one worker (in that worker's connection table, found by SessionRef);
// its HTTP requests may arrive on connections of any worker, which post them here (BoshRegistry maps a
// 'sid' to the session). Answers go back through the BoshResponder, called exactly once per request on
// this thread; the caller hops back to its own thread.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "core/stream/c2s_stream.hpp"
#include "core/stream/transport_guard.hpp"
#include "http/bosh_registry.hpp"
#include "http/bosh_rules.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http {

struct BoshResponse {
  SharedBytes body;
  std::string content_type;
};
using BoshResponder = std::function<void(BoshResponse)>;

class BoshSession final : public StreamTransport, public net::Connection, public std::enable_shared_from_this<BoshSession> {
 public:
  BoshSession(net::Worker& worker, ServerServices& services, AuthThrottle& throttle, BoshRegistry& registry,
              std::string peer, bool secure);
  ~BoshSession() override;

  // The session creation request (§7.1): registers the sid, opens the stream and answers with the
  // session attributes and the stream features.
  void create(const xml::Element& body, BoshResponder reply);
  // Any later request of this session.
  void request(xml::Element&& body, BoshResponder reply);
  // A request of this session that could not be read (a payload over the stanza limits): ends it.
  void refuse(const std::string& condition, BoshResponder reply) { fail(condition, std::move(reply)); }

  // net::Connection
  uint64_t id() const override { return id_; }
  bool is_client() const override { return true; }
  void end_stream(StreamErrorCondition condition, const std::string& text) override { stream_->on_end(condition, text); }
  void deliver(OutStanza out) override { stream_->deliver(std::move(out)); }
  void flush() override;
  bool sweep(std::chrono::steady_clock::time_point now) override;
  void shutdown() override { stream_->on_shutdown(); }

  // StreamTransport
  void open(const StreamHeader& header) override;
  void send(OutStanza out) override;
  void close(const std::string& stream_error) override;
  bool can_starttls() const override { return false; }
  void starttls() override {}
  void restart() override {}  // the client asks with xmpp:restart (XEP-0206 §5)
  metrics::Transport kind() const override { return metrics::Transport::kBosh; }
  bool secure() const override { return secure_; }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  const std::string& peer_address() const override { return peer_; }
  void set_established() override { guard_.established(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Held {
    uint64_t rid;
    BoshResponder reply;
    Clock::time_point deadline;
  };
  struct Early {
    xml::Element body;
    BoshResponder reply;
  };

  void process(uint64_t rid, xml::Element&& body, BoshResponder reply);
  void open_stream(const xml::Element& body);
  void answer_ready();
  void answer_oldest();
  void answer(BoshResponder& reply, SharedBytes body, uint64_t rid, bool keep);
  void finish_terminate();
  void fail(const std::string& condition, BoshResponder reply);
  void teardown();
  void notify_disconnect();
  void arm_timer();
  void on_timer();
  bool expire_if_inactive();  // true when it ended the session
  std::string open_body_tag(uint64_t rid) const;

  ServerServices& services_;
  net::Worker& worker_;
  uint64_t id_;
  BoshRegistry& registry_;
  std::string peer_;
  bool secure_;
  TransportGuard guard_;
  std::unique_ptr<C2sStream> stream_;
  std::string sid_;
  BoshParams params_;
  uint64_t last_rid_ = 0;
  std::deque<Held> held_;
  std::map<uint64_t, Early> early_;
  std::deque<std::pair<uint64_t, SharedBytes>> sent_;  // §14.3: responses kept for retransmission
  std::vector<OutStanza> out_;
  size_t out_bytes_ = 0;
  std::string from_;
  std::string stream_id_;
  std::string stream_error_;
  bool terminating_ = false;  // the stream is closed; the next answer is the terminate body
  bool gone_ = false;
  bool disconnected_ = false;  // the stream was told
  bool in_request_ = false;
  bool dirty_ = false;
  std::chrono::seconds inactivity_;  // params_.inactivity, or a pause (§10)
  Clock::time_point last_activity_;  // on the server's clock (services_.clock), which may be a test clock
  // §12 overactivity of polling sessions: the previous request, if it was empty, and its answer.
  Clock::time_point last_empty_at_{};
  bool last_empty_answered_empty_ = false;
  boost::asio::steady_timer timer_;
};

}  // namespace causerie::http
