#include "modules/pubsub/access.hpp"

#include <algorithm>

#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules::pubsub {

namespace {

const char* kAffiliations[] = {"outcast", "none", "publish-only", "member", "publisher", "owner"};
const char* kSubStates[] = {"none", "pending", "unconfigured", "subscribed"};

bool in_allowed_group(const std::vector<std::string>& allowed, const Requester& r) {
  for (const auto& g : r.groups)
    if (std::find(allowed.begin(), allowed.end(), g) != allowed.end()) return true;
  return false;
}

bool at_least_member(Affiliation a) {
  return a == Affiliation::kMember || a == Affiliation::kPublisher || a == Affiliation::kOwner;
}

// The access model alone (affiliations aside): nullopt when it lets the requester in. `groups`: the
// roster groups a "roster" model lets in (§4.5: the owner's pubsub#roster_groups_allowed).
std::optional<StanzaError> model_refusal(AccessModel m, const std::vector<std::string>& groups, const Requester& r) {
  switch (m) {
    case AccessModel::kOpen:
      return std::nullopt;
    case AccessModel::kPresence:
      if (r.presence_subscribed) return std::nullopt;
      return pubsub_error(StanzaErrorCondition::kNotAuthorized, "presence-subscription-required",
                          "only contacts who share presence with the owner may access this node");
    case AccessModel::kRoster:
      if (r.presence_subscribed && in_allowed_group(groups, r)) return std::nullopt;
      return pubsub_error(StanzaErrorCondition::kNotAuthorized, "not-in-roster-group",
                          "only contacts in the owner's allowed roster groups may access this node");
    case AccessModel::kWhitelist:
      return pubsub_error(StanzaErrorCondition::kNotAllowed, "closed-node", "this node is open to its members only");
    case AccessModel::kAuthorize:
      if (r.subscription == SubState::kSubscribed) return std::nullopt;
      return pubsub_error(StanzaErrorCondition::kNotAuthorized, "not-subscribed",
                          "only approved subscribers may retrieve items");
  }
  return forbidden();
}

}  // namespace

const char* to_string(Affiliation a) { return kAffiliations[static_cast<int>(a)]; }
const char* to_string(SubState s) { return kSubStates[static_cast<int>(s)]; }

std::optional<Affiliation> parse_affiliation(std::string_view s) {
  for (size_t i = 0; i < std::size(kAffiliations); ++i)
    if (s == kAffiliations[i]) return static_cast<Affiliation>(i);
  return std::nullopt;
}

std::optional<SubState> parse_sub_state(std::string_view s) {
  for (size_t i = 0; i < std::size(kSubStates); ++i)
    if (s == kSubStates[i]) return static_cast<SubState>(i);
  return std::nullopt;
}

std::optional<StanzaError> check_retrieve(const NodeConfig& c, const Requester& r) {
  // §4.1 table: outcasts and publish-only entities may not retrieve; members and above always may.
  if (r.affiliation == Affiliation::kOutcast) return forbidden("you are banned from this node");
  if (r.affiliation == Affiliation::kPublishOnly) return forbidden("publish-only entities may not retrieve items");
  if (at_least_member(r.affiliation)) return std::nullopt;
  return model_refusal(c.access_model, c.roster_groups_allowed, r);
}

bool may_see(const Visibility& v, const NodeConfig& c, const Requester& r) {
  if (r.affiliation == Affiliation::kOutcast || r.affiliation == Affiliation::kPublishOnly) return false;
  // The publisher (its PEP service's owner) sees its own posts, whatever their audience.
  if (at_least_member(r.affiliation)) return true;
  // A per-post audience is judged on the owner's roster as it is now, so moving a contact out of a
  // group hides the group's posts from it from then on (no copy of the roster is kept with the post).
  return !model_refusal(v.model, v.groups ? *v.groups : c.roster_groups_allowed, r);
}

bool is_public(const Visibility& v, const NodeConfig& c) { return may_see(v, c, Requester{}); }

