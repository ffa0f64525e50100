#include "core/session/session.hpp"

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

// metrics::count_stanza takes StanzaKind's values.
static_assert(static_cast<int>(StanzaKind::kMessage) == 0 && static_cast<int>(StanzaKind::kPresence) == 1 &&
              static_cast<int>(StanzaKind::kIq) == 2 && static_cast<int>(StanzaKind::kOther) == 3);

namespace {
constexpr const char* kSm = "urn:xmpp:sm:3";
constexpr uint32_t kAckEvery = 8;  // stanzas sent between our <r/> requests

OutStanza nonza(std::string bytes) {
  return OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther};
}

std::string ack(uint32_t h) { return "<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(h) + "'/>"; }

// A stream on another worker, reached through the dispatcher: its connection's inbox keeps the order.
class RemotePort final : public SessionPort {
 public:
  RemotePort(SessionDispatcher& d, SessionRef connection, metrics::Transport transport)
      : d_(d), connection_(connection), transport_(transport) {}
  void write(OutStanza out) override { d_.deliver(connection_, std::move(out)); }
  void close(StreamErrorCondition condition, std::string text) override {
    d_.end_stream(connection_, condition, std::move(text));
  }
  metrics::Transport transport() const override { return transport_; }

 private:
  SessionDispatcher& d_;
  SessionRef connection_;
  metrics::Transport transport_;
};

void set_client_namespace(xml::Element& el) {
  if (el.is_text()) return;
  if (el.ns().empty()) el.set_ns(ns::kClient);
  for (auto& c : el.nodes()) set_client_namespace(c);
}
}  // namespace

Session::Session(ServerServices& services, SessionHost& host)
    : services_(services), host_(host), ref_{host.index(), host.next_id()} {}

Session::~Session() { count_as(metrics::Counter::kCount); }

void Session::count_as(metrics::Counter gauge) {
  if (gauge == counted_as_) return;
  if (counted_as_ != metrics::Counter::kCount) metrics::add(counted_as_, -1);
  if (gauge != metrics::Counter::kCount) metrics::add(gauge, 1);
  counted_as_ = gauge;
}

void Session::attach(SessionPort* port, bool secure, std::string peer) {
  port_ = port;
  secure_ = secure;
  peer_ = std::move(peer);
}

void Session::set_authenticated(Jid bare) {
  jid_ = std::move(bare);
  authenticated_ = true;
}

