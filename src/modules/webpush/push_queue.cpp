#include "modules/webpush/push_queue.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "modules/webpush/vapid.hpp"
#include "modules/webpush/webpush_rules.hpp"

namespace causerie::modules::webpush {

PushQueue::PushQueue(const Clock& clock, PushTransport& transport, PushQueueSettings settings, GoneFn gone)
    : clock_(clock), transport_(transport), settings_(std::move(settings)), gone_(std::move(gone)) {}

void PushQueue::set_vapid_key(EcKey key) {
  {
    std::lock_guard lock(mutex_);
    key_ = std::make_shared<const EcKey>(std::move(key));
  }
  poll();
}

bool PushQueue::enqueue(PushJob job) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() + in_flight_ >= settings_.max_queued) {
      ++stats_.refused_full;
      return false;
    }
    auto e = std::make_shared<Entry>();
    e->job = std::move(job);
    queue_.push_back(std::move(e));
  }
  poll();
  return true;
}

PushPost PushQueue::request_for(const Entry& e, const EcKey& key) const {
  PushPost p;
  p.endpoint = e.job.endpoint;
  p.body = e.job.body;
  VapidClaims claims{e.job.endpoint.origin(), clock_.wall() + kVapidLifetime, settings_.subject};
  p.headers = {
      {"TTL", std::to_string(settings_.ttl.count())},
      {"Content-Encoding", "aes128gcm"},
      {"Content-Type", "application/octet-stream"},
      {"Authorization", vapid_authorization(key, claims)},
  };
  if (!e.job.urgency.empty()) p.headers.emplace_back("Urgency", e.job.urgency);
  if (!e.job.topic.empty()) p.headers.emplace_back("Topic", e.job.topic);
  return p;
}

void PushQueue::poll() {
  std::vector<std::pair<std::shared_ptr<Entry>, PushPost>> sends;
  {
    std::lock_guard lock(mutex_);
    if (!key_) return;
    auto now = clock_.now();
    for (auto it = queue_.begin(); it != queue_.end() && in_flight_ < settings_.max_in_flight;) {
      if ((*it)->not_before > now) {
        ++it;
        continue;
      }
      auto e = std::move(*it);
      it = queue_.erase(it);
      ++e->attempts;
      ++in_flight_;
      sends.emplace_back(e, request_for(*e, *key_));
    }
  }
  for (auto& [e, post] : sends)
    transport_.post(std::move(post), [this, e = e](PushAnswer answer) { finished(e, answer); });
}

void PushQueue::finished(std::shared_ptr<Entry> e, const PushAnswer& answer) {
  PushOutcome outcome = answer.status == 0 && !answer.retryable ? PushOutcome::kDrop : classify(answer.status);
  bool gone = false;
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    switch (outcome) {
      case PushOutcome::kDelivered:
        ++stats_.delivered;
        break;
      case PushOutcome::kGone:
        ++stats_.gone;
        gone = true;
        break;
      case PushOutcome::kDrop:
        ++stats_.dropped;
        spdlog::warn("webpush: a push to {} for {} failed ({}): dropped", e->job.endpoint.origin(), e->job.account,
                     answer.status ? "HTTP " + std::to_string(answer.status) : answer.error);
        break;
      case PushOutcome::kRetry:
        if (e->attempts >= settings_.max_attempts) {
          ++stats_.dropped;
          spdlog::warn("webpush: no push to {} for {} after {} attempts (last: {}): dropped", e->job.endpoint.origin(),
                       e->job.account, e->attempts,
                       answer.status ? "HTTP " + std::to_string(answer.status) : answer.error);
          break;
        }
        ++stats_.retried;
        e->not_before = clock_.now() + backoff(e->attempts, answer.retry_after, settings_.first_backoff,
                                               settings_.max_backoff);
        spdlog::info("webpush: push to {} for {} failed ({}), attempt {} of {}: retrying later",
                     e->job.endpoint.origin(), e->job.account,
                     answer.status ? "HTTP " + std::to_string(answer.status) : answer.error, e->attempts,
                     settings_.max_attempts);
        queue_.push_front(e);  // keeps its place ahead of newer messages
        break;
    }
  }
  if (gone) {
    spdlog::info("webpush: {} says the subscription {} of {} is gone (HTTP {}): removing it", e->job.endpoint.origin(),
                 e->job.subscription_id, e->job.account, answer.status);
    gone_(e->job.account, e->job.subscription_id);
  }
  poll();
}

PushQueue::Stats PushQueue::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.queued = queue_.size();
  s.in_flight = in_flight_;
  return s;
}

}  // namespace causerie::modules::webpush
