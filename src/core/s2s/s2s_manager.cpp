#include "core/s2s/s2s_manager.hpp"

#include <deque>
#include <map>

#include <spdlog/spdlog.h>

#include "core/router/router.hpp"
#include "core/s2s/dialback_key.hpp"
#include "core/s2s/s2s_out_stream.hpp"

namespace causerie::s2s {

namespace {

StanzaError bounce_error(LinkFailure why, const std::string& remote, const std::string& reason) {
  std::string text = "cannot reach " + remote + (reason.empty() ? "" : ": " + reason);
  return StanzaError(why == LinkFailure::kTimeout ? StanzaErrorCondition::kRemoteServerTimeout
                                                  : StanzaErrorCondition::kRemoteServerNotFound,
                     std::move(text));
}

// RFC 6120 §8.3.1: errors are never answered; presence is not bounced (there is nobody waiting for it,
// and a contact's server that is down would otherwise flood the user with errors).
bool worth_bouncing(const Stanza& s) {
  if (s.type() == "error") return false;
  if (s.is_presence()) return false;
  if (s.is_iq()) return s.type() == "get" || s.type() == "set";
  return true;
}

}  // namespace

// One (local, remote) pair: its queue, its outgoing stream, and the dialback verifications it carries.
// Everything here runs on `worker`.
struct S2sManager::Link final : S2sOutStream::Owner, std::enable_shared_from_this<S2sManager::Link> {
  enum class State { kIdle, kResolving, kConnecting, kReady };
  struct Verify {
    std::string stream_id, key;
    uint32_t worker;
    std::function<void(bool)> done;
  };

  S2sManager& m;
  std::string local, remote;
  uint32_t worker;
  State state = State::kIdle;
  std::deque<Stanza> queue;
  std::vector<ConnectTarget> targets;
  size_t next_target = 0;
  LinkFailure last_failure = LinkFailure::kNotFound;
  std::string last_reason;
  S2sOutStream* out = nullptr;        // the stream being set up or in use
  std::shared_ptr<BidiHandle> bidi;   // an incoming stream of the peer that carries our stanzas (XEP-0288)
  std::vector<Verify> to_send;        // verifications waiting for a stream past TLS
  std::multimap<std::string, Verify> waiting;  // sent, by stream id
  uint64_t attempt = 0;               // bumps on every new connection attempt, for its callbacks
  uint64_t emptied = 0;               // bumps whenever the queue is emptied, for the queue deadline

  Link(S2sManager& manager, std::string l, std::string r, uint32_t w)
      : m(manager), local(std::move(l)), remote(std::move(r)), worker(w) {}

  bool can_send() const { return (out && out->authenticated()) || bidi != nullptr; }

  void send_now(const Stanza& s) {
    OutStanza bytes = serialize_out(s.element());
    if (out && out->authenticated()) {
      out->send_stanza(std::move(bytes));
      return;
    }
    // The peer's bidirectional incoming stream, on its own worker: posts to one worker keep their order.
    m.connector_.post(bidi->worker, [h = bidi, bytes = std::move(bytes)]() mutable {
      if (h->sender) h->sender->send_stanza(std::move(bytes));
    });
  }

  void enqueue(Stanza s) {
    if (can_send()) {
      send_now(s);
      return;
    }
    if (queue.size() >= m.config_.s2s.max_queue) {
      if (worth_bouncing(s))
        m.router_.bounce(s, StanzaError(StanzaErrorCondition::kResourceConstraint,
                                        "too many stanzas waiting for " + remote));
      return;
    }
    bool first = queue.empty();
    queue.push_back(std::move(s));
    if (first) arm_queue_timeout();
    if (state == State::kIdle) start();
  }

  // The deadline of what waits from now (RFC 6120 §8.3.3.16: remote-server-timeout within
  // s2s.queue_timeout). It holds across attempts — a stream that ends before authenticating and the next
  // one tried are still within it — and lapses only once the queue has been emptied (written or bounced).
  // (It used to lapse with the attempt it was armed in, which start() replaced at once: queued stanzas
  // then waited for as long as connecting took, forever with a peer that never answers.)
  void arm_queue_timeout() {
    uint64_t e = emptied;
    m.connector_.after(worker, std::chrono::duration_cast<std::chrono::milliseconds>(m.config_.s2s.queue_timeout),
                       [self = shared_from_this(), e] {
                         if (self->emptied != e) return;  // what it guarded is gone; newer stanzas have their own
                         if (self->can_send() || (self->queue.empty() && self->to_send.empty())) return;
                         // The stream still trying is abandoned: detached first, so that its end (seconds
                         // later, once the peer closes or the drain time passes) cannot fail the next
                         // attempt's stanzas with its own reason (RFC 6120 §8.3.3.16: they wait afresh).
                         S2sOutStream* abandoned = self->out;
                         self->out = nullptr;
                         self->fail_all(LinkFailure::kTimeout, "no authenticated stream within s2s.queue_timeout");
                         if (abandoned) abandoned->close_cleanly();
                       });
  }

