// XEP-0045 v1.35 §7.2.13–§7.2.15: a room's discussion history, bounded by count and bytes, and the
// choice of what to send a new occupant given its <history maxchars maxstanzas seconds since/>.
//
// A History belongs to its room and follows the room's thread rules; select_history is pure.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>

#include "core/util/time.hpp"
#include "core/xml/element.hpp"

namespace causerie::modules::muc {

// What the joining client asked for (§7.2.15); absent attributes are no limit. Malformed values are
// ignored rather than refused, as the XEP has no error for them.
struct HistoryRequest {
  std::optional<size_t> maxchars, maxstanzas;
  std::optional<int64_t> seconds;
  std::optional<util::SystemTime> since;

  static HistoryRequest parse(const xml::Element* history);
};

struct HistoryEntry {
  util::SystemTime stamp;
  xml::Element message;  // as reflected: from the occupant JID, without 'to', with <occupant-id/>
  size_t chars = 0;      // its size as sent (serialized, with the <delay/> added), for maxchars
};

// The index of the first entry to send: the newest entries that satisfy every limit at once — the
// smallest amount of traffic meeting any combination of criteria (§7.2.15), never more than
// `room_limit` (muc#maxhistoryfetch). Returns entries.size() when nothing is to be sent.
size_t select_history(const std::deque<HistoryEntry>& entries, const HistoryRequest& req, size_t room_limit,
                      util::SystemTime now);

class History {
 public:
  History(size_t max_items, size_t max_bytes) : max_items_(max_items), max_bytes_(max_bytes) {}
  // Appends, dropping the oldest entries beyond the count or byte bound.
  void add(HistoryEntry e);
  void clear();
  // Removes the entries `drop` selects; returns how many went.
  size_t remove_if(const std::function<bool(const HistoryEntry&)>& drop);
  const std::deque<HistoryEntry>& entries() const { return entries_; }
  size_t bytes() const { return bytes_; }

 private:
  size_t max_items_, max_bytes_;
  size_t bytes_ = 0;
  std::deque<HistoryEntry> entries_;
};

}  // namespace causerie::modules::muc
