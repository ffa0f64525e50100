#include "modules/previews/html_meta.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <strings.h>

#include <cctype>
#include <memory>
#include <vector>

namespace causerie::modules::previews {

namespace {

std::string prop(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string content(xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

bool named(xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && n->name && strcasecmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

bool ieq(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Whether the space-separated rel list holds `token`.
bool rel_has(std::string_view rel, std::string_view token) {
  size_t i = 0;
  while (i < rel.size()) {
    while (i < rel.size() && std::isspace(static_cast<unsigned char>(rel[i]))) ++i;
    size_t j = i;
    while (j < rel.size() && !std::isspace(static_cast<unsigned char>(rel[j]))) ++j;
    if (j > i && ieq(rel.substr(i, j - i), token)) return true;
    i = j;
  }
  return false;
}

struct Found {
  std::string og_title, og_description, og_image, og_site, og_type;
  std::string tw_title, tw_description, tw_image;
  std::string title, description, oembed;
};

void set_once(std::string& slot, std::string value) {
  if (slot.empty() && !value.empty()) slot = std::move(value);
}

void read_head(xmlNode* head, Found& f) {
  for (xmlNode* n = head->children; n; n = n->next) {
    if (named(n, "title")) {
      set_once(f.title, content(n));
    } else if (named(n, "meta")) {
      std::string key = prop(n, "property");
      if (key.empty()) key = prop(n, "name");
      std::string value = prop(n, "content");
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key == "og:title") set_once(f.og_title, value);
      else if (key == "og:description") set_once(f.og_description, value);
      else if (key == "og:image" || key == "og:image:url" || key == "og:image:secure_url") set_once(f.og_image, value);
      else if (key == "og:site_name") set_once(f.og_site, value);
      else if (key == "og:type") set_once(f.og_type, value);
      else if (key == "twitter:title") set_once(f.tw_title, value);
      else if (key == "twitter:description") set_once(f.tw_description, value);
      else if (key == "twitter:image" || key == "twitter:image:src") set_once(f.tw_image, value);
      else if (key == "description") set_once(f.description, value);
    } else if (named(n, "link")) {
      if (rel_has(prop(n, "rel"), "alternate") && ieq(prop(n, "type"), "application/json+oembed"))
        set_once(f.oembed, prop(n, "href"));
    }
  }
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

}  // namespace

void init_html_parser() { xmlInitParser(); }

std::string clean_text(std::string_view s, size_t max) {
  std::string out;
  std::vector<size_t> starts;  // where each character of `out` begins
  bool space = false;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {  // not UTF-8: dropped
      ++i;
      continue;
    }
    if (len == 1 && (c <= 0x20 || c == 0x7f)) {
      space = space || std::isspace(c);
      ++i;
      continue;
    }
    if (space && !out.empty()) {
      starts.push_back(out.size());
      out += ' ';
    }
    space = false;
    starts.push_back(out.size());
    out.append(s.substr(i, len));
    i += len;
  }
  if (starts.size() > max && max > 0) {
    out.resize(starts[max - 1]);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\u2026";
  }
  return out;
}

PageMeta read_page_meta(std::string_view html, std::string_view charset) {
  PageMeta m;
  if (html.size() > kMaxHtmlBytes) html = html.substr(0, kMaxHtmlBytes);
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                      HTML_PARSE_COMPACT;
  std::string enc(charset);
  std::unique_ptr<xmlDoc, DocFree> doc(htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr,
                                                      enc.empty() ? nullptr : enc.c_str(), options));
  if (!doc && !enc.empty())  // a charset libxml2 does not know: let the document say
    doc.reset(htmlReadMemory(html.data(), static_cast<int>(html.size()), nullptr, nullptr, options));
  if (!doc) return m;
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root) return m;
  Found f;
  // The parser implies <html>, <head> and <body> as browsers do: head elements before any content land
  // in <head>, those after it in <body>, where they do not count.
  if (named(root, "html")) {
    for (xmlNode* n = root->children; n; n = n->next) {
      if (named(n, "head")) {
        read_head(n, f);
        break;
      }
    }
  }
  m.title = clean_text(!f.og_title.empty() ? f.og_title : !f.tw_title.empty() ? f.tw_title : f.title, kMaxTitleChars);
  m.description = clean_text(!f.og_description.empty()   ? f.og_description
                             : !f.tw_description.empty() ? f.tw_description
                                                         : f.description,
                             kMaxDescriptionChars);
  m.image = clean_text(!f.og_image.empty() ? f.og_image : f.tw_image, 4096);
  m.site_name = clean_text(f.og_site, kMaxTitleChars);
  m.type = clean_text(f.og_type, 64);
  m.oembed = clean_text(f.oembed, 4096);
  return m;
}

}  // namespace causerie::modules::previews
