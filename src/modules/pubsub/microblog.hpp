// XEP-0277 v0.6.5 microblogging and XEP-0472 v0.2.1 social feeds, as the pubsub engine sees them.
//
// Visibility. A social feed (the PEP node "urn:xmpp:microblog:0", or any node whose pubsub#type is a
// social feed) keeps a visibility per post: the post's own access model, "presence" (contacts only),
// "open" (everyone), or "roster" with chosen roster groups of the publisher (a per-post audience,
// audience.hpp, docs/protocol/audiences.md). A publisher chooses it with publish-options
// pubsub#access_model (and pubsub#roster_groups_allowed) — on a social feed these fields set the post's
// visibility instead of being preconditions — and a post published without it takes the node's access
// model at that moment. Readers see the posts their relationship allows (may_see(), access.hpp); a post
// they may not see is absent from listings and, asked for by id, answers like a missing item.
//
// Comments. The comments node of a post ("urn:xmpp:microblog:0:comments/<id>" on a pubsub service,
// linked from the post with <link rel='replies' title='comments'/>) follows the post's visibility: the
// server sets its access model (and, for an audience, its roster groups) to the post's whenever either is
// published or created, so anyone who may read the post may read and (publish model "open") add
// comments, and nobody else.
//
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/xml/element.hpp"
#include "modules/pubsub/node_config.hpp"
#include "storage/pubsub_store.hpp"

namespace causerie::modules::pubsub {

inline constexpr std::string_view kCommentsPrefix = "urn:xmpp:microblog:0:comments/";

// Nodes whose items carry their own visibility.
bool is_social_feed(std::string_view node, const NodeConfig& c);
bool is_comments_node(std::string_view node);

// Defaults for a comments node (XEP-0277 §6.2): anyone allowed to read may comment, retractions are
// announced, and comments are kept.
NodeConfig comments_defaults(NodeConfig base);

struct NodeAddress {
  std::string service, node;
  std::optional<std::string> item;
  bool operator==(const NodeAddress&) const = default;
};
// An XMPP URI naming a pubsub node (RFC 5122, XEP-0060 §12.22): "xmpp:service?;node=…[;item=…]".
std::optional<NodeAddress> parse_node_uri(std::string_view uri);
// The comments node an Atom entry links to (<link rel='replies' title='comments' href='xmpp:…'/>).
std::optional<NodeAddress> comments_link(const xml::Element& entry);

// The Atom entry's title text, for notification bodies (XEP-0277 §8) and pages.
std::string entry_title(const xml::Element& entry);

// A stored item as the pubsub event a reader would have received, wrapped as in XEP-0297 with the
// publication time in a XEP-0203 delay: what news feed pages and explore search results carry, so a
// client parses them with its event code. `to` may be empty.
xml::Element forwarded_item(const std::string& service, const std::string& node, const storage::PubsubItem& item,
                            const std::string& to);

}  // namespace causerie::modules::pubsub
