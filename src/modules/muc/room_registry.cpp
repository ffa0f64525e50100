#include "modules/muc/room_registry.hpp"

#include <condition_variable>

#include <spdlog/spdlog.h>

#include "storage/archive_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::muc {

void RoomRegistry::submit(const Jid& room, Stanza stanza, SessionRef origin) {
  Task t;
  t.kind = Task::Kind::kStanza;
  t.stanza = std::move(stanza);
  t.ref = origin;
  enqueue(room, std::move(t), true);
}

void RoomRegistry::session_gone(const Jid& room, const Jid& full, SessionRef ref) {
  Task t;
  t.kind = Task::Kind::kSessionGone;
  t.jid = full;
  t.ref = ref;
  enqueue(room, std::move(t), false);  // a room not in memory has no occupants to lose
}

void RoomRegistry::enqueue(const Jid& room, Task task, bool create) {
  std::shared_ptr<Cell> cell;
  bool run = false, start_load = false;
  {
    Shard& sh = shard(room.str());
    std::lock_guard sl(sh.m);
    auto it = sh.cells.find(room.str());
    if (it == sh.cells.end()) {
      if (!create) return;
      it = sh.cells.emplace(room.str(), std::make_shared<Cell>(room)).first;
      start_load = true;
    }
    cell = it->second;
    std::lock_guard cl(cell->m);
    if (cell->mailbox.size() >= kMaxMailbox) {
      // DESIGN §9: bounded. A room this far behind refuses work rather than growing without limit.
      spdlog::warn("muc {}: mailbox full, dropping a stanza", room.str());
      if (task.kind == Task::Kind::kStanza) {
        if (auto e = make_error_reply(task.stanza.element(),
                                      StanzaError(StanzaErrorCondition::kResourceConstraint, StanzaErrorType::kWait)))
          ctx_.router().route(Stanza(std::move(*e), room, task.stanza.from()));
      }
      return;
    }
    cell->mailbox.push_back(std::move(task));
    if (!cell->running && !cell->loading) run = cell->running = true;
  }
  if (start_load) load(cell);
  if (run) drain(cell);
}

void RoomRegistry::load(const std::shared_ptr<Cell>& cell) {
  // If the read lane refuses the job (its queue is full) the job is destroyed unrun: the guard then
  // reports a failed load, so the stanzas waiting for this room are answered rather than stuck.
  struct LoadGuard {
    RoomRegistry* reg = nullptr;
    std::shared_ptr<Cell> cell;
    bool ran = false;
    ~LoadGuard() {
      if (!ran && reg)
        reg->ctx_.dispatcher().post(reg->worker_of(*cell), [r = reg, c = cell] { r->loaded(c, std::nullopt, true); });
    }
  };
  auto guard = std::make_shared<LoadGuard>();
  guard->reg = this;
  guard->cell = cell;
  size_t history = s_.limits.max_history;
  ctx_.storage().read([this, guard, history](storage::Storage& db) {
    guard->ran = true;
    const auto& cell = guard->cell;
    std::optional<storage::MucRoom> stored;
    bool failed = false;
    try {
      stored = db.muc().load_room(cell->jid.str(), history);
    } catch (const std::exception& e) {
      spdlog::error("muc {}: cannot load room: {}", cell->jid.str(), e.what());
      failed = true;
    }
    // Continue on the room's worker: the read lane is not the place for a room's fan-out.
    ctx_.dispatcher().post(worker_of(*cell), [this, cell, stored = std::move(stored), failed]() mutable {
      loaded(cell, std::move(stored), failed);
    });
  });
}

void RoomRegistry::loaded(const std::shared_ptr<Cell>& cell, std::optional<storage::MucRoom> stored, bool failed) {
  if (stored) cell->room = std::make_unique<Room>(cell->jid, *stored, s_);
  bool run = false;
  {
    std::lock_guard cl(cell->m);
    cell->loading = false;
    cell->load_failed = failed;
    if (!cell->running && !cell->mailbox.empty()) run = cell->running = true;
  }
  if (run) drain(cell);
  else try_retire(cell);
}

