// Public blog pages: the open posts of a microblog (XEP-0277) or a community (XEP-0472 feed on the
// pubsub service) as an HTML page readable on a phone and as an Atom feed (RFC 4287). Pure functions,
// any thread; the HTTP glue is in blog_routes.cpp.
//
// Each HTML page carries OpenGraph meta tags (og:title, og:description, og:type, og:url, og:image when a
// post on it has a picture), and links each post's hashtags to its tag page (/tag/<tag>).
//
// Safety: nothing from a post reaches the page unescaped. Titles and metadata are escaped text; the
// body is Markdown rendered by cmark in safe mode (raw HTML omitted, javascript:/vbscript:/file:/data:
// links dropped), and XHTML bodies are reduced to their text first. The Atom feed is built as an XML
// tree and serialized, so it is well-formed whatever the posts contain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::modules::pubsub {

struct BlogPost {
  std::string id;         // the pubsub item id
  std::string atom_id;    // the entry's <id/>, or a tag derived from the item
  std::string title;      // plain text
  std::string markdown;   // the body, as Markdown source
  std::string published;  // XEP-0082 DateTime
  std::string updated;
  std::string author;
  std::vector<std::string> tags;  // normalised hashtags (tags.hpp), linked to /tag/<tag>
  std::string image;              // the first picture (an image enclosure), "" when none
  std::string link;               // where the post is read, when not on this page (tag pages)
};

struct BlogPage {
  std::string title;
  std::string subtitle;
  std::string author;     // the blog's owner, shown and used as the feed's author
  std::string author_uri; // xmpp:…
  std::string feed_id;    // the feed's <id/>: the node's XMPP URI
  std::string base_url;   // "https://host" when known (for absolute feed links), else ""
  std::string path;       // "/blog/alice@example.org"
  std::string updated;    // newest post's date, or now
  std::vector<BlogPost> posts;  // newest first
  std::string older;      // item id to continue from (?after=…), "" on the last page
  std::string atom_path;  // the Atom feed's path, "" = path + "/atom.xml"
  std::string og_type = "website";  // OpenGraph og:type
  std::string description;          // og:description, "" = the subtitle
};

// A post from an Atom entry (nullopt-like: empty id means "not a post", e.g. XEP-0277 metadata).
BlogPost post_from_entry(const xml::Element& entry, const std::string& item_id, const std::string& published);
// Markdown → HTML in cmark's safe mode.
std::string markdown_to_html(std::string_view markdown);
std::string render_blog_html(const BlogPage& page);
std::string render_blog_atom(const BlogPage& page);
// A path segment with everything but unreserved characters, '@' and ':' percent-encoded.
std::string url_encode_segment(std::string_view s);

}  // namespace causerie::modules::pubsub
