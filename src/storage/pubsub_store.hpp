// PubsubStore: XEP-0060 nodes, their items, subscriptions and affiliations, for the pubsub service
// (service = its domain, "pubsub.example.org") and every account's PEP service (service = the bare
// JID). Shaped by the data (DESIGN §5): nodes are rows with an opaque configuration owned by the pubsub
// module; items are a time-ordered archive per node (newest first, paged by sequence number), so the
// latest N of a node with millions of items is one index range scan.
//
// Thread rules: like every store, used only on the storage thread that owns its connection.
// Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

struct PubsubNode {
  int64_t id = 0;
  std::string service;
  std::string node;
  std::string config;   // serialized by the pubsub module
  std::string creator;  // bare JID
  int64_t created = 0;  // unix milliseconds
  int64_t item_count = 0;
};

struct PubsubItem {
  std::string id;
  std::string publisher;  // the JID stamped by the service (XEP-0060 §7.1.2.3)
  std::string payload;    // the <item/>'s children, serialized
  std::string access;     // item-level access model ("" = the node's), for social feeds
  int64_t published = 0;  // unix milliseconds of this version of the item
  int64_t seq = 0;        // publication order: larger is newer; a re-publication gets a new one
};

// Which items a query returns: newest first, after filtering.
struct PubsubItemQuery {
  std::vector<std::string> access_in;  // non-empty: only items whose access is one of these
  int64_t published_after = 0;         // > 0: only items published after this (pubsub#item_expire)
  int64_t older_than_seq = 0;          // > 0: only items with seq < this (RSM "after")
  int64_t newer_than_seq = 0;          // > 0: only items with seq > this (RSM "before")
  size_t offset = 0;
  size_t limit = 0;                    // 0: no limit
  bool oldest_first = false;           // walk from the oldest (RSM "before", last pages)
};

struct PubsubSubscription {
  std::string jid;      // as subscribed: bare or full
  std::string subid;
  std::string state;    // "subscribed", "pending", "unconfigured"
  std::string options;  // serialized subscription options ("" = defaults)
};

struct PubsubAffiliation {
  std::string jid;  // bare JID
  std::string affiliation;
};

// A subscription or affiliation together with its node, for "all my subscriptions" queries.
struct PubsubNodeSubscription {
  std::string service, node;
  PubsubSubscription sub;
};
struct PubsubNodeAffiliation {
  std::string service, node;
  std::string affiliation;
};

class PubsubStore {
 public:
  virtual ~PubsubStore() = default;

  // --- nodes ---
  virtual std::optional<PubsubNode> node(std::string_view service, std::string_view node) = 0;
  // Nodes of a service, by name, at most `limit` (0: all).
  virtual std::vector<PubsubNode> nodes(std::string_view service, size_t limit = 0) = 0;
  // Nodes of a service whose names start with `prefix` (one index range), at most `limit`.
  virtual std::vector<PubsubNode> nodes_with_prefix(std::string_view service, std::string_view prefix, size_t limit = 100) = 0;
  // How many nodes a service has (created by `creator`, when given).
  virtual size_t count_nodes(std::string_view service, std::string_view creator = {}) = 0;
  // Every service that has nodes (service domains and accounts' bare JIDs), sorted.
  virtual std::vector<std::string> services() = 0;
  // Returns the new node's id, or 0 when a node of that name exists.
  virtual int64_t create_node(const PubsubNode& node) = 0;
  virtual void set_node_config(int64_t node_id, std::string_view config) = 0;
  // Removes the node with its items, subscriptions and affiliations.
  virtual void delete_node(int64_t node_id) = 0;
  // Removes every node of a service (an account's PEP service, when the account goes).
  virtual void delete_service(std::string_view service) = 0;

  // --- items ---
  // Inserts or replaces (by id) and makes it the newest; returns true when the id was new.
  virtual bool put_item(int64_t node_id, const PubsubItem& item) = 0;
  virtual std::optional<PubsubItem> item(int64_t node_id, std::string_view item_id) = 0;
  virtual bool remove_item(int64_t node_id, std::string_view item_id) = 0;
  virtual std::vector<PubsubItem> items(int64_t node_id, const PubsubItemQuery& q) = 0;
  // How many items match the query's filters (paging fields ignored).
  virtual size_t count_items(int64_t node_id, const PubsubItemQuery& q) = 0;
  // The distinct per-post audiences of a node's items (access values starting "roster;", see
  // modules/pubsub/audience.hpp), for building a reader's access_in filter; at most `limit`.
  virtual std::vector<std::string> item_audiences(int64_t node_id, size_t limit) = 0;
  // Removes the oldest items beyond `keep`; returns the removed ids.
  virtual std::vector<std::string> trim_items(int64_t node_id, size_t keep) = 0;
  // Removes items published at or before `cutoff` (unix ms); returns the removed ids.
  virtual std::vector<std::string> expire_items(int64_t node_id, int64_t cutoff) = 0;
  virtual void purge_items(int64_t node_id) = 0;

  // --- subscriptions ---
  virtual std::vector<PubsubSubscription> subscriptions(int64_t node_id) = 0;
  virtual std::vector<PubsubSubscription> subscriptions_for(int64_t node_id, std::string_view jid) = 0;
  // Every subscription whose JID has this bare JID, over all services (or only `service` when given).
  virtual std::vector<PubsubNodeSubscription> subscriptions_of(std::string_view bare_jid,
                                                               std::string_view service = {}) = 0;
  // Inserts or replaces (by node, jid, subid).
  virtual void put_subscription(int64_t node_id, const PubsubSubscription& sub) = 0;
  virtual bool remove_subscription(int64_t node_id, std::string_view jid, std::string_view subid) = 0;
  // Removes every subscription held by this bare JID or any full JID of it, everywhere.
  virtual void remove_subscriptions_of(std::string_view bare_jid) = 0;

  // --- affiliations (bare JIDs; "none" is the absence of a row) ---
  virtual std::vector<PubsubAffiliation> affiliations(int64_t node_id) = 0;
  virtual std::optional<std::string> affiliation(int64_t node_id, std::string_view bare_jid) = 0;
  virtual std::vector<PubsubNodeAffiliation> affiliations_of(std::string_view bare_jid,
                                                             std::string_view service = {}) = 0;
  // Sets or (affiliation "none") removes.
  virtual void set_affiliation(int64_t node_id, std::string_view bare_jid, std::string_view affiliation) = 0;
  virtual void remove_affiliations_of(std::string_view bare_jid) = 0;
};

}  // namespace causerie::storage
