#include "net/worker_pool.hpp"

#include <malloc.h>

#include <future>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace causerie::net {

namespace {
thread_local Worker* t_current = nullptr;
}

Worker::Worker(uint32_t index) : index_(index), io_(1) {}

Worker* Worker::current() { return t_current; }

void Worker::add(std::shared_ptr<Connection> c) { connections_[c->id()] = std::move(c); }

void Worker::remove(uint64_t id) { connections_.erase(id); }

void Worker::add_session(std::shared_ptr<Session> session) {
  uint64_t id = session->ref().id;
  sessions_[id] = std::move(session);
}

void Worker::remove_session(uint64_t id) {
  // After this event: the session may be the caller.
  post([this, id] { sessions_.erase(id); });
}

Session* Worker::find_session(uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Connection* Worker::find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Worker::mark_dirty(std::shared_ptr<Connection> c) {
  dirty_.push_back(std::move(c));
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    // Runs after the events already queued in this batch: one flush for all of them. defer, not post:
    // on our own thread it goes to the thread-private queue, so asio does not interrupt its epoll_wait
    // (an epoll_ctl per batch, about 1.3% of the CPU at 80k paced messages/s).
    boost::asio::defer(io_, [this] { flush_dirty(); });
  }
}

void Worker::flush_dirty() {
  flush_scheduled_ = false;
  if (flush_holds_ > 0 && flush_deferrals_ < kMaxFlushDeferrals) {
    // A reader still has messages of its last socket read to hand over, one loop turn each (Beast's
    // buffered WebSocket messages): let them all be handled first, as a TCP read's stanzas are, so that
    // each recipient gets them in one write. The cap bounds the delay should a hold be forgotten.
    ++flush_deferrals_;
    flush_scheduled_ = true;
    boost::asio::defer(io_, [this] { flush_dirty(); });
    return;
  }
  flush_deferrals_ = 0;
  std::vector<std::shared_ptr<Connection>> batch;
  batch.swap(dirty_);
  for (auto& c : batch) c->flush();
}

void Worker::deliver(uint64_t id, OutStanza out) {
  if (t_current == this) {
    deliver_here(id, std::move(out));
    return;
  }
  bool wake;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(InboxItem{id, std::move(out)});
    wake = !inbox_scheduled_;
    inbox_scheduled_ = true;
  }
  if (wake) boost::asio::post(io_, [this] { drain_inbox(); });
}

void Worker::deliver_batch(std::vector<Delivery>& items) {
  if (items.empty()) return;
  if (t_current == this) {
    for (auto& d : items) deliver_here(d.ref.id, std::move(d.out));
    items.clear();
    return;
  }
  bool wake;
  {
    std::lock_guard lock(inbox_mutex_);
    for (auto& d : items) inbox_.push_back(InboxItem{d.ref.id, std::move(d.out)});
    wake = !inbox_scheduled_;
    inbox_scheduled_ = true;
  }
  items.clear();
  if (wake) boost::asio::post(io_, [this] { drain_inbox(); });
}

void Worker::drain_inbox() {
  std::vector<InboxItem> items;
  {
    std::lock_guard lock(inbox_mutex_);
    items.swap(inbox_);
    inbox_scheduled_ = false;
  }
  for (auto& it : items) deliver_here(it.id, std::move(it.out));
}

void Worker::deliver_here(uint64_t id, OutStanza out) {
  // Sessions get the stanzas routed to them; a connection gets what a session on another worker writes.
  if (Session* s = find_session(id)) s->deliver(std::move(out));
  else if (Connection* c = find(id)) c->deliver(std::move(out));
}

void Worker::post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

void Worker::start_sweeping(std::chrono::milliseconds every, const Clock& clock, std::function<void()> on_sweep) {
  sweep_every_ = every;
  clock_ = &clock;
  on_sweep_ = std::move(on_sweep);
  sweep_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  schedule_sweep();
}

void Worker::schedule_sweep() {
  sweep_timer_->expires_after(sweep_every_);
  sweep_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sweep();
    schedule_sweep();
  });
}

void Worker::sweep() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections_.size());
  for (auto& [id, c] : connections_) all.push_back(c);
  size_t freed = 0;
  for (auto& c : all) freed += c->sweep(now) ? 1 : 0;
  // Sessions waiting to be resumed (XEP-0198) expire by the server's clock, which tests may move.
  if (clock_) {
    std::vector<std::shared_ptr<Session>> detached;
    for (auto& [id, session] : sessions_)
      if (!session->attached()) detached.push_back(session);
    for (auto& session : detached) session->sweep(clock_->now());
  }
  // Idle connections just released their parsers; hand the free pages back to the system, or the
  // process keeps its high-water mark (glibc only trims the top of the heap by itself).
  if (freed >= 16) malloc_trim(0);
  if (on_sweep_) {
    try {
      on_sweep_();
    } catch (const std::exception& e) {
      spdlog::error("worker {}: periodic task failed: {}", index_, e.what());
    }
  }
}

