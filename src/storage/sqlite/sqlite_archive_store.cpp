#include "storage/sqlite/sqlite_archive_store.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "core/util/encoding.hpp"
#include "storage/sqlite/sqlite_db.hpp"
#include "storage/storage.hpp"

namespace causerie::storage::sqlite {

namespace {

constexpr const char* kColumns = "a.id, a.sid, a.with_bare, a.with_resource, a.outgoing, a.msg_id, a.xml, a.body";
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

class SqliteArchiveStore final : public ArchiveStore {
 public:
  explicit SqliteArchiveStore(Db& db) : db_(db) {}

  int64_t append(std::string_view owner, ArchivedMessage& m, int64_t now_ms) override {
    // The last sequence number is read once per write transaction (the storage lane's batch), then kept:
    // nobody else writes while the transaction holds the write lock.
    bool in_txn = db_.in_transaction();
    if (!in_txn || last_txn_ != db_.write_transaction()) {
      auto q = db_.prepare("SELECT MAX(id) FROM archive");
      last_seq_ = q->step() ? q->column_int(0) : 0;
      last_txn_ = in_txn ? db_.write_transaction() : 0;
    }
    m.seq = std::max(now_ms << kSeqTimeShift, last_seq_ + 1);
    insert(owner, m);
    last_seq_ = m.seq;
    return m.seq;
  }

  int64_t insert_at(std::string_view owner, ArchivedMessage& m, int64_t time_ms) override {
    int64_t lo = time_ms << kSeqTimeShift, hi = (time_ms + 1) << kSeqTimeShift;
    auto q = db_.prepare("SELECT MAX(id) FROM archive WHERE id >= ?1 AND id < ?2");
    q->bind(1, lo).bind(2, hi);
    int64_t last = q->step() ? q->column_int(0) : 0;  // NULL reads as 0
    m.seq = std::max(lo, last + 1);
    if (m.seq >= hi) throw StorageError("more than 2^20 archived messages in one millisecond");
    insert(owner, m);
    last_txn_ = 0;  // append's cached highest id may be behind this one: read it again
    return m.seq;
  }

 private:
  void insert(std::string_view owner, const ArchivedMessage& m) {
    std::string_view with = m.with;
    size_t slash = with.find('/');
    auto q = db_.prepare(
        "INSERT INTO archive (id, owner, host, sid, with_bare, with_resource, outgoing, msg_id, xml, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    q->bind(1, m.seq).bind(2, owner).bind(3, host_of(owner)).bind(4, m.id).bind(5, with.substr(0, slash));
    // A std::string, never a null string_view: SQLite would bind NULL for an empty one without data.
    std::string resource(slash == std::string_view::npos ? std::string_view() : with.substr(slash + 1));
    q->bind(6, resource);
    q->bind(7, int64_t{m.outgoing}).bind(8, m.message_id).bind(9, m.xml).bind(10, m.body).run();
  }

 public:

  std::optional<ArchivePage> query(std::string_view owner, const ArchiveQuery& q) override {
    // Everything becomes an open interval of sequence numbers (lo, hi).
    int64_t lo = 0, hi = std::numeric_limits<int64_t>::max();
    for (const auto& id : q.after) {
      auto s = seq_of(owner, id);
      if (!s) return std::nullopt;
      lo = std::max(lo, *s);
    }
    for (const auto& id : q.before) {
      auto s = seq_of(owner, id);
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
        auto s = seq_of(owner, id);
        if (!s) return std::nullopt;
        if (ids_json.size() > 1) ids_json += ",";
        ids_json += std::to_string(*s);
      }
      ids_json += "]";
    }
    ArchivePage page;
    if (lo >= hi - 1) return page;

    std::string match;
    if (!q.fulltext.empty()) {
      match = fulltext_match(owner, q.fulltext);
      if (match.empty()) return page;  // no word to look for: nothing matches
    }
    std::string_view with = q.with;
    size_t slash = with.find('/');
    std::string_view with_bare = with.substr(0, slash);
    std::string_view with_res = slash == std::string_view::npos ? std::string_view() : with.substr(slash + 1);

    // ?1 owner, ?2 lo, ?3 hi, ?4 limit, then the optional filters in a fixed order, so the SQL text (and
    // the statement cache) depends only on which filters are present.
    std::string sql = "SELECT ";
    sql += kColumns;
    if (!match.empty()) {
      // The FTS index walks its own rowids (one account's, through okey) in order; the archive row is a
      // rowid lookup. CROSS JOIN keeps that order.
      sql += " FROM archive_fts f CROSS JOIN archive a ON a.id = f.rowid WHERE archive_fts MATCH ?5"
             " AND f.rowid > ?2 AND f.rowid < ?3 AND a.owner = ?1";
    } else {
      sql += " FROM archive a WHERE a.owner = ?1 AND a.id > ?2 AND a.id < ?3";
    }
    if (!with.empty()) sql += " AND a.with_bare = ?6";
    if (!with_res.empty()) sql += " AND a.with_resource = ?7";
    if (!ids_json.empty()) sql += " AND a.id IN (SELECT value FROM json_each(?8))";
    // With FTS, order by the index's own rowid: SQLite then lets FTS5 walk in that order and stops at the
    // LIMIT; ordering by a.id (the same values) made it sort every match (seconds for a common word in a
    // million-message archive).
    sql += match.empty() ? " ORDER BY a.id" : " ORDER BY f.rowid";
    sql += q.from_end ? " DESC" : " ASC";
    sql += " LIMIT ?4";
    auto s = db_.prepare(sql);
    s->bind(1, owner).bind(2, lo).bind(3, hi).bind(4, static_cast<int64_t>(q.limit) + 1);
    if (!match.empty()) s->bind(5, match);
    if (!with.empty()) s->bind(6, with_bare);
    if (!with_res.empty()) s->bind(7, with_res);
    if (!ids_json.empty()) s->bind(8, ids_json);
    while (s->step()) page.messages.push_back(read_message(*s));
    page.complete = page.messages.size() <= q.limit;
    if (!page.complete) page.messages.pop_back();
    if (q.from_end) std::reverse(page.messages.begin(), page.messages.end());
    return page;
  }