void RoomRegistry::drain(const std::shared_ptr<Cell>& cell) {
  for (size_t n = 0;; ++n) {
    Task t;
    {
      std::lock_guard cl(cell->m);
      if (cell->mailbox.empty() || n >= kBatch) {
        cell->summary = cell->room ? cell->room->summary() : RoomSummary{};
        if (cell->mailbox.empty()) {
          cell->running = false;
          break;
        }
        // Still running: the room's worker carries on after its own connections had their turn.
        ctx_.dispatcher().post(worker_of(*cell), [this, cell] { drain(cell); });
        return;
      }
      t = std::move(cell->mailbox.front());
      cell->mailbox.pop_front();
    }
    try {
      process(cell, t);
    } catch (const std::exception& e) {
      // DESIGN §4: a bug handling one stanza must not take the room (or the server) down.
      spdlog::error("muc {}: {}", cell->jid.str(), e.what());
    }
    if (t.done) t.done();
  }
  try_retire(cell);
}

void RoomRegistry::process(const std::shared_ptr<Cell>& cp, Task& t) {
  Cell& cell = *cp;
  RoomOutput out;
  auto now = ctx_.clock().wall();  // injected: history age is tested by moving it
  bool failed;
  {
    std::lock_guard cl(cell.m);
    failed = cell.load_failed;
  }
  switch (t.kind) {
    case Task::Kind::kStanza:
      if (failed) {
        // The room could not be read: say "try later" rather than treat it as absent and shadow it.
        if (auto e = make_error_reply(t.stanza.element(), StanzaError(StanzaErrorCondition::kInternalServerError,
                                                                       StanzaErrorType::kWait)))
          out.send(*e, t.stanza.from(), t.ref);
      } else if (cell.room) {
        cell.room->handle(t.stanza, t.ref, now, out);
      } else {
        cell.room = Room::handle_absent(cell.jid, t.stanza, t.ref, now, s_, out);
      }
      break;
    case Task::Kind::kSessionGone:
      if (cell.room) cell.room->session_gone(t.jid, t.ref, out);
      break;
    case Task::Kind::kShutdown:
      if (cell.room) cell.room->shutdown(out);
      break;
  }
  if (cell.room && cell.room->destroyed()) cell.room.reset();
  execute(cp, out);
}

namespace {

// Keeps a cell from being dropped until its writes are durable, then lets it go.
struct WriteGuard {
  std::function<void()> release;
  ~WriteGuard() {
    if (release) release();
  }
};

}  // namespace

void RoomRegistry::execute(const std::shared_ptr<Cell>& cell, RoomOutput& out) {
  Router& router = ctx_.router();
  SessionDispatcher& dispatcher = ctx_.dispatcher();
  if (!out.local.empty()) dispatcher.deliver_many(out.local);
  for (auto& st : out.routed) router.route(std::move(st));
  for (const auto& ev : out.events) router.account_event(ev);
  for (auto& job : out.archive_jobs) run_archive_job(*cell, std::move(job));
  if (out.ops.empty()) {
    if (!out.local_after.empty()) dispatcher.deliver_many(out.local_after);
    for (auto& st : out.routed_after) router.route(std::move(st));
    return;
  }
  // The answers wait until the change is durable (DESIGN §5).
  struct After {
    Router* router;
    std::vector<Delivery> local;
    std::vector<Stanza> routed;
    bool sent = false;
    // The change did not reach the disk (the job failed, or the queue refused it): requests that were
    // to be answered with a result get internal-server-error instead, so each still has its one reply.
    ~After() {
      if (sent) return;
      for (const auto& st : routed)
        if (st.is_iq() && st.type() == "result") {
          xml::Element request("iq", "jabber:client");
          request.set_attr("id", st.id());
          request.set_attr("type", "set");
          router->bounce(Stanza(std::move(request), st.to(), st.from()),
                         StanzaError(StanzaErrorCondition::kInternalServerError, "the change could not be stored"));
        }
    }
  };
  auto after = std::make_shared<After>(After{&router, std::move(out.local_after), std::move(out.routed_after)});
  cell->pending_writes.fetch_add(1);
  auto guard = std::make_shared<WriteGuard>();
  guard->release = [this, cell] {
    if (cell->pending_writes.fetch_sub(1) == 1) try_retire(cell);
  };
  ctx_.storage().write([this, ops = std::move(out.ops), after, guard](storage::Storage& db)
                           -> storage::StorageService::Completion {
    for (auto& op : ops) op(db.muc());
    return [this, after, guard] {
      after->sent = true;
      if (!after->local.empty()) ctx_.dispatcher().deliver_many(after->local);
      for (auto& st : after->routed) ctx_.router().route(std::move(st));
    };
  });
}

