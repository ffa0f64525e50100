// Engine: one XEP-0060 v1.30.0 publish-subscribe engine behind both the pubsub service domains
// (pubsub.<host>, and comments.<host> / spaces.<host>, the names Movim uses) and every account's PEP
// service (XEP-0163 v1.2.2): a "service" is an address owning a set of nodes, a domain or a bare JID.
//
// Every request becomes one storage job: changes run on the write lane, where jobs are serialized, so
// each decision (permissions, preconditions, max_items) is taken against the database as it is, and the
// client is answered once the change is durable; reads run on the read lane. A job that causes events
// computes their recipients from what it read (subscriptions, affiliations, the owner's roster) and
// hands them to the Notifier, which fans out off the storage thread.
//
// Files: engine.cpp (dispatch, shared job helpers), engine_nodes.cpp (create, configure, delete, purge,
// disco), engine_items.cpp (publish, retract, retrieve), engine_subscriptions.cpp (subscribe,
// options, subscription and affiliation management, approval forms, last items).
//
// Thread rules: handlers run on the requesting session's thread or a storage thread; the Engine holds
// no mutable state of its own (the CapsTracker and Notifier are thread-safe).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/module/module.hpp"
#include "core/xml/rsm.hpp"
#include "modules/pubsub/access.hpp"
#include "modules/pubsub/caps.hpp"
#include "modules/pubsub/node_config.hpp"
#include "modules/pubsub/notifier.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::pubsub {

// Whose nodes: a pubsub service domain, or an account's PEP service (its bare JID).
struct Service {
  std::string jid;
  bool pep = false;
  std::string host;  // the local host it belongs to
};

enum class CreatePolicy { kLocalUsers, kAdmins, kAnyone };

// [modules.pubsub] settings.
struct Settings {
  ServiceLimits limits;
  size_t max_items_per_request = 500;  // items in one retrieval without RSM (more: truncated, §6.5.4)
  size_t max_nodes_listed = 1000;      // nodes in one disco#items answer
  size_t max_nodes_per_owner = 1000;   // nodes of one PEP account, or created by one user on a service
  CreatePolicy create = CreatePolicy::kLocalUsers;
  std::vector<std::string> service_prefixes = {"pubsub", "comments", "spaces"};
};

struct NodeState {
  storage::PubsubNode row;
  NodeConfig config;
  bool social = false;  // items carry their own visibility (microblog.hpp)
};

class Engine {
 public:
  Engine(ModuleContext& ctx, Settings settings, CapsTracker& caps, Notifier& notifier);

  const Settings& settings() const { return settings_; }
  // The service at `jid` (a bare JID or one of our service domains), or nullopt.
  std::optional<Service> service_at(std::string_view jid) const;
  // Our service domains for a host; the first is the one listed in the host's disco#items.
  std::vector<std::string> service_domains(const std::string& host) const;
  // XEP-0433: the open nodes of a host's services (communities, XEP-0472), comment nodes left out, for
  // the channel search (modules/directory.cpp). `done` runs on the storage read lane.
  void list_channels(const std::string& host, std::function<void(std::vector<ChannelInfo>)> done);

  // An iq whose payload is <pubsub xmlns='…pubsub'/> or <pubsub xmlns='…pubsub#owner'/>.
  void handle(IqRequest& req, const Service& svc);
  // XEP-0030 on the service (or PEP account) and its nodes (§5.1–§5.5).
  void disco_info(IqRequest& req, const Service& svc);
  void disco_items(IqRequest& req, const Service& svc);
  // §8.6: an owner submitted (or cancelled) a subscription authorization form.
  void authorization_answer(const Service& svc, const Jid& from, const xml::DataForm& form);

  // XEP-0163 §4.3.2: a resource now wants notifications of `nodes`: it gets their last items from its
  // own PEP service and its contacts' (a local resource), or from `owners` (a remote contact's resource).
  void send_last_for_interests(const std::string& full, const std::vector<std::string>& nodes,
                               const std::vector<std::string>& owners);
  // §6.1.7, "on_sub_and_presence": a local session became available; its explicit subscriptions to
  // service nodes get their last items.
  void send_last_for_subscriptions(const Jid& full);

