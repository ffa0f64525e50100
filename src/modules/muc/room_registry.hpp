// RoomRegistry: the rooms of one MUC service, found by JID, each run as an actor with a mailbox; lazy
// loading of persistent rooms from storage, and unloading of idle ones.
//
// Thread model. Stanzas for a room arrive on any worker thread (and on storage threads, from
// completions). Each room lives in a Cell: a mailbox and a "running" flag under a small mutex. The
// thread that finds the room idle runs it, draining the mailbox; any other thread — or a re-entrant call
// from the running one, e.g. a session that closes while being delivered to — only appends. So a room
// is touched by one thread at a time, its outputs leave in the order it decided them, no lock is held
// while a room works (re-entry cannot deadlock), and in the common uncontended case a stanza is handled
// on the thread that received it, without a hop. Cells are found through 64 shards (mutex + map each),
// held only to find, insert or erase a cell. A run handles at most kBatch tasks, then hands the rest to
// the room's worker (by hash of its JID) so that one busy room cannot starve a network thread's own
// connections.
//
// Lazy loading: the first stanza for an unknown JID creates a Cell in "loading" state and reads the
// room from storage (read lane); stanzas queue meanwhile and run once it is there (or known not to
// exist). A cell is dropped once idle — no room, or a persistent room with no occupants — with nothing
// queued and no write of it still in flight (so a reload never reads older data than it wrote).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/module/module.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

class RoomRegistry {
 public:
  RoomRegistry(ModuleContext& ctx, const ServiceSettings& settings) : ctx_(ctx), s_(settings) {}

  // Any thread. `origin` is the sender's session when known.
  void submit(const Jid& room, Stanza stanza, SessionRef origin);
  // A session ended: the room, if loaded, removes it (if it still is that session).
  void session_gone(const Jid& room, const Jid& full, SessionRef ref);
  // Service shutdown: every loaded room tells its occupants (332); waits up to `timeout`.
  void shutdown_all(std::chrono::milliseconds timeout);

  struct Listed {
    std::string jid, name;
    size_t occupants = 0;
    bool persistent = false;
    RoomSummary summary;
  };
  // The loaded rooms that are public, for disco#items and channel searches. Any thread.
  std::vector<Listed> loaded_public_rooms() const;
  size_t loaded_count() const;

  static constexpr size_t kBatch = 256;         // tasks per run before yielding to the room's worker
  static constexpr size_t kMaxMailbox = 10000;  // queued tasks per room; beyond, stanzas are refused

 private:
  struct Task {
    enum class Kind { kStanza, kSessionGone, kShutdown } kind = Kind::kStanza;
    Stanza stanza;
    SessionRef ref;
    Jid jid;                    // kSessionGone: the session's full JID
    std::function<void()> done;  // kShutdown
  };
  struct Cell {
    explicit Cell(Jid j) : jid(std::move(j)) {}
    const Jid jid;
    std::mutex m;
    std::deque<Task> mailbox;  // guarded by m
    bool running = false;      // guarded by m
    bool loading = true;       // guarded by m
    bool load_failed = false;  // guarded by m
    RoomSummary summary;       // guarded by m
    std::atomic<int> pending_writes{0};
    std::unique_ptr<Room> room;  // touched only by the thread running the cell (or loading it)
    uint64_t archive_mark = 0;   // the room's last archive write (StorageService sequence); as `room`
  };
  struct Shard {
    mutable std::mutex m;
    std::unordered_map<std::string, std::shared_ptr<Cell>> cells;
  };
  static constexpr size_t kShards = 64;

  Shard& shard(const std::string& jid) const { return shards_[std::hash<std::string>()(jid) % kShards]; }
  void enqueue(const Jid& room, Task task, bool create);
  void load(const std::shared_ptr<Cell>& cell);
  void loaded(const std::shared_ptr<Cell>& cell, std::optional<storage::MucRoom> stored, bool failed);
  void drain(const std::shared_ptr<Cell>& cell);
  void process(const std::shared_ptr<Cell>& cell, Task& task);
  void execute(const std::shared_ptr<Cell>& cell, RoomOutput& out);
  void run_archive_job(Cell& cell, RoomOutput::ArchiveJob job);
  void send(RoomOutput& out);
  void try_retire(const std::shared_ptr<Cell>& cell);
  uint32_t worker_of(const Cell& cell) const;

  ModuleContext& ctx_;
  const ServiceSettings& s_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace causerie::modules::muc