void RoomRegistry::send(RoomOutput& out) {
  if (!out.local.empty()) ctx_.dispatcher().deliver_many(out.local);
  for (auto& st : out.routed) ctx_.router().route(std::move(st));
}

void RoomRegistry::run_archive_job(Cell& cell, RoomOutput::ArchiveJob job) {
  auto run = std::make_shared<std::function<void(storage::ArchiveStore&, RoomOutput&)>>(std::move(job.run));
  if (job.write) {
    uint64_t seq = ctx_.storage().write([this, run](storage::Storage& db) -> storage::StorageService::Completion {
      auto reply = std::make_shared<RoomOutput>();
      (*run)(db.archive(), *reply);
      if (reply->local.empty() && reply->routed.empty()) return nullptr;
      return [this, reply] { send(*reply); };
    });
    if (seq) cell.archive_mark = seq;
    return;
  }
  // A read waits for the room's earlier archive writes: a query right after a message finds it.
  ctx_.storage().when_committed(cell.archive_mark, [this, run] {
    ctx_.storage().read([this, run](storage::Storage& db) {
      RoomOutput reply;
      (*run)(db.archive(), reply);
      send(reply);
    });
  });
}

void RoomRegistry::try_retire(const std::shared_ptr<Cell>& cell) {
  Shard& sh = shard(cell->jid.str());
  std::lock_guard sl(sh.m);
  std::lock_guard cl(cell->m);
  if (cell->running || cell->loading || !cell->mailbox.empty() || cell->pending_writes.load() > 0) return;
  // Not running and holding the cell's lock: nobody touches the room meanwhile.
  const Room* r = cell->room.get();
  bool idle = !r || cell->load_failed || (r->persistent() && r->empty() && !r->locked());
  if (!idle) return;
  auto it = sh.cells.find(cell->jid.str());
  if (it != sh.cells.end() && it->second == cell) sh.cells.erase(it);
}

uint32_t RoomRegistry::worker_of(const Cell& cell) const {
  uint32_t n = ctx_.dispatcher().worker_count();
  return n ? static_cast<uint32_t>(std::hash<std::string>()(cell.jid.str()) % n) : 0;
}

void RoomRegistry::shutdown_all(std::chrono::milliseconds timeout) {
  std::vector<std::shared_ptr<Cell>> cells;
  for (auto& sh : shards_) {
    std::lock_guard sl(sh.m);
    for (auto& [jid, c] : sh.cells) cells.push_back(c);
  }
  struct Latch {
    std::mutex m;
    std::condition_variable cv;
    size_t left = 0;
  };
  auto latch = std::make_shared<Latch>();
  latch->left = cells.size();
  for (auto& c : cells) {
    Task t;
    t.kind = Task::Kind::kShutdown;
    t.done = [latch] {
      std::lock_guard l(latch->m);
      if (--latch->left == 0) latch->cv.notify_all();
    };
    bool run = false;
    {
      std::lock_guard cl(c->m);
      c->mailbox.push_back(std::move(t));
      if (!c->running && !c->loading) run = c->running = true;
    }
    if (run) drain(c);
  }
  std::unique_lock l(latch->m);
  latch->cv.wait_for(l, timeout, [&] { return latch->left == 0; });
}

std::vector<RoomRegistry::Listed> RoomRegistry::loaded_public_rooms() const {
  std::vector<Listed> out;
  for (auto& sh : shards_) {
    std::lock_guard sl(sh.m);
    for (auto& [jid, c] : sh.cells) {
      std::lock_guard cl(c->m);
      const RoomSummary& s = c->summary;
      if (s.exists && s.is_public) out.push_back(Listed{jid, s.name, s.occupants, s.persistent, s});
    }
  }
  return out;
}

size_t RoomRegistry::loaded_count() const {
  size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard sl(sh.m);
    n += sh.cells.size();
  }
  return n;
}

}  // namespace causerie::modules::muc