  // The items of a node anyone may read (public pages): newest first, older than item `after` when
  // given, at most `limit`; nullopt when the node does not exist or is not public.
  struct PublicItems {
    NodeState node;
    std::vector<storage::PubsubItem> items;
    bool more = false;
  };
  std::optional<PublicItems> public_items(storage::Storage& db, const Service& svc, const std::string& node,
                                          const std::string& after, size_t limit) const;

  // --- publishing from inside a storage job (write lane), for the XEP-0411/XEP-0398 conversions ---
  // What a publish asks for (§7.1, with §7.1.5 publish-options).
  struct Publication {
    std::string node;
    std::string item_id;  // empty: the service picks one
    bool has_item = true;
    std::optional<xml::Element> payload;
    std::string serialized;  // the payload, serialized
    std::optional<xml::DataForm> options;
  };
  // An event to send once the job that caused it is committed.
  struct Notification {
    std::optional<FanOut> fan;
    xml::Element msg;
    std::optional<xml::Element> with_body;
  };
  struct Published {
    std::string node;
    storage::PubsubItem item;  // seq set when the node keeps items
    Notification event;
    NodeState state;           // the node as the publication left it
    std::vector<Notification> more;  // other events it caused (an XEP-0470 summary item)
  };
  // §7.1 for `from` (its checks, auto-create, preconditions, max_items), stored in `db`.
  tl::expected<Published, StanzaError> publish_in(storage::Storage& db, const Service& svc, const Jid& from,
                                                  Publication p) const;
  // §7.2 for `from`; `notify` as the request's attribute (nullopt: the node's notify_retract).
  tl::expected<Notification, StanzaError> retract_in(storage::Storage& db, const Service& svc, const Jid& from,
                                                     const std::string& node, const std::string& item_id,
                                                     std::optional<bool> notify) const;
  // Hands a committed event to the Notifier. Any thread.
  void send_event(Notification ev) const;
  // Called in the job of every publish a client requested, after it is stored, in the order added: may
  // change other data in the same transaction and return what to do once it is committed (or nullptr).
  // Added while the module is built, before any request.
  using PublishObserver = std::function<std::function<void()>(storage::Storage&, const Service&, const Published&)>;
  void add_publish_observer(PublishObserver fn) { observers_.push_back(std::move(fn)); }
  // Called in the job of a subscription that became "subscribed" (§6.1), with the node and subscriber.
  using SubscribeObserver = std::function<void(storage::Storage&, const Service&, const NodeState&, const std::string& bare)>;
  void add_subscribe_observer(SubscribeObserver fn) { sub_observers_.push_back(std::move(fn)); }
  // Called in the job of an owner's node configuration change (§8.2), with the node as configured now.
  using ConfigureObserver = std::function<void(storage::Storage&, const Service&, const NodeState&)>;
  void add_configure_observer(ConfigureObserver fn) { config_observers_.push_back(std::move(fn)); }
  // XEP-0470: the item an attachments node of `svc` is about, when it exists on `svc`.
  struct AttachmentTarget {
    NodeState node;
    storage::PubsubItem item;
  };
  std::optional<AttachmentTarget> attachment_target(storage::Storage& db, const Service& svc, std::string_view node) const;
  // Whether `reader` (a bare JID) may see `item` of node `n` (the node's and the item's access models,
  // decided by may_see() in access.hpp on the owner's roster as it is now).
  bool may_read(storage::Storage& db, const Service& svc, const NodeState& n, const storage::PubsubItem& item,
                const std::string& reader) const;
  // Who may see an item of node `n`: on a social feed its own visibility (audience.hpp), elsewhere the node's.
  Visibility visibility_of(const NodeState& n, const storage::PubsubItem& item) const;
  // Item `id` of node `n` when `r` may see it: an item it may not see is as absent as a missing one.
  std::optional<storage::PubsubItem> visible_item(storage::Storage& db, const NodeState& n, const Requester& r,
                                                  std::string_view id) const;

