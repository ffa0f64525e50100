#include "modules/muc/history.hpp"

#include <charconv>

namespace causerie::modules::muc {

namespace {

template <typename T>
std::optional<T> parse_uint(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

HistoryRequest HistoryRequest::parse(const xml::Element* h) {
  HistoryRequest r;
  if (!h) return r;
  if (const std::string* v = h->find_attr("maxchars")) r.maxchars = parse_uint<size_t>(*v);
  if (const std::string* v = h->find_attr("maxstanzas")) r.maxstanzas = parse_uint<size_t>(*v);
  if (const std::string* v = h->find_attr("seconds")) {
    if (auto s = parse_uint<uint32_t>(*v)) r.seconds = static_cast<int64_t>(*s);
  }
  if (const std::string* v = h->find_attr("since")) r.since = util::parse_datetime(*v);
  return r;
}

size_t select_history(const std::deque<HistoryEntry>& entries, const HistoryRequest& req, size_t room_limit,
                      util::SystemTime now) {
  size_t max_count = room_limit;
  if (req.maxstanzas && *req.maxstanzas < max_count) max_count = *req.maxstanzas;
  std::optional<util::SystemTime> cutoff = req.since;
  if (req.seconds) {
    util::SystemTime by_seconds = now - std::chrono::seconds(*req.seconds);
    if (!cutoff || by_seconds > *cutoff) cutoff = by_seconds;
  }
  size_t first = entries.size();
  size_t chars = 0;
  // Walk back from the newest; stop at the first entry any limit excludes (complete stanzas only).
  while (first > 0) {
    const HistoryEntry& e = entries[first - 1];
    if (entries.size() - first >= max_count) break;
    if (cutoff && e.stamp < *cutoff) break;
    if (req.maxchars && chars + e.chars > *req.maxchars) break;
    chars += e.chars;
    --first;
  }
  return first;
}

void History::add(HistoryEntry e) {
  bytes_ += e.chars;
  entries_.push_back(std::move(e));
  while (!entries_.empty() && (entries_.size() > max_items_ || bytes_ > max_bytes_)) {
    bytes_ -= entries_.front().chars;
    entries_.pop_front();
  }
}

size_t History::remove_if(const std::function<bool(const HistoryEntry&)>& drop) {
  size_t before = entries_.size();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (drop(*it)) {
      bytes_ -= it->chars;
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return before - entries_.size();
}

void History::clear() {
  entries_.clear();
  bytes_ = 0;
}

}  // namespace causerie::modules::muc
