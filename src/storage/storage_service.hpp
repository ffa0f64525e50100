// StorageService: runs storage jobs off the network threads (DESIGN §1), on two lanes:
//   write lane: one thread; jobs are grouped into one transaction (group commit) and each job's
//               completion runs only after COMMIT has reached the disk, so a client is told of success
//               only once the data is durable;
//   read lane:  one thread with its own connection; reads never wait behind a commit's fsync.
// Completions run on the storage thread; to touch a session, post to its worker (the router and the
// SessionDispatcher are thread-safe). submit functions may be called from any thread.
//
// Durability marks (issue 13): every accepted write gets a sequence number, in queue order, and the
// service publishes the highest number whose batch is finished (committed, or failed for good). A
// stream that must not answer before what it queued is on disk keeps a mark (MarkScope raises it for
// every write its handling queues, on that thread) and waits on it with when_committed: order is kept
// without giving up group commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "storage/storage.hpp"

namespace causerie::storage {

class StorageService {
 public:
  using Completion = std::function<void()>;
  using WriteJob = std::function<Completion(Storage&)>;
  using ReadJob = std::function<void(Storage&)>;
  using Opener = std::function<std::unique_ptr<Storage>()>;

  explicit StorageService(Opener open);
  ~StorageService();
  StorageService(const StorageService&) = delete;
  StorageService& operator=(const StorageService&) = delete;

  // A job refused because the lane is over kMaxQueued is dropped unrun: any IqResponder it captured
  // answers internal-server-error. This bounds the memory a flood of requests can take.
  // Returns the job's sequence number, 0 when refused.
  uint64_t write(WriteJob job);
  void read(ReadJob job);

  // True when every write up to `seq` is finished (0 always is).
  bool committed(uint64_t seq) const { return seq <= finished_.load(std::memory_order_acquire); }
  // Runs fn once `seq` is finished: at once on this thread if it is, else on the storage thread.
  void when_committed(uint64_t seq, std::function<void()> fn);

  // While alive, every write() queued on this thread raises `mark` to its sequence number.
  class MarkScope {
   public:
    explicit MarkScope(uint64_t& mark);
    ~MarkScope();
    MarkScope(const MarkScope&) = delete;
    MarkScope& operator=(const MarkScope&) = delete;

   private:
    uint64_t* previous_;
  };

  static constexpr size_t kMaxQueued = 100000;
  // Jobs waiting on each lane now (the metrics page; any thread).
  size_t write_queue_depth() const;
  size_t read_queue_depth() const;
  // Runs everything queued, then stops both threads.
  void stop();

 private:
  void run_writes();
  void run_reads();
  void finish(uint64_t seq);

  std::unique_ptr<Storage> write_db_, read_db_;
  mutable std::mutex wmutex_;
  std::condition_variable wcv_;
  std::deque<std::pair<uint64_t, WriteJob>> wjobs_;
  uint64_t next_seq_ = 1;
  std::atomic<uint64_t> finished_{0};
  std::mutex waiters_mutex_;
  std::multimap<uint64_t, std::function<void()>> waiters_;
  bool wstop_ = false;
  std::thread wthread_;
  mutable std::mutex rmutex_;
  std::condition_variable rcv_;
  std::deque<ReadJob> rjobs_;
  bool rstop_ = false;
  std::thread rthread_;
};

}  // namespace causerie::storage