  // --- helpers for storage jobs (storage threads only) ---
  std::optional<NodeState> load(storage::Storage& db, const Service& svc, std::string_view node) const;
  Requester facts(storage::Storage& db, const Service& svc, const NodeState& n, const Jid& who) const;
  NodeConfig defaults_for(const Service& svc, std::string_view node) const;
  // The error for a node that is not there: item-not-found, or service-unavailable when the PEP
  // service's account does not exist (RFC 6121 §8.5.1).
  StanzaError no_node(storage::Storage& db, const Service& svc) const;
  // Loads a node for an action `allowed` decides on (check_owner, check_purge); when the node is
  // missing or the requester refused, answers item-not-found or the refusal and returns nullopt.
  using Permission = std::optional<StanzaError> (*)(const Requester&);
  std::optional<NodeState> load_for(storage::Storage& db, const Service& svc, const std::string& node, const Jid& from,
                                    Permission allowed, const IqResponder& reply) const;

 private:
  using Completion = storage::StorageService::Completion;

  // Bulk facts about everyone a node's events may reach, read once per event.
  struct Audience {
    std::unordered_map<std::string, Affiliation> affiliations;
    // Contacts of the node's owners (PEP: of the account): bare JID → (shares presence, roster groups).
    std::unordered_map<std::string, std::pair<bool, std::vector<std::string>>> contacts;
    std::vector<storage::PubsubSubscription> subscriptions;
  };
  // A job that answers itself (a query) or returns true for a change to confirm once committed: run on
  // the read lane for a get, on the write lane for a set.
  using AnsweringJob = std::function<bool(storage::Storage&, const IqResponder&)>;
  void run(bool set, AnsweringJob job, const IqResponder& reply);
  Audience audience(storage::Storage& db, const Service& svc, const NodeState& n) const;
  Requester requester_in(const Audience& a, const Service& svc, const std::string& bare, SubState sub) const;
  // Who receives an event of node `n`; for an item event on a social feed, only those who may see
  // an item of visibility `item_access`.
  FanOut plan(const Audience& a, const Service& svc, const NodeState& n, std::optional<Visibility> item_access) const;
  bool may_create(const Service& svc, const Jid& who) const;
  // The bound on nodes per owner, as an error when `creator` has reached it.
  std::optional<StanzaError> node_quota(storage::Storage& db, const Service& svc, const std::string& creator) const;
  bool is_admin(const std::string& host, const std::string& bare) const;
  std::vector<std::string> local_owners(storage::Storage& db, const Service& svc, const NodeState& n) const;
  // The stored visibility values (PubsubItem::access) an item may have for `r` to see it (social feeds),
  // "" meaning the node's; the node's per-post audiences are read from `db` and judged one by one.
  std::vector<std::string> visible_access(storage::Storage& db, const NodeState& n, const Requester& r) const;
  // <message><event><items node='…'>…</items></event></message>, ready for the Notifier.
  xml::Element event_message(const NodeState& n, xml::Element items_or_other) const;
  // <item id='…' publisher='…'>payload</item> in namespace `ns` (pubsub, or pubsub#event in events).
  xml::Element item_element(const storage::PubsubItem& item, bool with_payload, const char* ns) const;