  std::optional<ArchivedMessage> first(std::string_view owner) override { return edge(owner, true); }
  std::optional<ArchivedMessage> last(std::string_view owner) override { return edge(owner, false); }

  std::optional<ArchivedMessage> find_by_message_id(std::string_view owner, std::string_view with_bare, bool outgoing,
                                                    std::string_view message_id, size_t window) override {
    auto q = db_.prepare(std::string("SELECT ") + kColumns +
                         " FROM (SELECT * FROM archive WHERE owner = ?1 AND with_bare = ?2 ORDER BY id DESC LIMIT ?5) a"
                         " WHERE a.outgoing = ?3 AND a.msg_id = ?4 ORDER BY a.id DESC LIMIT 1");
    q->bind(1, owner).bind(2, with_bare).bind(3, int64_t{outgoing}).bind(4, message_id);
    q->bind(5, static_cast<int64_t>(window));
    if (!q->step()) return std::nullopt;
    return read_message(*q);
  }

  void replace_content(std::string_view owner, int64_t seq, std::string_view xml, std::string_view body) override {
    auto q = db_.prepare("UPDATE archive SET xml = ?3, body = ?4 WHERE owner = ?1 AND id = ?2");
    q->bind(1, owner).bind(2, seq).bind(3, xml).bind(4, body).run();
  }

  size_t expire(std::string_view host, int64_t cutoff_ms, size_t max_rows) override {
    if (cutoff_ms <= 0) return 0;
    auto q = db_.prepare(
        "DELETE FROM archive WHERE id IN (SELECT id FROM archive WHERE host = ?1 AND id < ?2 ORDER BY id LIMIT ?3)");
    q->bind(1, host).bind(2, cutoff_ms << kSeqTimeShift).bind(3, static_cast<int64_t>(max_rows)).run();
    return static_cast<size_t>(db_.changes());
  }

  void remove_owner(std::string_view owner) override {
    for (const char* sql : {"DELETE FROM archive WHERE owner = ?1", "DELETE FROM archive_prefs WHERE owner = ?1"}) {
      auto q = db_.prepare(sql);
      q->bind(1, owner).run();
    }
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

  std::optional<int64_t> seq_of(std::string_view owner, std::string_view sid) {
    auto q = db_.prepare("SELECT id FROM archive WHERE owner = ?1 AND sid = ?2");
    q->bind(1, owner).bind(2, sid);
    if (!q->step()) return std::nullopt;
    return q->column_int(0);
  }

  std::optional<ArchivedMessage> edge(std::string_view owner, bool oldest) {
    auto q = db_.prepare(std::string("SELECT ") + kColumns + " FROM archive a WHERE a.owner = ?1 ORDER BY a.id " +
                         (oldest ? "ASC" : "DESC") + " LIMIT 1");
    q->bind(1, owner);
    if (!q->step()) return std::nullopt;
    return read_message(*q);
  }

  Db& db_;
  int64_t last_seq_ = 0;   // the largest sequence number, as of write transaction last_txn_
  uint64_t last_txn_ = 0;  // 0: not known
};

bool has_word_character(std::string_view w) {
  for (unsigned char c : w)
    if (c >= 0x80 || std::isalnum(c)) return true;
  return false;
}

}  // namespace

std::string fulltext_match(std::string_view owner, std::string_view text) {
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
  if (words.empty()) return {};
  // SQLite's hex() in the triggers writes upper case; the tokenizer folds case, so the tokens are equal.
  return "okey:\"" + util::hex_encode(owner) + "\" AND body:(" + words + ")";
}

std::unique_ptr<ArchiveStore> make_sqlite_archive_store(Db& db) { return std::make_unique<SqliteArchiveStore>(db); }

}  // namespace causerie::storage::sqlite
