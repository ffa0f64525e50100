// XEP-0470 v0.2.0 pubsub attachments, as the engine sees them: the attachments node of an item
// ("urn:xmpp:pubsub-attachments:1/" + the item's XMPP URI, §"Attachment Node"), holding one item per
// person whose id is that person's bare JID and whose payload is <attachments/> (<noticed/>,
// <reactions/>), and the summary node the service maintains beside the target node
// ("urn:xmpp:pubsub-attachments:summary:1/" + node), one <summary/> item per target item.
// Movim's likes — a comment whose Atom title is "♥" on the post's comments node — count as <noticed/>
// of their publisher in the summary, once per person whichever way they liked.
//
// Pure functions and value types, any thread; the storage-side work is in engine_attachments.cpp.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/xml/element.hpp"
#include "modules/pubsub/microblog.hpp"

namespace causerie::storage {
class Storage;
struct PubsubNode;
struct PubsubItem;
}  // namespace causerie::storage

namespace causerie::modules::pubsub {

inline constexpr std::string_view kAttachmentsNs = "urn:xmpp:pubsub-attachments:1";
inline constexpr std::string_view kSummaryNs = "urn:xmpp:pubsub-attachments:summary:1";
inline constexpr std::string_view kAttachmentsPrefix = "urn:xmpp:pubsub-attachments:1/";
inline constexpr std::string_view kSummaryPrefix = "urn:xmpp:pubsub-attachments:summary:1/";
inline constexpr std::string_view kMovimLike = "\xE2\x99\xA5";  // U+2665 BLACK HEART SUIT

// XEP-0465 v0.5.0 public subscriptions: the PEP node listing an account's public subscriptions, and the
// node beside each node listing its public subscribers; both kept by the service.
inline constexpr std::string_view kPpsNs = "urn:xmpp:pps:0";
inline constexpr std::string_view kPpsSubscriptions = "urn:xmpp:pps:subscriptions:0";
inline constexpr std::string_view kPpsSubscribersPrefix = "urn:xmpp:pps:subscribers:0/";
// Nodes only the service writes (XEP-0465 §"Security", XEP-0470 summary nodes).
bool is_service_kept_node(std::string_view node);

bool is_attachments_node(std::string_view node);
bool is_summary_node(std::string_view node);
// The target an attachments node name points at (service, node, item), or nullopt.
std::optional<NodeAddress> attachments_target_address(std::string_view node);
std::string summary_node_for(std::string_view target_node);

// What the summary counts, per person (bare JID).
struct AttachmentTally {
  std::set<std::string> noticed;                            // people who noticed / liked
  std::map<std::string, std::set<std::string>> reactions;  // reaction → people
  // One person's <attachments/> payload.
  void add(const std::string& person, const xml::Element& attachments);
  xml::Element summary() const;  // <summary xmlns='urn:xmpp:pubsub-attachments:summary:1'/>
};

}  // namespace causerie::modules::pubsub