  void start() {
    state = State::kResolving;
    ++attempt;
    m.connector_.resolve(worker, remote,
                         [self = shared_from_this(), a = attempt](std::vector<ConnectTarget> t, LinkFailure why) {
                           if (self->attempt != a || self->state != State::kResolving) return;
                           if (t.empty()) {
                             self->fail_all(why, why == LinkFailure::kTimeout ? "DNS lookup timed out"
                                                                              : "no server for this domain in DNS");
                             return;
                           }
                           self->targets = std::move(t);
                           self->next_target = 0;
                           self->try_next();
                         });
  }

  void try_next() {
    if (next_target >= targets.size()) {
      fail_all(last_failure, last_reason.empty() ? "no address accepted the connection" : last_reason);
      return;
    }
    state = State::kConnecting;
    const ConnectTarget target = targets[next_target++];
    uint64_t a = attempt;
    std::weak_ptr<Link> weak = weak_from_this();
    m.connector_.connect(
        worker, target, local, remote,
        [self = shared_from_this()](StreamTransport& t) -> std::unique_ptr<StreamHandler> {
          auto stream = std::make_unique<S2sOutStream>(self->m, t, self->local, self->remote, self);
          self->out = stream.get();
          return stream;
        },
        [weak, a](LinkFailure why) {
          auto self = weak.lock();
          // Not when the attempt was given up meanwhile (the queue deadline passed).
          if (!self || self->attempt != a || self->state != State::kConnecting) return;
          self->last_failure = why;
          self->last_reason = "connection failed";
          self->try_next();
        });
  }

  void fail_all(LinkFailure why, const std::string& reason) {
    spdlog::info("s2s {} -> {}: {} ({} stanzas bounced)", local, remote, reason, queue.size());
    state = State::kIdle;
    targets.clear();
    ++emptied;
    std::deque<Stanza> q;
    q.swap(queue);
    for (const auto& s : q)
      if (worth_bouncing(s)) m.router_.bounce(s, bounce_error(why, remote, reason));
    fail_verifications();
  }

  void fail_verifications() {
    auto answer = [this](Verify& v) {
      m.connector_.post(v.worker, [done = std::move(v.done)] { done(false); });
    };
    for (auto& v : to_send) answer(v);
    to_send.clear();
    for (auto& [id, v] : waiting) answer(v);
    waiting.clear();
  }

  void drain() {
    ++emptied;
    std::deque<Stanza> q;
    q.swap(queue);
    for (const auto& s : q) send_now(s);
  }

  void request_verify(Verify v) {
    if (out && out->ready_for_verify()) {
      out->send_verify(v.stream_id, v.key, local);
      std::string id = v.stream_id;
      waiting.emplace(std::move(id), std::move(v));
      return;
    }
    to_send.push_back(std::move(v));
    if (to_send.size() == 1 && queue.empty()) arm_queue_timeout();
    if (state == State::kIdle) start();
  }

  // --- S2sOutStream::Owner ---
  void out_ready_for_verify(S2sOutStream& s) override {
    if (&s != out) return;
    for (auto& v : to_send) {
      s.send_verify(v.stream_id, v.key, local);
      std::string id = v.stream_id;
      waiting.emplace(std::move(id), std::move(v));
    }
    to_send.clear();
  }

  void out_verify_result(const std::string& stream_id, bool valid) override {
    auto it = waiting.find(stream_id);
    if (it == waiting.end()) return;  // an answer nobody asked for (or asked twice): ignored
    Verify v = std::move(it->second);
    waiting.erase(it);
    m.connector_.post(v.worker, [done = std::move(v.done), valid] { done(valid); });
  }

  void out_authenticated(S2sOutStream& s) override {
    if (&s != out) return;
    state = State::kReady;
    last_reason.clear();
    drain();
  }

