// ArchiveStore: XEP-0313 message archives, one per account (owner = its bare JID), and the account's
// XEP-0441 archiving preferences. Shaped by the data (DESIGN §5): an archive is a time-ordered list
// paged by keyset (RSM before/after, before-id/after-id), never by offset, so a page out of millions of
// messages costs one index range scan. Each message has a sequence number, its place in the archive
// (larger is newer, assigned by the store and never reused), and a stanza id (XEP-0359), the opaque and
// unpredictable name clients know it by. The sequence number also carries the time of archiving
// (unix milliseconds in its high bits, see kSeqTimeShift), so time filters are sequence ranges too.
//
// Thread rules: like every store, used only on the storage thread that owns its connection.
// Failures throw StorageError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

// seq = (milliseconds since the epoch << kSeqTimeShift) + a counter, and never smaller than the last
// seq given (in any archive) + 1: when the clock goes back, messages keep their order and take the time
// of the newest message before them. Sequence numbers are never reused.
inline constexpr int kSeqTimeShift = 20;
inline int64_t seq_time_ms(int64_t seq) { return seq >> kSeqTimeShift; }

// The stanza ids the server gives (mam::new_archive_id): 9 base32hex digits of the time of archiving in
// unix milliseconds, then 12 base64url characters from the CSPRNG. The store finds such an id without an
// index on ids: by its time, among the owner's messages archived within kIdTimeSlackMs of it (append
// keeps an id whose time is further from its message's seq, e.g. after the clock went back, in an
// indexed column instead). Returns the time, or nullopt when `id` is not of that form.
inline constexpr int64_t kIdTimeSlackMs = 1000;
inline std::optional<int64_t> archive_id_time_ms(std::string_view id) {
  if (id.size() != 21) return std::nullopt;
  int64_t t = 0;
  for (size_t i = 0; i < 9; ++i) {
    char c = id[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'V' ? c - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    t = t * 32 + d;
  }
  for (size_t i = 9; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return t;
}

struct ArchivedMessage {
  int64_t seq = 0;          // set by append
  std::string id;           // stanza id, unique within the owner's archive
  std::string with;         // the other party as on the stanza: 'to' (outgoing) or 'from' (incoming)
  bool outgoing = false;
  std::string message_id;   // the stanza's own 'id' attribute ("" if none): what XEP-0424 retracts by
  std::string xml;          // the message as archived
  std::string body;         // its text for full-text search ("" = not indexed)

  int64_t time_ms() const { return seq_time_ms(seq); }
};

// The same message in a second archive: its owner, the other party as that archive sees it, direction,
// and the message's stanza id there (each archive has its own: XEP-0313 §5.1.2, a contact never learns
// the ids of the sender's archive).
struct ArchiveCopy {
  std::string_view owner;
  std::string_view with;
  bool outgoing = false;
  std::string_view id;
};

// One page of a query. Paging fields name stanza ids; unknown ids make the query fail (XEP-0313 §4.1.3).
struct ArchiveQuery {
  std::string with;                    // "": any; bare JID: any of its resources; full JID: exactly it
  std::optional<int64_t> start_ms;     // only messages archived at or after this time
  std::optional<int64_t> end_ms;       // only messages archived at or before this time
  std::vector<std::string> after;      // only messages after each of these (after-id, RSM <after>)
  std::vector<std::string> before;     // only messages before each of these (before-id, RSM <before>)
  std::vector<std::string> ids;        // non-empty: only these messages
  std::string fulltext;                // non-empty: only messages whose body has every word (FTS5)
  size_t limit = 50;
  bool from_end = false;               // the page nearest the end of the result set (RSM <before>)
};

struct ArchivePage {
  std::vector<ArchivedMessage> messages;  // in archive order, oldest first
  bool complete = true;                   // no more matches beyond this page, in the paging direction
};

// XEP-0441 preferences. Absent from the store: the server's default.
struct ArchivePrefs {
  std::string default_mode = "always";  // always | never | roster
  std::vector<std::string> always, never;
};

class ArchiveStore {
 public:
  virtual ~ArchiveStore() = default;

  // Appends to `owner`'s archive, at time `now_ms`, and to copy->owner's if given (the other party of a
  // 1:1 message when both are accounts here: one stored message and one seq for both, under each
  // archive's own stanza id); sets and returns m.seq. Throws when a stanza id is already used in its
  // archive.
  virtual int64_t append(std::string_view owner, ArchivedMessage& m, int64_t now_ms, const ArchiveCopy* copy) = 0;
  int64_t append(std::string_view owner, ArchivedMessage& m, int64_t now_ms) { return append(owner, m, now_ms, nullptr); }
  // Imports a message archived at `time_ms` (XEP-0227): its seq carries exactly that time, after every
  // message of the same millisecond, whatever newer messages the store holds. Sets and returns m.seq.
  // Throws when the stanza id is already used in this archive.
  virtual int64_t insert_at(std::string_view owner, ArchivedMessage& m, int64_t time_ms) = 0;
  // Brings the full-text index up to date with up to `max_rows` of the messages stored since it last
  // was (append leaves that to this, run in batches when the write lane is idle); returns how many it
  // took, 0 when the index is up to date. Queries never depend on it: a search also matches the
  // messages not indexed yet.
  virtual size_t index_pending(size_t max_rows) = 0;
  // Files up to `max_rows` of the messages appended since it last ran into their archives' entry lists
  // (append stores a message alone; its entries follow in sorted batches, written once per batch instead
  // of a page per entry and commit) — if at least `min_rows` wait; returns how many it took, else 0.
  // Run by the write lane when idle (with a minimum: small merges would write the pages they are meant
  // to spare), and by append itself once kMaxPendingEntries wait. Queries never depend on it.
  virtual size_t merge_pending(size_t max_rows, size_t min_rows) = 0;
  // nullopt when an id the query names (after, before, ids) is not in the archive.
  virtual std::optional<ArchivePage> query(std::string_view owner, const ArchiveQuery& q) = 0;
  virtual std::optional<ArchivedMessage> first(std::string_view owner) = 0;
  virtual std::optional<ArchivedMessage> last(std::string_view owner) = 0;
  // The newest message of the conversation with `with_bare` in one direction whose 'id' attribute is
  // `message_id`, among the conversation's last `window` messages (a retraction names a recent one).
  virtual std::optional<ArchivedMessage> find_by_message_id(std::string_view owner, std::string_view with_bare,
                                                            bool outgoing, std::string_view message_id,
                                                            size_t window) = 0;
  // Replaces a message's content in `owner`'s archive only, keeping its seq, id, time and correspondent (a
  // tombstone); the body given is not searched.
  virtual void replace_content(std::string_view owner, int64_t seq, std::string_view xml, std::string_view body) = 0;
  // Removes up to `max_rows` of the oldest messages of `host`'s accounts archived before `cutoff_ms`;
  // returns how many went.
  virtual size_t expire(std::string_view host, int64_t cutoff_ms, size_t max_rows) = 0;
  // Removes an account's archive and preferences.
  virtual void remove_owner(std::string_view owner) = 0;

  virtual std::optional<ArchivePrefs> prefs(std::string_view owner) = 0;
  virtual void set_prefs(std::string_view owner, const ArchivePrefs& prefs) = 0;
  // Every stored preference set, for loading into memory at startup.
  virtual std::vector<std::pair<std::string, ArchivePrefs>> all_prefs() = 0;
};

}  // namespace causerie::storage
