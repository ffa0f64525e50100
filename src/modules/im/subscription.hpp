// RFC 6121 Appendix A: the presence subscription state machine, including pre-approval (§3.4), as pure
// functions. Table-tested in tests/unit/subscription_test.cpp against Tables 2–9.
#pragma once

#include <optional>
#include <string_view>

#include "storage/roster_store.hpp"

namespace causerie::modules::im {

using storage::Subscription;

// The user's view of one contact: one of the nine states of A.1 plus the pre-approval flag.
struct SubState {
  Subscription sub = Subscription::kNone;
  bool pending_out = false;
  bool pending_in = false;
  bool approved = false;  // §3.4 pre-approval
  bool operator==(const SubState&) const = default;
};

enum class SubType { kSubscribe, kSubscribed, kUnsubscribe, kUnsubscribed };
std::optional<SubType> parse_sub_type(std::string_view type);
const char* to_string(SubType t);

// A.2: a subscription stanza the user sends to the contact.
struct OutboundResult {
  bool route = false;  // forward the stanza to the contact
  SubState next;
};
OutboundResult outbound(SubState state, SubType type);

// A.3: a subscription stanza the contact sends to the user.
struct InboundResult {
  bool deliver = false;  // hand it to the user's resources
  SubState next;
  std::optional<SubType> auto_reply;  // sent back to the contact on the user's behalf
};
InboundResult inbound(SubState state, SubType type);

bool has_from(Subscription s);  // the contact receives the user's presence
bool has_to(Subscription s);    // the user receives the contact's presence

}  // namespace causerie::modules::im
