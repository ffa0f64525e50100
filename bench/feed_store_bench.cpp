// causerie-feed-bench: the news feed's storage path (storage/feed_store.hpp) on a real SQLite database,
// without the network: (1) the first page of a reader following 500 people among 1 000 000 posts
// stored, (2) the fan-out of one post to 1 000 followers' feeds (the row writes the publish job adds,
// in one transaction as the write lane's group commit does), (3) the first page again with fan-outs
// waiting packed (sqlite_feed_schema.cpp), which every page reads. The database is filled directly through
// the stores, in large transactions. Prints one JSON line with measured figures.
//
// Usage: causerie-feed-bench [--posts N] [--authors N] [--follow N] [--queries N] [--fanout N]
//                            [--per-commit N] [--dir D]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "storage/feed_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie::storage;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

}  // namespace

int main(int argc, char** argv) {
  size_t posts = 1'000'000, authors = 2000, follow = 500, queries = 2000, fanout = 1000, fan_posts = 255, per_commit = 1;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (k == "--posts") posts = v;
    else if (k == "--authors") authors = v;
    else if (k == "--follow") follow = v;
    else if (k == "--queries") queries = v;
    else if (k == "--fanout") fanout = v;
    else if (k == "--per-commit") per_commit = std::max<size_t>(1, v);
    else if (k == "--dir") dir = argv[i + 1];
  }
  std::string path = dir + "/causerie-feed-bench-" + std::to_string(::getpid()) + ".db";
  auto db = causerie::storage::sqlite::open_sqlite(path, 64000);
  const std::string reader = "reader@localhost";
  const std::string payload(400, 'x');  // an Atom entry's size, roughly

  // Fill: `authors` microblog nodes, posts round-robin; the reader follows the first `follow` authors,
  // and every post also reaches two other readers' feeds (so the feed table holds other readers' rows
  // around the reader's, as in a real server).
  auto t0 = Clock::now();
  std::vector<int64_t> node_ids;
  db->begin();
  for (size_t a = 0; a < authors; ++a) {
    PubsubNode n{0, "author" + std::to_string(a) + "@localhost", "urn:xmpp:microblog:0", "", "", 0, 0};
    node_ids.push_back(db->pubsub().create_node(n));
  }
  db->commit();
  std::mt19937 rng(42);
  std::vector<FeedRow> rows;
  int64_t seq = 0;
  for (size_t i = 0; i < posts; ++i) {
    if (i % 50'000 == 0) db->begin();
    size_t a = i % authors;
    PubsubItem it{"p" + std::to_string(i), "author" + std::to_string(a) + "@localhost", payload, "", 1, 0};
    db->pubsub().put_item(node_ids[a], it);
    ++seq;  // rowids are handed out in order on a fresh table
    if (a < follow) rows.push_back(FeedRow{reader, seq, kFeedPeople});
    for (int k = 0; k < 2; ++k) rows.push_back(FeedRow{"r" + std::to_string(rng() % 5000) + "@localhost", seq, kFeedPeople});
    if (rows.size() >= 20'000) {
      db->feed().add(rows);
      rows.clear();
    }
    if (i % 50'000 == 49'999 || i + 1 == posts) {
      db->feed().add(rows);
      rows.clear();
      db->commit();
    }
  }
  double fill_s = ms_since(t0) / 1000;

  // (1) First page, newest first, 20 entries with their items.
  FeedQuery q;
  q.reader = reader;
  q.limit = 20;
  size_t got = 0;
  auto time_pages = [&] {
    std::vector<double> lat;
    for (size_t i = 0; i < queries; ++i) {
      auto t = Clock::now();
      auto page = db->feed().page(q);
      bool more = db->feed().has_older(q, page.back().seq);
      lat.push_back(ms_since(t));
      got += page.size() + (more ? 0 : 1);
    }
    return lat;
  };
  std::vector<double> lat = time_pages();

  // (2) Fan-out: one post stored, then its row for each of `fanout` followers; `per_commit` posts per
  // transaction (1: a commit, so an fsync, per post; the write lane's group commit batches more under load).
  std::vector<FeedRow> fan;
  for (size_t f = 0; f < fanout; ++f) fan.push_back(FeedRow{"follower" + std::to_string(f) + "@localhost", 0, kFeedPeople});
  auto tf = Clock::now();
  double c0 = cpu_seconds();
  for (size_t i = 0; i < fan_posts; ++i) {
    if (i % per_commit == 0) db->begin();
    PubsubItem it{"fan" + std::to_string(i), "author0@localhost", payload, "", 1, 0};
    db->pubsub().put_item(node_ids[0], it);
    auto stored = db->pubsub().item(node_ids[0], it.id);
    for (auto& r : fan) r.seq = stored->seq;
    db->feed().add(fan);
    if (i % per_commit == per_commit - 1 || i + 1 == fan_posts) db->commit();
  }
  double fan_wall = ms_since(tf) / 1000, fan_cpu = cpu_seconds() - c0;

  // (3) The first page again, now that fan-outs wait packed in feed_pending (255 posts: 127 left after
  // the merge at 128, the most there ever are): every page reads them all.
  std::vector<double> lat_pending = time_pages();

  std::printf("{\"bench\":\"feed_store\",\"posts\":%zu,\"authors\":%zu,\"followed\":%zu,\"fill_s\":%.1f,"
              "\"first_page_p50_ms\":%.3f,\"first_page_p99_ms\":%.3f,\"first_page_max_ms\":%.3f,\"queries\":%zu,"
              "\"entries_seen\":%zu,\"fanout\":%zu,\"fanout_posts\":%zu,\"posts_per_commit\":%zu,\"fanout_rows_per_s\":%.0f,"
              "\"fanout_rows_per_cpu_s\":%.0f,\"fanout_post_ms\":%.3f,\"first_page_pending_p50_ms\":%.3f,"
              "\"first_page_pending_p99_ms\":%.3f,\"first_page_pending_max_ms\":%.3f}\n",
              posts, authors, follow, fill_s, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1.0), queries,
              got, fanout, fan_posts, per_commit, fan_posts * fanout / fan_wall, fan_posts * fanout / fan_cpu,
              fan_wall * 1000 / fan_posts, percentile(lat_pending, 0.5), percentile(lat_pending, 0.99),
              percentile(lat_pending, 1.0));
  db.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return 0;
}
