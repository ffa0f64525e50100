// XEP-0060 §4.1 affiliations and §4.5 access models as decisions: every model against every kind of
// requester, with the exact error each refusal gets (§6.1.3, §6.5.9, §7.1.3).
#include <gtest/gtest.h>

#include "modules/pubsub/access.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

enum Who { kOwner, kPublisher, kPublishOnly, kMember, kContactFriend, kContactOther, kStranger, kSubscribed, kOutcast };

Requester who(Who w) {
  Requester r;
  switch (w) {
    case kOwner: r.affiliation = Affiliation::kOwner; break;
    case kPublisher: r.affiliation = Affiliation::kPublisher; break;
    case kPublishOnly: r.affiliation = Affiliation::kPublishOnly; break;
    case kMember: r.affiliation = Affiliation::kMember; break;
    case kContactFriend: r.presence_subscribed = true; r.groups = {"Friends"}; break;
    case kContactOther: r.presence_subscribed = true; r.groups = {"Work"}; break;
    case kStranger: break;
    case kSubscribed: r.subscription = SubState::kSubscribed; break;
    case kOutcast: r.affiliation = Affiliation::kOutcast; r.presence_subscribed = true; break;
  }
  return r;
}

NodeConfig model(AccessModel m) {
  NodeConfig c;
  c.access_model = m;
  c.roster_groups_allowed = {"Friends"};
  return c;
}

// "" = allowed; otherwise "condition/app-condition".
std::string verdict(const std::optional<StanzaError>& e) {
  if (!e) return "";
  std::string s = to_string(e->condition);
  if (e->app_condition) s += "/" + e->app_condition->name();
  return s;
}

struct RetrieveCase {
  AccessModel model;
  Who requester;
  const char* expected;
};

}  // namespace

