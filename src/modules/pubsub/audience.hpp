// Per-post audiences (docs/protocol/audiences.md): a microblog post visible only to chosen roster
// groups of its publisher. This file says how a publisher states one (publish-options in XEP-0060's
// vocabulary, pubsub#access_model "roster" with pubsub#roster_groups_allowed, and/or an <audience/>
// element in the Atom entry) and how a post's Visibility (access.hpp) is stored (PubsubItem::access,
// the XEP-0227 export's access attribute). Who may see a post is decided by may_see() in access.hpp.
//
// Stored form: "" (the node's access model), an access model name ("open", "presence", …; "roster"
// alone: the node's roster groups), or "roster;" followed by the audience's groups, sorted, each
// percent-encoded ('%', ';' and control characters) and separated by ';' — "roster;" alone is the
// empty audience (the publisher only). It contains no character XML forbids.
//
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/element.hpp"
#include "modules/pubsub/access.hpp"

namespace causerie::modules::pubsub {

inline constexpr const char* kAudienceNs = "urn:causerie:audience:0";
// Every stored per-post audience starts with this (and sorts before kAudienceEnd): one index range.
inline constexpr std::string_view kAudiencePrefix = "roster;";
inline constexpr std::string_view kAudienceEnd = "roster<";
inline constexpr size_t kMaxAudienceGroups = 32;
inline constexpr size_t kMaxGroupName = 1023;
// Distinct audiences of one node judged per listing; beyond them, posts are hidden from all but the
// owner (fails closed).
inline constexpr size_t kMaxAudiencesPerNode = 256;

std::string encode_visibility(const Visibility& v);
// nullopt for "" (the node's) and for text that is no visibility.
std::optional<Visibility> parse_visibility(std::string_view stored);
// Whether `stored` may be kept as an item's access (an import checks what it reads).
bool valid_item_access(std::string_view stored);
// The visibility of an item whose stored access is `stored`, on a node configured `c`: the node's
// model when it has none of its own; text that is no visibility fails closed (the owner alone).
Visibility item_visibility(const NodeConfig& c, std::string_view stored);
// `v` with the groups a "roster" model lets in spelled out (the node's when the item names none): what
// a node that follows the item (its comments node) is configured with.
Visibility with_groups(Visibility v, const NodeConfig& c);

// The visibility a publication to a social feed states, from its publish-options and its payload's
// <audience xmlns='urn:causerie:audience:0'/>; nullopt when it states none. Errors: an unknown access
// model, groups without the "roster" model, too many or too long group names, or an element and
// options that name different audiences (precondition-not-met / bad-request).
tl::expected<std::optional<Visibility>, StanzaError> stated_visibility(const xml::DataForm* options,
                                                                       const xml::Element* payload);
// The publish-options without the fields that state a post's visibility (so that they are not
// taken as preconditions on, or configuration of, the node).
xml::DataForm without_visibility_fields(const xml::DataForm& options);

}  // namespace causerie::modules::pubsub
