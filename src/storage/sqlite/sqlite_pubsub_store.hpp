// SqlitePubsubStore: PubsubStore over the connection of one SqliteStorage (schema: sqlite_pubsub_schema.cpp).
// Used by one thread at a time, like its connection.
#pragma once

#include "storage/pubsub_store.hpp"

namespace causerie::storage::sqlite {

class Db;

class SqlitePubsubStore final : public PubsubStore {
 public:
  explicit SqlitePubsubStore(Db& db) : db_(db) {}

  std::optional<PubsubNode> node(std::string_view service, std::string_view node) override;
  std::vector<PubsubNode> nodes(std::string_view service, size_t limit) override;
  std::vector<PubsubNode> nodes_with_prefix(std::string_view service, std::string_view prefix, size_t limit) override;
  size_t count_nodes(std::string_view service, std::string_view creator) override;
  std::vector<std::string> services() override;
  int64_t create_node(const PubsubNode& node) override;
  void set_node_config(int64_t node_id, std::string_view config) override;
  void delete_node(int64_t node_id) override;
  void delete_service(std::string_view service) override;

  bool put_item(int64_t node_id, const PubsubItem& item) override;
  std::optional<PubsubItem> item(int64_t node_id, std::string_view item_id) override;
  bool remove_item(int64_t node_id, std::string_view item_id) override;
  std::vector<PubsubItem> items(int64_t node_id, const PubsubItemQuery& q) override;
  size_t count_items(int64_t node_id, const PubsubItemQuery& q) override;
  std::vector<std::string> item_audiences(int64_t node_id, size_t limit) override;
  std::vector<std::string> trim_items(int64_t node_id, size_t keep) override;
  std::vector<std::string> expire_items(int64_t node_id, int64_t cutoff) override;
  void purge_items(int64_t node_id) override;

  std::vector<PubsubSubscription> subscriptions(int64_t node_id) override;
  std::vector<PubsubSubscription> subscriptions_for(int64_t node_id, std::string_view jid) override;
  std::vector<PubsubNodeSubscription> subscriptions_of(std::string_view bare_jid, std::string_view service) override;
  void put_subscription(int64_t node_id, const PubsubSubscription& sub) override;
  bool remove_subscription(int64_t node_id, std::string_view jid, std::string_view subid) override;
  void remove_subscriptions_of(std::string_view bare_jid) override;

  std::vector<PubsubAffiliation> affiliations(int64_t node_id) override;
  std::optional<std::string> affiliation(int64_t node_id, std::string_view bare_jid) override;
  std::vector<PubsubNodeAffiliation> affiliations_of(std::string_view bare_jid, std::string_view service) override;
  void set_affiliation(int64_t node_id, std::string_view bare_jid, std::string_view affiliation) override;
  void remove_affiliations_of(std::string_view bare_jid) override;

 private:
  void add_count(int64_t node_id, int64_t delta);
  void remove_seqs(int64_t node_id, const std::vector<int64_t>& seqs);
  Db& db_;
};

}  // namespace causerie::storage::sqlite
