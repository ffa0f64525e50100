#include "feed_fill.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "storage/feed_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace causerie::bench {

namespace {
constexpr const char* kMicroblog = "urn:xmpp:microblog:0";
// Other readers whose feeds get each post too: bench accounts past the authors.
constexpr unsigned kOtherReaders = 5000;
}  // namespace

unsigned fill_feed(const FeedFillSpec& spec) {
  if (spec.authors == 0 || spec.follow > spec.authors) throw std::runtime_error("fill-feed: need 0 < authors, follow <= authors");
  auto db = storage::sqlite::open_sqlite(spec.database, 64000);
  auto bare = [&](unsigned i) { return spec.prefix + std::to_string(i) + "@" + spec.domain; };
  const std::string reader = bare(0);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();

  // The authors' microblog nodes (kept when an earlier run made them), with the server's defaults for
  // them (empty config: PEP's presence access, XEP-0277 §7.1), and the follow relation on both rosters.
  std::vector<int64_t> nodes;
  db->begin();
  for (unsigned a = 0; a < spec.authors; ++a) {
    std::string author = bare(1 + a);
    int64_t id = db->pubsub().create_node(storage::PubsubNode{0, author, kMicroblog, "", author, now_ms, 0});
    if (id == 0) id = db->pubsub().node(author, kMicroblog)->id;
    nodes.push_back(id);
    if (a < spec.follow) {
      storage::RosterItem to_reader{reader, "", storage::Subscription::kBoth};
      db->roster().put(author, to_reader);
      storage::RosterItem to_author{author, "", storage::Subscription::kBoth};
      db->roster().put(reader, to_author);
    }
  }
  db->commit();

  unsigned mine = 0, rng = 12345;
  std::vector<storage::FeedRow> rows;
  for (unsigned done = 0; done < spec.posts;) {
    db->begin();
    unsigned end = std::min(spec.posts, done + spec.batch);
    for (unsigned k = done; k < end; ++k) {
      unsigned a = k % spec.authors;
      std::string author = bare(1 + a), id = "p" + std::to_string(k);
      // An Atom entry of about 400 bytes, the size of a short post (XEP-0277 §3).
      storage::PubsubItem item{id, author,
                               "<entry xmlns='http://www.w3.org/2005/Atom'><title>Post " + std::to_string(k) +
                                   "</title><id>tag:" + spec.domain + ",2026:posts-" + id + "</id><published>"
                                   "2026-12-07T10:00:00Z</published><updated>2026-12-07T10:00:00Z</updated>"
                                   "<author><name>" + author + "</name><uri>xmpp:" + author + "</uri></author>"
                                   "<content type='text'>A post of the benchmark's feed, long enough to weigh what a short "
                                   "post weighs: a few sentences about the weather, a link, a thought.</content></entry>",
                               "", now_ms - static_cast<int64_t>(spec.posts - k) * 1000, 0};
      db->pubsub().put_item(nodes[a], item);
      int64_t seq = db->pubsub().item(nodes[a], id)->seq;
      if (a < spec.follow) {
        rows.push_back(storage::FeedRow{reader, seq, storage::kFeedPeople});
        ++mine;
      }
      for (int o = 0; o < 2; ++o) {
        rng = rng * 1103515245u + 12345u;
        rows.push_back(storage::FeedRow{bare(1 + spec.authors + (rng >> 8) % kOtherReaders), seq, storage::kFeedPeople});
      }
      if (rows.size() >= 20000) {
        db->feed().add(rows);
        rows.clear();
      }
    }
    if (!rows.empty()) db->feed().add(rows);
    rows.clear();
    db->commit();
    done = end;
  }
  return mine;
}

}  // namespace causerie::bench