  // engine_attachments.cpp (XEP-0470, attachments.hpp)
  // The checks of a publication to an attachments node (§"Checking Validity"); sets the item id to the
  // publisher's bare JID when none was given, and the configuration of a node to create.
  std::optional<StanzaError> check_attachment(storage::Storage& db, const Service& svc, const std::string& publisher,
                                              Publication& p, const AttachmentTarget& target, NodeConfig& config) const;
  // Recounts the summary item of `item_id` on the target node (attachments of everyone, Movim "♥"
  // comments) and stores it; the event to send once committed.
  std::optional<Notification> update_summary(storage::Storage& db, const Service& svc, const NodeState& target,
                                             const std::string& item_id) const;
  // A Movim "♥" comment on a comments node: the summary of the post it comments.
  std::optional<Notification> like_comment_summary(storage::Storage& db, const Service& svc, const NodeState& comments,
                                                   const storage::PubsubItem& comment) const;

  // engine_public_subscriptions.cpp (XEP-0465)
  // Records (or, `add` false, removes) `bare`'s public subscription to `node` of `svc`: an item in its
  // own PEP node urn:xmpp:pps:subscriptions:0 and one in the node's public subscribers node.
  void set_public_subscription(storage::Storage& db, const Service& svc, const NodeState& n, const std::string& bare,
                               bool add) const;
  // Stores `payload` as item `id` of a node the service keeps (created with `config` if missing,
  // owned by `owner`), or removes the item when `payload` is null.
  void put_kept_item(storage::Storage& db, const std::string& service, const std::string& node, const NodeConfig& config,
                     const std::string& owner, const std::string& id, const xml::Element* payload) const;

  // engine_nodes.cpp
  void create(IqRequest& req, const Service& svc);
  void configure_get(IqRequest& req, const Service& svc);
  void configure_set(IqRequest& req, const Service& svc);
  void default_config(IqRequest& req, const Service& svc);
  void delete_node(IqRequest& req, const Service& svc);
  void purge(IqRequest& req, const Service& svc);
  // A comments node follows its post's visibility (microblog.hpp); runs in the job that changed either.
  void sync_comments_access(storage::Storage& db, const std::string& author, const Visibility& visibility,
                            const xml::Element& entry) const;
  void inherit_post_access(storage::Storage& db, const Service& svc, NodeState& comments, const std::string& creator) const;

  // engine_items.cpp
  void publish(IqRequest& req, const Service& svc);
  void retract(IqRequest& req, const Service& svc);
  void items(IqRequest& req, const Service& svc);

  // engine_subscriptions.cpp
  void subscribe(IqRequest& req, const Service& svc);
  void unsubscribe(IqRequest& req, const Service& svc);
  void options(IqRequest& req, const Service& svc);
  void default_options(IqRequest& req);
  void own_subscriptions(IqRequest& req, const Service& svc);
  void own_affiliations(IqRequest& req, const Service& svc);
  void manage_subscriptions(IqRequest& req, const Service& svc);
  void manage_affiliations(IqRequest& req, const Service& svc);
  // The notification of the last item of a node that `r` may see (§6.1.7), stamped with XEP-0203
  // delay; nullopt when there is none.
  std::optional<xml::Element> last_item_message(storage::Storage& db, const NodeState& n, const Requester& r) const;
  // §8.6: asks the node's owners to approve a pending subscription.
  void request_approval(const Service& svc, const NodeState& n, const std::vector<std::string>& owners,
                        const storage::PubsubSubscription& sub) const;
  void notify_subscription(const Service& svc, const std::string& node, const storage::PubsubSubscription& sub,
                           const std::string& state) const;

  ModuleContext& ctx_;
  Settings settings_;
  int64_t now_ms() const;

  CapsTracker& caps_;
  Notifier& notifier_;
  std::vector<PublishObserver> observers_;
  std::vector<SubscribeObserver> sub_observers_;
  std::vector<ConfigureObserver> config_observers_;
};

// The features the pubsub service and PEP advertise (§10), XEP-0060 names prefixed with the namespace.
std::vector<std::string> pubsub_features();

// Helpers shared by the engine's files.
// Milliseconds since the epoch on the server's clock (injected: item expiry is tested by moving it).
int64_t now_ms(const Clock& clock);
std::string bare_string(const Jid& j);
bool has_presence_from(storage::Subscription s);

}  // namespace causerie::modules::pubsub
