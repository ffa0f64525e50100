// Notifier: delivers pubsub event notifications (XEP-0060 v1.30.0 §7.1.2, XEP-0163 v1.2.2 §4.3) to the
// recipients a storage job chose, off the storage thread.
//
// The fan-out path is built for large nodes: the <message/> is serialized once (SharedStanza) and each
// local recipient gets the shared bytes with its own 'to', straight into its session's queue through
// the SessionDispatcher, in one deliver_many batch; nothing per recipient touches storage. The
// recipients of one node's events are always served by the same worker, so subscribers see a node's
// events in publication order.
//
// Thread rules: send() may be called from any thread; the delivery runs on a worker thread.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/module/module.hpp"
#include "modules/pubsub/caps.hpp"

namespace causerie::modules::pubsub {

struct Target {
  std::string jid;  // as subscribed: bare or full
  bool include_body = false;
  std::vector<std::string> show_values;  // empty: any presence state
};

struct FanOut {
  std::string from;  // the service's address (an account's bare JID for PEP, §4.3.1)
  std::string node;
  bool pep = false;
  bool normal_type = false;  // pubsub#notification_type "normal": bare subscribers offline get it stored
  std::vector<Target> targets;        // explicit subscribers allowed to receive this event
  std::vector<std::string> implicit;  // PEP: bare JIDs whose resources asked "+notify" for the node
};

class Notifier {
 public:
  Notifier(ModuleContext& ctx, CapsTracker& caps) : ctx_(ctx), caps_(caps) {}

  // Sends `message` (a <message/> without 'to') to everyone in the plan; `with_body` is the same
  // message with a <body/>, for subscribers who asked for one (pubsub#include_body).
  void send(FanOut plan, xml::Element message, std::optional<xml::Element> with_body = std::nullopt);
  // One message to one address (the last published item, a subscription state change…). Any thread.
  void send_one(const std::string& from, const std::string& to, xml::Element message);

  // A fresh id for a notification message.
  std::string next_id();

 private:
  void deliver(const FanOut& plan, const xml::Element& message, const std::optional<xml::Element>& with_body);

  ModuleContext& ctx_;
  CapsTracker& caps_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace causerie::modules::pubsub
