#include "storage/sqlite/sqlite_pubsub_store.hpp"

#include "storage/sqlite/sqlite_db.hpp"

namespace causerie::storage::sqlite {

namespace {

constexpr const char* kNodeColumns = "id, service, node, config, creator, created, item_count";
constexpr const char* kItemColumns = "item_id, publisher, payload, access, published, seq";

PubsubNode read_node(Statement& q) {
  PubsubNode n;
  n.id = q.column_int(0);
  n.service = q.column_text(1);
  n.node = q.column_text(2);
  n.config = q.column_text(3);
  n.creator = q.column_text(4);
  n.created = q.column_int(5);
  n.item_count = q.column_int(6);
  return n;
}

PubsubItem read_item(Statement& q) {
  PubsubItem i;
  i.id = q.column_text(0);
  i.publisher = q.column_text(1);
  i.payload = q.column_text(2);
  i.access = q.column_text(3);
  i.published = q.column_int(4);
  i.seq = q.column_int(5);
  return i;
}

PubsubSubscription read_sub(Statement& q, int first) {
  return PubsubSubscription{q.column_text(first), q.column_text(first + 1), q.column_text(first + 2),
                            q.column_text(first + 3)};
}

// A JID's bare part: stored JIDs are prepared, so the first '/' starts the resource.
std::string_view bare_of(std::string_view jid) { return jid.substr(0, jid.find('/')); }

// The WHERE clause of an item query after "node_id = ?1", binding from ?2 on; the SQL text depends only
// on which filters are present (and how many access values), so the statement cache stays small.
struct ItemFilter {
  std::string sql;
  int next = 2;
};

ItemFilter item_filter(const PubsubItemQuery& q, bool paging) {
  ItemFilter f;
  if (!q.access_in.empty()) {
    f.sql += " AND access IN (";
    for (size_t i = 0; i < q.access_in.size(); ++i) f.sql += (i ? ", ?" : "?") + std::to_string(f.next++);
    f.sql += ")";
  }
  if (q.published_after > 0) f.sql += " AND published > ?" + std::to_string(f.next++);
  if (paging && q.older_than_seq > 0) f.sql += " AND seq < ?" + std::to_string(f.next++);
  if (paging && q.newer_than_seq > 0) f.sql += " AND seq > ?" + std::to_string(f.next++);
  return f;
}

int bind_filter(Statement& s, const PubsubItemQuery& q, bool paging) {
  int i = 2;
  for (const auto& a : q.access_in) s.bind(i++, a);
  if (q.published_after > 0) s.bind(i++, q.published_after);
  if (paging && q.older_than_seq > 0) s.bind(i++, q.older_than_seq);
  if (paging && q.newer_than_seq > 0) s.bind(i++, q.newer_than_seq);
  return i;
}

}  // namespace

// --- nodes ---

std::optional<PubsubNode> SqlitePubsubStore::node(std::string_view service, std::string_view node) {
  auto q = db_.prepare(std::string("SELECT ") + kNodeColumns + " FROM pubsub_nodes WHERE service = ?1 AND node = ?2");
  q->bind(1, service).bind(2, node);
  if (!q->step()) return std::nullopt;
  return read_node(*q);
}

std::vector<PubsubNode> SqlitePubsubStore::nodes(std::string_view service, size_t limit) {
  auto q = db_.prepare(std::string("SELECT ") + kNodeColumns +
                       " FROM pubsub_nodes WHERE service = ?1 ORDER BY node LIMIT ?2");
  q->bind(1, service).bind(2, limit ? static_cast<int64_t>(limit) : int64_t{-1});
  std::vector<PubsubNode> out;
  while (q->step()) out.push_back(read_node(*q));
  return out;
}

std::vector<std::string> SqlitePubsubStore::services() {
  auto q = db_.prepare("SELECT DISTINCT service FROM pubsub_nodes ORDER BY service");
  std::vector<std::string> out;
  while (q->step()) out.push_back(q->column_text(0));
  return out;
}

std::vector<PubsubNode> SqlitePubsubStore::nodes_with_prefix(std::string_view service, std::string_view prefix, size_t limit) {
  std::vector<PubsubNode> out;
  if (prefix.empty() || static_cast<unsigned char>(prefix.back()) == 0xFF) return out;
  // The names in [prefix, prefix with its last byte raised): a range of the (service, node) index.
  std::string upper(prefix);
  upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  auto q = db_.prepare(std::string("SELECT ") + kNodeColumns +
                       " FROM pubsub_nodes WHERE service = ?1 AND node >= ?2 AND node < ?3 ORDER BY node LIMIT ?4");
  q->bind(1, service).bind(2, prefix).bind(3, upper).bind(4, static_cast<int64_t>(limit));
  while (q->step()) out.push_back(read_node(*q));
  return out;
}

size_t SqlitePubsubStore::count_nodes(std::string_view service, std::string_view creator) {
  auto q = db_.prepare(creator.empty() ? "SELECT COUNT(*) FROM pubsub_nodes WHERE service = ?1"
                                       : "SELECT COUNT(*) FROM pubsub_nodes WHERE service = ?1 AND creator = ?2");
  q->bind(1, service);
  if (!creator.empty()) q->bind(2, creator);
  return q->step() ? static_cast<size_t>(q->column_int(0)) : 0;
}

int64_t SqlitePubsubStore::create_node(const PubsubNode& n) {
  auto q = db_.prepare(
      "INSERT OR IGNORE INTO pubsub_nodes (service, node, config, creator, created, item_count) "
      "VALUES (?1, ?2, ?3, ?4, ?5, 0)");
  q->bind(1, n.service).bind(2, n.node).bind(3, n.config).bind(4, n.creator).bind(5, n.created).run();
  return db_.changes() == 1 ? db_.last_insert_id() : 0;
}

void SqlitePubsubStore::set_node_config(int64_t node_id, std::string_view config) {
  auto q = db_.prepare("UPDATE pubsub_nodes SET config = ?2 WHERE id = ?1");
  q->bind(1, node_id).bind(2, config).run();
}

void SqlitePubsubStore::delete_node(int64_t node_id) {
  for (const char* sql : {"DELETE FROM pubsub_items WHERE node_id = ?1",
                          "DELETE FROM pubsub_subscriptions WHERE node_id = ?1",
                          "DELETE FROM pubsub_affiliations WHERE node_id = ?1", "DELETE FROM pubsub_nodes WHERE id = ?1"}) {
    auto q = db_.prepare(sql);
    q->bind(1, node_id).run();
  }
}

void SqlitePubsubStore::delete_service(std::string_view service) {
  std::vector<int64_t> ids;
  {
    auto q = db_.prepare("SELECT id FROM pubsub_nodes WHERE service = ?1");
    q->bind(1, service);
    while (q->step()) ids.push_back(q->column_int(0));
  }
  for (int64_t id : ids) delete_node(id);
}

void SqlitePubsubStore::remove_seqs(int64_t node_id, const std::vector<int64_t>& seqs) {
  for (int64_t seq : seqs) {
    auto d = db_.prepare("DELETE FROM pubsub_items WHERE seq = ?1");
    d->bind(1, seq).run();
  }
  add_count(node_id, -static_cast<int64_t>(seqs.size()));
}

void SqlitePubsubStore::add_count(int64_t node_id, int64_t delta) {
  if (!delta) return;
  auto q = db_.prepare("UPDATE pubsub_nodes SET item_count = MAX(0, item_count + ?2) WHERE id = ?1");
  q->bind(1, node_id).bind(2, delta).run();
}

// --- items ---

bool SqlitePubsubStore::put_item(int64_t node_id, const PubsubItem& it) {
  bool existed;
  {
    auto q = db_.prepare("SELECT 1 FROM pubsub_items WHERE node_id = ?1 AND item_id = ?2");
    q->bind(1, node_id).bind(2, it.id);
    existed = q->step();
  }
  // REPLACE deletes the old row and inserts a new one with the next rowid: the item becomes the newest.
  auto q = db_.prepare(
      "INSERT OR REPLACE INTO pubsub_items (node_id, item_id, publisher, published, access, payload) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  q->bind(1, node_id).bind(2, it.id).bind(3, it.publisher).bind(4, it.published).bind(5, it.access);
  q->bind(6, it.payload).run();
  if (!existed) add_count(node_id, 1);
  return !existed;
}

std::optional<PubsubItem> SqlitePubsubStore::item(int64_t node_id, std::string_view item_id) {
  auto q = db_.prepare(std::string("SELECT ") + kItemColumns + " FROM pubsub_items WHERE node_id = ?1 AND item_id = ?2");
  q->bind(1, node_id).bind(2, item_id);
  if (!q->step()) return std::nullopt;
  return read_item(*q);
}

bool SqlitePubsubStore::remove_item(int64_t node_id, std::string_view item_id) {
  auto q = db_.prepare("DELETE FROM pubsub_items WHERE node_id = ?1 AND item_id = ?2");
  q->bind(1, node_id).bind(2, item_id).run();
  bool removed = db_.changes() == 1;
  if (removed) add_count(node_id, -1);
  return removed;
}

std::vector<PubsubItem> SqlitePubsubStore::items(int64_t node_id, const PubsubItemQuery& q) {
  ItemFilter f = item_filter(q, true);
  std::string sql = std::string("SELECT ") + kItemColumns + " FROM pubsub_items WHERE node_id = ?1" + f.sql +
                    (q.oldest_first ? " ORDER BY seq ASC" : " ORDER BY seq DESC") + " LIMIT ?" +
                    std::to_string(f.next) + " OFFSET ?" + std::to_string(f.next + 1);
  auto s = db_.prepare(sql);
  s->bind(1, node_id);
  int i = bind_filter(*s, q, true);
  s->bind(i, q.limit ? static_cast<int64_t>(q.limit) : int64_t{-1}).bind(i + 1, static_cast<int64_t>(q.offset));
  std::vector<PubsubItem> out;
  while (s->step()) out.push_back(read_item(*s));
  return out;
}

size_t SqlitePubsubStore::count_items(int64_t node_id, const PubsubItemQuery& q) {
  if (q.access_in.empty() && q.published_after <= 0) {
    auto s = db_.prepare("SELECT item_count FROM pubsub_nodes WHERE id = ?1");
    s->bind(1, node_id);
    return s->step() ? static_cast<size_t>(s->column_int(0)) : 0;
  }
  ItemFilter f = item_filter(q, false);
  auto s = db_.prepare("SELECT COUNT(*) FROM pubsub_items WHERE node_id = ?1" + f.sql);
  s->bind(1, node_id);
  bind_filter(*s, q, false);
  return s->step() ? static_cast<size_t>(s->column_int(0)) : 0;
}

std::vector<std::string> SqlitePubsubStore::item_audiences(int64_t node_id, size_t limit) {
  // The same range as the partial index pubsub_items_by_audience (schema v2): this reads only the items
  // that have an audience, whatever the size of the node.
  auto s = db_.prepare(
      "SELECT DISTINCT access FROM pubsub_items WHERE node_id = ?1 AND access >= 'roster;' AND access < 'roster<' "
      "LIMIT ?2");
  s->bind(1, node_id).bind(2, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  while (s->step()) out.push_back(s->column_text(0));
  return out;
}

std::vector<std::string> SqlitePubsubStore::trim_items(int64_t node_id, size_t keep) {
  std::vector<std::string> removed;
  int64_t count = 0;
  {
    auto s = db_.prepare("SELECT item_count FROM pubsub_nodes WHERE id = ?1");
    s->bind(1, node_id);
    if (s->step()) count = s->column_int(0);
  }
  if (count <= static_cast<int64_t>(keep)) return removed;
  std::vector<int64_t> seqs;
  {
    auto s = db_.prepare("SELECT seq, item_id FROM pubsub_items WHERE node_id = ?1 ORDER BY seq ASC LIMIT ?2");
    s->bind(1, node_id).bind(2, count - static_cast<int64_t>(keep));
    while (s->step()) {
      seqs.push_back(s->column_int(0));
      removed.push_back(s->column_text(1));
    }
  }
  remove_seqs(node_id, seqs);
  return removed;
}

std::vector<std::string> SqlitePubsubStore::expire_items(int64_t node_id, int64_t cutoff) {
  // Publication times grow with seq, so the expired items are the oldest: walk from the oldest and
  // stop at the first one still fresh, instead of scanning the node.
  std::vector<std::string> removed;
  std::vector<int64_t> seqs;
  {
    auto s = db_.prepare(
        "SELECT seq, item_id, published FROM pubsub_items WHERE node_id = ?1 ORDER BY seq ASC LIMIT 1000");
    s->bind(1, node_id);
    while (s->step()) {
      if (s->column_int(2) > cutoff) break;
      seqs.push_back(s->column_int(0));
      removed.push_back(s->column_text(1));
    }
  }
  remove_seqs(node_id, seqs);
  return removed;
}

void SqlitePubsubStore::purge_items(int64_t node_id) {
  auto q = db_.prepare("DELETE FROM pubsub_items WHERE node_id = ?1");
  q->bind(1, node_id).run();
  auto c = db_.prepare("UPDATE pubsub_nodes SET item_count = 0 WHERE id = ?1");
  c->bind(1, node_id).run();
}

// --- subscriptions ---

std::vector<PubsubSubscription> SqlitePubsubStore::subscriptions(int64_t node_id) {
  auto q = db_.prepare("SELECT jid, subid, state, options FROM pubsub_subscriptions WHERE node_id = ?1");
  q->bind(1, node_id);
  std::vector<PubsubSubscription> out;
  while (q->step()) out.push_back(read_sub(*q, 0));
  return out;
}

std::vector<PubsubSubscription> SqlitePubsubStore::subscriptions_for(int64_t node_id, std::string_view jid) {
  auto q = db_.prepare("SELECT jid, subid, state, options FROM pubsub_subscriptions WHERE node_id = ?1 AND jid = ?2");
  q->bind(1, node_id).bind(2, jid);
  std::vector<PubsubSubscription> out;
  while (q->step()) out.push_back(read_sub(*q, 0));
  return out;
}

std::vector<PubsubNodeSubscription> SqlitePubsubStore::subscriptions_of(std::string_view bare_jid,
                                                                        std::string_view service) {
  std::string sql =
      "SELECT n.service, n.node, s.jid, s.subid, s.state, s.options FROM pubsub_subscriptions s "
      "JOIN pubsub_nodes n ON n.id = s.node_id WHERE s.bare = ?1";
  if (!service.empty()) sql += " AND n.service = ?2";
  auto q = db_.prepare(sql + " ORDER BY n.service, n.node");
  q->bind(1, bare_jid);
  if (!service.empty()) q->bind(2, service);
  std::vector<PubsubNodeSubscription> out;
  while (q->step()) out.push_back(PubsubNodeSubscription{q->column_text(0), q->column_text(1), read_sub(*q, 2)});
  return out;
}

void SqlitePubsubStore::put_subscription(int64_t node_id, const PubsubSubscription& s) {
  auto q = db_.prepare(
      "INSERT OR REPLACE INTO pubsub_subscriptions (node_id, jid, bare, subid, state, options) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  q->bind(1, node_id).bind(2, s.jid).bind(3, bare_of(s.jid)).bind(4, s.subid).bind(5, s.state).bind(6, s.options);
  q->run();
}

bool SqlitePubsubStore::remove_subscription(int64_t node_id, std::string_view jid, std::string_view subid) {
  auto q = db_.prepare("DELETE FROM pubsub_subscriptions WHERE node_id = ?1 AND jid = ?2 AND subid = ?3");
  q->bind(1, node_id).bind(2, jid).bind(3, subid).run();
  return db_.changes() > 0;
}

void SqlitePubsubStore::remove_subscriptions_of(std::string_view bare_jid) {
  auto q = db_.prepare("DELETE FROM pubsub_subscriptions WHERE bare = ?1");
  q->bind(1, bare_jid).run();
}

// --- affiliations ---

std::vector<PubsubAffiliation> SqlitePubsubStore::affiliations(int64_t node_id) {
  auto q = db_.prepare("SELECT jid, affiliation FROM pubsub_affiliations WHERE node_id = ?1 ORDER BY jid");
  q->bind(1, node_id);
  std::vector<PubsubAffiliation> out;
  while (q->step()) out.push_back(PubsubAffiliation{q->column_text(0), q->column_text(1)});
  return out;
}

std::optional<std::string> SqlitePubsubStore::affiliation(int64_t node_id, std::string_view bare_jid) {
  auto q = db_.prepare("SELECT affiliation FROM pubsub_affiliations WHERE node_id = ?1 AND jid = ?2");
  q->bind(1, node_id).bind(2, bare_jid);
  if (!q->step()) return std::nullopt;
  return q->column_text(0);
}

std::vector<PubsubNodeAffiliation> SqlitePubsubStore::affiliations_of(std::string_view bare_jid,
                                                                      std::string_view service) {
  std::string sql =
      "SELECT n.service, n.node, a.affiliation FROM pubsub_affiliations a JOIN pubsub_nodes n ON n.id = a.node_id "
      "WHERE a.jid = ?1";
  if (!service.empty()) sql += " AND n.service = ?2";
  auto q = db_.prepare(sql + " ORDER BY n.service, n.node");
  q->bind(1, bare_jid);
  if (!service.empty()) q->bind(2, service);
  std::vector<PubsubNodeAffiliation> out;
  while (q->step()) out.push_back(PubsubNodeAffiliation{q->column_text(0), q->column_text(1), q->column_text(2)});
  return out;
}

void SqlitePubsubStore::set_affiliation(int64_t node_id, std::string_view bare_jid, std::string_view affiliation) {
  if (affiliation == "none") {
    auto q = db_.prepare("DELETE FROM pubsub_affiliations WHERE node_id = ?1 AND jid = ?2");
    q->bind(1, node_id).bind(2, bare_jid).run();
    return;
  }
  auto q = db_.prepare("INSERT OR REPLACE INTO pubsub_affiliations (node_id, jid, affiliation) VALUES (?1, ?2, ?3)");
  q->bind(1, node_id).bind(2, bare_jid).bind(3, affiliation).run();
}

void SqlitePubsubStore::remove_affiliations_of(std::string_view bare_jid) {
  auto q = db_.prepare("DELETE FROM pubsub_affiliations WHERE jid = ?1");
  q->bind(1, bare_jid).run();
}

}  // namespace causerie::storage::sqlite
