// XEP-0060 v1.30.0 node configuration (§8.2, §16.4.4 pubsub#node_config), its defaults for the pubsub
// service and for PEP (XEP-0163 v1.2.2 §8), the meta-data form of §5.4, publish-options preconditions
// (§7.1.5, XEP-0223 v1.1.1) and subscription options (§6.3). Pure values and functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"

namespace causerie::modules::pubsub {

enum class AccessModel : uint8_t { kOpen, kPresence, kRoster, kAuthorize, kWhitelist };
enum class PublishModel : uint8_t { kPublishers, kSubscribers, kOpen };
enum class SendLastItem : uint8_t { kNever, kOnSub, kOnSubAndPresence };
enum class NodeFullPolicy : uint8_t { kRetractOldest, kDiscardOldest, kReject };

const char* to_string(AccessModel m);
const char* to_string(PublishModel m);
const char* to_string(SendLastItem s);
const char* to_string(NodeFullPolicy p);
std::optional<AccessModel> parse_access_model(std::string_view s);

// Service-wide limits and defaults, from [modules.pubsub].
struct ServiceLimits {
  int64_t max_items_limit = 1'000'000;      // what "max" means; larger values are refused
  int64_t default_max_items = 256;          // generous: Movim and XEP-0472 feeds keep many items
  int64_t max_payload_size = 192 * 1024;    // bytes of one item's payload, serialized; below the stanza limit
  int64_t max_item_expire = 10LL * 365 * 24 * 3600;
};

struct NodeConfig {
  AccessModel access_model = AccessModel::kOpen;
  PublishModel publish_model = PublishModel::kPublishers;
  SendLastItem send_last_published_item = SendLastItem::kOnSubAndPresence;
  NodeFullPolicy publish_node_full = NodeFullPolicy::kRetractOldest;
  bool deliver_notifications = true;
  bool deliver_payloads = true;
  bool notify_config = false;
  bool notify_delete = true;
  bool notify_retract = true;
  bool notify_sub = false;
  bool persist_items = true;
  bool presence_based_delivery = false;
  bool purge_offline = false;
  bool subscribe = true;
  bool tempsub = false;
  bool max_items_max = false;  // "max": the service limit
  int64_t max_items = 256;
  int64_t item_expire = 0;     // seconds; 0: items never expire
  int64_t max_payload_size = 0;  // 0: the service limit
  std::string notification_type = "headline";
  std::string itemreply;       // "", "owner" or "publisher"
  std::string title, description, type, language, body_xslt, dataform_xslt;
  std::vector<std::string> contact, roster_groups_allowed;

  // The number of items kept: max_items, or the service limit for "max".
  int64_t effective_max_items(const ServiceLimits& l) const { return max_items_max ? l.max_items_limit : max_items; }
  int64_t effective_max_payload(const ServiceLimits& l) const {
    return max_payload_size > 0 && max_payload_size < l.max_payload_size ? max_payload_size : l.max_payload_size;
  }
  bool operator==(const NodeConfig&) const = default;
};

// Defaults for a new node. PEP (XEP-0163 §8): access "presence", last item on subscription and presence.
NodeConfig default_config(bool pep, const ServiceLimits& limits);

// The configuration form (§8.2.1, type "form"), with the current values.
xml::DataForm config_form(const NodeConfig& c, const ServiceLimits& limits);
// pubsub#language as XEP-0060 §16.4.4 registers it: list-single, the current value its only option, open to
// any language tag (XEP-0122 datatype xs:language with <open/>). Typed clients (aioxmpp) refuse text-single.
xml::FormField& add_language_field(xml::DataForm& f, const std::string& language, std::string label);
// Applies a submitted pubsub#node_config form (§8.2.4) over `base`. Unknown fields and invalid values
// are not-acceptable (naming the field); a wrong FORM_TYPE is bad-request.
tl::expected<NodeConfig, StanzaError> apply_config_form(NodeConfig base, const xml::DataForm& submitted,
                                                        const ServiceLimits& limits);

// Storage form of a configuration: the submitted form, as XML.
std::string serialize_config(const NodeConfig& c, const ServiceLimits& limits);
NodeConfig parse_config(std::string_view stored, const NodeConfig& defaults, const ServiceLimits& limits);

// XEP-0060 §7.1.5 / XEP-0223: each publish-options field is a precondition on the node configuration
// field of the same name. Returns the first field whose value differs from the node's (or that no node
// configuration has), or nullopt when all are met. `skip` names a field the caller handles itself.
std::optional<std::string> unmet_precondition(const NodeConfig& node, const xml::DataForm& options,
                                              const ServiceLimits& limits, std::string_view skip = {});
// The configuration of a node auto-created with publish-options (§7.1.5: the defaults except the
// preconditions), or the error the options make.
tl::expected<NodeConfig, StanzaError> config_with_options(NodeConfig defaults, const xml::DataForm& options,
                                                          const ServiceLimits& limits, std::string_view skip = {});

// --- subscription options (§6.3, pubsub#subscribe_options) ---
struct SubscriptionOptions {
  bool deliver = true;
  bool include_body = false;
  std::vector<std::string> show_values;  // empty: every presence state
  bool operator==(const SubscriptionOptions&) const = default;
};
xml::DataForm options_form(const SubscriptionOptions& o);
tl::expected<SubscriptionOptions, StanzaError> apply_options_form(SubscriptionOptions base, const xml::DataForm& f);
std::string serialize_options(const SubscriptionOptions& o);
SubscriptionOptions parse_options(std::string_view stored);

}  // namespace causerie::modules::pubsub