bool Session::bind(const Jid& full, const std::string& iq_id) {
  auto reply_error = [&](StanzaError err) {
    xml::Element iq("iq", ns::kClient);
    iq.set_attr("type", "set").set_attr("id", iq_id);
    if (auto r = make_error_reply(iq, err)) send(*r);
  };
  auto res = services_.sessions.bind(full, ref_);
  if (res.status == SessionRegistry::BindStatus::kTooMany) {
    // RFC 6120 §7.6.2.1
    if (!iq_id.empty())
      reply_error(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many sessions for this account"));
    return false;
  }
  if (res.status == SessionRegistry::BindStatus::kReplaced) {
    // RFC 6120 §7.7.2.2, policy "override": the older session ends with <conflict/>.
    services_.dispatcher.with_session(res.replaced, [](ClientSession& old) {
      old.close(StreamErrorCondition::kConflict, "replaced by a new connection");
    });
  }
  jid_ = full;
  bound_ = true;
  count_as(metrics::sessions_counter(port_ ? port_->transport() : metrics::Transport::kTcp));
  return true;
}

void Session::send(const xml::Element& element) { deliver(serialize_out(element)); }

void Session::close(StreamErrorCondition condition, std::string_view text) {
  if (ended_) return;
  if (port_) {
    end_stream(condition, std::string(text));
    return;  // the stream's end detaches, and so ends, the session
  }
  // Detached (waiting for resumption): a close means it will not be resumed.
  end();
}

void Session::deliver(OutStanza out) {
  if (ended_) return;
  if (out.kind != StanzaKind::kOther) {
    for (const auto& filter : services_.streams.output_filters())
      if (filter(*this, out)) return;  // held back; released later through release()
  }
  transmit(std::move(out));
}

void Session::transmit(OutStanza out) {
  if (ended_) return;
  metrics::count_stanza(false, static_cast<uint8_t>(out.kind));
  if (sm_.enabled && out.kind != StanzaKind::kOther) {
    ++sm_.sent;
    sm_.unacked_bytes += out.size();
    sm_.unacked.push_back(out);
    sm_.queued_at.push_back(services_.clock.wall());
    if (sm_.unacked.size() > services_.config().max_unacked ||
        sm_.unacked_bytes > services_.config().limits.max_output_queue_bytes) {
      // DESIGN §1 back-pressure: a client that never acknowledges (or stays away) cannot grow our memory.
      spdlog::warn("c2s {}: {} unacknowledged stanzas ({} bytes), ending the session", jid_.str(), sm_.unacked.size(),
                   sm_.unacked_bytes);
      if (port_) port_->close(StreamErrorCondition::kPolicyViolation, "too many unacknowledged stanzas");
      else end();
      return;
    }
    if (!port_) {
      // Kept for the stream that resumes this session; modules learn that nobody sees it now (push).
      if (bound_ && out.kind == StanzaKind::kMessage && services_.router.has_detached_delivery_hooks()) {
        try {
          services_.router.detached_delivery(*this, sm_.unacked.back());
        } catch (const std::exception& e) {
          spdlog::error("c2s {}: detached delivery hook failed: {}", jid_.str(), e.what());
        }
      }
      return;
    }
    // The copy kept in `unacked` runs on_acknowledged when the client's <a/> counts it.
    out.on_acknowledged = nullptr;
    uint64_t mark = out.kind == StanzaKind::kIq ? stored_mark_ : 0;
    write_out(std::move(out), mark);
    // Ask for an acknowledgement every few stanzas, so that the queue shrinks while the client is here.
    if (sm_.sent - sm_.requested_at >= kAckEvery) {
      sm_.requested_at = sm_.sent;
      write_out(nonza("<r xmlns='urn:xmpp:sm:3'/>"), 0);
    }
    return;
  }
  if (!port_) return;
  // An iq result or error may be an answer (issue 13); requests and pushes waiting with them cost a
  // commit's delay at most, and only while this client's own writes are queued.
  uint64_t mark = out.kind == StanzaKind::kIq ? stored_mark_ : 0;
  write_out(std::move(out), mark);
}

void Session::write_out(OutStanza out, uint64_t mark) {
  if (!port_ || closing_) return;  // a stream ending with an error gets nothing more
  if (gate_.empty() && services_.storage.committed(mark)) {
    put(std::move(out));
    return;
  }
  if (gate_.size() >= kMaxHeld) {
    // Bounded like every output queue (DESIGN §1): what waits here is lost with the stream, apart from
    // what stream management resends or routes again.
    spdlog::warn("c2s {}: {} writes waiting for storage, ending the stream", jid_.str(), gate_.size());
    gate_.clear();
    port_->close(StreamErrorCondition::kResourceConstraint, "too much output waiting for storage");
    return;
  }
  gate_.push_back(Gated{std::move(out), mark});
  wait_for_storage();
}

void Session::put(OutStanza out) {
  auto acknowledged = std::move(out.on_acknowledged);
  port_->write(std::move(out));
  if (acknowledged) (*acknowledged)();
}

void Session::wait_for_storage() {
  if (waiting_for_storage_ || gate_.empty()) return;
  waiting_for_storage_ = true;
  std::weak_ptr<Session> weak = weak_from_this();
  SessionDispatcher& dispatcher = services_.dispatcher;
  uint32_t worker = host_.index();
  services_.storage.when_committed(gate_.front().mark, [weak, &dispatcher, worker] {
    dispatcher.post(worker, [weak] {
      if (auto self = weak.lock()) self->flush_gate();
    });
  });
}

void Session::flush_gate() {
  waiting_for_storage_ = false;
  while (!gate_.empty() && port_) {
    if (!services_.storage.committed(gate_.front().mark)) {
      wait_for_storage();
      return;
    }
    OutStanza out = std::move(gate_.front().out);
    gate_.pop_front();
    put(std::move(out));
  }
  if (gate_.empty() && closing_ && port_) {
    auto [condition, text] = std::move(*closing_);
    closing_.reset();
    port_->close(condition, std::move(text));
  }
}

void Session::end_stream(StreamErrorCondition condition, std::string text) {
  if (!port_ || closing_) return;
  if (gate_.empty()) {
    port_->close(condition, std::move(text));
    return;
  }
  // RFC 6120 §4.9: the error is the stream's last word; the answers before it still go first.
  closing_.emplace(condition, std::move(text));
}

xml::Element Session::enable_sm(bool resume, std::chrono::seconds requested_max) {
  auto failed = [](const char* condition) {
    xml::Element f("failed", kSm);
    f.add_child(condition, ns::kStanzas);
    return f;
  };
  // XEP-0198 §3: only after binding, and once.
  if (!bound_ || sm_.enabled) return failed("unexpected-request");
  sm_.enabled = true;
  xml::Element enabled("enabled", kSm);
  std::chrono::seconds window = services_.config().resumption_timeout;
  if (resume && window.count() > 0) {
    if (requested_max.count() > 0 && requested_max < window) window = requested_max;
    sm_.resumable = true;
    sm_.timeout = window;
    sm_.resume_id = util::random_id(18);
    services_.resumable.add(sm_.resume_id, SessionDirectory::Entry{ref_, std::string(jid_.bare_view())});
    enabled.set_attr("id", sm_.resume_id).set_attr("resume", "true").set_attr("max", std::to_string(window.count()));
  }
  return enabled;
}

xml::Element Session::enable_sm(const xml::Element& enable) {
  bool resume = enable.attr("resume") == "true" || enable.attr("resume") == "1";
  int64_t max = 0;
  try {
    if (enable.has_attr("max")) max = std::stoll(std::string(enable.attr("max")));
  } catch (...) {
  }
  return enable_sm(resume, std::chrono::seconds(std::max<int64_t>(0, max)));
}

bool Session::acknowledge(uint32_t h) {
  // XEP-0198 §4: h counts modulo 2^32; what it acknowledges beyond the last ack must have been sent.
  uint32_t newly = h - sm_.acked;
  if (newly > sm_.unacked.size()) return false;
  std::vector<std::shared_ptr<const std::function<void()>>> acknowledged;
  for (uint32_t i = 0; i < newly; ++i) {
    OutStanza& out = sm_.unacked.front();
    sm_.unacked_bytes -= out.size();
    if (out.on_acknowledged) acknowledged.push_back(std::move(out.on_acknowledged));
    sm_.unacked.pop_front();
    sm_.queued_at.pop_front();
  }
  sm_.acked = h;
  for (const auto& fn : acknowledged) (*fn)();
  return true;
}

bool Session::resume(SessionPort* port, bool secure, std::string peer, uint32_t h, const ResumedFrame& frame) {
  if (ended_ || !sm_.resumable) return false;
  if (h - sm_.acked > sm_.unacked.size()) return false;
  if (port_ && port_ != port) {
    // XEP-0198 §5: the old stream, should it still be open, ends; this one takes over.
    port_->close(StreamErrorCondition::kConflict, "the session was resumed on another stream");
  }
  // What waited for the old stream: stanzas are in the unacknowledged queue, sent again below.
  gate_.clear();
  closing_.reset();
  acknowledge(h);
  attach(port, secure, std::move(peer));
  sm_.detached_at = {};
  if (bound_) count_as(metrics::sessions_counter(port->transport()));
  answer_resumed(frame);
  return true;
}

void Session::answer_resumed(const ResumedFrame& frame) {
  std::string resumed = "<resumed xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.received) + "' previd='";
  xml::append_escaped(resumed, sm_.resume_id, true);
  resumed += "'/>";
  // <resumed h='…'/> acknowledges every stanza handled so far, like <a/>: it waits in the gate until
  // what they queued is stored, and what is not acknowledged goes again behind it, in order (it stays
  // queued until acknowledged).
  write_out(nonza(frame ? frame(*this, resumed) : std::move(resumed)), stored_mark_);
  for (OutStanza out : sm_.unacked) {
    out.on_acknowledged = nullptr;
    write_out(std::move(out), 0);
  }
  spdlog::info("c2s {}: {} resumed ({} stanzas sent again)", peer_, jid_.str(), sm_.unacked.size());
  try {
    services_.router.run_session_hooks(SessionHook::kResumed, *this);
  } catch (const std::exception& e) {
    spdlog::error("c2s {}: resume hook failed: {}", jid_.str(), e.what());
  }
}

bool Session::resume_from(SessionRef connection, metrics::Transport transport, bool secure, std::string peer,
                          uint32_t h, const ResumedFrame& frame) {
  auto port = std::make_unique<RemotePort>(services_.dispatcher, connection, transport);
  if (!resume(port.get(), secure, std::move(peer), h, frame)) return false;
  remote_port_ = std::move(port);  // the one before, if any, was closed by resume()
  remote_connection_ = connection;
  return true;
}

void Session::detach_connection(SessionRef connection, bool resumable) {
  if (!remote_port_ || remote_connection_ != connection) return;
  detach(remote_port_.get(), resumable);
}

void Session::detach(SessionPort* port, bool resumable) {
  if (port != port_ || ended_) return;
  port_ = nullptr;
  // What waited for this stream is lost with it, as what its socket had not sent: stanzas are still in
  // the unacknowledged queue with stream management (sent again or routed again), offline messages
  // still stored (their on_acknowledged never ran).
  gate_.clear();
  closing_.reset();
  if (resumable && bound_ && sm_.resumable) {
    sm_.detached_at = services_.clock.now();
    count_as(metrics::Counter::kSessionsDetached);
    services_.router.run_session_hooks(SessionHook::kDetached, *this);
    spdlog::info("c2s {}: {} detached, resumable for {}s", peer_, jid_.str(), sm_.timeout.count());
    return;
  }
  end();
}

void Session::sweep(Clock::time_point now) {
  if (ended_ || port_ || !sm_.resumable || sm_.detached_at == Clock::time_point{}) return;
  if (now - sm_.detached_at >= sm_.timeout) {
    spdlog::info("c2s {}: {} not resumed within {}s, ending", peer_, jid_.str(), sm_.timeout.count());
    end();
  }
}

bool Session::asks_for_answer(const xml::Element& el) const {
  if (el.ns() == kSm) return el.name() == "r";
  if (el.ns() != ns::kClient || el.name() != "iq") return false;
  std::string_view type = el.attr("type");
  return type == "get" || type == "set";
}

void Session::handle_element(xml::Element&& el) {
  if (ended_ || closing_) return;  // after a stream error nothing more is handled (RFC 6120 §4.9)
  process(std::move(el));
}

void Session::process(xml::Element&& el) {
  // A request reads what the requests before it wrote (RFC 6120 §10.1): its reads wait for their commit.
  storage::StorageService::MarkScope mark(stored_mark_, asks_for_answer(el));
  if (el.ns() == kSm) {
    if (!sm_.enabled) {
      if (el.name() == "enable") {
        xml::Element answer = enable_sm(el);
        write_out(nonza(xml::to_string(answer)), 0);
        return;
      }
      end_stream(StreamErrorCondition::kUnsupportedStanzaType, "stream management is not enabled");
      return;
    }
    if (el.name() == "r") {
      write_out(nonza(ack(sm_.received)), stored_mark_);
    } else if (el.name() == "a") {
      uint32_t h = 0;
      try {
        h = static_cast<uint32_t>(std::stoull(std::string(el.attr("h"))));
      } catch (...) {
        end_stream(StreamErrorCondition::kBadFormat, "<a/> needs an h");
        return;
      }
      if (!acknowledge(h)) {
        // XEP-0198 §4: acknowledging stanzas never sent.
        end_stream(StreamErrorCondition::kUndefinedCondition, "h acknowledges more stanzas than were sent");
      }
    } else if (el.name() == "enable") {
      xml::Element f("failed", kSm);
      f.add_child("unexpected-request", ns::kStanzas);
      write_out(nonza(xml::to_string(f)), 0);
    } else {
      end_stream(StreamErrorCondition::kUnsupportedStanzaType, {});
    }
    return;
  }
  if (el.ns() != ns::kClient) {
    if (const NonzaHandler* h = services_.streams.nonza_handler(el.ns())) {
      (*h)(*this, std::move(el));
      return;
    }
    end_stream(StreamErrorCondition::kUnsupportedStanzaType, {});
    return;
  }
  StanzaKind kind = stanza_kind(el);
  if (kind == StanzaKind::kOther) {
    end_stream(StreamErrorCondition::kUnsupportedStanzaType, {});
    return;
  }
  metrics::count_stanza(true, static_cast<uint8_t>(kind));
  // XEP-0198 §4: every stanza the client sends counts as handled once we have taken it.
  if (sm_.enabled) ++sm_.received;
  if (kind == StanzaKind::kIq && el.attr("type") == "set" && el.child("session", ns::kSession) &&
      (el.attr("to").empty() || el.attr("to") == jid_.domainpart())) {
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
      end_stream(StreamErrorCondition::kInvalidFrom, {});
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

void Session::end() {
  if (ended_) return;
  ended_ = true;
  gate_.clear();
  count_as(metrics::Counter::kCount);
  auto keep = shared_from_this();  // hooks below may drop the last other reference
  if (!sm_.resume_id.empty()) services_.resumable.remove(sm_.resume_id);
  if (bound_) {
    services_.sessions.unbind(jid_, ref_);
    try {
      services_.router.run_session_hooks(SessionHook::kClosed, *this);
    } catch (const std::exception& e) {
      spdlog::error("c2s {}: close hook failed: {}", jid_.str(), e.what());
    }
    spdlog::info("c2s {}: {} disconnected", peer_, jid_.str());
  }
  route_unacknowledged();
  host_.remove_session(ref_.id);
}

void Session::route_unacknowledged() {
  // XEP-0198 §5: as for a resource that went away: messages to the account's other resources or offline
  // storage, with the time of the failed delivery (XEP-0203); iq requests answered with an error;
  // presence dropped.
  std::deque<OutStanza> q;
  q.swap(sm_.unacked);
  std::deque<std::chrono::system_clock::time_point> times;
  times.swap(sm_.queued_at);
  sm_.unacked_bytes = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    const OutStanza& out = q[i];
    if (out.kind != StanzaKind::kMessage && out.kind != StanzaKind::kIq) continue;
    if (out.on_acknowledged) continue;  // still stored where it came from, delivered again from there
    std::string bytes = out.head + (out.body ? *out.body : std::string());
    auto el = xml::parse_fragment(bytes);
    if (!el) continue;
    set_client_namespace(*el);
    auto stanza = Stanza::parse(std::move(*el));
    if (!stanza) continue;
    if (stanza->is_iq()) {
      std::string_view type = stanza->type();
      if (type == "get" || type == "set")
        services_.router.bounce(*stanza, StanzaError(StanzaErrorCondition::kRecipientUnavailable));
      continue;
    }
    if (stanza->type() == "error" || stanza->type() == "groupchat") continue;
    xml::Element& msg = stanza->element();
    if (!msg.child("delay", ns::kDelay)) {
      xml::Element& delay = msg.add_child("delay", ns::kDelay);
      delay.set_attr("from", std::string(jid_.domainpart()));
      delay.set_attr("stamp", util::format_datetime(times[i]));
    }
    stanza->set_to(stanza->to().bare());
    services_.router.route(std::move(*stanza));
  }
}

}  // namespace causerie
