// urn:causerie:explore:0 (docs/protocol/explore.md), answered on search.<host> beside the XEP-0055
// directory and XEP-0433 channel search (directory.cpp dispatches to it): search of public posts by
// hashtag and/or text over the post index (storage/post_index_store.hpp, kept by the pubsub module's
// PostIndex), and the list of the people who opted into the directory. Both pages are XEP-0059 sets,
// posts newest first (cursors: index positions), people by address (cursors: addresses). Communities are
// explored through XEP-0433, extended (channel_search.hpp).
//
// The parsing and rendering here are pure; posts() and people() submit one read-lane job each and answer
// from it. Any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/module/module.hpp"
#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"
#include "storage/post_index_store.hpp"

namespace causerie::modules::explore {

inline constexpr const char* kNs = "urn:causerie:explore:0";
// The key-value store the directory keeps its opt-ins in (owner → nickname): directory.cpp writes it.
inline constexpr const char* kListingStore = "directory";

struct Paging {
  size_t default_page = 20;
  size_t max_page = 50;
};

// <posts><tag/>?<text/>?<set/>?</posts> → the query, or bad-request / item-not-found /
// feature-not-implemented as docs/protocol/explore.md says.
tl::expected<storage::PostQuery, StanzaError> parse_posts(const xml::Element& posts, const Paging& paging);
// The answer: <posts complete?><result id>forwarded event</result>…<set/></posts>.
xml::Element posts_result(const std::vector<storage::PostHit>& page, bool complete);

struct Person {
  std::string jid, nick, name;
};
struct PeopleQuery {
  std::string after, before;  // address cursors; before "" with last_page: the last page
  bool last_page = false;
  size_t limit = 20;
};
tl::expected<PeopleQuery, StanzaError> parse_people(const xml::Element& people, const Paging& paging);
// One page of `sorted` (by address) with count, or item-not-found for a cursor not among them.
tl::expected<xml::Element, StanzaError> people_result(const std::vector<Person>& sorted, const PeopleQuery& q);

// The handlers (directory.cpp calls them for its own users' requests).
void posts(ModuleContext& ctx, const xml::Element& request, const Paging& paging, IqResponder reply);
void people(ModuleContext& ctx, const xml::Element& request, const Paging& paging, IqResponder reply);

}  // namespace causerie::modules::explore