tl::expected<SubscribeOutcome, StanzaError> check_subscribe(const NodeConfig& c, const Requester& r) {
  // §6.1.3.8: blocked.
  if (r.affiliation == Affiliation::kOutcast) return tl::unexpected(forbidden("you are banned from this node"));
  if (r.affiliation == Affiliation::kPublishOnly)
    return tl::unexpected(forbidden("publish-only entities may not subscribe"));
  // §6.1.3.10: the node does not allow subscriptions.
  if (!c.subscribe) return tl::unexpected(unsupported("subscribe", "this node does not take subscriptions"));
  // §6.1.3.7: a pending request is not repeated.
  if (r.subscription == SubState::kPending)
    return tl::unexpected(pubsub_error(StanzaErrorCondition::kNotAuthorized, "pending-subscription",
                                       "your subscription request awaits the owner's approval"));
  // Affiliated entities subscribe at once, whatever the model (§6.1.4 lets service policy say so).
  if (at_least_member(r.affiliation)) return SubscribeOutcome::kSubscribed;
  if (c.access_model == AccessModel::kAuthorize) return SubscribeOutcome::kPending;  // §6.1.4
  if (auto refusal = model_refusal(c.access_model, c.roster_groups_allowed, r)) return tl::unexpected(std::move(*refusal));
  return SubscribeOutcome::kSubscribed;
}

std::optional<StanzaError> check_publish(const NodeConfig& c, const Requester& r) {
  switch (r.affiliation) {
    case Affiliation::kOutcast:
      return forbidden("you are banned from this node");
    case Affiliation::kOwner:
    case Affiliation::kPublisher:
    case Affiliation::kPublishOnly:
      return std::nullopt;
    default:
      break;
  }
  switch (c.publish_model) {
    case PublishModel::kOpen:
      if (check_retrieve(c, r)) return forbidden("only those who may read this node may publish to it");
      return std::nullopt;
    case PublishModel::kSubscribers:
      if (r.subscription == SubState::kSubscribed) return std::nullopt;
      return forbidden("only subscribers may publish to this node");
    case PublishModel::kPublishers:
      break;
  }
  return forbidden("only the node's publishers may publish to it");
}

std::optional<StanzaError> check_retract(const NodeConfig& c, const Requester& r, bool own_item) {
  if (r.affiliation == Affiliation::kOwner || r.affiliation == Affiliation::kPublisher) return std::nullopt;
  // Publish-only entities, and commenters on open nodes, may take back what they published.
  if (own_item && !check_publish(c, r)) return std::nullopt;
  return forbidden("you may not delete this item");
}

std::optional<StanzaError> check_purge(const Requester& r) {
  if (r.affiliation == Affiliation::kOwner || r.affiliation == Affiliation::kPublisher) return std::nullopt;
  return forbidden("only owners and publishers may purge this node");
}

std::optional<StanzaError> check_owner(const Requester& r) {
  if (r.affiliation == Affiliation::kOwner) return std::nullopt;
  return forbidden("only the node's owners may do this");
}

std::vector<size_t> refused_affiliation_changes(const std::vector<std::pair<std::string, Affiliation>>& current,
                                                const std::vector<AffiliationChange>& changes,
                                                std::string_view fixed_owner) {
  std::vector<size_t> refused;
  std::vector<std::pair<std::string, Affiliation>> after = current;
  auto set = [&](const std::string& jid, Affiliation a) {
    for (auto& [j, x] : after)
      if (j == jid) {
        x = a;
        return;
      }
    after.emplace_back(jid, a);
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!fixed_owner.empty() && changes[i].jid == fixed_owner && changes[i].affiliation != Affiliation::kOwner) {
      refused.push_back(i);  // the account owns its PEP service
      continue;
    }
    set(changes[i].jid, changes[i].affiliation);
  }
  // §8.9.2.4: the owner cannot resign if it is the only one.
  bool any_owner = std::any_of(after.begin(), after.end(), [](const auto& p) { return p.second == Affiliation::kOwner; });
  if (!any_owner) {
    for (size_t i = 0; i < changes.size(); ++i) {
      bool was_owner = std::any_of(current.begin(), current.end(), [&](const auto& p) {
        return p.first == changes[i].jid && p.second == Affiliation::kOwner;
      });
      if (was_owner && std::find(refused.begin(), refused.end(), i) == refused.end()) refused.push_back(i);
    }
  }
  std::sort(refused.begin(), refused.end());
  return refused;
}

}  // namespace causerie::modules::pubsub
