// WorkerPool: N worker threads, each running its own io_context (DESIGN §1). A connection lives on one
// worker for its whole life; stanzas for it from other threads arrive through that worker's inbox, in
// batches (one wake-up per batch, not per stanza). Output is flushed once per batch of events, so a read
// that carried many stanzas produces one write per recipient.
//
// Thread rules: deliver/with_session/post may be called from any thread; everything else about a
// Worker's connections runs on that worker's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/module/client_session.hpp"

namespace causerie::net {

// One connection as its worker sees it: c2s over TCP today, WebSocket and BOSH later.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual uint64_t id() const = 0;
  // The client session this connection carries, or nullptr (server-to-server, component streams).
  virtual ClientSession* client() = 0;
  virtual void deliver(OutStanza out) = 0;
  // Writes queued output (called once per batch of events).
  virtual void flush() = 0;
  // Periodic check for timeouts and idleness; returns true when it gave memory back (see Worker).
  virtual bool sweep(std::chrono::steady_clock::time_point now) = 0;
  // Server shutdown: end the stream with <system-shutdown/>.
  virtual void shutdown() = 0;
};

class Worker {
 public:
  explicit Worker(uint32_t index);
  uint32_t index() const { return index_; }
  boost::asio::io_context& io() { return io_; }

  // --- this worker's thread ---
  uint64_t next_id() { return (static_cast<uint64_t>(index_) << 48) | ++id_counter_; }
  void add(std::shared_ptr<Connection> c);
  void remove(uint64_t id);
  Connection* find(uint64_t id);
  void mark_dirty(std::shared_ptr<Connection> c);
  // While held, flushes wait (a loop turn at a time, at most kMaxFlushDeferrals): a connection whose next
  // input is already in memory but delivered a turn later holds them, so that one read makes one write.
  void hold_flush() { ++flush_holds_; }
  void release_flush() { --flush_holds_; }
  size_t connection_count() const { return connections_.size(); }
  static Worker* current();  // the worker whose thread this is, or nullptr

  // --- any thread ---
  void deliver(uint64_t id, OutStanza out);
  // Several stanzas for connections of this worker, taking the inbox lock once.
  void deliver_batch(std::vector<Delivery>& items);
  void post(std::function<void()> fn);

  void start_sweeping(std::chrono::milliseconds every);
  // Server shutdown of client connections (clients = true) or of the others (server-to-server, components).
  void shutdown_connections(bool clients);
  void run();  // runs the event loop on the calling thread
  void stop();

 private:
  void drain_inbox();
  void flush_dirty();
  void schedule_sweep();

  uint32_t index_;
  boost::asio::io_context io_;
  uint64_t id_counter_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::vector<std::shared_ptr<Connection>> dirty_;
  bool flush_scheduled_ = false;
  static constexpr unsigned kMaxFlushDeferrals = 256;
  unsigned flush_holds_ = 0;
  unsigned flush_deferrals_ = 0;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  std::chrono::milliseconds sweep_every_{5000};

  struct InboxItem {
    uint64_t id;
    OutStanza out;
  };
  std::mutex inbox_mutex_;
  std::vector<InboxItem> inbox_;
  bool inbox_scheduled_ = false;
};

class WorkerPool final : public SessionDispatcher {
 public:
  explicit WorkerPool(unsigned count);
  ~WorkerPool() override;

  Worker& worker(uint32_t i) { return *workers_[i]; }
  // The worker that should take the next connection (round robin).
  Worker& next_worker();
  void start();  // one thread per worker
  // Ends client streams first (their unavailable presence still has to reach other servers), then, in a
  // second call, the others.
  void shutdown_connections(bool clients);
  void stop();   // stops the loops and joins the threads

  // SessionDispatcher
  void deliver(SessionRef ref, OutStanza out) override;
  void deliver_many(std::vector<Delivery>& items) override;
  void with_session(SessionRef ref, std::function<void(ClientSession&)> fn) override;
  void post(uint32_t worker, std::function<void()> fn) override;
  uint32_t worker_count() const override { return static_cast<uint32_t>(workers_.size()); }
  size_t connection_count();

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> next_{0};
};

}  // namespace causerie::net
