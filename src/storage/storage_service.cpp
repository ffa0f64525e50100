#include "storage/storage_service.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "core/util/metrics.hpp"
#include "storage/archive_store.hpp"

namespace causerie::storage {

namespace {
// A group commit takes what is queued, up to this many writes (a joined job counts each of its own). Big
// batches matter for archives: every row dirties a few index pages (one per account and index), and each
// dirty page costs a WAL frame per commit, so rows sharing a commit share those frames. (With 8 192, the
// WAL's pwrite and fdatasync were ~20% of the core on the archive-on bench.) Joined writers wait past
// kJoinHighWater queued writes, so under overload a batch is at most about that.
constexpr size_t kMaxBatch = 32768;
// Archived messages the idle lane indexes for full-text search per transaction: small enough that a
// write arriving meanwhile waits a few milliseconds at most, big enough that FTS5 writes few segments.
constexpr size_t kIndexChunk = 2000;
// Archived messages the idle lane files into their archives' entry lists per transaction (two sorted
// inserts per message, cheaper than indexing), once at least kMergeMin wait: under load the lane is idle
// between most batches, and merging each batch's few hundred messages would write an entry-list page
// per account and batch again (measured: no gain at all). Fewer than that stay unmerged, which queries
// read beside the lists (archive_store.hpp).
constexpr size_t kMergeChunk = 32768;
constexpr size_t kMergeMin = 16384;
thread_local uint64_t* t_mark = nullptr;
thread_local bool t_ordered_reads = false;
}  // namespace

StorageService::MarkScope::MarkScope(uint64_t& mark, bool ordered_reads)
    : previous_(t_mark), previous_ordered_(t_ordered_reads) {
  t_mark = &mark;
  t_ordered_reads = ordered_reads;
}
StorageService::MarkScope::~MarkScope() {
  t_mark = previous_;
  t_ordered_reads = previous_ordered_;
}

StorageService::StorageService(Opener open) : write_db_(open()), read_db_(open()) {
  write_db_->use_as_write_lane();
  // The archive's entry lists and its full-text index are filled behind the writes
  // (ArchiveStore::merge_pending, then index_pending, which never passes what is merged).
  idle_.push_back([](Storage& db) {
    if (db.archive().merge_pending(kMergeChunk, kMergeMin) == kMergeChunk) return true;
    return db.archive().index_pending(kIndexChunk) == kIndexChunk;
  });
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
  space_cv_.notify_all();
  // The write lane first: its last commits still hand ordered reads to the read lane.
  if (wthread_.joinable()) wthread_.join();
  {
    std::lock_guard l(rmutex_);
    rstop_ = true;
  }
  rcv_.notify_all();
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

void StorageService::warn_full() {
  // At most one line a second: under overload a line per refusal would cost more than the work.
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto last = last_full_warning_.load(std::memory_order_relaxed);
  if (now - last < std::chrono::steady_clock::duration(std::chrono::seconds(1)).count()) return;
  if (!last_full_warning_.compare_exchange_strong(last, now)) return;
  spdlog::warn("storage write queue full ({} writes queued at most): writes refused", kMaxQueued);
}

uint64_t StorageService::write(WriteJob job) {
  uint64_t seq = 0;
  bool refused = false;
  {
    std::lock_guard l(wmutex_);
    if (queued_parts_ >= kMaxQueued) {
      refused = true;
    } else {
      seq = next_seq_++;
      wjobs_.push_back(Queued{seq, std::move(job)});
      ++queued_parts_;
      job = nullptr;
    }
  }
  if (refused) warn_full();
  else wcv_.notify_one();
  if (seq && t_mark && *t_mark < seq) *t_mark = seq;
  return seq;
  // A refused job is destroyed on return, outside the lock (its responders may route an error).
}

uint64_t StorageService::join(const void* kind, size_t max_parts, const std::function<void(void*)>& add,
                              const std::function<std::pair<std::shared_ptr<void>, WriteJob>()>& make) {
  uint64_t seq = 0;
  bool fresh = false;
  {
    std::unique_lock l(wmutex_);
    if (queued_parts_ >= kJoinHighWater)
      space_cv_.wait_for(l, kJoinMaxWait, [this] { return wstop_ || queued_parts_ < kJoinLowWater; });
    if (queued_parts_ >= kMaxQueued || (queued_parts_ >= kJoinHighWater && !wstop_)) {
      l.unlock();
      warn_full();
      return 0;
    }
    if (!wjobs_.empty() && wjobs_.back().kind == kind && wjobs_.back().parts < max_parts) {
      Queued& tail = wjobs_.back();
      add(tail.state.get());
      ++tail.parts;
      seq = tail.seq;
    } else {
      auto [state, job] = make();
      add(state.get());
      seq = next_seq_++;
      wjobs_.push_back(Queued{seq, std::move(job), kind, std::move(state)});
      fresh = true;
    }
    ++queued_parts_;
  }
  // A job that was already queued has been signalled; the lane takes the additions with it.
  if (fresh) wcv_.notify_one();
  if (t_mark && *t_mark < seq) *t_mark = seq;
  return seq;
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
  if (t_ordered_reads && t_mark && !committed(*t_mark)) {
    // Waiters run in mark order, so the reads of one stream keep their order among themselves.
    when_committed(*t_mark, [this, job = std::move(job)]() mutable { queue_read(std::move(job)); });
    return;
  }
  queue_read(std::move(job));
}

void StorageService::after_marked(std::function<void()> fn) {
  if (t_ordered_reads && t_mark && !committed(*t_mark)) {
    when_committed(*t_mark, std::move(fn));
    return;
  }
  fn();
}

void StorageService::queue_read(ReadJob job) {
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

void StorageService::add_idle_write(std::function<bool(Storage&)> fn) {
  {
    std::lock_guard l(wmutex_);
    idle_.push_back(std::move(fn));
  }
  wcv_.notify_one();  // at startup: there may be something left to do
}

bool StorageService::run_idle(Storage& db) {
  std::vector<std::function<bool(Storage&)>> work;
  {
    std::lock_guard l(wmutex_);
    work = idle_;
  }
  // Each in turn until it is done, one chunk a transaction; a queued write goes first.
  for (auto& fn : work) {
    for (bool more = true; more;) {
      try {
        db.begin();
        more = fn(db);
        db.commit();
      } catch (const std::exception& e) {
        // Left for after the next writes; the lane's own writes go on.
        spdlog::error("storage idle work failed: {}", e.what());
        try {
          db.rollback();
        } catch (...) {
        }
        return false;
      }
      std::lock_guard l(wmutex_);
      if (more && (!wjobs_.empty() || wstop_)) return true;
    }
  }
  return false;
}

void StorageService::run_writes() {
  Storage& db = *write_db_;
  size_t idle_seen = 0;   // idle work registered when it was last found to have nothing to do
  bool idle_due = true;   // writes were committed since
  for (;;) {
    std::vector<std::pair<WriteJob, bool>> batch;  // the job, and whether it runs in a savepoint
    uint64_t last = 0;
    {
      std::unique_lock l(wmutex_);
      if (wjobs_.empty() && !wstop_ && (idle_due || idle_seen != idle_.size())) {
        idle_seen = idle_.size();
        l.unlock();
        idle_due = run_idle(db);
        continue;
      }
      wcv_.wait(l, [&] { return wstop_ || !wjobs_.empty() || idle_seen != idle_.size(); });
      if (wjobs_.empty() && !wstop_) continue;  // idle work was added
      if (wjobs_.empty()) return;  // stopping, and everything is done
      size_t parts = 0;
      while (!wjobs_.empty() && (parts == 0 || parts + wjobs_.front().parts <= kMaxBatch)) {
        Queued& q = wjobs_.front();
        last = q.seq;
        parts += q.parts;
        queued_parts_ -= q.parts;
        batch.emplace_back(std::move(q.job), q.kind == nullptr);
        wjobs_.pop_front();
      }
      if (queued_parts_ < kJoinLowWater) space_cv_.notify_all();
    }
    std::vector<Completion> done;
    done.reserve(batch.size());
    auto started = std::chrono::steady_clock::now();
    try {
      db.begin();
      for (auto& [job, isolated] : batch) {
        if (isolated) db.savepoint();
        try {
          Completion c = job(db);
          if (isolated) db.release_savepoint();
          if (c) done.push_back(std::move(c));
        } catch (const std::exception& e) {
          // This job's writes are undone; the others in the batch still commit. Destroying the job
          // destroys any IqResponder it captured, which answers internal-server-error. (A joined job has
          // no savepoint: what it wrote before throwing stays; its writes handle their own failures.)
          spdlog::error("storage write failed: {}", e.what());
          if (isolated) {
            db.rollback_to_savepoint();
            db.release_savepoint();
          }
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
    idle_due = true;
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
