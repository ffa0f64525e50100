#include "modules/pubsub/blog_pages.hpp"

#include <cctype>
#include <cstdlib>
#include <memory>

#include <cmark.h>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/tags.hpp"

namespace causerie::modules::pubsub {

namespace {

// The text of an element's whole subtree (an XHTML <div/>, a type='xhtml' title).
std::string subtree_text(const xml::Element& e) {
  std::string out;
  for (const auto& n : e.nodes()) {
    if (n.is_text()) {
      out += n.text();
    } else {
      // Block elements end a line, so paragraphs stay apart once reduced to text.
      static const char* kBlocks[] = {"p", "div", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"};
      std::string inner = subtree_text(n);
      out += inner;
      for (const char* b : kBlocks)
        if (n.name() == b) {
          out += "\n\n";
          break;
        }
    }
  }
  return out;
}

const xml::Element* content_of(const xml::Element& entry, std::string_view type) {
  for (const xml::Element* c : entry.children("content", ns::kAtom)) {
    std::string_view t = c->attr("type");
    if (t == type || (type == "text" && t.empty())) return c;
  }
  return nullptr;
}

std::string esc(std::string_view s) { return xml::escape(s, true); }

constexpr const char* kStyle =
    "body{max-width:42rem;margin:0 auto;padding:1rem;font-family:system-ui,-apple-system,sans-serif;"
    "line-height:1.55;color:#1d1d1f;background:#fff}"
    "header{border-bottom:2px solid #e5e5e5;margin-bottom:.5rem}"
    "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:0 0 .25rem}"
    "article{padding:1rem 0;border-bottom:1px solid #eee;overflow-wrap:anywhere}"
    "time,.meta{color:#6e6e73;font-size:.9rem}img,video{max-width:100%;height:auto}"
    "pre{overflow-x:auto;background:#f5f5f7;padding:.5rem}blockquote{border-left:3px solid #ddd;margin-left:0;"
    "padding-left:1rem;color:#444}a{color:#0a5ad4}nav{padding:1rem 0}"
    "@media (prefers-color-scheme:dark){body{background:#111;color:#eee}article{border-color:#333}"
    "pre{background:#222}a{color:#6aa7ff}}";

}  // namespace

BlogPost post_from_entry(const xml::Element& entry, const std::string& item_id, const std::string& published) {
  BlogPost p;
  if (!entry.is("entry", ns::kAtom)) return p;
  p.id = item_id;
  if (const xml::Element* t = entry.child("title", ns::kAtom)) p.title = subtree_text(*t);
  // The body: a text content is Markdown source; escaped HTML is treated as text (cmark drops raw
  // HTML); XHTML is reduced to its text.
  if (const xml::Element* c = content_of(entry, "text")) p.markdown = c->text();
  else if (const xml::Element* h = content_of(entry, "html")) p.markdown = h->text();
  else if (const xml::Element* x = content_of(entry, "xhtml")) p.markdown = subtree_text(*x);
  else if (const xml::Element* s = entry.child("summary", ns::kAtom)) p.markdown = subtree_text(*s);
  p.atom_id = entry.child_text("id", ns::kAtom);
  p.published = entry.child_text("published", ns::kAtom);
  p.updated = entry.child_text("updated", ns::kAtom);
  if (p.published.empty()) p.published = published;
  if (p.updated.empty()) p.updated = p.published;
  if (const xml::Element* a = entry.child("author", ns::kAtom)) p.author = a->child_text("name", ns::kAtom);
  p.tags = entry_tags(entry);
  p.image = entry_image(entry);
  return p;
}

std::string markdown_to_html(std::string_view markdown) {
  // CMARK_OPT_SAFE (the default since cmark 0.29, asked for anyway): raw HTML is replaced by a
  // comment, and links or images to javascript:, vbscript:, file: and most data: URLs are emptied.
  std::unique_ptr<char, decltype(&std::free)> html(
      cmark_markdown_to_html(markdown.data(), markdown.size(), CMARK_OPT_SAFE | CMARK_OPT_SMART), &std::free);
  return html ? std::string(html.get()) : std::string();
}

std::string url_encode_segment(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string render_blog_html(const BlogPage& page) {
  std::string h;
  h.reserve(4096);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  const std::string atom = page.atom_path.empty() ? page.path + "/atom.xml" : page.atom_path;
  h += "<title>" + esc(page.title) + "</title>";
  h += "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"" + esc(page.title) + "\" href=\"" +
       esc(atom) + "\">";
  // OpenGraph (ogp.me): what link previews of other services show for this page.
  auto og = [&h](const char* property, const std::string& content) {
    h += std::string("<meta property=\"") + property + "\" content=\"" + esc(content) + "\">";
  };
  og("og:title", page.title);
  og("og:description", !page.description.empty() ? page.description
                       : !page.subtitle.empty()  ? page.subtitle
                                                 : page.title);
  og("og:type", page.og_type);
  og("og:url", page.base_url + page.path);
  for (const auto& p : page.posts)
    if (!p.image.empty()) {
      og("og:image", p.image);
      break;
    }
  h += "<style>";
  h += kStyle;
  h += "</style></head><body><header><h1>" + esc(page.title) + "</h1>";
  if (!page.subtitle.empty()) h += "<p>" + esc(page.subtitle) + "</p>";
  h += "<p class=\"meta\">" + esc(page.author) + " · <a href=\"" + esc(atom) + "\">Atom feed</a></p>";
  h += "</header><main>";
  if (page.posts.empty()) h += "<p>No public posts yet.</p>";
  for (const auto& p : page.posts) {
    h += "<article id=\"" + esc("post-" + p.id) + "\">";
    if (!p.title.empty()) h += "<h2>" + esc(p.title) + "</h2>";
    h += "<p class=\"meta\"><time datetime=\"" + esc(p.published) + "\">" + esc(p.published) + "</time>";
    if (!p.author.empty()) h += " · " + esc(p.author);
    h += "</p>";
    if (!p.markdown.empty() && p.markdown != p.title) h += "<div>" + markdown_to_html(p.markdown) + "</div>";
    if (!p.tags.empty()) {
      h += "<p class=\"tags\">";
      for (const auto& t : p.tags) h += "<a rel=\"tag\" href=\"" + esc("/tag/" + url_encode_segment(t)) + "\">#" + esc(t) + "</a> ";
      h += "</p>";
    }
    if (!p.link.empty()) h += "<p class=\"meta\"><a href=\"" + esc(p.link) + "\">Read on the blog</a></p>";
    h += "</article>";
  }
  h += "</main>";
  if (!page.older.empty())
    h += "<nav><a rel=\"next\" href=\"" + esc(page.path + "?after=" + url_encode_segment(page.older)) + "\">Older posts</a></nav>";
  h += "</body></html>\n";
  return h;
}

std::string render_blog_atom(const BlogPage& page) {
  xml::Element feed("feed", ns::kAtom);
  feed.add_text_child("title", page.title);
  if (!page.subtitle.empty()) feed.add_text_child("subtitle", page.subtitle);
  feed.add_text_child("id", page.feed_id);
  feed.add_text_child("updated", page.updated);
  feed.add_child("link").set_attr("rel", "self").set_attr("type", "application/atom+xml")
      .set_attr("href", page.base_url + (page.atom_path.empty() ? page.path + "/atom.xml" : page.atom_path));
  feed.add_child("link").set_attr("rel", "alternate").set_attr("type", "text/html").set_attr("href", page.base_url + page.path);
  xml::Element& author = feed.add_child("author");
  author.add_text_child("name", page.author);
  if (!page.author_uri.empty()) author.add_text_child("uri", page.author_uri);
  feed.add_text_child("generator", "Causerie");
  for (const auto& p : page.posts) {
    xml::Element& e = feed.add_child("entry");
    e.add_text_child("title", p.title.empty() ? std::string("(untitled)") : p.title).set_attr("type", "text");
    e.add_text_child("id", p.atom_id.empty() ? page.feed_id + ";item=" + url_encode_segment(p.id) : p.atom_id);
    e.add_text_child("published", p.published);
    e.add_text_child("updated", p.updated);
    e.add_child("link").set_attr("rel", "alternate").set_attr("type", "text/html")
        .set_attr("href", page.base_url + (p.link.empty() ? page.path + "#post-" + url_encode_segment(p.id) : p.link));
    if (!p.author.empty()) e.add_child("author").add_text_child("name", p.author);
    for (const auto& t : p.tags) e.add_child("category").set_attr("term", t);
    // type='html': the (safe) rendered body, escaped once more by the serializer as Atom requires.
    if (!p.markdown.empty()) e.add_text_child("content", markdown_to_html(p.markdown)).set_attr("type", "html");
  }
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + xml::to_string(feed) + "\n";
}

}  // namespace causerie::modules::pubsub
