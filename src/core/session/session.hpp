// Session: one client's session — what modules see as ClientSession — apart from the connection that
// carries it (DESIGN §8). It holds the JID, the modules' per-session state and, once the client enables
// XEP-0198 stream management, the stanza counters and the queue of stanzas the client has not
// acknowledged. A stream (C2sStream) attaches to it through a SessionPort and detaches when its
// connection goes; a session with resumption enabled then waits, detached, for a new stream to resume it
// (its output kept in the queue) until its resumption timeout, when it ends: what the client never
// acknowledged is given to the router again (messages reach other resources or offline storage, iq
// requests are answered with an error), and the session is unbound.
//
// Acknowledged means saved (issue 13): an answer to the client — an iq result or error, an <a h='…'/>,
// a <resumed h='…'/> — promises that what the client sent before it is stored. The session keeps the
// highest storage write its stanzas queued (`stored_mark_`) and handles every stanza at once; what it
// writes to its client passes one ordered output gate (`gate_`): an answer is tagged with the mark as it
// is when the answer is written and waits there until that write is committed, and everything written
// after it waits behind it, so the stream's order is kept. Requests (iq get/set) are handled in a
// MarkScope with ordered reads: what they read waits for the writes queued before them (RFC 6120 §10.1).
// A client that pipelines requests thus has them all handled in one turn (their writes share a commit)
// while each answer still leaves only once stored. The gate holds at most kMaxHeld writes (then the
// stream ends with resource-constraint) and a stream error waits behind it. What the client sent is
// handled as it arrives, so a stream that ends drops none of it; what waits in the gate then is lost as
// unsent socket data would be (stanzas stay in the XEP-0198 queue, offline messages in storage).
//
// Thread rules: a session lives on the worker that created it (its SessionHost) and is touched only there.
// A stream on another worker (a resumption that landed there) reaches it through SessionDispatcher posts.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/module/module.hpp"
#include "core/util/metrics.hpp"

namespace causerie {

class Session;

// The worker a session lives on, as the core sees it (net::Worker implements it).
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual uint32_t index() const = 0;
  virtual uint64_t next_id() = 0;
  virtual void add_session(std::shared_ptr<Session> session) = 0;
  // Forgets the session after the current event (callers may still be using it).
  virtual void remove_session(uint64_t id) = 0;
};

// What a session writes to: the stream attached to it, here or on another worker.
class SessionPort {
 public:
  virtual ~SessionPort() = default;
  virtual void write(OutStanza out) = 0;
  // Ends the stream with a stream error (RFC 6120 §4.9).
  virtual void close(StreamErrorCondition condition, std::string text) = 0;
  // The transport of that stream (sessions are counted by it in the metrics).
  virtual metrics::Transport transport() const = 0;
};

class Session final : public ClientSession, public std::enable_shared_from_this<Session> {
 public:
  using Clock = std::chrono::steady_clock;

  Session(ServerServices& services, SessionHost& host);
  ~Session() override;

  // --- ClientSession ---
  const Jid& jid() const override { return jid_; }
  SessionRef ref() const override { return ref_; }
  bool authenticated() const override { return authenticated_; }
  bool bound() const override { return bound_; }
  bool secure() const override { return secure_; }
  const std::string& peer_address() const override { return peer_; }
  void send(const xml::Element& element) override;
  void send(OutStanza out) override { deliver(std::move(out)); }
  void release(OutStanza out) override { transmit(std::move(out)); }
  void close(StreamErrorCondition condition, std::string_view text = {}) override;

  // --- the attached stream, on this worker ---
  // `port` stays valid until detach(port); `secure` and `peer` describe its connection.
  void attach(SessionPort* port, bool secure, std::string peer);
  void set_authenticated(Jid bare);
  // Binds the full JID in the registry (RFC 6120 §7); false when refused, with the iq error reply sent
  // when `iq_id` is not empty (XEP-0386 binds without an iq).
  bool bind(const Jid& full, const std::string& iq_id);
  bool attached() const { return port_ != nullptr; }
  // The connection of `port` is gone: the session ends, or waits to be resumed (XEP-0198 §5) when it
  // is resumable and the client did not close the stream itself (`resumable` false).
  void detach(SessionPort* port, bool resumable = true);
  // Output for the client: shown to the output filters, then transmit()ted.
  void deliver(OutStanza out);
  // A stanza or nonza the client sent, after negotiation: handled at once (its answers wait in the gate).
  void handle_element(xml::Element&& el);
  static constexpr size_t kMaxHeld = 10000;  // writes waiting in the gate before the stream ends

