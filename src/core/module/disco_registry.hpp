// DiscoRegistry: what the server, its accounts and its services say about themselves in XEP-0030
// service discovery. Modules add identities, features, items and XEP-0128 extension forms at startup;
// the disco module answers queries from it. It also holds the channel listers: how the modules that host
// public channels (MUC rooms, open pubsub communities) describe them to searches (XEP-0433). Read-only
// once workers run, so any thread may read it — except the server items, which a reload that adds a host
// extends (main thread) while workers read them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/util/published.hpp"
#include "core/xml/element.hpp"

namespace causerie {

struct DiscoIdentity {
  std::string category, type, name;
};

struct DiscoItem {
  std::string host;  // which local host lists it
  std::string jid;
  std::string name;
};

// Produces an extension form (XEP-0128) for a host, or nothing.
using DiscoExtension = std::function<std::optional<xml::Element>(const std::string& host)>;

// A public channel of this server as a search shows it (XEP-0433 §7.2 "Result Item Format").
struct ChannelInfo {
  std::string address;       // a JID naming the channel
  std::string node;          // for a pubsub node: its name at `address`'s service; empty for a room
  std::string service_type;  // "xep-0045", or a Clark-notation type for other kinds
  std::string name, description, language;
  std::optional<size_t> nusers;  // occupants, or a community's subscribers; nullopt when not known
  bool is_open = true;           // joinable without credentials (no password, not members-only)
  std::string anonymity;         // "muc_semianonymous", "{urn:xmpp:channel-search:0:anonymity}none", or ""
  // Communities (pubsub nodes) only, shown as the <community xmlns='urn:causerie:explore:0'/> extension:
  std::string kind;              // "blog", "gallery", or the node's pubsub#type
  std::string avatar;            // a picture's URL, "" when none
  int64_t last_activity = 0;     // unix ms of the newest item, 0 when none
  std::optional<size_t> items;   // items stored
};
// Lists the public channels of one local host's services, then calls `done` once, from any thread.
using ChannelLister = std::function<void(const std::string& host, std::function<void(std::vector<ChannelInfo>)> done)>;

struct IqRequest;
// Answers disco queries on an account that the static lists cannot: queries naming a node, and the
// account's items (a PEP service's nodes, XEP-0163 §8). Returns false to leave the query to the default
// answer; returning true means the handler took the request and will answer it.
enum class AccountDiscoQuery { kInfo, kItems };
using AccountDiscoHandler = std::function<bool(AccountDiscoQuery, IqRequest&)>;

class DiscoRegistry {
 public:
  void add_server_identity(DiscoIdentity id) { server_identities_.push_back(std::move(id)); }
  void add_server_feature(std::string var) { add_unique(server_features_, std::move(var)); }
  void add_account_identity(DiscoIdentity id) { account_identities_.push_back(std::move(id)); }
  void add_account_feature(std::string var) { add_unique(account_features_, std::move(var)); }
  void add_server_item(DiscoItem item) {
    items_.update([&item](std::vector<DiscoItem>& all) { all.push_back(std::move(item)); });
  }
  void add_server_extension(DiscoExtension ext) { extensions_.push_back(std::move(ext)); }
  void add_account_handler(AccountDiscoHandler h) { account_handlers_.push_back(std::move(h)); }
  void add_channel_lister(ChannelLister l) { channel_listers_.push_back(std::move(l)); }
  // Answers queries to a host that name a node (XEP-0050 command lists and command nodes), like an
  // AccountDiscoHandler: false leaves the query to the default answer (item-not-found).
  void add_server_node_handler(AccountDiscoHandler h) { server_node_handlers_.push_back(std::move(h)); }

  const std::vector<DiscoIdentity>& server_identities() const { return server_identities_; }
  const std::vector<std::string>& server_features() const { return server_features_; }
  const std::vector<DiscoIdentity>& account_identities() const { return account_identities_; }
  const std::vector<std::string>& account_features() const { return account_features_; }
  std::vector<DiscoItem> server_items(const std::string& host) const;
  std::vector<xml::Element> server_extensions(const std::string& host) const;
  const std::vector<AccountDiscoHandler>& account_handlers() const { return account_handlers_; }
  const std::vector<ChannelLister>& channel_listers() const { return channel_listers_; }
  const std::vector<AccountDiscoHandler>& server_node_handlers() const { return server_node_handlers_; }

  // Builds <query xmlns='…disco#info'> with identities and features (sorted, as XEP-0115 hashing wants).
  static xml::Element info_query(const std::vector<DiscoIdentity>& ids, std::vector<std::string> features,
                                 const std::string& node = {});

 private:
  static void add_unique(std::vector<std::string>& v, std::string s);
  std::vector<DiscoIdentity> server_identities_, account_identities_;
  std::vector<std::string> server_features_, account_features_;
  Published<std::vector<DiscoItem>> items_;
  std::vector<DiscoExtension> extensions_;
  std::vector<AccountDiscoHandler> account_handlers_;
  std::vector<ChannelLister> channel_listers_;
  std::vector<AccountDiscoHandler> server_node_handlers_;
};

}  // namespace causerie
