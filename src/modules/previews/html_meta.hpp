// PageMeta and read_page_meta: what a link preview shows of an HTML page — title, description, image,
// site name, type — read from the document's <head> only: OpenGraph (<meta property="og:...">), then
// Twitter cards (<meta name="twitter:...">), then <title> and <meta name="description">; and the oEmbed
// JSON endpoint a <link rel="alternate" type="application/json+oembed"> names, if any.
//
// The HTML is parsed by libxml2's HTML parser (Debian's libxml2: error-recovering, no network, no
// external entities) over at most kMaxHtmlBytes; nothing in <body> counts, so text a page shows from its
// users cannot pose as its metadata. Text comes back as UTF-8, whitespace collapsed, cut to a bounded
// length. Pure and thread-safe once init_html_parser() ran (at startup, on the main thread).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace causerie::modules::previews {

inline constexpr size_t kMaxHtmlBytes = 512 * 1024;
inline constexpr size_t kMaxTitleChars = 300;
inline constexpr size_t kMaxDescriptionChars = 1000;

struct PageMeta {
  std::string title;
  std::string description;
  std::string image;      // as the page wrote it (maybe relative): the caller resolves it
  std::string site_name;
  std::string type;       // og:type ("article", "website", ...)
  std::string oembed;     // href of the JSON oEmbed link, as written
  bool empty() const { return title.empty() && description.empty() && image.empty() && site_name.empty(); }
};

void init_html_parser();

// `charset` is the one the HTTP Content-Type named ("" if none: the document's <meta charset> or UTF-8).
PageMeta read_page_meta(std::string_view html, std::string_view charset);

// Collapses whitespace runs to one space, trims, drops control characters and cuts to at most `max`
// characters (UTF-8 code points, never inside one).
std::string clean_text(std::string_view s, size_t max);

}  // namespace causerie::modules::previews
