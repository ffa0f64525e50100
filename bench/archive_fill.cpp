#include "archive_fill.hpp"

#include <chrono>

#include "storage/archive_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace causerie::bench {

namespace {
// A few ordinary words, so that the full-text index holds what chat holds: repeated words, not one
// unique token per message.
constexpr const char* kWords[] = {"hello", "are", "you", "coming", "tonight", "the", "train", "is", "late",
                                  "again", "see", "you", "at", "eight", "bring", "the", "photos", "please"};
constexpr size_t kWordCount = sizeof kWords / sizeof kWords[0];
}  // namespace

unsigned fill_archive(const ArchiveFillSpec& spec) {
  auto db = storage::sqlite::open_sqlite(spec.database);
  storage::ArchiveStore& archive = db->archive();
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  unsigned done = 0;
  while (done < spec.count) {
    db->begin();
    unsigned end = std::min(spec.count, done + spec.batch);
    for (unsigned k = done; k < end; ++k) {
      storage::ArchivedMessage m;
      m.id = "m" + std::to_string(k);
      std::string contact = spec.prefix + std::to_string(1 + k % spec.correspondents) + "@" + spec.domain;
      m.with = contact + "/bench";
      m.outgoing = k % 2 == 0;
      m.message_id = "f" + std::to_string(k);
      std::string body;
      for (size_t w = 0; w < 8; ++w) {
        if (w) body += ' ';
        body += kWords[(k * 7 + w * 3) % kWordCount];
      }
      body += " " + std::to_string(k % 1000);
      m.body = body;
      const std::string& from = m.outgoing ? spec.owner + "/bench" : m.with;
      const std::string& to = m.outgoing ? m.with : spec.owner;
      m.xml = "<message xmlns='jabber:client' from='" + from + "' to='" + to + "' type='chat' id='" + m.message_id +
              "'><body>" + body + "</body></message>";
      archive.append(spec.owner, m, now_ms - static_cast<int64_t>(spec.count - k) * 1000);
    }
    db->commit();
    done = end;
  }
  // The full-text index, as the server's write lane would have filled it when idle over the archive's
  // history: not left for the measured run, where it would compete with the queries for the core.
  for (bool more = true; more;) {
    db->begin();
    more = archive.index_pending(spec.batch) > 0;
    db->commit();
  }
  return done;
}

}  // namespace causerie::bench
