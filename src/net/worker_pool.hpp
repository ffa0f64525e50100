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
#include "core/session/session.hpp"
#include "core/util/clock.hpp"

namespace causerie::net {

// One connection as its worker sees it: a transport (TCP, WebSocket, BOSH) and its stream protocol.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual uint64_t id() const = 0;
  // Whether it carries a client stream (rather than a server-to-server or component one).
  virtual bool is_client() const = 0;
  // Bytes for the stream itself (a session on another worker writing to it).
  virtual void deliver(OutStanza out) = 0;
  // Ends the stream with a stream error.
  virtual void end_stream(StreamErrorCondition condition, const std::string& text) = 0;
  // Writes queued output (called once per batch of events).
  virtual void flush() = 0;
  // Periodic check for timeouts and idleness; returns true when it gave memory back (see Worker).
  virtual bool sweep(std::chrono::steady_clock::time_point now) = 0;
  // Server shutdown: end the stream with <system-shutdown/>.
  virtual void shutdown() = 0;
};

class Worker final : public SessionHost {
 public:
  explicit Worker(uint32_t index);
  uint32_t index() const override { return index_; }
  boost::asio::io_context& io() { return io_; }

  // --- this worker's thread ---
  uint64_t next_id() override { return (static_cast<uint64_t>(index_) << 48) | ++id_counter_; }
  // SessionHost: the sessions living here, by id (deliveries and with_session find them).
  void add_session(std::shared_ptr<Session> session) override;
  void remove_session(uint64_t id) override;
  Session* find_session(uint64_t id);
  size_t session_count() const { return sessions_.size(); }
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

  // on_sweep (may be empty) runs at the end of each of this worker's sweeps.
  void start_sweeping(std::chrono::milliseconds every, const Clock& clock, std::function<void()> on_sweep = {});
  // Timeouts, idle memory and expired sessions, now (the periodic sweep calls it too).
  void sweep();
  // Server shutdown of client connections (clients = true) or of the others (server-to-server, components).
  void shutdown_connections(bool clients);
  void run();  // runs the event loop on the calling thread
  void stop();

 private:
  void drain_inbox();
  void deliver_here(uint64_t id, OutStanza out);
  void flush_dirty();
  void schedule_sweep();

  uint32_t index_;
  boost::asio::io_context io_;
  uint64_t id_counter_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, std::shared_ptr<Session>> sessions_;
  const Clock* clock_ = nullptr;
  std::function<void()> on_sweep_;
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
  // One thread per worker; sessions expire by `clock`; worker 0 runs `on_sweep` after each of its sweeps.
  void start(const Clock& clock, std::function<void()> on_sweep = {});
  // Ends client streams first (their unavailable presence still has to reach other servers), then, in a
  // second call, the others.
  void shutdown_connections(bool clients);
  void stop();   // stops the loops and joins the threads

  // SessionDispatcher
  void deliver(SessionRef ref, OutStanza out) override;
  void deliver_many(std::vector<Delivery>& items) override;
  void with_session(SessionRef ref, std::function<void(ClientSession&)> fn) override;
  void post(uint32_t worker, std::function<void()> fn) override;
  void end_stream(SessionRef connection, StreamErrorCondition condition, std::string text) override;
  // Every worker sweeps now (after a manual clock moved); `done` runs once all have, on the last one.
  void sweep_now(std::function<void()> done);
  uint32_t worker_count() const override { return static_cast<uint32_t>(workers_.size()); }
  size_t connection_count();

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> next_{0};
};

}  // namespace causerie::net
