// Hashtags and search text of posts (docs/protocol/explore.md): what the post index stores for an Atom
// entry (XEP-0277 §"Categories": <category term='…'/>), how a tag is normalised so that "#XMPP", "xmpp"
// and "Ｘｍｐｐ" are one tag, and how a user's words become a safe FTS5 query.
//
// Normalisation is RFC 3454 stringprep with a profile of our own on libidn (already the JID library):
// map B.1 (to nothing) and B.2 (case folding), NFKC, then refuse spaces, controls and the other C.*
// tables. NFKC rather than NFC on purpose: full-width and compatibility forms of a word become the word,
// as for JIDs (nodeprep) and as other social servers fold hashtags. A tag is at most kMaxTagBytes after
// normalisation and has no '/' (it is a path segment of /tag/<tag>) nor a ".atom" ending (that suffix
// names the tag's Atom feed).
//
// Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::modules::pubsub {

inline constexpr size_t kMaxTagBytes = 100;
inline constexpr size_t kMaxTagsPerPost = 32;
inline constexpr size_t kMaxIndexedText = 16 * 1024;  // bytes of a post's text that are searchable
inline constexpr size_t kMaxSearchText = 512;         // bytes of a text query
inline constexpr size_t kMaxSearchTerms = 16;

// The normalised tag, or nullopt when nothing usable is left (empty, too long, forbidden characters).
// One leading '#' is dropped, surrounding white space too.
std::optional<std::string> normalize_tag(std::string_view raw);
// The distinct normalised tags of an entry's <category term/>s, in order, at most kMaxTagsPerPost;
// categories that do not normalise are skipped.
std::vector<std::string> entry_tags(const xml::Element& entry);
// The searchable text of an entry: its title and body as plain text, at most kMaxIndexedText bytes
// (cut on a UTF-8 boundary).
std::string entry_text(const xml::Element& entry);
// The first picture of an entry: a <link rel='enclosure'/> whose type is image/* (XEP-0472 galleries,
// pictures in posts), "" when none. Only http(s) URLs.
std::string entry_image(const xml::Element& entry);

// A user's words as an FTS5 query: each white-space separated word becomes a quoted string (quotes
// inside doubled), so FTS5 operators, column filters and prefixes in the input are plain text; all words
// must match. nullopt (with the reason in `why`) for an empty, over-long or wordless query.
std::optional<std::string> fts_query(std::string_view words, std::string* why = nullptr);

}  // namespace causerie::modules::pubsub
