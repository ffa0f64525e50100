// StorageService: runs storage jobs off the network threads (DESIGN §1), on two lanes:
//   write lane: one thread; jobs are grouped into one transaction (group commit) and each job's
//               completion runs only after COMMIT has reached the disk, so a client is told of success
//               only once the data is durable;
//   read lane:  one thread with its own connection; reads never wait behind a commit's fsync.
// Completions run on the storage thread; to touch a session, post to its worker (the router and the
// SessionDispatcher are thread-safe). submit functions may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

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
  void write(WriteJob job);
  void read(ReadJob job);
  static constexpr size_t kMaxQueued = 100000;
  // Runs everything queued, then stops both threads.
  void stop();

 private:
  void run_writes();
  void run_reads();

  std::unique_ptr<Storage> write_db_, read_db_;
  std::mutex wmutex_;
  std::condition_variable wcv_;
  std::deque<WriteJob> wjobs_;
  bool wstop_ = false;
  std::thread wthread_;
  std::mutex rmutex_;
  std::condition_variable rcv_;
  std::deque<ReadJob> rjobs_;
  bool rstop_ = false;
  std::thread rthread_;
};

}  // namespace causerie::storage
