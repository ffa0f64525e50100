#include "modules/im/subscription.hpp"

namespace causerie::modules::im {

std::optional<SubType> parse_sub_type(std::string_view t) {
  if (t == "subscribe") return SubType::kSubscribe;
  if (t == "subscribed") return SubType::kSubscribed;
  if (t == "unsubscribe") return SubType::kUnsubscribe;
  if (t == "unsubscribed") return SubType::kUnsubscribed;
  return std::nullopt;
}

const char* to_string(SubType t) {
  switch (t) {
    case SubType::kSubscribe: return "subscribe";
    case SubType::kSubscribed: return "subscribed";
    case SubType::kUnsubscribe: return "unsubscribe";
    case SubType::kUnsubscribed: return "unsubscribed";
  }
  return "";
}

bool has_from(Subscription s) { return s == Subscription::kFrom || s == Subscription::kBoth; }
bool has_to(Subscription s) { return s == Subscription::kTo || s == Subscription::kBoth; }

namespace {
Subscription make(bool to, bool from) {
  if (to && from) return Subscription::kBoth;
  if (to) return Subscription::kTo;
  if (from) return Subscription::kFrom;
  return Subscription::kNone;
}
}  // namespace

OutboundResult outbound(SubState s, SubType type) {
  OutboundResult r{true, s};
  bool to = has_to(s.sub), from = has_from(s.sub);
  switch (type) {
    case SubType::kSubscribe:  // Table 2: always routed; pending out unless already subscribed
      if (!to) r.next.pending_out = true;
      break;
    case SubType::kUnsubscribe:  // Table 3: always routed; drops "to" and pending out
      r.next.pending_out = false;
      r.next.sub = make(false, from);
      break;
    case SubType::kSubscribed:  // Table 4
      if (s.pending_in) {
        r.next.pending_in = false;
        r.next.sub = make(to, true);
        r.next.approved = false;
      } else {
        r.route = false;
        // §3.4: without a pending request this is a pre-approval, unless "from" already holds.
        if (!from) r.next.approved = true;
      }
      break;
    case SubType::kUnsubscribed:  // Table 5
      if (s.pending_in || from) {
        r.next.pending_in = false;
        r.next.sub = make(to, false);
      } else {
        r.route = false;
      }
      r.next.approved = false;  // [1]: cancels a pre-approval
      break;
  }
  return r;
}

InboundResult inbound(SubState s, SubType type) {
  InboundResult r{false, s, std::nullopt};
  bool to = has_to(s.sub), from = has_from(s.sub);
  switch (type) {
    case SubType::kSubscribe:  // Table 6
      if (from) {
        r.auto_reply = SubType::kSubscribed;  // [2]
      } else if (s.approved) {
        // [1] and §3.4: pre-approved: accept on the user's behalf.
        r.next.sub = make(to, true);
        r.next.approved = false;
        r.auto_reply = SubType::kSubscribed;
      } else if (!s.pending_in) {
        r.deliver = true;
        r.next.pending_in = true;
      }
      break;
    case SubType::kUnsubscribe:  // Table 7
      if (s.pending_in || from) {
        r.deliver = true;
        r.next.pending_in = false;
        r.next.sub = make(to, false);
        r.auto_reply = SubType::kUnsubscribed;
      }
      break;
    case SubType::kSubscribed:  // Table 8
      if (s.pending_out && !to) {
        r.deliver = true;
        r.next.pending_out = false;
        r.next.sub = make(true, from);
      }
      break;
    case SubType::kUnsubscribed:  // Table 9
      if (s.pending_out || to) {
        r.deliver = true;
        r.next.pending_out = false;
        r.next.sub = make(false, from);
      }
      break;
  }
  return r;
}

}  // namespace causerie::modules::im