  void out_closed(S2sOutStream& s, bool authenticated, LinkFailure why, const std::string& reason) override {
    if (&s != out) return;
    out = nullptr;
    // Verifications sent on it will get no answer.
    for (auto& [id, v] : waiting) to_send.push_back(std::move(v));
    waiting.clear();
    if (authenticated) {
      // An established stream ended (idle, peer restart): connect again when there is something to send.
      state = State::kIdle;
      if (!queue.empty() || !to_send.empty()) start();
      return;
    }
    last_failure = why;
    last_reason = reason;
    if (state == State::kConnecting && next_target < targets.size()) {
      try_next();
      return;
    }
    fail_all(why, reason);
  }
};

S2sManager::S2sManager(const Config& config, Router& router, S2sConnector& connector, std::string secret)
    : config_(config), router_(router), connector_(connector), secret_(std::move(secret)) {}

S2sManager::~S2sManager() = default;

bool S2sManager::is_local_domain(std::string_view domain) const {
  return router_.is_local_host(domain) || router_.is_service(domain);
}

std::string S2sManager::dialback_key(std::string_view receiving, std::string_view originating,
                                     std::string_view stream_id) const {
  return s2s::dialback_key(secret_, receiving, originating, stream_id);
}

std::shared_ptr<S2sManager::Link> S2sManager::link(const std::string& local, const std::string& remote) {
  std::string key = local + " " + remote;
  std::lock_guard lock(mutex_);
  auto& slot = links_[key];
  if (!slot) {
    uint32_t w = static_cast<uint32_t>(std::hash<std::string>()(key) % connector_.worker_count());
    slot = std::make_shared<Link>(*this, local, remote, w);
  }
  return slot;
}

bool S2sManager::route(Stanza& stanza) {
  std::string remote(stanza.to().domainpart());
  std::string local(stanza.from().domainpart());
  if (local.empty() || !is_local_domain(local)) {
    // Only our own domains send to other servers (we relay for nobody).
    return false;
  }
  if (!config_.s2s.domain_allowed(remote)) {
    if (worth_bouncing(stanza))
      router_.bounce(stanza, StanzaError(StanzaErrorCondition::kRemoteServerNotFound,
                                         "this server does not federate with " + remote));
    return true;
  }
  auto l = link(local, remote);
  connector_.post(l->worker, [l, s = std::move(stanza)]() mutable { l->enqueue(std::move(s)); });
  return true;
}

void S2sManager::verify_dialback(const std::string& local, const std::string& remote, const std::string& stream_id,
                                 const std::string& key, uint32_t worker, std::function<void(bool valid)> done) {
  auto l = link(local, remote);
  connector_.post(l->worker, [l, v = Link::Verify{stream_id, key, worker, std::move(done)}]() mutable {
    l->request_verify(std::move(v));
  });
}

bool S2sManager::incoming_authenticated(const std::string& remote, const std::string& local) {
  std::lock_guard lock(mutex_);
  unsigned& n = incoming_[remote + ' ' + local];
  if (n >= config_.s2s.max_incoming_per_domain) return false;
  ++n;
  return true;
}

void S2sManager::incoming_closed(const std::string& remote, const std::string& local) {
  std::lock_guard lock(mutex_);
  auto it = incoming_.find(remote + ' ' + local);
  if (it == incoming_.end()) return;
  if (--it->second == 0) incoming_.erase(it);
}

void S2sManager::incoming_bidi(const std::string& local, const std::string& remote, std::shared_ptr<BidiHandle> h) {
  auto l = link(local, remote);
  connector_.post(l->worker, [l, h = std::move(h)] {
    l->bidi = h;
    if (!l->queue.empty() && !(l->out && l->out->authenticated())) l->drain();
  });
}

void S2sManager::incoming_bidi_gone(const std::string& local, const std::string& remote,
                                    const std::shared_ptr<BidiHandle>& h) {
  auto l = link(local, remote);
  connector_.post(l->worker, [l, h] {
    if (l->bidi == h) l->bidi = nullptr;
  });
}

void S2sManager::shutdown() {
  std::vector<std::shared_ptr<Link>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [k, l] : links_) all.push_back(l);
  }
  for (auto& l : all)
    connector_.post(l->worker, [l] {
      if (l->out) l->out->close_cleanly();
    });
}

}  // namespace causerie::s2s
