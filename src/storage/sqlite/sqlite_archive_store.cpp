#include "storage/sqlite/sqlite_archive_store.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "storage/sqlite/sqlite_db.hpp"
#include "storage/storage.hpp"

namespace causerie::storage::sqlite {

namespace {

// An entry `e` of one archive and its stored message `m`: the entry's own stanza id, content and text
// where it has them (a migrated id, a tombstone), the message's otherwise; the correspondent's JID looked
// up by its interned id (a rowid lookup per row of a page, like the message itself).
constexpr const char* kColumns =
    "e.id, COALESCE(e.sid, CASE WHEN e.owner = m.owner THEN COALESCE(m.sid, m.nsid) ELSE COALESCE(m.sid2, m.nsid2) END), (SELECT jid FROM archive_jids WHERE id = e.with_bare), e.with_resource, e.outgoing, "
    "m.msg_id, COALESCE(e.xml, m.xml), CASE WHEN e.xml IS NULL THEN m.body ELSE COALESCE(e.body, '') END";
// The entries of an owner joined to their messages.
constexpr const char* kEntries = "FROM archive e JOIN archive_messages m ON m.id = e.id";
// The same for the messages not merged into the entry lists yet (ids above archive_entry_state.mark):
// each side of a message as the entry merge_pending will write, for owner ?1 in (?2, ?3) — one scan of
// the unmerged messages in id order (at most kMaxPendingEntries), whose ids the caller keeps above the
// mark. A message is at most one entry of an archive (owner2 is 0, never an owner, when it has no second),
// so a row gives the side of ?1 by CASE: no union of two scans to sort again.
constexpr const char* kPendingRows =
    "(SELECT ?1 AS owner, id, CASE WHEN owner = ?1 THEN with1 ELSE with2 END AS with_bare, "
    "CASE WHEN owner = ?1 THEN res1 ELSE res2 END AS with_resource, "
    "CASE WHEN owner = ?1 THEN out1 ELSE out2 END AS outgoing, NULL AS sid, NULL AS xml, NULL AS body "
    "FROM archive_messages WHERE id > ?2 AND id < ?3 AND (owner = ?1 OR owner2 = ?1))";
const std::string kPendingEntries = std::string("FROM ") + kPendingRows + " e JOIN archive_messages m ON m.id = e.id";
// Messages appended and not merged at which append merges them itself, in its transaction: the bound on
// what a query scans beside the entry lists.
constexpr int64_t kMaxPendingEntries = 32768;
constexpr char kListSep = '\n';  // JIDs never contain a line break

ArchivedMessage read_message(Statement& q) {
  ArchivedMessage m;
  m.seq = q.column_int(0);
  m.id = q.column_text(1);
  m.with = q.column_text(2);
  std::string resource = q.column_text(3);
  if (!resource.empty()) m.with += "/" + resource;
  m.outgoing = q.column_int(4) != 0;
  m.message_id = q.column_text(5);
  m.xml = q.column_text(6);
  m.body = q.column_text(7);
  return m;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

std::string_view host_of(std::string_view bare) {
  size_t at = bare.find('@');
  return at == std::string_view::npos ? bare : bare.substr(at + 1);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(kListSep);
    out += v[i];
  }
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = s.find(kListSep, pos);
    if (next == std::string::npos) next = s.size();
    if (next > pos) out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// The full-text index's token for an owner's messages (okey column): 'o' and the owner's interned id.
std::string owner_key(int64_t owner) { return "o" + std::to_string(owner); }

// Quoted words of `text` for an FTS5 query ("" when it has no word): every word is quoted, a trailing
// '*' makes it a prefix; the user's text is never FTS syntax.
std::string fulltext_words(std::string_view text);
bool has_word_character(std::string_view w);

class SqliteArchiveStore final : public ArchiveStore {
 public:
  explicit SqliteArchiveStore(Db& db) : db_(db) {}

  int64_t append(std::string_view owner, ArchivedMessage& m, int64_t now_ms, const ArchiveCopy* copy) override {
    // The last sequence number is read once per write transaction (the storage lane's batch), then
    // kept: nobody else writes while the transaction holds the write lock.
    bool in_txn = db_.in_transaction();
    if (!in_txn || last_txn_ != db_.write_transaction()) {
      auto q = db_.prepare("SELECT MAX(id) FROM archive_messages");
      last_seq_ = q->step() ? q->column_int(0) : 0;
      last_txn_ = in_txn ? db_.write_transaction() : 0;
    }
    m.seq = std::max(now_ms << kSeqTimeShift, last_seq_ + 1);
    int64_t owner_id = intern(owner);
    int64_t copy_id = copy ? intern(copy->owner) : 0;
    if (copy_id == owner_id) copy_id = 0;  // one's own message is archived once
    // The usual case: ids the server made, both found by their time (archive_id_time_ms). The message is
    // stored alone, with what each side's entry will hold; its entries follow in merge_pending's sorted
    // batches. Such ids are unique by construction (72 random bits within one millisecond of one
    // archive), so nothing is probed.
    if (found_by_time(m.id, m.seq) && (!copy_id || found_by_time(copy->id, m.seq))) {
      int64_t waiting = pending() + 1;
      insert_pending(m, owner_id, copy_id, copy);
      pending_ = waiting;
      last_seq_ = m.seq;
      if (waiting >= kMaxPendingEntries) merge_pending(static_cast<size_t>(waiting), 1);
      return m.seq;
    }
    // Any other id (a client's or an import's, or one made before the clock went back) goes where an
    // index finds it: the message's sid/sid2, or the entry's own when another archive uses it already.
    // Its entries are written now, after everything pending, so the merge mark can pass it.
    merge_all();
    if (maybe_used(owner_id, m.id, copy_id, copy_id ? copy->id : std::string_view())) {
      if (seq_of(owner_id, m.id)) throw StorageError("stanza id " + m.id + " is already in the archive");
      if (copy_id && seq_of(copy_id, copy->id))
        throw StorageError("stanza id " + std::string(copy->id) + " is already in the archive");
    }
    bool own_sid = false;  // set when the id is another archive's already: the entry holds it (as insert_at does)
    try {
      insert_message(m, owner_id, copy_id, m.id, copy_id ? std::optional<std::string>(copy->id) : std::nullopt);
    } catch (const StorageError&) {
      auto t = db_.prepare("SELECT 1 FROM archive_messages WHERE sid = ?1");
      t->bind(1, m.id);
      if (copy_id || !t->step()) throw;
      t->reset();
      if (seq_of(owner_id, m.id)) throw StorageError("stanza id " + m.id + " is already in the archive");
      insert_message(m, owner_id, 0, std::nullopt, std::nullopt);
      own_sid = true;
    }
    insert_entry(owner_id, m.seq, m.with, m.outgoing, own_sid ? std::optional<std::string>(m.id) : std::nullopt);
    if (copy_id) insert_entry(copy_id, m.seq, copy->with, copy->outgoing, {});
    set_entry_mark(m.seq);
    last_seq_ = m.seq;
    return m.seq;
  }

  int64_t insert_at(std::string_view owner, ArchivedMessage& m, int64_t time_ms) override {
    int64_t lo = time_ms << kSeqTimeShift, hi = (time_ms + 1) << kSeqTimeShift;
    auto q = db_.prepare("SELECT MAX(id) FROM archive_messages WHERE id >= ?1 AND id < ?2");
    q->bind(1, lo).bind(2, hi);
    int64_t last = q->step() ? q->column_int(0) : 0;  // NULL reads as 0
    m.seq = std::max(lo, last + 1);
    if (m.seq >= hi) throw StorageError("more than 2^20 archived messages in one millisecond");
    // Everything pending is merged first: this message's entry is written now, and the mark then covers it.
    merge_all();
    int64_t owner_id = intern(owner);
    // An imported id: unique in its archive (the entry's index refuses a second), but another archive
    // (or the message store) may know a message by it already; then the entry holds it.
    if (seq_of(owner_id, m.id)) throw StorageError("stanza id " + m.id + " is already in the archive");
    bool taken = false;
    {
      auto t = db_.prepare("SELECT 1 FROM archive_messages WHERE sid = ?1");
      t->bind(1, m.id);
      taken = t->step();
    }
    insert_message(m, owner_id, 0, taken ? std::optional<std::string>() : m.id, std::nullopt);
    insert_entry(owner_id, m.seq, m.with, m.outgoing, taken ? std::optional<std::string>(m.id) : std::nullopt);
    // Below the mark, the index must hold it now (the indexer only walks forward from the mark).
    if (!m.body.empty() && m.seq <= fts_mark()) {
      auto f = db_.prepare("INSERT INTO archive_fts (rowid, okey, body) VALUES (?1, ?2, ?3)");
      f->bind(1, m.seq).bind(2, owner_key(owner_id)).bind(3, m.body).run();
    }
    if (m.seq > entry_mark()) set_entry_mark(m.seq);
    last_txn_ = 0;  // append's cached highest id may be behind this one: read it again
    return m.seq;
  }

  size_t index_pending(size_t max_rows) override {
    // Never past the entry lists' mark: a search reads the indexed messages through their entries.
    int64_t mark = fts_mark(), upto = 0;
    size_t n = 0;
    {
      auto q = db_.prepare(
          "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM archive_messages WHERE id > ?1 AND id <= ?3 "
          "ORDER BY id LIMIT ?2)");
      q->bind(1, mark).bind(2, static_cast<int64_t>(max_rows)).bind(3, entry_mark());
      if (!q->step() || q->column_int(1) == 0) return 0;
      upto = q->column_int(0);
      n = static_cast<size_t>(q->column_int(1));
    }
    auto f = db_.prepare(
        "INSERT INTO archive_fts (rowid, okey, body) SELECT id, "
        "'o' || owner || CASE WHEN owner2 != 0 THEN ' o' || owner2 ELSE '' END, body FROM archive_messages "
        "WHERE id > ?1 AND id <= ?2 AND body != ''");
    f->bind(1, mark).bind(2, upto).run();
    auto u = db_.prepare("UPDATE archive_fts_state SET mark = ?1");
    u->bind(1, upto).run();
    return n;
  }

  size_t merge_pending(size_t max_rows, size_t min_rows) override {
    // Counted in memory: the lane asks whenever it is idle, and counting the rows takes a scan of them.
    if (pending() < static_cast<int64_t>(std::max<size_t>(min_rows, 1))) return 0;
    int64_t mark = entry_mark(), upto = 0;
    size_t n = 0;
    {
      auto q = db_.prepare(
          "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM archive_messages WHERE id > ?1 ORDER BY id LIMIT ?2)");
      q->bind(1, mark).bind(2, static_cast<int64_t>(max_rows));
      if (!q->step() || q->column_int(1) == 0) {
        pending_ = 0;  // a count too high (a statement undone without a rollback) set right
        return 0;
      }
      if (static_cast<size_t>(q->column_int(1)) < min_rows) return 0;
      upto = q->column_int(0);
      n = static_cast<size_t>(q->column_int(1));
    }
    // Sorted by entry key: each archive's entries of the batch land side by side, so a page of its
    // entry list (and of its with_bare index) is written once per merge rather than once per message.
    auto q = db_.prepare(
        "INSERT INTO archive (owner, id, with_bare, with_resource, outgoing) "
        "SELECT owner, id, with1, res1, out1 FROM archive_messages WHERE id > ?1 AND id <= ?2 UNION ALL "
        "SELECT owner2, id, with2, res2, out2 FROM archive_messages WHERE id > ?1 AND id <= ?2 AND owner2 != 0 "
        "ORDER BY 1, 2");
    q->bind(1, mark).bind(2, upto).run();
    set_entry_mark(upto);
    pending_ = n < max_rows ? 0 : std::max<int64_t>(0, pending_ - static_cast<int64_t>(n));
    return n;
  }

  // How many messages wait for merge_pending: counted once, then kept by append and merge_pending (only
  // this connection writes the archive), and counted again after a rollback, which may have undone some
  // (the count is then at most too high, never too low, until then).
  int64_t pending() {
    if (!pending_known_ || pending_rollbacks_ != db_.rollbacks()) {
      auto q = db_.prepare("SELECT COUNT(*) FROM archive_messages WHERE id > (SELECT mark FROM archive_entry_state)");
      pending_ = q->step() ? q->column_int(0) : 0;
      pending_known_ = true;
      pending_rollbacks_ = db_.rollbacks();
    }
    return pending_;
  }

 private:
  // Whether a server-made id is found by its time for a message of sequence number `seq`.
  static bool found_by_time(std::string_view id, int64_t seq) {
    auto t = archive_id_time_ms(id);
    return t && std::abs(seq_time_ms(seq) - *t) <= kIdTimeSlackMs;
  }

  void insert_pending(const ArchivedMessage& m, int64_t owner_id, int64_t copy_id, const ArchiveCopy* copy) {
    auto [with1, res1] = split_with(m.with);
    int64_t with2 = 0;
    std::string res2;
    if (copy_id) std::tie(with2, res2) = split_with(copy->with);
    auto q = db_.prepare(
        "INSERT INTO archive_messages (id, owner, owner2, nsid, nsid2, msg_id, xml, body, with1, res1, out1, with2, "
        "res2, out2) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    q->bind(1, m.seq).bind(2, owner_id).bind(3, copy_id).bind(4, m.id);
    if (copy_id) q->bind(5, copy->id);
    q->bind(6, m.message_id).bind(7, m.xml).bind(8, m.body).bind(9, with1).bind(10, res1);
    q->bind(11, int64_t{m.outgoing}).bind(12, with2).bind(13, res2).bind(14, int64_t{copy_id && copy->outgoing});
    q->run();
  }

  // A correspondent as an entry holds it: the bare JID's interned id and the resource.
  std::pair<int64_t, std::string> split_with(std::string_view with) {
    size_t slash = with.find('/');
    // A std::string, never a null string_view: SQLite would bind NULL for an empty one without data.
    return {intern(with.substr(0, slash)),
            std::string(slash == std::string_view::npos ? std::string_view() : with.substr(slash + 1))};
  }

  int64_t entry_mark() {
    auto q = db_.prepare("SELECT mark FROM archive_entry_state");
    return q->step() ? q->column_int(0) : 0;
  }

  void set_entry_mark(int64_t mark) {
    auto q = db_.prepare("UPDATE archive_entry_state SET mark = ?1");
    q->bind(1, mark).run();
  }

  // Before a change to entries (a tombstone, retention, an account's removal): every message has its
  // entries, so the change finds them.
  void merge_all() {
    while (merge_pending(kMaxPendingEntries, 1) > 0) {
    }
  }

  // Whether an id might be in use where its column's unique constraint does not look: the other column
  // (in any archive), or an entry's own ids. One statement of index probes (an id begins with the time,
  // so the probes land on the indexes' last pages); a hit is then checked exactly (seq_of). No copy:
  // copy_sid is empty and matches nothing.
  bool maybe_used(int64_t owner_id, std::string_view sid, int64_t copy_id, std::string_view copy_sid) {
    auto q = db_.prepare(
        "SELECT EXISTS (SELECT 1 FROM archive_messages WHERE sid2 = ?1) OR EXISTS (SELECT 1 FROM archive "
        "WHERE owner = ?2 AND sid = ?1) OR EXISTS (SELECT 1 FROM archive_messages WHERE sid = ?3) OR EXISTS "
        "(SELECT 1 FROM archive WHERE owner = ?4 AND sid = ?3)");
    std::string copy_key(copy_sid);  // never a null view: SQLite would bind NULL
    q->bind(1, sid).bind(2, owner_id).bind(3, copy_key).bind(4, copy_id);
    return q->step() && q->column_int(0) != 0;
  }

  void insert_message(const ArchivedMessage& m, int64_t owner_id, int64_t owner2_id, const std::optional<std::string>& sid,
                      const std::optional<std::string>& sid2) {
    auto q = db_.prepare(
        "INSERT INTO archive_messages (id, owner, owner2, sid, sid2, msg_id, xml, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    q->bind(1, m.seq).bind(2, owner_id).bind(3, owner2_id);
    if (sid) q->bind(4, *sid);
    if (sid2) q->bind(5, *sid2);
    q->bind(6, m.message_id).bind(7, m.xml).bind(8, m.body).run();
  }

  void insert_entry(int64_t owner_id, int64_t seq, std::string_view with, bool outgoing, const std::optional<std::string>& sid) {
    auto [with_id, resource] = split_with(with);
    auto q = db_.prepare(
        "INSERT INTO archive (owner, id, with_bare, with_resource, outgoing, sid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q->bind(1, owner_id).bind(2, seq).bind(3, with_id).bind(4, resource).bind(5, int64_t{outgoing});
    if (sid) q->bind(6, *sid);
    q->run();
  }

  int64_t fts_mark() {
    auto q = db_.prepare("SELECT mark FROM archive_fts_state");
    return q->step() ? q->column_int(0) : 0;
  }

  // The interned id of a JID, from the cache or the database; nullopt when it has none (nothing archived
  // names it). Ids are never deleted or reused, so cached ones stay true, except ids created by a
  // transaction that was then rolled back: the cache is dropped whenever the connection rolls back.
  std::optional<int64_t> find_jid(std::string_view jid) {
    if (cache_rollbacks_ != db_.rollbacks()) {
      ids_.clear();
      cache_rollbacks_ = db_.rollbacks();
    }
    if (auto it = ids_.find(jid); it != ids_.end()) return it->second;
    std::string key(jid);  // never a null view: SQLite would bind NULL
    auto q = db_.prepare("SELECT id FROM archive_jids WHERE jid = ?1");
    q->bind(1, key);
    if (!q->step()) return std::nullopt;
    remember(jid, q->column_int(0));
    return q->column_int(0);
  }

  // A JID's interned id, created when it has none; a JID with a localpart gets its domain's too
  // (archive_jids.host, which retention walks).
  int64_t intern(std::string_view jid) {
    if (auto id = find_jid(jid)) return *id;
    std::string_view domain = host_of(jid);
    int64_t host_id = domain.size() == jid.size() ? 0 : intern(domain);
    std::string key(jid);
    auto q = db_.prepare("INSERT INTO archive_jids (jid, host) VALUES (?1, ?2)");
    q->bind(1, key).bind(2, host_id).run();
    int64_t id = db_.last_insert_id();
    if (!host_id) {  // a domain is its own host
      auto h = db_.prepare("UPDATE archive_jids SET host = id WHERE id = ?1");
      h->bind(1, id).run();
    }
    remember(jid, id);
    return id;
  }

  void remember(std::string_view jid, int64_t id) {
    if (ids_.size() >= kMaxCachedJids) ids_.clear();  // a bound, not an LRU: refilled from the table
    ids_.emplace(std::string(jid), id);
  }

 public:
  std::optional<ArchivePage> query(std::string_view owner, const ArchiveQuery& q) override {
    // Everything becomes an open interval of sequence numbers (lo, hi).
    int64_t lo = 0, hi = std::numeric_limits<int64_t>::max();
    auto owner_id = find_jid(owner);
    auto seq = [&](const std::string& id) { return owner_id ? seq_of(*owner_id, id) : std::nullopt; };
    for (const auto& id : q.after) {
      auto s = seq(id);
      if (!s) return std::nullopt;
      lo = std::max(lo, *s);
    }
    for (const auto& id : q.before) {
      auto s = seq(id);
      if (!s) return std::nullopt;
      hi = std::min(hi, *s);
    }
    if (q.start_ms) lo = std::max(lo, (std::max<int64_t>(*q.start_ms, 0) << kSeqTimeShift) - 1);
    if (q.end_ms) {
      int64_t end = std::clamp<int64_t>(*q.end_ms, -1, (std::numeric_limits<int64_t>::max() >> kSeqTimeShift) - 1);
      hi = std::min(hi, (end + 1) << kSeqTimeShift);
    }
    std::string ids_json;
    if (!q.ids.empty()) {
      ids_json = "[";
      for (const auto& id : q.ids) {
        auto s = seq(id);
        if (!s) return std::nullopt;
        if (ids_json.size() > 1) ids_json += ",";
        ids_json += std::to_string(*s);
      }
      ids_json += "]";
    }
    ArchivePage page;
    if (lo >= hi - 1 || !owner_id) return page;

    std::string words;
    if (!q.fulltext.empty()) {
      words = fulltext_words(q.fulltext);
      if (words.empty()) return page;  // no word to look for: nothing matches
    }
    std::string_view with = q.with;
    size_t slash = with.find('/');
    std::string_view with_res = slash == std::string_view::npos ? std::string_view() : with.substr(slash + 1);
    int64_t with_id = 0;
    if (!with.empty()) {
      auto w = find_jid(with.substr(0, slash));
      if (!w) return page;  // nothing archived names this correspondent
      with_id = *w;
    }
    Filter f{*owner_id, lo, hi, with_id, with_res, ids_json};
    size_t want = q.limit + 1;
    // The entry lists hold the messages up to their mark; the newer ones (merge_pending has not filed
    // them yet) are read from the stored messages: the two parts, concatenated in archive order, are
    // the answer merged lists would give. The same split again for the full-text index's mark (never
    // above the entries' one).
    int64_t emark = entry_mark();
    auto below = [](Filter part, int64_t mark) {
      part.hi = std::min(part.hi, mark + 1);
      return part;
    };
    auto above = [](Filter part, int64_t mark) {
      part.lo = std::max(part.lo, mark);
      return part;
    };
    auto empty = [](const Filter& part) { return part.lo >= part.hi - 1; };
    auto room = [&] { return want - std::min(want, page.messages.size()); };
    std::vector<std::function<void()>> parts;  // in archive order
    if (words.empty()) {
      Filter merged = below(f, emark), pending = above(f, emark);
      parts.emplace_back([&, merged] {
        if (!empty(merged))
          run_page(page, std::string(kEntries) + " WHERE e.owner = ?1 AND e.id > ?2 AND e.id < ?3", "e.id", merged,
                   q.from_end, room(), {});
      });
      parts.emplace_back([&, pending] {
        if (!empty(pending)) run_page(page, std::string(kPendingEntries) + " WHERE 1", "e.id", pending, q.from_end, room(), {});
      });
    } else {
      // The index holds the rows up to its mark; the rows above it (the newest) are matched through a
      // temporary index of their own, with the same tokenizer.
      int64_t mark = fts_mark();
      Filter indexed = below(f, mark), tail = below(above(f, mark), emark), pending = above(f, emark);
      parts.emplace_back([&, indexed] {
        if (empty(indexed)) return;
        // The FTS index walks its own rowids (one account's, through okey) in order; the entry and the
        // message are key lookups. CROSS JOIN keeps that order; ordering by the index's own rowid lets
        // FTS5 stop at the LIMIT (ordering by e.id, the same values, made it sort every match). An entry
        // gone (retention) or replaced (tombstone) no longer matches, whatever the document says.
        run_page(page, "FROM archive_fts f CROSS JOIN archive e ON e.owner = ?1 AND e.id = f.rowid"
                 " CROSS JOIN archive_messages m ON m.id = f.rowid WHERE archive_fts MATCH ?5"
                 " AND f.rowid > ?2 AND f.rowid < ?3 AND e.xml IS NULL", "f.rowid", indexed, q.from_end,
                 room(), fulltext_match(*owner_id, q.fulltext));
      });
      parts.emplace_back([&, tail] {
        if (empty(tail) || room() == 0) return;
        fill_tail(tail, false);
        run_page(page, "FROM temp.archive_tail t CROSS JOIN archive e ON e.owner = ?1 AND e.id = t.rowid"
                 " CROSS JOIN archive_messages m ON m.id = t.rowid WHERE archive_tail MATCH ?5"
                 " AND e.id > ?2 AND e.id < ?3", "t.rowid", tail, q.from_end, room(), words);
      });
      parts.emplace_back([&, pending] {
        if (empty(pending) || room() == 0) return;
        fill_tail(pending, true);
        run_page(page, std::string(kPendingEntries) +
                 " WHERE e.id IN (SELECT rowid FROM temp.archive_tail WHERE archive_tail MATCH ?5)", "e.id", pending,
                 q.from_end, room(), words);
      });
    }
    if (q.from_end) std::reverse(parts.begin(), parts.end());
    for (auto& part : parts) part();
    page.complete = page.messages.size() <= q.limit;
    if (!page.complete) page.messages.pop_back();
    if (q.from_end) std::reverse(page.messages.begin(), page.messages.end());
    return page;
  }

 private:
  struct Filter {
    int64_t owner, lo, hi, with;  // with: 0 = any correspondent
    std::string_view with_res;
    const std::string& ids_json;
  };

  // Appends to page up to `limit` rows of `from` (which binds ?1 owner, ?2 lo, ?3 hi, and ?5 match if
  // given), with the filter's optional conditions, in `order` (ascending, or descending from the end).
  void run_page(ArchivePage& page, const std::string& from, const char* order, const Filter& f, bool from_end,
                size_t limit, const std::string& match) {
    if (limit == 0) return;
    // ?4 limit, then the optional filters in a fixed order, so the SQL text (and the statement cache)
    // depends only on which filters are present.
    std::string sql = std::string("SELECT ") + kColumns + " " + from;
    if (f.with) sql += " AND e.with_bare = ?6";
    if (!f.with_res.empty()) sql += " AND e.with_resource = ?7";
    if (!f.ids_json.empty()) sql += " AND e.id IN (SELECT value FROM json_each(?8))";
    sql += std::string(" ORDER BY ") + order + (from_end ? " DESC" : " ASC") + " LIMIT ?4";
    auto s = db_.prepare(sql);
    s->bind(1, f.owner).bind(2, f.lo).bind(3, f.hi).bind(4, static_cast<int64_t>(limit));
    if (!match.empty()) s->bind(5, match);
    if (f.with) s->bind(6, f.with);
    if (!f.with_res.empty()) s->bind(7, f.with_res);
    if (!f.ids_json.empty()) s->bind(8, f.ids_json);
    while (s->step()) page.messages.push_back(read_message(*s));
  }

  // Fills this connection's temporary index with the owner's messages in (f.lo, f.hi) that the
  // full-text index does not hold yet (the caller puts f.lo at or above its mark): from the entry lists,
  // or, for `pending` (f.lo at or above the entries' mark), from the messages not merged yet.
  void fill_tail(const Filter& f, bool pending) {
    if (!tail_created_) {
      db_.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.archive_tail USING fts5(body, content='', "
               "tokenize='unicode61 remove_diacritics 2')");
      tail_created_ = true;
    }
    db_.prepare("INSERT INTO temp.archive_tail (archive_tail) VALUES ('delete-all')")->run();
    auto s = db_.prepare(pending ? "INSERT INTO temp.archive_tail (rowid, body) SELECT id, body FROM archive_messages "
                                   "WHERE id > ?2 AND id < ?3 AND (owner = ?1 OR owner2 = ?1) AND body != ''"
                                 : "INSERT INTO temp.archive_tail (rowid, body) SELECT m.id, m.body FROM archive e "
                                   "JOIN archive_messages m ON m.id = e.id WHERE e.owner = ?1 AND e.id > ?2 AND "
                                   "e.id < ?3 AND e.xml IS NULL AND m.body != ''");
    s->bind(1, f.owner).bind(2, f.lo).bind(3, f.hi).run();
  }

 public:
  std::optional<ArchivedMessage> first(std::string_view owner) override { return edge(owner, true); }
  std::optional<ArchivedMessage> last(std::string_view owner) override { return edge(owner, false); }

  std::optional<ArchivedMessage> find_by_message_id(std::string_view owner, std::string_view with_bare, bool outgoing,
                                                    std::string_view message_id, size_t window) override {
    auto owner_id = find_jid(owner), with_id = find_jid(with_bare);
    if (!owner_id || !with_id) return std::nullopt;
    // The conversation's newest messages are those not merged yet (their sides as entries, as in
    // kPendingEntries), then the entry list's: the window spans both.
    int64_t emark = entry_mark(), pending = 0;
    {
      auto p = db_.prepare(std::string("SELECT ") + kColumns + " FROM (SELECT * FROM " + kPendingRows +
                           " WHERE with_bare = ?4 ORDER BY id DESC LIMIT ?5) e JOIN archive_messages m ON m.id = e.id "
                           "WHERE e.outgoing = ?6 AND m.msg_id = ?7 ORDER BY e.id DESC LIMIT 1");
      p->bind(1, *owner_id).bind(2, emark).bind(3, std::numeric_limits<int64_t>::max()).bind(4, *with_id);
      p->bind(5, static_cast<int64_t>(window)).bind(6, int64_t{outgoing}).bind(7, message_id);
      if (p->step()) return read_message(*p);
      auto n = db_.prepare(std::string("SELECT COUNT(*) FROM ") + kPendingRows + " WHERE with_bare = ?4");
      n->bind(1, *owner_id).bind(2, emark).bind(3, std::numeric_limits<int64_t>::max()).bind(4, *with_id);
      pending = n->step() ? n->column_int(0) : 0;
    }
    if (pending >= static_cast<int64_t>(window)) return std::nullopt;
    window -= static_cast<size_t>(pending);
    auto q = db_.prepare(std::string("SELECT ") + kColumns +
                         " FROM (SELECT * FROM archive WHERE owner = ?1 AND with_bare = ?2 ORDER BY id DESC LIMIT ?5) e"
                         " JOIN archive_messages m ON m.id = e.id"
                         " WHERE e.outgoing = ?3 AND m.msg_id = ?4 ORDER BY e.id DESC LIMIT 1");
    q->bind(1, *owner_id).bind(2, *with_id).bind(3, int64_t{outgoing}).bind(4, message_id);
    q->bind(5, static_cast<int64_t>(window));
    if (!q->step()) return std::nullopt;
    return read_message(*q);
  }

  void replace_content(std::string_view owner, int64_t seq, std::string_view xml, std::string_view body) override {
    auto owner_id = find_jid(owner);
    if (!owner_id) return;
    merge_all();
    // While the other archive sharing the message still reads the stored copy, the owner's entry alone
    // changes. Otherwise the stored copy itself is replaced (a retraction leaves no copy behind), and
    // the full-text index follows it (trigger archive_fts_update, or the indexer later).
    auto shared = db_.prepare(
        "SELECT 1 FROM archive_messages m CROSS JOIN archive e ON e.owner = m.owner + m.owner2 - ?2 AND e.id = m.id "
        "WHERE m.id = ?1 AND e.xml IS NULL AND EXISTS (SELECT 1 FROM archive WHERE owner = ?2 AND id = ?1)");
    shared->bind(1, seq).bind(2, *owner_id);
    bool other_reads = shared->step();
    shared->reset();
    if (other_reads) {
      auto q = db_.prepare("UPDATE archive SET xml = ?3, body = ?4 WHERE owner = ?1 AND id = ?2");
      q->bind(1, *owner_id).bind(2, seq).bind(3, xml).bind(4, body).run();
      return;
    }
    auto e = db_.prepare("UPDATE archive SET xml = NULL, body = NULL WHERE owner = ?1 AND id = ?2");
    e->bind(1, *owner_id).bind(2, seq).run();
    if (db_.changes() == 0) return;  // not in the owner's archive
    auto q = db_.prepare("UPDATE archive_messages SET xml = ?2, body = ?3 WHERE id = ?1");
    q->bind(1, seq).bind(2, xml).bind(3, body).run();
  }

  size_t expire(std::string_view host, int64_t cutoff_ms, size_t max_rows) override {
    auto host_id = find_jid(host);
    if (cutoff_ms <= 0 || !host_id) return 0;
    merge_all();
    // Each of the host's owners' entries, oldest first (a range of its key each); a message goes with
    // its last entry (trigger archive_entry_delete).
    auto q = db_.prepare(
        "DELETE FROM archive WHERE (owner, id) IN (SELECT e.owner, e.id FROM archive_jids j "
        "CROSS JOIN archive e ON e.owner = j.id AND e.id < ?2 WHERE j.host = ?1 LIMIT ?3)");
    q->bind(1, *host_id).bind(2, cutoff_ms << kSeqTimeShift).bind(3, static_cast<int64_t>(max_rows)).run();
    return static_cast<size_t>(db_.changes());
  }

  void remove_owner(std::string_view owner) override {
    if (auto owner_id = find_jid(owner)) {
      merge_all();
      auto q = db_.prepare("DELETE FROM archive WHERE owner = ?1");
      q->bind(1, *owner_id).run();
    }
    auto q = db_.prepare("DELETE FROM archive_prefs WHERE owner = ?1");
    q->bind(1, owner).run();
  }
  std::optional<ArchivePrefs> prefs(std::string_view owner) override {
    auto q = db_.prepare("SELECT default_mode, always, never FROM archive_prefs WHERE owner = ?1");
    q->bind(1, owner);
    if (!q->step()) return std::nullopt;
    return read_prefs(*q, 0);
  }

  void set_prefs(std::string_view owner, const ArchivePrefs& p) override {
    auto q = db_.prepare("INSERT OR REPLACE INTO archive_prefs (owner, default_mode, always, never) VALUES (?1, ?2, ?3, ?4)");
    q->bind(1, owner).bind(2, p.default_mode).bind(3, join(p.always)).bind(4, join(p.never)).run();
  }

  std::vector<std::pair<std::string, ArchivePrefs>> all_prefs() override {
    auto q = db_.prepare("SELECT owner, default_mode, always, never FROM archive_prefs ORDER BY owner");
    std::vector<std::pair<std::string, ArchivePrefs>> out;
    while (q->step()) out.emplace_back(q->column_text(0), read_prefs(*q, 1));
    return out;
  }

 private:
  static ArchivePrefs read_prefs(Statement& q, int first) {
    ArchivePrefs p;
    p.default_mode = q.column_text(first);
    p.always = split(q.column_text(first + 1));
    p.never = split(q.column_text(first + 2));
    return p;
  }

  // The owner's message known by `sid`: its entry's own id, or the message's (sid for its first owner,
  // sid2 for the second) when the entry has none.
  std::optional<int64_t> seq_of(int64_t owner, std::string_view sid) {
    // A server-made id: among the owner's messages archived near its time, in the entry lists (whose
    // entry has no id of its own) or not merged yet.
    if (auto t = archive_id_time_ms(sid)) {
      int64_t lo = std::max<int64_t>(0, *t - kIdTimeSlackMs) << kSeqTimeShift;
      int64_t hi = std::min<int64_t>(*t + kIdTimeSlackMs + 1, std::numeric_limits<int64_t>::max() >> kSeqTimeShift)
                   << kSeqTimeShift;
      auto n = db_.prepare(
          "SELECT e.id FROM archive e CROSS JOIN archive_messages m ON m.id = e.id WHERE e.owner = ?1 AND e.id >= ?3 "
          "AND e.id < ?4 AND e.sid IS NULL AND ((m.owner = ?1 AND m.nsid = ?2) OR (m.owner2 = ?1 AND m.nsid2 = ?2)) "
          "UNION ALL SELECT id FROM archive_messages WHERE id >= ?3 AND id < ?4 AND id > (SELECT mark FROM "
          "archive_entry_state) AND ((owner = ?1 AND nsid = ?2) OR (owner2 = ?1 AND nsid2 = ?2)) LIMIT 1");
      n->bind(1, owner).bind(2, sid).bind(3, lo).bind(4, hi);
      if (n->step()) return n->column_int(0);
    }
    auto q = db_.prepare(
        "SELECT id FROM archive WHERE owner = ?1 AND sid = ?2 UNION ALL "
        "SELECT e.id FROM archive_messages m CROSS JOIN archive e ON e.owner = ?1 AND e.id = m.id "
        "WHERE m.sid = ?2 AND m.owner = ?1 AND e.sid IS NULL UNION ALL "
        "SELECT e.id FROM archive_messages m CROSS JOIN archive e ON e.owner = ?1 AND e.id = m.id "
        "WHERE m.sid2 = ?2 AND m.owner2 = ?1 AND e.sid IS NULL LIMIT 1");
    q->bind(1, owner).bind(2, sid);
    if (!q->step()) return std::nullopt;
    return q->column_int(0);
  }

  std::optional<ArchivedMessage> edge(std::string_view owner, bool oldest) {
    auto owner_id = find_jid(owner);
    if (!owner_id) return std::nullopt;
    // The entry lists hold the older messages, the ones not merged yet the newer.
    int64_t emark = entry_mark();
    auto merged = [&]() -> std::optional<ArchivedMessage> {
      auto q = db_.prepare(std::string("SELECT ") + kColumns + " " + kEntries + " WHERE e.owner = ?1 ORDER BY e.id " +
                           (oldest ? "ASC" : "DESC") + " LIMIT 1");
      q->bind(1, *owner_id);
      if (!q->step()) return std::nullopt;
      return read_message(*q);
    };
    auto pending = [&]() -> std::optional<ArchivedMessage> {
      auto q = db_.prepare(std::string("SELECT ") + kColumns + " " + kPendingEntries + " ORDER BY e.id " +
                           (oldest ? "ASC" : "DESC") + " LIMIT 1");
      q->bind(1, *owner_id).bind(2, emark).bind(3, std::numeric_limits<int64_t>::max());
      if (!q->step()) return std::nullopt;
      return read_message(*q);
    };
    auto found = oldest ? merged() : pending();
    return found ? found : oldest ? pending() : merged();
  }

  static constexpr size_t kMaxCachedJids = 100000;
  Db& db_;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> ids_;  // interned JIDs
  uint64_t cache_rollbacks_ = 0;  // db_.rollbacks() when ids_ was last known true
  bool tail_created_ = false;
  int64_t last_seq_ = 0;   // the largest sequence number, as of write transaction last_txn_
  uint64_t last_txn_ = 0;  // 0: not known
  int64_t pending_ = 0;    // messages above the entry mark (pending())
  bool pending_known_ = false;
  uint64_t pending_rollbacks_ = 0;  // db_.rollbacks() when pending_ was counted
};

bool has_word_character(std::string_view w) {
  for (unsigned char c : w)
    if (c >= 0x80 || std::isalnum(c)) return true;
  return false;
}

}  // namespace

namespace {

std::string fulltext_words(std::string_view text) {
  std::string words;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    std::string_view w = text.substr(pos, end - pos);
    pos = end;
    bool prefix = w.size() > 1 && w.back() == '*';
    if (prefix) w.remove_suffix(1);
    if (!has_word_character(w)) continue;
    if (!words.empty()) words += ' ';
    words += '"';
    for (char c : w) {
      if (c == '"') words += '"';
      words += c;
    }
    words += '"';
    if (prefix) words += '*';
  }
  return words;
}

}  // namespace

std::string fulltext_match(int64_t owner_id, std::string_view text) {
  std::string words = fulltext_words(text);
  if (words.empty()) return {};
  return "okey:\"" + owner_key(owner_id) + "\" AND body:(" + words + ")";
}

std::unique_ptr<ArchiveStore> make_sqlite_archive_store(Db& db) { return std::make_unique<SqliteArchiveStore>(db); }

}  // namespace causerie::storage::sqlite
