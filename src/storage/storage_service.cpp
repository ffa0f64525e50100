#include "storage/storage_service.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "core/util/metrics.hpp"

namespace causerie::storage {

namespace {
constexpr size_t kMaxBatch = 512;  // jobs per group commit
thread_local uint64_t* t_mark = nullptr;
}  // namespace

StorageService::MarkScope::MarkScope(uint64_t& mark) : previous_(t_mark) { t_mark = &mark; }
StorageService::MarkScope::~MarkScope() { t_mark = previous_; }

StorageService::StorageService(Opener open) : write_db_(open()), read_db_(open()) {
  wthread_ = std::thread([this] { run_writes(); });
  rthread_ = std::thread([this] { run_reads(); });
}

StorageService::~StorageService() { stop(); }

void StorageService::stop() {
  {
    std::lock_guard l(wmutex_);
    wstop_ = true;
  }
  wcv_.notify_all();
  {
    std::lock_guard l(rmutex_);
    rstop_ = true;
  }
  rcv_.notify_all();
  if (wthread_.joinable()) wthread_.join();
  if (rthread_.joinable()) rthread_.join();
}

size_t StorageService::write_queue_depth() const {
  std::lock_guard l(wmutex_);
  return wjobs_.size();
}

size_t StorageService::read_queue_depth() const {
  std::lock_guard l(rmutex_);
  return rjobs_.size();
}

uint64_t StorageService::write(WriteJob job) {
  uint64_t seq = 0;
  {
    std::lock_guard l(wmutex_);
    if (wjobs_.size() >= kMaxQueued) {
      spdlog::warn("storage write queue full ({} jobs): request refused", kMaxQueued);
    } else {
      seq = next_seq_++;
      wjobs_.emplace_back(seq, std::move(job));
      job = nullptr;
    }
  }
  wcv_.notify_one();
  if (seq && t_mark && *t_mark < seq) *t_mark = seq;
  return seq;
  // A refused job is destroyed on return, outside the lock (its responders may route an error).
}

void StorageService::when_committed(uint64_t seq, std::function<void()> fn) {
  {
    std::lock_guard l(waiters_mutex_);
    // Checked under the lock finish() takes after publishing, so no wake-up is missed.
    if (!committed(seq)) {
      waiters_.emplace(seq, std::move(fn));
      return;
    }
  }
  fn();
}

void StorageService::finish(uint64_t seq) {
  finished_.store(seq, std::memory_order_release);
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard l(waiters_mutex_);
    auto end = waiters_.upper_bound(seq);
    for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
  }
  for (auto& fn : ready) {
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("storage commit waiter failed: {}", e.what());
    }
  }
}

void StorageService::read(ReadJob job) {
  {
    std::lock_guard l(rmutex_);
    if (rjobs_.size() >= kMaxQueued) {
      spdlog::warn("storage read queue full ({} jobs): request refused", kMaxQueued);
    } else {
      rjobs_.push_back(std::move(job));
      job = nullptr;
    }
  }
  rcv_.notify_one();
}

void StorageService::run_writes() {
  Storage& db = *write_db_;
  for (;;) {
    std::vector<WriteJob> batch;
    uint64_t last = 0;
    {
      std::unique_lock l(wmutex_);
      wcv_.wait(l, [&] { return wstop_ || !wjobs_.empty(); });
      if (wjobs_.empty()) return;  // stopping, and everything is done
      while (!wjobs_.empty() && batch.size() < kMaxBatch) {
        last = wjobs_.front().first;
        batch.push_back(std::move(wjobs_.front().second));
        wjobs_.pop_front();
      }
    }
    std::vector<Completion> done;
    done.reserve(batch.size());
    auto started = std::chrono::steady_clock::now();
    try {
      db.begin();
      for (auto& job : batch) {
        db.savepoint();
        try {
          Completion c = job(db);
          db.release_savepoint();
          if (c) done.push_back(std::move(c));
        } catch (const std::exception& e) {
          // This job's writes are undone; the others in the batch still commit. Destroying the job
          // destroys any IqResponder it captured, which answers internal-server-error.
          spdlog::error("storage write failed: {}", e.what());
          db.rollback_to_savepoint();
          db.release_savepoint();
        }
        job = nullptr;
      }
      db.commit();
      metrics::observe_commit(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                              batch.size());
    } catch (const std::exception& e) {
      spdlog::error("storage commit failed: {}", e.what());
      try {
        db.rollback();
      } catch (...) {
      }
      done.clear();  // nothing was stored: responders captured in completions answer with errors
      finish(last);  // failed for good: nobody should wait for it any longer
      continue;
    }
    for (auto& c : done) {
      try {
        c();
      } catch (const std::exception& e) {
        spdlog::error("storage completion failed: {}", e.what());
      }
    }
    // After the completions, so that what they send (a bounce, a result) goes out before the answers
    // that waited for this batch.
    finish(last);
  }
}

void StorageService::run_reads() {
  Storage& db = *read_db_;
  for (;;) {
    ReadJob job;
    {
      std::unique_lock l(rmutex_);
      rcv_.wait(l, [&] { return rstop_ || !rjobs_.empty(); });
      if (rjobs_.empty()) return;
      job = std::move(rjobs_.front());
      rjobs_.pop_front();
    }
    try {
      job(db);
    } catch (const std::exception& e) {
      spdlog::error("storage read failed: {}", e.what());
    }
  }
}

}  // namespace causerie::storage
