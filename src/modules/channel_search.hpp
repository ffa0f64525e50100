// XEP-0433 v0.1 extended channel search (urn:xmpp:channel-search:0:search): the search form, reading a
// submitted one, and choosing, ordering and paging channels. The channels come from the modules hosting
// them (DiscoRegistry channel listers: MUC rooms, open pubsub communities); the directory module
// (directory.cpp) answers on search.<host>. Pure functions, any thread.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/module/disco_registry.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/rsm.hpp"

namespace causerie::modules::channel_search {

inline constexpr const char* kSearch = "urn:xmpp:channel-search:0:search";
inline constexpr const char* kParams = "urn:xmpp:channel-search:0:search-params";
inline constexpr const char* kErrors = "urn:xmpp:channel-search:0:error";
inline constexpr const char* kOrderAddress = "{urn:xmpp:channel-search:0:order}address";
inline constexpr const char* kOrderUsers = "{urn:xmpp:channel-search:0:order}nusers";
// Ours (§"Sort Key Values" allows Clark-notation keys): the most recently active first.
inline constexpr const char* kOrderActivity = "{urn:causerie:explore:0}activity";
inline constexpr const char* kExploreNs = "urn:causerie:explore:0";
// Open pubsub nodes (XEP-0472 communities): a service type of ours, in Clark notation (§7.1.1).
inline constexpr const char* kPubsubType = "{urn:causerie:channel-search}pubsub";

struct ChannelQuery {
  std::vector<std::string> terms;  // lower-cased keywords, all of which must match
  bool all = false;
  bool in_name = true, in_description = true, in_address = true;
  size_t min_users = 0;
  std::set<std::string> types = {"xep-0045"};
  bool by_address = false;  // else by number of users, most first
  bool by_activity = false; // by last activity, newest first
};

// The form a searcher fills in (§4.2.1), every field with its default (§5).
xml::DataForm search_form();
// A submitted form (§4.2.2), or the error §4.2.2.2–§4.2.2.6 prescribe.
tl::expected<ChannelQuery, StanzaError> parse_query(const xml::DataForm& form);
// The channels a query selects, in its order.
std::vector<ChannelInfo> select(std::vector<ChannelInfo> channels, const ChannelQuery& q);
// <result xmlns='…:search'/> with one page of `sorted` (XEP-0059; cursors are addresses), or
// item-not-found for an 'after'/'before' that is not in the set. `max_page` bounds any page.
tl::expected<xml::Element, StanzaError> result_page(const std::vector<ChannelInfo>& sorted, const ChannelQuery& q,
                                                    const std::optional<xml::RsmRequest>& rsm, size_t max_page);

}  // namespace causerie::modules::channel_search
