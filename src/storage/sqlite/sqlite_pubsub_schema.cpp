// The "pubsub" schema component: XEP-0060 nodes, items, subscriptions and affiliations, for the pubsub
// service and every PEP service. Items are ordered by `seq` (their rowid: a re-publication replaces the
// row and so becomes the newest), and indexed by (node_id, seq) so the newest N of any node is one range
// scan however many items it holds.
#include "storage/sqlite/sqlite_migrations.hpp"

namespace causerie::storage::sqlite {

SchemaComponent pubsub_schema() {
  return {"pubsub", {
      {1, "initial", R"sql(
CREATE TABLE pubsub_nodes (
  id INTEGER PRIMARY KEY,
  service TEXT NOT NULL,
  node TEXT NOT NULL,
  config TEXT NOT NULL,
  creator TEXT NOT NULL,
  created INTEGER NOT NULL,
  item_count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (service, node)
);

CREATE TABLE pubsub_items (
  seq INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  publisher TEXT NOT NULL,
  published INTEGER NOT NULL,
  access TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  UNIQUE (node_id, item_id)
);
CREATE INDEX pubsub_items_by_node ON pubsub_items(node_id, seq);

CREATE TABLE pubsub_subscriptions (
  node_id INTEGER NOT NULL,
  jid TEXT NOT NULL,
  bare TEXT NOT NULL,
  subid TEXT NOT NULL,
  state TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (node_id, jid, subid)
) WITHOUT ROWID;
CREATE INDEX pubsub_subscriptions_by_bare ON pubsub_subscriptions(bare);

CREATE TABLE pubsub_affiliations (
  node_id INTEGER NOT NULL,
  jid TEXT NOT NULL,
  affiliation TEXT NOT NULL,
  PRIMARY KEY (node_id, jid)
) WITHOUT ROWID;
CREATE INDEX pubsub_affiliations_by_jid ON pubsub_affiliations(jid);
)sql"},
      // Per-post audiences (modules/pubsub/audience.hpp): the distinct audiences of a node are read at
      // every listing; only items that have one are indexed, so other writes pay nothing.
      {2, "item audiences", R"sql(
CREATE INDEX pubsub_items_by_audience ON pubsub_items(node_id, access)
  WHERE access >= 'roster;' AND access < 'roster<';
)sql"},
  }};
}

}  // namespace causerie::storage::sqlite
