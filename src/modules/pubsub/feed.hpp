// Feed: every account's server-side news feed (docs/protocol/feed.md). It indexes items as they are
// published — in the publish job itself, so a post and its feed rows commit together — into the
// FeedStore: posts of the people a reader follows (its contacts' microblogs and explicit subscriptions,
// exactly the readers the engine's fan-out plan chose, so per-post visibility holds), posts of the
// communities it subscribed to, comments and likes on its own posts (XEP-0470 attachments, Movim's "♥"
// comments) and Atom entries naming it (xmpp:reader). A new subscription brings the node's recent
// items the subscriber may read. Readers page through their feed with <query xmlns='urn:causerie:feed:0'/>
// (RSM both ways, kind filters); live updates are the PEP/pubsub notifications they already get.
// Visibility is asked again when a page is read (may_see(), access.hpp, on the owners' rosters as they
// are then): a row is where a post may appear, never a grant to see it (docs/protocol/audiences.md).
//
// Thread rules: the observers run in storage jobs (write lane); query() runs on the requesting
// session's thread and reads on the read lane. No mutable state.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "modules/pubsub/engine.hpp"
#include "storage/feed_store.hpp"

namespace causerie::modules::pubsub {

inline constexpr const char* kFeedNs = "urn:causerie:feed:0";

struct FeedSettings {
  size_t default_page = 20;
  size_t max_page = 100;
  size_t backfill = 50;  // items of a node brought into a new subscriber's feed
};

class Feed {
 public:
  Feed(ModuleContext& ctx, Engine& engine, FeedSettings settings);

  // The feed rows an item publication causes (write lane, in the publish job).
  std::vector<storage::FeedRow> rows_for(storage::Storage& db, const Service& svc, const Engine::Published& p) const;

 private:
  void query(IqRequest& req);
  // A node of the feed's entries as the reader relates to it, read once per page.
  struct Seen {
    NodeState node;
    Requester reader;
  };
  // Whether the reader may still see a feed entry's item now (read lane).
  bool still_visible(storage::Storage& db, const storage::FeedEntry& e, const std::string& reader,
                     std::unordered_map<std::string, std::optional<Seen>>& nodes) const;
  // One page of the reader's feed, of rows whose items it may still see (read lane); complete when no
  // row lies beyond it in the direction walked.
  struct VisiblePage {
    std::vector<storage::FeedEntry> entries;
    bool complete = true;
  };
  VisiblePage visible_page(storage::Storage& db, const storage::FeedQuery& fq) const;
  void backfill(storage::Storage& db, const Service& svc, const NodeState& n, const std::string& reader) const;
  // The feed kind of posts on node `n`, 0 when its items are not posts a feed shows.
  uint32_t post_kind(const Service& svc, const NodeState& n) const;
  bool local_account(const std::string& bare) const;

  ModuleContext& ctx_;
  Engine& engine_;
  FeedSettings settings_;
};

// "people communities" → the FeedKind bits; nullopt for an unknown name.
std::optional<uint32_t> parse_feed_filter(const std::vector<std::string>& names);
std::string feed_kind_names(uint32_t kinds);
// The local-looking bare JIDs an Atom entry names as xmpp: URIs (in its text and its attributes).
std::vector<std::string> mentioned_jids(const xml::Element& entry, size_t max);

}  // namespace causerie::modules::pubsub
