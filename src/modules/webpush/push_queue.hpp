// PushQueue: the Web Push messages waiting to go out, bounded (DESIGN §9), sent through a PushTransport
// with at most a few requests in flight, retried with exponential backoff on the injected clock when the
// push service answers 429 or 5xx or not at all, and dropped after a few attempts. A 404 or 410 answer
// means the subscription is gone (RFC 8030 §7.2, §8.4): the queue tells its owner, which deletes it.
// Each request gets a fresh VAPID JWT (RFC 8292) for the endpoint's origin.
//
// Thread rules: any thread; `mutex_` guards the queue and counters, and is never held while calling the
// transport or the callbacks. Timers are the module's tick (poll()), which runs on a worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/util/clock.hpp"
#include "modules/webpush/ec_key.hpp"
#include "modules/webpush/push_transport.hpp"

namespace causerie::modules::webpush {

struct PushQueueSettings {
  size_t max_queued = 1000;
  size_t max_in_flight = 4;
  int max_attempts = 5;
  std::chrono::seconds first_backoff{2};
  std::chrono::seconds max_backoff{600};
  std::chrono::seconds ttl{86400};  // RFC 8030 §5.2 TTL header
  std::string subject;              // the VAPID "sub" claim
};

struct PushJob {
  std::string account, subscription_id;  // whose subscription, to delete it when it is gone
  PushEndpoint endpoint;
  std::string body;  // the encrypted message (RFC 8291)
  std::string urgency, topic;
};

class PushQueue {
 public:
  // Called (outside the lock) when a push service says a subscription no longer exists.
  using GoneFn = std::function<void(const std::string& account, const std::string& subscription_id)>;

  PushQueue(const Clock& clock, PushTransport& transport, PushQueueSettings settings, GoneFn gone);

  // The server's VAPID key; nothing is sent before it is set.
  void set_vapid_key(EcKey key);
  // False (and counted) when the queue is full.
  bool enqueue(PushJob job);
  // Sends what is due. Called after each change and by the module's tick.
  void poll();

  struct Stats {
    uint64_t delivered = 0, gone = 0, dropped = 0, retried = 0, refused_full = 0;
    size_t queued = 0, in_flight = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    PushJob job;
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before{};
  };
  void finished(std::shared_ptr<Entry> e, const PushAnswer& answer);
  PushPost request_for(const Entry& e, const EcKey& key) const;

  const Clock& clock_;
  PushTransport& transport_;
  const PushQueueSettings settings_;
  GoneFn gone_;
  mutable std::mutex mutex_;
  std::shared_ptr<const EcKey> key_;
  std::deque<std::shared_ptr<Entry>> queue_;  // in arrival order; entries waiting for a retry stay in place
  size_t in_flight_ = 0;
  Stats stats_;
};

}  // namespace causerie::modules::webpush