void Worker::shutdown_connections(bool clients) {
  std::vector<std::shared_ptr<Connection>> all;
  for (auto& [id, c] : connections_)
    if (c->is_client() == clients) all.push_back(c);
  for (auto& c : all) c->shutdown();
}

void Worker::run() {
  t_current = this;
  auto guard = boost::asio::make_work_guard(io_);
  for (;;) {
    try {
      io_.run();
      break;
    } catch (const std::exception& e) {
      // DESIGN §4: a bug in one handler must not take the server down.
      spdlog::error("worker {}: unhandled exception: {}", index_, e.what());
    }
  }
  t_current = nullptr;
}

void Worker::stop() {
  if (sweep_timer_) boost::asio::post(io_, [this] { sweep_timer_->cancel(); });
  io_.stop();
}

WorkerPool::WorkerPool(unsigned count) {
  for (unsigned i = 0; i < count; ++i) workers_.push_back(std::make_unique<Worker>(i));
}

WorkerPool::~WorkerPool() { stop(); }

Worker& WorkerPool::next_worker() { return *workers_[next_++ % workers_.size()]; }

void WorkerPool::start(const Clock& clock, std::function<void()> on_sweep) {
  for (auto& w : workers_) {
    Worker* wp = w.get();
    std::function<void()> tick = wp->index() == 0 ? on_sweep : nullptr;
    wp->post([wp, &clock, tick = std::move(tick)] { wp->start_sweeping(std::chrono::seconds(2), clock, tick); });
    threads_.emplace_back([wp] { wp->run(); });
  }
}

void WorkerPool::shutdown_connections(bool clients) {
  std::vector<std::future<void>> done;
  for (auto& w : workers_) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    Worker* wp = w.get();
    wp->post([wp, p, clients] {
      wp->shutdown_connections(clients);
      p->set_value();
    });
  }
  for (auto& f : done) f.wait_for(std::chrono::seconds(2));
}

void WorkerPool::stop() {
  for (auto& w : workers_) w->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::deliver(SessionRef ref, OutStanza out) {
  if (ref.worker < workers_.size()) workers_[ref.worker]->deliver(ref.id, std::move(out));
}

void WorkerPool::deliver_many(std::vector<Delivery>& items) {
  if (workers_.size() == 1) {
    workers_[0]->deliver_batch(items);
    return;
  }
  // Split by worker, keeping each session's order; one inbox lock per worker.
  std::vector<std::vector<Delivery>> per(workers_.size());
  for (auto& d : items)
    if (d.ref.worker < workers_.size()) per[d.ref.worker].push_back(std::move(d));
  items.clear();
  for (size_t w = 0; w < per.size(); ++w) workers_[w]->deliver_batch(per[w]);
}

void WorkerPool::with_session(SessionRef ref, std::function<void(ClientSession&)> fn) {
  if (ref.worker >= workers_.size()) return;
  Worker* w = workers_[ref.worker].get();
  auto run = [w, id = ref.id, fn = std::move(fn)] {
    if (Session* s = w->find_session(id)) fn(*s);
  };
  if (Worker::current() == w) run();
  else w->post(std::move(run));
}

void WorkerPool::sweep_now(std::function<void()> done) {
  auto left = std::make_shared<std::atomic<size_t>>(workers_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& w : workers_) {
    Worker* wp = w.get();
    wp->post([wp, left, shared_done] {
      wp->sweep();
      if (--*left == 0 && *shared_done) (*shared_done)();
    });
  }
}

void WorkerPool::end_stream(SessionRef connection, StreamErrorCondition condition, std::string text) {
  post(connection.worker, [w = workers_[connection.worker].get(), id = connection.id, condition, text = std::move(text)] {
    if (Connection* c = w->find(id)) c->end_stream(condition, text);
  });
}

void WorkerPool::post(uint32_t worker, std::function<void()> fn) {
  if (worker < workers_.size()) workers_[worker]->post(std::move(fn));
}

size_t WorkerPool::connection_count() {
  std::atomic<size_t> total{0};
  std::vector<std::future<void>> done;
  for (auto& w : workers_) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    Worker* wp = w.get();
    wp->post([wp, p, &total] {
      total += wp->connection_count();
      p->set_value();
    });
  }
  for (auto& f : done) f.wait();
  return total;
}

}  // namespace causerie::net
