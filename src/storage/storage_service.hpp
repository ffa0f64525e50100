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
// without giving up group commit. A scope with ordered reads (a client's request, RFC 6120 §10.1) also
// makes every read queued in it wait until that mark is finished, since the read lane's connection sees
// only committed data: a request handled while an earlier one's write is still queued sees its effect
// (it may also see writes queued after it, as any read may). after_marked() gives the same order to work
// that reads what write completions update in memory.
//
// Joined writes (write_joined): many small writes of one kind (archive rows, one per message and party)
// share one job while it waits at the tail of the queue: they run in queue order, and a write that joins
// takes the job's sequence number, which orders it exactly as a job of its own would. A joined job runs
// without a savepoint of its own, so its State::run must keep one failing write from stopping the others
// (SQLite undoes a failed statement by itself): under a savepoint every statement's journal was nested in
// the job's, and SQLite's in-memory journal walks its whole length when a nested one ends, so a job of a
// few hundred rows cost quadratic time (11% of the write lane in the profile).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

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

  // Adds to the job of kind State still waiting last in the queue if it holds fewer than max_parts
  // writes, else queues a new State (default-constructed; the job runs state.run(Storage&), which returns
  // the Completion). `add(State&)` runs under the queue lock: keep it to a move. Returns the sequence
  // number of the job holding the write, 0 when refused (queue full; `add` did not run).
  // Backpressure: while kJoinHighWater writes are queued, the caller waits (at most kJoinMaxWait) for the
  // lane to bring the queue under kJoinLowWater. These writes carry no answer that could report a
  // refusal (an archive row would be lost without a word), so under overload the threads producing them
  // slow down to the pace of the disk instead; the write lane never waits for them, so this cannot
  // deadlock. Never call it from the write lane.
  template <class State, class Add>
  uint64_t write_joined(size_t max_parts, Add&& add) {
    return join(&kJoinKind<State>, max_parts, [&](void* state) { add(*static_cast<State*>(state)); }, [] {
      auto state = std::make_shared<State>();
      WriteJob job = [state](Storage& db) { return state->run(db); };
      return std::pair<std::shared_ptr<void>, WriteJob>(state, std::move(job));
    });
  }

  // Work for the write lane when no write is queued, at the lowest priority (e.g. indexing what earlier
  // writes stored, behind them): `fn` does one bounded chunk in a transaction of its own and returns
  // whether more remains. Idle work runs in the order it was added, each until it says it is done, while
  // no write is queued; it resumes after the next batch of writes. It runs at startup too, to finish what
  // the last run left. The lane itself adds the archive's full-text indexing (ArchiveStore::index_pending).
  void add_idle_write(std::function<bool(Storage&)> fn);

  // True when every write up to `seq` is finished (0 always is).
  bool committed(uint64_t seq) const { return seq <= finished_.load(std::memory_order_acquire); }
  // Runs fn once `seq` is finished: at once on this thread if it is, else on the storage thread.
  void when_committed(uint64_t seq, std::function<void()> fn);

  // While alive, every write() queued on this thread raises `mark` to its sequence number; with
  // `ordered_reads`, every read() and after_marked() on this thread waits for `mark` to be finished.
  class MarkScope {
   public:
    explicit MarkScope(uint64_t& mark, bool ordered_reads = false);
    ~MarkScope();
    MarkScope(const MarkScope&) = delete;
    MarkScope& operator=(const MarkScope&) = delete;

   private:
    uint64_t* previous_;
    bool previous_ordered_;
  };
  // Runs fn at once, unless this thread is in a MarkScope with ordered reads whose mark is not finished:
  // then on the storage thread once it is, after the completions of those writes ran. For a request
  // handler that answers from memory that write completions update (e.g. a cached list).
  void after_marked(std::function<void()> fn);

  // Bound on queued writes (a joined job counts each write it holds).
  static constexpr size_t kMaxQueued = 100000;
  // Jobs waiting on each lane now (the metrics page; any thread).
  size_t write_queue_depth() const;
  size_t read_queue_depth() const;
  static constexpr size_t kJoinHighWater = 40000, kJoinLowWater = 20000;
  static constexpr std::chrono::seconds kJoinMaxWait{2};
  // Runs everything queued, then stops both threads.
  void stop();

 private:
  template <class State>
  static constexpr char kJoinKind = 0;  // its address names the kind of a joined job
  uint64_t join(const void* kind, size_t max_parts, const std::function<void(void*)>& add,
                const std::function<std::pair<std::shared_ptr<void>, WriteJob>()>& make);
  void warn_full();
  void run_writes();
  bool run_idle(Storage& db);
  void run_reads();
  void queue_read(ReadJob job);
  void finish(uint64_t seq);

  std::unique_ptr<Storage> write_db_, read_db_;
  mutable std::mutex wmutex_;
  std::condition_variable wcv_;
  std::condition_variable space_cv_;  // joined writers waiting for the queue to shrink
  struct Queued {
    uint64_t seq;
    WriteJob job;
    const void* kind = nullptr;   // joined jobs: their kind, and the state writes are added to
    std::shared_ptr<void> state;
    size_t parts = 1;             // writes it holds
  };
  std::deque<Queued> wjobs_;
  std::vector<std::function<bool(Storage&)>> idle_;  // under wmutex_
  size_t queued_parts_ = 0;
  uint64_t next_seq_ = 1;
  std::atomic<uint64_t> finished_{0};
  std::atomic<int64_t> last_full_warning_{0};  // steady_clock ticks
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