TEST(PubsubAccess, RetrieveEveryModelEveryRequester) {
  using A = AccessModel;
  const RetrieveCase cases[] = {
      {A::kOpen, kStranger, ""},
      {A::kOpen, kOutcast, "forbidden"},
      {A::kOpen, kPublishOnly, "forbidden"},
      {A::kPresence, kContactOther, ""},
      {A::kPresence, kStranger, "not-authorized/presence-subscription-required"},
      {A::kPresence, kSubscribed, "not-authorized/presence-subscription-required"},
      {A::kPresence, kOwner, ""},
      {A::kRoster, kContactFriend, ""},
      {A::kRoster, kContactOther, "not-authorized/not-in-roster-group"},
      {A::kRoster, kStranger, "not-authorized/not-in-roster-group"},
      {A::kWhitelist, kMember, ""},
      {A::kWhitelist, kPublisher, ""},
      {A::kWhitelist, kContactFriend, "not-allowed/closed-node"},
      {A::kWhitelist, kStranger, "not-allowed/closed-node"},
      {A::kAuthorize, kSubscribed, ""},
      {A::kAuthorize, kContactFriend, "not-authorized/not-subscribed"},
      {A::kAuthorize, kOwner, ""},
      {A::kAuthorize, kOutcast, "forbidden"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(verdict(check_retrieve(model(c.model), who(c.requester))), c.expected)
        << to_string(c.model) << " requester " << c.requester;
}

TEST(PubsubAccess, SubscribeOutcomes) {
  using A = AccessModel;
  struct Case {
    AccessModel model;
    Who requester;
    const char* expected;  // "subscribed", "pending" or an error
  };
  const Case cases[] = {
      {A::kOpen, kStranger, "subscribed"},
      {A::kPresence, kContactOther, "subscribed"},
      {A::kPresence, kStranger, "not-authorized/presence-subscription-required"},
      {A::kRoster, kContactFriend, "subscribed"},
      {A::kRoster, kContactOther, "not-authorized/not-in-roster-group"},
      {A::kWhitelist, kMember, "subscribed"},
      {A::kWhitelist, kStranger, "not-allowed/closed-node"},
      {A::kAuthorize, kStranger, "pending"},
      {A::kAuthorize, kMember, "subscribed"},
      {A::kOpen, kOutcast, "forbidden"},
      {A::kOpen, kPublishOnly, "forbidden"},
  };
  for (const auto& c : cases) {
    auto r = check_subscribe(model(c.model), who(c.requester));
    std::string got = r ? (*r == SubscribeOutcome::kPending ? "pending" : "subscribed") : verdict(r.error());
    EXPECT_EQ(got, c.expected) << to_string(c.model) << " requester " << c.requester;
  }
  Requester pending = who(kStranger);
  pending.subscription = SubState::kPending;
  EXPECT_EQ(verdict(check_subscribe(model(A::kAuthorize), pending).error()), "not-authorized/pending-subscription");
  NodeConfig closed = model(A::kOpen);
  closed.subscribe = false;
  EXPECT_EQ(verdict(check_subscribe(closed, who(kStranger)).error()), "feature-not-implemented/unsupported");
}

TEST(PubsubAccess, PublishModels) {
  struct Case {
    PublishModel pm;
    AccessModel am;
    Who requester;
    const char* expected;
  };
  using P = PublishModel;
  using A = AccessModel;
  const Case cases[] = {
      {P::kPublishers, A::kOpen, kOwner, ""},
      {P::kPublishers, A::kOpen, kPublisher, ""},
      {P::kPublishers, A::kOpen, kPublishOnly, ""},
      {P::kPublishers, A::kOpen, kMember, "forbidden"},
      {P::kPublishers, A::kOpen, kStranger, "forbidden"},
      {P::kSubscribers, A::kOpen, kSubscribed, ""},
      {P::kSubscribers, A::kOpen, kStranger, "forbidden"},
      {P::kOpen, A::kOpen, kStranger, ""},
      // A contacts-only comments node takes comments from contacts only.
      {P::kOpen, A::kPresence, kContactOther, ""},
      {P::kOpen, A::kPresence, kStranger, "forbidden"},
      {P::kOpen, A::kOpen, kOutcast, "forbidden"},
  };
  for (const auto& c : cases) {
    NodeConfig cfg = model(c.am);
    cfg.publish_model = c.pm;
    EXPECT_EQ(verdict(check_publish(cfg, who(c.requester))), c.expected)
        << to_string(c.pm) << "/" << to_string(c.am) << " requester " << c.requester;
  }
}

TEST(PubsubAccess, RetractPurgeAndOwnerOnlyActions) {
  NodeConfig open_publish = model(AccessModel::kOpen);
  open_publish.publish_model = PublishModel::kOpen;
  EXPECT_EQ(verdict(check_retract(open_publish, who(kStranger), true)), "");   // one's own comment
  EXPECT_EQ(verdict(check_retract(open_publish, who(kStranger), false)), "forbidden");
  EXPECT_EQ(verdict(check_retract(model(AccessModel::kOpen), who(kPublishOnly), true)), "");
  EXPECT_EQ(verdict(check_retract(model(AccessModel::kOpen), who(kPublishOnly), false)), "forbidden");
  EXPECT_EQ(verdict(check_retract(model(AccessModel::kOpen), who(kPublisher), false)), "");
  EXPECT_EQ(verdict(check_purge(who(kPublisher))), "");
  EXPECT_EQ(verdict(check_purge(who(kMember))), "forbidden");
  EXPECT_EQ(verdict(check_owner(who(kOwner))), "");
  EXPECT_EQ(verdict(check_owner(who(kPublisher))), "forbidden");
}

TEST(PubsubAccess, ItemVisibility) {
  NodeConfig feed = model(AccessModel::kPresence);
  EXPECT_TRUE(may_see(AccessModel::kOpen, feed, who(kStranger)));
  EXPECT_FALSE(may_see(AccessModel::kPresence, feed, who(kStranger)));
  EXPECT_TRUE(may_see(AccessModel::kPresence, feed, who(kContactOther)));
  EXPECT_TRUE(may_see(AccessModel::kPresence, feed, who(kOwner)));
  EXPECT_FALSE(may_see(AccessModel::kOpen, feed, who(kOutcast)));
}

TEST(PubsubAccess, AffiliationChanges) {
  using Current = std::vector<std::pair<std::string, Affiliation>>;
  Current one_owner = {{"hamlet@denmark.lit", Affiliation::kOwner}};
  // §8.9.2.4: the only owner cannot step down…
  EXPECT_EQ(refused_affiliation_changes(one_owner, {{"hamlet@denmark.lit", Affiliation::kNone}}, ""),
            std::vector<size_t>{0});
  // …unless someone else becomes owner in the same request.
  EXPECT_TRUE(refused_affiliation_changes(one_owner, {{"horatio@denmark.lit", Affiliation::kOwner},
                                                      {"hamlet@denmark.lit", Affiliation::kPublisher}}, "").empty());
  // A PEP service's owner is the account, whatever the request says.
  EXPECT_EQ(refused_affiliation_changes(one_owner, {{"bard@shakespeare.lit", Affiliation::kMember},
                                                    {"hamlet@denmark.lit", Affiliation::kOutcast}}, "hamlet@denmark.lit"),
            std::vector<size_t>{1});
  EXPECT_TRUE(refused_affiliation_changes(one_owner, {{"bard@shakespeare.lit", Affiliation::kOutcast}}, "").empty());
}

TEST(PubsubAccess, Names) {
  for (auto a : {Affiliation::kOutcast, Affiliation::kNone, Affiliation::kPublishOnly, Affiliation::kMember,
                 Affiliation::kPublisher, Affiliation::kOwner})
    EXPECT_EQ(parse_affiliation(to_string(a)), a);
  EXPECT_FALSE(parse_affiliation("admin"));
  EXPECT_EQ(parse_sub_state("pending"), SubState::kPending);
}
