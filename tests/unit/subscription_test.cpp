// RFC 6121 Appendix A, Tables 2–9: every row of every table.
#include <gtest/gtest.h>

#include "modules/im/subscription.hpp"

using namespace causerie::modules::im;
using causerie::storage::Subscription;

namespace {

// The nine states of A.1, by their names in the RFC.
SubState S(const std::string& name) {
  static const std::map<std::string, SubState> kStates = {
      {"None", {Subscription::kNone, false, false}},
      {"None + Pending Out", {Subscription::kNone, true, false}},
      {"None + Pending In", {Subscription::kNone, false, true}},
      {"None + Pending Out+In", {Subscription::kNone, true, true}},
      {"To", {Subscription::kTo, false, false}},
      {"To + Pending In", {Subscription::kTo, false, true}},
      {"From", {Subscription::kFrom, false, false}},
      {"From + Pending Out", {Subscription::kFrom, true, false}},
      {"Both", {Subscription::kBoth, false, false}},
  };
  return kStates.at(name);
}

struct Row {
  std::string state;
  bool act;  // route (outbound) or deliver (inbound)
  std::string next;  // "" = no state change
};

void check_outbound(SubType type, const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    OutboundResult res = outbound(S(r.state), type);
    EXPECT_EQ(res.route, r.act) << to_string(type) << " from " << r.state;
    SubState expected = r.next.empty() ? S(r.state) : S(r.next);
    expected.approved = res.next.approved;  // pre-approval is checked separately
    EXPECT_EQ(res.next, expected) << to_string(type) << " from " << r.state;
  }
}

void check_inbound(SubType type, const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    InboundResult res = inbound(S(r.state), type);
    EXPECT_EQ(res.deliver, r.act) << to_string(type) << " from " << r.state;
    EXPECT_EQ(res.next, r.next.empty() ? S(r.state) : S(r.next)) << to_string(type) << " from " << r.state;
  }
}

TEST(Subscription, Table2OutboundSubscribe) {
  check_outbound(SubType::kSubscribe, {{"None", true, "None + Pending Out"},
                                       {"None + Pending Out", true, ""},
                                       {"None + Pending In", true, "None + Pending Out+In"},
                                       {"None + Pending Out+In", true, ""},
                                       {"To", true, ""},
                                       {"To + Pending In", true, ""},
                                       {"From", true, "From + Pending Out"},
                                       {"From + Pending Out", true, ""},
                                       {"Both", true, ""}});
}

TEST(Subscription, Table3OutboundUnsubscribe) {
  check_outbound(SubType::kUnsubscribe, {{"None", true, ""},
                                         {"None + Pending Out", true, "None"},
                                         {"None + Pending In", true, ""},
                                         {"None + Pending Out+In", true, "None + Pending In"},
                                         {"To", true, "None"},
                                         {"To + Pending In", true, "None + Pending In"},
                                         {"From", true, ""},
                                         {"From + Pending Out", true, "From"},
                                         {"Both", true, "From"}});
}

TEST(Subscription, Table4OutboundSubscribed) {
  check_outbound(SubType::kSubscribed, {{"None", false, ""},
                                        {"None + Pending Out", false, ""},
                                        {"None + Pending In", true, "From"},
                                        {"None + Pending Out+In", true, "From + Pending Out"},
                                        {"To", false, ""},
                                        {"To + Pending In", true, "Both"},
                                        {"From", false, ""},
                                        {"From + Pending Out", false, ""},
                                        {"Both", false, ""}});
  // §3.4.2 rules 3 and 4: "None", "None + Pending Out" and "To" become pre-approvals; rule 1: not "From".
  for (auto name : {"None", "None + Pending Out", "To"}) EXPECT_TRUE(outbound(S(name), SubType::kSubscribed).next.approved) << name;
  for (auto name : {"From", "From + Pending Out", "Both"}) EXPECT_FALSE(outbound(S(name), SubType::kSubscribed).next.approved) << name;
}

TEST(Subscription, Table5OutboundUnsubscribed) {
  check_outbound(SubType::kUnsubscribed, {{"None", false, ""},
                                          {"None + Pending Out", false, ""},
                                          {"None + Pending In", true, "None"},
                                          {"None + Pending Out+In", true, "None + Pending Out"},
                                          {"To", false, ""},
                                          {"To + Pending In", true, "To"},
                                          {"From", true, "None"},
                                          {"From + Pending Out", true, "None + Pending Out"},
                                          {"Both", true, "To"}});
  SubState approved = S("None");
  approved.approved = true;
  EXPECT_FALSE(outbound(approved, SubType::kUnsubscribed).next.approved) << "[1] cancels a pre-approval";
}

TEST(Subscription, Table6InboundSubscribe) {
  check_inbound(SubType::kSubscribe, {{"None", true, "None + Pending In"},
                                      {"None + Pending Out", true, "None + Pending Out+In"},
                                      {"None + Pending In", false, ""},
                                      {"None + Pending Out+In", false, ""},
                                      {"To", true, "To + Pending In"},
                                      {"To + Pending In", false, ""},
                                      {"From", false, ""},
                                      {"From + Pending Out", false, ""},
                                      {"Both", false, ""}});
  for (auto name : {"From", "From + Pending Out", "Both"})
    EXPECT_EQ(inbound(S(name), SubType::kSubscribe).auto_reply, SubType::kSubscribed) << "[2] " << name;
  // [1] and §3.4: a pre-approved contact is accepted on the user's behalf.
  SubState approved = S("None");
  approved.approved = true;
  InboundResult r = inbound(approved, SubType::kSubscribe);
  EXPECT_FALSE(r.deliver);
  EXPECT_EQ(r.next, S("From"));
  EXPECT_EQ(r.auto_reply, SubType::kSubscribed);
  SubState approved_to = S("To");
  approved_to.approved = true;
  EXPECT_EQ(inbound(approved_to, SubType::kSubscribe).next, S("Both"));
}

TEST(Subscription, Table7InboundUnsubscribe) {
  check_inbound(SubType::kUnsubscribe, {{"None", false, ""},
                                        {"None + Pending Out", false, ""},
                                        {"None + Pending In", true, "None"},
                                        {"None + Pending Out+In", true, "None + Pending Out"},
                                        {"To", false, ""},
                                        {"To + Pending In", true, "To"},
                                        {"From", true, "None"},
                                        {"From + Pending Out", true, "None + Pending Out"},
                                        {"Both", true, "To"}});
  EXPECT_EQ(inbound(S("Both"), SubType::kUnsubscribe).auto_reply, SubType::kUnsubscribed);
}

TEST(Subscription, Table8InboundSubscribed) {
  check_inbound(SubType::kSubscribed, {{"None", false, ""},
                                       {"None + Pending Out", true, "To"},
                                       {"None + Pending In", false, ""},
                                       {"None + Pending Out+In", true, "To + Pending In"},
                                       {"To", false, ""},
                                       {"To + Pending In", false, ""},
                                       {"From", false, ""},
                                       {"From + Pending Out", true, "Both"},
                                       {"Both", false, ""}});
}

TEST(Subscription, Table9InboundUnsubscribed) {
  check_inbound(SubType::kUnsubscribed, {{"None", false, ""},
                                         {"None + Pending Out", true, "None"},
                                         {"None + Pending In", false, ""},
                                         {"None + Pending Out+In", true, "None + Pending In"},
                                         {"To", true, "None"},
                                         {"To + Pending In", true, "None + Pending In"},
                                         {"From", false, ""},
                                         {"From + Pending Out", true, "From"},
                                         {"Both", true, "From"}});
}

}  // namespace
