#include "http/bosh_session.hpp"

#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "http/xmpp_framing.hpp"

namespace causerie::http {

namespace {
SharedBytes shared(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
// Every response wrapper declares the stream prefix, for features and stream errors among the payloads.
constexpr std::string_view kBodyOpen =
    "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'";
}  // namespace

// ---------------------------------------------------------------- session

BoshSession::BoshSession(net::Worker& worker, ServerServices& services, AuthThrottle& throttle,
                         BoshRegistry& registry, std::string peer, bool secure)
    : services_(services),
      worker_(worker),
      id_(worker.next_id()),
      registry_(registry),
      peer_(std::move(peer)),
      secure_(secure),
      guard_(services.config().limits, Clock::now()),
      stream_(std::make_unique<C2sStream>(services, throttle, *this, worker, SessionRef{worker.index(), id_})),
      inactivity_(services.config().http.bosh_inactivity),
      last_activity_(services.clock.now()),
      timer_(worker.io()) {}

BoshSession::~BoshSession() {
  if (!sid_.empty() && !gone_) registry_.remove(sid_);
}

void BoshSession::create(const xml::Element& body, BoshResponder reply) {
  worker_.add(shared_from_this());
  BoshGrant grant = negotiate_bosh(body, services_.config().http);
  auto rid = parse_rid(body.attr("rid"));
  if (!grant.condition.empty() || !rid) {
    gone_ = true;
    worker_.post([w = &worker_, id = id()] { w->remove(id); });
    reply(BoshResponse{shared(bosh_terminate_body(grant.condition.empty() ? "bad-request" : grant.condition)),
                       "text/xml; charset=utf-8"});
    return;
  }
  params_ = grant.params;
  inactivity_ = params_.inactivity;
  last_rid_ = *rid;
  sid_ = registry_.add(SessionRef{worker_.index(), id_});
  in_request_ = true;
  open_stream(body);
  in_request_ = false;
  if (terminating_) {
    // Host unknown, unsupported version: the stream error travels in the terminate body (XEP-0206 §8).
    held_.push_back(Held{*rid, std::move(reply), Clock::now()});
    finish_terminate();
    return;
  }
  // §7.2 session creation response; XEP-0206 §6: authid, xmpp:version and restartlogic; the features
  // follow at once.
  std::string b(kBodyOpen);
  b += " xmlns:xmpp='";
  b += ns::kXbosh;
  b += "' sid='" + sid_ + "' wait='" + std::to_string(params_.wait.count()) + "' requests='" +
       std::to_string(params_.requests) + "' hold='" + std::to_string(params_.hold) + "' polling='" +
       std::to_string(params_.polling.count()) + "' inactivity='" + std::to_string(params_.inactivity.count()) + "'";
  if (params_.maxpause.count() > 0) b += " maxpause='" + std::to_string(params_.maxpause.count()) + "'";
  if (params_.acks) b += " ack='" + std::to_string(*rid) + "'";
  b += " ver='" + params_.ver + "' from='";
  xml::append_escaped(b, from_, true);
  b += "' authid='" + stream_id_ + "' secure='" + (secure_ ? "true" : "false") +
       "' xmpp:version='1.0' xmpp:restartlogic='true'>";
  for (const auto& o : out_) append_framed(b, o);
  b += "</body>";
  out_.clear();
  out_bytes_ = 0;
  answer(reply, shared(std::move(b)), *rid, true);
  spdlog::debug("bosh {}: session {} created (wait {}s, hold {})", peer_, sid_, params_.wait.count(),
                params_.hold);
  arm_timer();
}

void BoshSession::open_stream(const xml::Element& body) {
  // The <body/> attributes stand for the stream header a TCP client would send (XEP-0206 §5-§6).
  xml::Element header("stream", ns::kStream);
  header.set_attr("to", body.attr("to"));
  // COMPAT(old BOSH clients): no xmpp:version means "0.9" to the letter of XEP-0206 §6; every client in
  // use speaks 1.0 and some forget the attribute.
  std::string_view version = body.attr(std::string("{") + ns::kXbosh + "}version");
  header.set_attr("version", version.empty() ? "1.0" : version);
  if (body.has_attr("from")) header.set_attr("from", body.attr("from"));
  stream_->on_stream_open(header, ns::kClient);
}

void BoshSession::request(xml::Element&& body, BoshResponder reply) {
  if (gone_) {
    reply(BoshResponse{shared(bosh_terminate_body("item-not-found")), params_.content_type});
    return;
  }
  auto rid = parse_rid(body.attr("rid"));
  if (!rid || !body.is("body", ns::kHttpBind)) {
    fail("bad-request", std::move(reply));
    return;
  }
  last_activity_ = services_.clock.now();
  // §9.2: the client's ack tells which buffered responses it no longer needs.
  if (params_.acks) {
    if (auto ack = parse_rid(body.attr("ack")))
      while (!sent_.empty() && sent_.front().first <= *ack) sent_.pop_front();
  }
  switch (place_rid(*rid, last_rid_, params_.requests)) {
    case RidPlace::kNext: {
      process(*rid, std::move(body), std::move(reply));
      // §14.2: requests that arrived early are processed in rid order once the gap is filled.
      while (!gone_ && !early_.empty() && early_.begin()->first == last_rid_ + 1) {
        auto node = early_.extract(early_.begin());
        process(node.key(), std::move(node.mapped().body), std::move(node.mapped().reply));
      }
      break;
    }
    case RidPlace::kAhead: {
      auto it = early_.find(*rid);
      if (it != early_.end()) {
        // The same early rid twice: the older connection gets a recoverable error (§14.3).
        it->second.reply(BoshResponse{shared(bosh_recoverable_error_body()), params_.content_type});
        it->second = Early{std::move(body), std::move(reply)};
      } else {
        early_.emplace(*rid, Early{std::move(body), std::move(reply)});
      }
      // §11: more simultaneous requests than 'requests' is overactivity.
      if (held_.size() + early_.size() > params_.requests) {
        auto node = early_.extract(*rid);
        fail("policy-violation", std::move(node.mapped().reply));
        break;
      }
      spdlog::debug("bosh {}: session {} holds rid {} until rid {} comes", peer_address(), sid_, *rid,
                    last_rid_ + 1);
      break;
    }
    case RidPlace::kRepeat: {
      // §14.3: a rid answered before gets the buffered answer; one still held moves to this connection.
      for (auto& [r, bytes] : sent_) {
        if (r == *rid) {
          reply(BoshResponse{bytes, params_.content_type});
          return;
        }
      }
      for (auto& h : held_) {
        if (h.rid == *rid) {
          h.reply(BoshResponse{shared(bosh_recoverable_error_body()), params_.content_type});
          h.reply = std::move(reply);
          return;
        }
      }
      fail("item-not-found", std::move(reply));
      break;
    }
    case RidPlace::kOutside:
      fail("item-not-found", std::move(reply));  // §14.2
      break;
  }
}

void BoshSession::process(uint64_t rid, xml::Element&& body, BoshResponder reply) {
  last_rid_ = rid;
  auto now = Clock::now();
  inactivity_ = params_.inactivity;  // §10: a pause lasts until the next request
  if (body.has_attr("pause") && params_.maxpause.count() > 0) {
    // §10: answer everything held at once, then allow a longer silence.
    auto pause = parse_rid(body.attr("pause"));
    inactivity_ = std::min(std::chrono::seconds(pause ? static_cast<int64_t>(*pause) : 0), params_.maxpause);
    while (!held_.empty()) answer_oldest();
    reply(BoshResponse{shared(bosh_empty_body()), params_.content_type});  // not buffered (§14.3)
    last_activity_ = services_.clock.now();
    arm_timer();
    return;
  }
  bool restart = body.attr(std::string("{") + ns::kXbosh + "}restart") == "true";
  bool terminate = body.attr("type") == "terminate";
  bool empty = body.element_count() == 0 && !restart && !terminate;
  if (params_.hold == 0 && empty) {
    // §12 polling sessions: two empty requests closer than 'polling', the first answered empty.
    if (last_empty_at_ != Clock::time_point{} && last_empty_answered_empty_ && now - last_empty_at_ < params_.polling) {
      fail("policy-violation", std::move(reply));
      return;
    }
  }
  last_empty_at_ = empty ? now : Clock::time_point{};
  in_request_ = true;
  if (restart) open_stream(body);
  for (xml::Element& child : body.nodes()) {
    if (child.is_text() || stream_->closed() || terminating_) continue;
    // COMPAT(Strophe and others): payloads should carry xmlns='jabber:client' (XEP-0206 §9); one that
    // inherited the wrapper's namespace is meant as a client stanza.
    if (child.ns() == ns::kHttpBind) child.set_ns(ns::kClient);
    stream_->on_element(std::move(child));
  }
  in_request_ = false;
  if (gone_) {
    reply(BoshResponse{shared(bosh_terminate_body("item-not-found")), params_.content_type});
    return;
  }
  held_.push_back(Held{rid, std::move(reply), now + params_.wait});
  if (terminate && !terminating_) stream_->on_stream_close();  // §13: the stream ends with the session
  answer_ready();
}

void BoshSession::answer_ready() {
  if (gone_) return;
  if (terminating_) {
    finish_terminate();
    return;
  }
  // §7.3: hold no more than 'hold' requests; answer as soon as there is something to send.
  while (held_.size() > params_.hold) answer_oldest();
  if (!out_.empty() && !held_.empty()) answer_oldest();
  arm_timer();
}

std::string BoshSession::open_body_tag(uint64_t rid) const {
  std::string b(kBodyOpen);
  // §9.1: report the highest rid received in order when it is not the one answered.
  if (params_.acks && last_rid_ != rid) b += " ack='" + std::to_string(last_rid_) + "'";
  return b;
}

void BoshSession::answer_oldest() {
  Held h = std::move(held_.front());
  held_.pop_front();
  std::string b = open_body_tag(h.rid);
  bool payload = !out_.empty();
  if (payload) {
    // All queued stanzas in one response (batching), each a standalone jabber:client element.
    size_t total = b.size() + 8;
    for (const auto& o : out_) total += o.size() + 24;
    b.reserve(total);
    b += '>';
    for (const auto& o : out_) append_framed(b, o);
    b += "</body>";
    out_.clear();
    out_bytes_ = 0;
  } else {
    b += "/>";
  }
  if (last_empty_at_ != Clock::time_point{}) last_empty_answered_empty_ = !payload;
  answer(h.reply, shared(std::move(b)), h.rid, true);
}

void BoshSession::answer(BoshResponder& reply, SharedBytes body, uint64_t rid, bool keep) {
  if (keep) {
    sent_.emplace_back(rid, body);
    // §14.3: as many as the simultaneous requests allowed, or all unacknowledged ones (bounded anyway).
    size_t keep_max = params_.acks ? 16 : params_.requests;
    while (sent_.size() > keep_max) sent_.pop_front();
  }
  last_activity_ = services_.clock.now();
  BoshResponder r = std::move(reply);
  r(BoshResponse{std::move(body), params_.content_type});
}

void BoshSession::flush() {
  dirty_ = false;
  if (!in_request_) answer_ready();
}

void BoshSession::open(const StreamHeader& header) {
  from_ = header.from;
  stream_id_ = header.id;
}

void BoshSession::send(OutStanza out) {
  if (gone_ || terminating_) return;
  out_bytes_ += out.size();
  if (!guard_.output_fits(out_bytes_)) {
    // DESIGN §1 back-pressure: a client that stopped polling does not grow our memory.
    spdlog::warn("bosh {}: output queue over {} bytes, ending session {}", peer_, guard_.output_limit(), sid_);
    out_.clear();
    out_bytes_ = 0;
    teardown();
    return;
  }
  out_.push_back(std::move(out));
  if (!dirty_ && !in_request_) {
    dirty_ = true;
    worker_.mark_dirty(shared_from_this());
  }
}

void BoshSession::close(const std::string& stream_error) {
  if (gone_ || terminating_) return;
  terminating_ = true;
  stream_error_ = stream_error;
  if (!in_request_) finish_terminate();
}

void BoshSession::finish_terminate() {
  if (gone_) return;
  if (held_.empty()) {
    // Nothing to answer on yet: the next request gets the terminate body (or inactivity ends us).
    arm_timer();
    return;
  }
  // §13 and XEP-0206 §8: the oldest request learns of the end (a stream error as remote-stream-error);
  // the others are answered empty.
  std::string b(kBodyOpen);
  b += " type='terminate'";
  if (!stream_error_.empty()) b += " condition='remote-stream-error'";
  if (out_.empty() && stream_error_.empty()) {
    b += "/>";
  } else {
    b += '>';
    for (const auto& o : out_) append_framed(b, o);
    b += stream_error_;
    b += "</body>";
  }
  out_.clear();
  out_bytes_ = 0;
  Held first = std::move(held_.front());
  held_.pop_front();
  answer(first.reply, shared(std::move(b)), first.rid, true);
  teardown();
}

void BoshSession::fail(const std::string& condition, BoshResponder reply) {
  spdlog::info("bosh {}: session {} ends with {}", peer_, sid_, condition);
  reply(BoshResponse{shared(bosh_terminate_body(condition)), params_.content_type});
  teardown();
}

void BoshSession::teardown() {
  if (gone_) return;
  gone_ = true;
  registry_.remove(sid_);
  timer_.cancel();
  notify_disconnect();
  auto empty = shared(bosh_empty_body());
  for (auto& h : held_) h.reply(BoshResponse{empty, params_.content_type});
  held_.clear();
  auto gone = shared(bosh_terminate_body("item-not-found"));
  for (auto& [rid, e] : early_) e.reply(BoshResponse{gone, params_.content_type});
  early_.clear();
  out_.clear();
  // Removed from the worker's table after this event: callers may still be using this object.
  worker_.post([w = &worker_, id = id()] { w->remove(id); });
}

void BoshSession::notify_disconnect() {
  if (disconnected_) return;
  disconnected_ = true;
  stream_->on_disconnect();
}

void BoshSession::arm_timer() {
  if (gone_) return;
  if (held_.empty()) {
    // §10 inactivity is counted on the server's clock (injected: tests move it); the timer wakes us when
    // that much real time has passed, and the worker's sweep checks again whenever the clock is moved.
    auto left = last_activity_ + inactivity_ - services_.clock.now();
    timer_.expires_after(std::max<Clock::duration>(left, std::chrono::milliseconds(1)));
  } else {
    timer_.expires_at(held_.front().deadline);
  }
  timer_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto s = self.lock()) s->on_timer();
  });
}

void BoshSession::on_timer() {
  if (gone_) return;
  auto now = Clock::now();
  bool answered = false;
  while (!held_.empty() && held_.front().deadline <= now) {
    answer_oldest();  // §7.3: 'wait' is up
    answered = true;
  }
  if (!answered && expire_if_inactive()) return;
  arm_timer();
}

bool BoshSession::expire_if_inactive() {
  if (gone_ || sid_.empty() || !held_.empty() || services_.clock.now() < last_activity_ + inactivity_) return false;
  // §10: no request for longer than allowed: the client is gone. Free everything, tell nobody.
  spdlog::info("bosh {}: session {} inactive for {}s, closing", peer_, sid_, inactivity_.count());
  teardown();
  return true;
}

void BoshSession::after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(worker_.io(), delay);
  timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec && !self->gone_) {
      fn();
      self->answer_ready();
    }
  });
}

bool BoshSession::sweep(Clock::time_point now) {
  if (gone_ || expire_if_inactive()) return false;
  if (guard_.sweep(now) == TransportGuard::Sweep::kTimedOut) stream_->on_timeout();
  return false;  // no parser of its own: each request is parsed on its connection
}

}  // namespace causerie::http
