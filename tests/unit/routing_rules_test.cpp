// RFC 6121 §8.5.4 Table 1 and the presence/IQ rules of §8.5.2–8.5.3, row by row.
#include <gtest/gtest.h>

#include "core/router/routing_rules.hpp"

using namespace causerie;

namespace {

using A = DeliveryAction;
const std::vector<ResourceState> kNone = {};
const std::vector<ResourceState> kOneNegative = {{-1, true}};
const std::vector<ResourceState> kOneNonNegative = {{0, true}};
const std::vector<ResourceState> kTwoNonNegative = {{5, true}, {0, true}};
const std::vector<ResourceState> kMixed = {{-5, true}, {1, true}, {2, false}};  // one negative, one connected only

struct Row {
  const char* condition;
  const std::vector<ResourceState>* resources;
  bool full;
  int matched;
  A normal, chat, groupchat, headline;
};

TEST(RoutingRules, Table1MessageDeliveryRules) {
  std::vector<Row> rows = {
      // ACCOUNT EXISTS, BUT NO ACTIVE RESOURCES: bare O/E O/E E S; full (no match) S/E O/E S/E S/E
      {"none bare", &kNone, false, -1, A::kOffline, A::kOffline, A::kBounce, A::kDrop},
      {"none full", &kNone, true, -1, A::kBounce, A::kOffline, A::kBounce, A::kBounce},
      // 1+ NEGATIVE BUT ZERO NON-NEGATIVE
      {"neg bare", &kOneNegative, false, -1, A::kOffline, A::kOffline, A::kBounce, A::kDrop},
      {"neg full match", &kOneNegative, true, 0, A::kDeliver, A::kDeliver, A::kDeliver, A::kDeliver},
      {"neg full no match", &kOneNegative, true, -1, A::kBounce, A::kOffline, A::kBounce, A::kBounce},
      // 1 NON-NEGATIVE RESOURCE
      {"one bare", &kOneNonNegative, false, -1, A::kDeliver, A::kDeliver, A::kBounce, A::kDeliver},
      {"one full match", &kOneNonNegative, true, 0, A::kDeliver, A::kDeliver, A::kDeliver, A::kDeliver},
      {"one full no match", &kOneNonNegative, true, -1, A::kBounce, A::kDeliver, A::kBounce, A::kBounce},
      // 1+ NON-NEGATIVE RESOURCES
      {"two bare", &kTwoNonNegative, false, -1, A::kDeliver, A::kDeliver, A::kBounce, A::kDeliver},
      {"two full match", &kTwoNonNegative, true, 1, A::kDeliver, A::kDeliver, A::kDeliver, A::kDeliver},
      {"two full no match", &kTwoNonNegative, true, -1, A::kBounce, A::kDeliver, A::kBounce, A::kBounce},
  };
  for (const auto& r : rows) {
    const MessageType types[] = {MessageType::kNormal, MessageType::kChat, MessageType::kGroupchat,
                                 MessageType::kHeadline};
    const A expected[] = {r.normal, r.chat, r.groupchat, r.headline};
    for (int t = 0; t < 4; ++t) {
      DeliveryDecision d = decide_message(types[t], r.full, r.matched, *r.resources);
      EXPECT_EQ(d.action, expected[t]) << r.condition << " type " << t;
    }
  }
}

TEST(RoutingRules, BareJidGoesToAllNonNegativeAvailableResources) {
  DeliveryDecision d = decide_message(MessageType::kChat, false, -1, kMixed);
  EXPECT_EQ(d.action, A::kDeliver);
  EXPECT_EQ(d.targets, std::vector<uint32_t>{1});  // not the negative one, not the unavailable one
  d = decide_message(MessageType::kNormal, false, -1, kTwoNonNegative);
  EXPECT_EQ(d.targets, (std::vector<uint32_t>{0, 1}));
}

TEST(RoutingRules, FullJidMatchIgnoresPriorityAndAvailability) {
  DeliveryDecision d = decide_message(MessageType::kChat, true, 2, kMixed);
  EXPECT_EQ(d.action, A::kDeliver);
  EXPECT_EQ(d.targets, std::vector<uint32_t>{2});
}

TEST(RoutingRules, ErrorMessagesAreNeverBounced) {
  for (bool full : {false, true}) {
    EXPECT_EQ(decide_message(MessageType::kError, full, -1, kNone).action, A::kDrop);
    EXPECT_EQ(decide_message(MessageType::kError, full, -1, kTwoNonNegative).action,
              full ? A::kDrop : A::kDrop);
  }
  EXPECT_EQ(decide_message(MessageType::kError, true, 0, kOneNonNegative).action, A::kDeliver);
}

TEST(RoutingRules, MessageTypeParsing) {
  EXPECT_EQ(parse_message_type(""), MessageType::kNormal);
  EXPECT_EQ(parse_message_type("bogus"), MessageType::kNormal);  // RFC 6121 §5.2.2
  EXPECT_EQ(parse_message_type("chat"), MessageType::kChat);
  EXPECT_EQ(parse_message_type("groupchat"), MessageType::kGroupchat);
  EXPECT_EQ(parse_message_type("headline"), MessageType::kHeadline);
  EXPECT_EQ(parse_message_type("error"), MessageType::kError);
}

TEST(RoutingRules, PresenceRules) {
  // §8.5.2.1.2: to the bare JID, every available resource, whatever its priority.
  DeliveryDecision d = decide_presence(false, -1, kMixed);
  EXPECT_EQ(d.action, A::kDeliver);
  EXPECT_EQ(d.targets, (std::vector<uint32_t>{0, 1}));
  // §8.5.2.2.2: nobody available: silently ignored.
  EXPECT_EQ(decide_presence(false, -1, kNone).action, A::kDrop);
  // §8.5.3.1 / §8.5.3.2.2
  EXPECT_EQ(decide_presence(true, 2, kMixed).targets, std::vector<uint32_t>{2});
  EXPECT_EQ(decide_presence(true, -1, kMixed).action, A::kDrop);
}

TEST(RoutingRules, IqToFullJid) {
  EXPECT_EQ(decide_iq_to_full(true, 0).action, A::kDeliver);
  EXPECT_EQ(decide_iq_to_full(false, 0).action, A::kDeliver);
  EXPECT_EQ(decide_iq_to_full(true, -1).action, A::kBounce);  // §8.5.3.2.3
  EXPECT_EQ(decide_iq_to_full(false, -1).action, A::kDrop);
}

}  // namespace
