// `causerie-bench fill-archive`: fills one account's message archive in Causerie's database directly,
// through the storage library's ArchiveStore (the same appends the server makes, full-text index included),
// many messages a transaction, so that a million-message archive takes a minute instead of an hour of
// chatting. Run on a stopped server's database. Stanza ids are "m<k>" (k = 0 is the oldest), so that the
// mam-page scenario can name pages in the middle; the correspondent of message k is
// <prefix><1 + k % correspondents>@<domain>, directions alternate, messages are one second apart and end now.
#pragma once

#include <string>

namespace causerie::bench {

struct ArchiveFillSpec {
  std::string database;             // path of causerie.db
  std::string owner = "u0@localhost";
  std::string domain = "localhost";
  std::string prefix = "u";
  unsigned count = 1000000;
  unsigned correspondents = 10;
  unsigned batch = 20000;           // messages per transaction
};

// Returns the number of messages appended; throws on storage errors.
unsigned fill_archive(const ArchiveFillSpec& spec);

}  // namespace causerie::bench
