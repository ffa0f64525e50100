// XEP-0060 v1.30.0 permissions as pure decisions: affiliations (§4.1), subscription states (§4.2), access
// models (§4.5) and publish models, with the error each refusal gets (§6.1.3, §6.5.9, §7.1.3, §7.2.3).
// The module gathers the facts about a requester (its affiliation, whether an owner shares presence with
// it, its roster groups, its subscription); these functions decide. Table-tested in
// tests/unit/pubsub_access_test.cpp. Pure, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "modules/pubsub/node_config.hpp"

namespace causerie::modules::pubsub {

// In increasing order of privilege (publish-only sits apart: it may publish but not read).
enum class Affiliation : uint8_t { kOutcast, kNone, kPublishOnly, kMember, kPublisher, kOwner };
const char* to_string(Affiliation a);
std::optional<Affiliation> parse_affiliation(std::string_view s);

enum class SubState : uint8_t { kNone, kPending, kUnconfigured, kSubscribed };
const char* to_string(SubState s);
std::optional<SubState> parse_sub_state(std::string_view s);

// What the service knows about the requesting entity, relative to one node.
struct Requester {
  Affiliation affiliation = Affiliation::kNone;
  bool presence_subscribed = false;  // an owner shares presence with it (roster "from" or "both")
  std::vector<std::string> groups;   // the roster groups an owner put it in
  SubState subscription = SubState::kNone;
};

// §6.5: may it retrieve items? nullopt = yes; otherwise the error of §6.5.9.
std::optional<StanzaError> check_retrieve(const NodeConfig& c, const Requester& r);

// Who may see one item of a social feed (microblog.hpp): the post's own access model and, for a
// per-post audience (docs/protocol/audiences.md), the publisher's roster groups it names.
struct Visibility {
  Visibility(AccessModel m = AccessModel::kPresence, std::optional<std::vector<std::string>> g = std::nullopt)
      : model(m), groups(std::move(g)) {}
  AccessModel model;
  // Set for a per-post audience (model kRoster): the groups of the publisher's roster whose contacts
  // may see the post; empty = the publisher alone. Unset: the node's pubsub#roster_groups_allowed.
  std::optional<std::vector<std::string>> groups;
  bool operator==(const Visibility&) const = default;
};
// THE decision "may this requester see this item": every path that shows, lists, counts, notifies,
// indexes or attaches to an item of a social feed asks it (items by id and all, RSM anchors, last
// items, event fan-out, the news feed at write and read time, XEP-0470 attachments, public pages,
// disco#items). Owners and members always; outcasts and publish-only never; others by the model.
bool may_see(const Visibility& v, const NodeConfig& c, const Requester& r);
// Whether anyone at all (no relationship with the owner) may see it: public pages, public indexes.
bool is_public(const Visibility& v, const NodeConfig& c);

// §6.1: a subscription request's outcome: subscribed at once, pending the owner's approval, or an error.
enum class SubscribeOutcome { kSubscribed, kPending };
tl::expected<SubscribeOutcome, StanzaError> check_subscribe(const NodeConfig& c, const Requester& r);

// §7.1.3.1: may it publish? With publish_model "open", anyone who may retrieve may publish (a
// contacts-only comments node takes comments from contacts only).
std::optional<StanzaError> check_publish(const NodeConfig& c, const Requester& r);
// §7.2.3.1: may it delete this item? Owners and publishers any item, others only what they published.
std::optional<StanzaError> check_retract(const NodeConfig& c, const Requester& r, bool own_item);
// §8.5: owners and publishers may purge.
std::optional<StanzaError> check_purge(const Requester& r);
// §8.2–§8.9: configure, delete, manage subscriptions and affiliations: owners only.
std::optional<StanzaError> check_owner(const Requester& r);

// §8.9.2: a batch of affiliation changes; returns the indexes of the changes refused (with the current
// affiliations unchanged): a node must keep an owner, and a PEP node's owner is the account (`fixed_owner`).
struct AffiliationChange {
  std::string jid;
  Affiliation affiliation;
};
std::vector<size_t> refused_affiliation_changes(const std::vector<std::pair<std::string, Affiliation>>& current,
                                                const std::vector<AffiliationChange>& changes,
                                                std::string_view fixed_owner);

}  // namespace causerie::modules::pubsub