  // --- XEP-0198 stream management ---
  struct Sm {
    bool enabled = false;
    bool resumable = false;
    std::string resume_id;
    uint32_t received = 0;  // h: stanzas handled from the client (mod 2^32)
    uint32_t sent = 0;      // stanzas sent to the client
    uint32_t acked = 0;     // the client's last h
    uint32_t requested_at = 0;  // `sent` when we last asked for an <a/>
    std::deque<OutStanza> unacked;
    std::deque<std::chrono::system_clock::time_point> queued_at;  // when each was first sent (XEP-0203)
    size_t unacked_bytes = 0;
    std::chrono::seconds timeout{0};  // resumption window
    Clock::time_point detached_at{};
  };
  const Sm& sm() const { return sm_; }
  // <enable/>: returns the element to answer with (<enabled/> or <failed/>).
  xml::Element enable_sm(bool resume, std::chrono::seconds requested_max);
  // The same for the client's <enable resume max/> element (XEP-0198 §3).
  xml::Element enable_sm(const xml::Element& enable);
  // <a h='…'/> from the client; false when h acknowledges more than was sent (the stream must end).
  bool acknowledge(uint32_t h);
  // What is written instead of the bare <resumed/> when resumption is inline in a XEP-0388 <success/>
  // (XEP-0198 §"SASL2 And BIND2 Interaction"): given the session and the <resumed/> bytes.
  using ResumedFrame = std::function<std::string(const Session&, const std::string& resumed)>;
  // XEP-0198 §5: a new stream takes this session over; answers <resumed/> (framed by `frame` if given)
  // and sends again what the client did not acknowledge (after h). False (nothing changed) when h is
  // impossible. <resumed/> acknowledges like an <a/>, so it waits in the gate for what the stanzas it
  // counts stored (the frame waits with it), and what is sent again waits behind it.
  bool resume(SessionPort* port, bool secure, std::string peer, uint32_t h, const ResumedFrame& frame = {});
  // The same, for a stream on another worker: this session writes to its `connection` through the
  // SessionDispatcher from now on.
  bool resume_from(SessionRef connection, metrics::Transport transport, bool secure, std::string peer, uint32_t h,
                   const ResumedFrame& frame = {});
  // That connection is gone.
  void detach_connection(SessionRef connection, bool resumable = true);

  // The worker's periodic check: ends a detached session whose resumption window has passed.
  void sweep(Clock::time_point now);
  // Ends the session now: unbinds it, runs the closed hooks, re-routes what was not acknowledged.
  void end();
  bool ended() const { return ended_; }

 private:
  // Counted and kept for resending when stream management is on, and written to the stream if attached.
  void transmit(OutStanza out);
  void route_unacknowledged();
  void process(xml::Element&& el);
  bool asks_for_answer(const xml::Element& el) const;
  // Writes `out` to the stream through the gate: once every write up to `mark` is committed and what
  // went into the gate before it is written.
  void write_out(OutStanza out, uint64_t mark);
  // Writes to the port now; a stanza's on_acknowledged, if it still has one, runs once written.
  void put(OutStanza out);
  void wait_for_storage();
  void flush_gate();
  // Ends the stream with a stream error once the gate has written what it holds; input is ignored meanwhile.
  void end_stream(StreamErrorCondition condition, std::string text);
  // Moves this session's count in the metrics to `gauge` (kCount: not counted).
  void count_as(metrics::Counter gauge);
  void answer_resumed(const ResumedFrame& frame);

  ServerServices& services_;
  SessionHost& host_;
  SessionRef ref_;
  Jid jid_;
  std::string peer_;
  SessionPort* port_ = nullptr;
  std::unique_ptr<SessionPort> remote_port_;  // the port of a stream on another worker
  SessionRef remote_connection_;
  bool secure_ = false;
  bool authenticated_ = false;
  bool bound_ = false;
  bool ended_ = false;
  Sm sm_;
  uint64_t stored_mark_ = 0;  // highest storage write queued while handling this client's stanzas
  struct Gated {
    OutStanza out;
    uint64_t mark;  // written once this write is committed (0: nothing to wait for but what is before it)
  };
  std::deque<Gated> gate_;  // output for the attached stream, in order
  bool waiting_for_storage_ = false;
  // A stream error waiting for the gate to empty (end_stream).
  std::optional<std::pair<StreamErrorCondition, std::string>> closing_;
  metrics::Counter counted_as_ = metrics::Counter::kCount;
};

}  // namespace causerie
