// `causerie-bench fill-feed`: fills Causerie's database, directly through the storage library (the
// PubsubStore, FeedStore and RosterStore the server uses), with what the `feed-page` scenario reads: one
// reader, <prefix>0, following --follow people, among --authors whose XEP-0277 microblogs hold --posts
// posts in total, with every post's feed rows (the reader's, when it follows the author, and two other
// readers' each, so the feed table holds other readers' rows around the reader's as on a real server), many
// posts a transaction. Run on a stopped server's database.
//
// Post k (k = 0 is the oldest) has item id "p<k>", is by <prefix><1 + k % authors>@<domain>, and posts
// are one second apart ending now; the reader follows <prefix>1 … <prefix><follow>: each has the reader
// on its roster with subscription both (so the microblog's default presence access lets it read, and
// visibility is checked again on every page as the server does), and the reader has them on its own.
// So the reader's newest feed entries are the posts k, downwards from the last, with k % authors < follow.
#pragma once

#include <string>

namespace causerie::bench {

struct FeedFillSpec {
  std::string database;  // path of causerie.db
  std::string domain = "localhost";
  std::string prefix = "u";
  unsigned posts = 1000000;
  unsigned authors = 2000;
  unsigned follow = 500;   // the first `follow` authors are followed (at most `authors`)
  unsigned batch = 50000;  // posts per transaction
};

// Returns the number of feed rows of the reader; throws on storage errors.
unsigned fill_feed(const FeedFillSpec& spec);

}  // namespace causerie::bench
