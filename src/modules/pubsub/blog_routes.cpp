// Public blog pages over HTTP (see blog_pages.hpp):
//   GET /blog/<user@host>                          the user's public microblog posts (XEP-0277), HTML
//   GET /blog/<user@host>/atom.xml                 the same as an Atom feed
//   GET /blog/community/<node>@<service>[/atom.xml]  an open community node on a pubsub service
//   GET /tag/<tag>                                  the public posts carrying a hashtag, HTML
//   GET /tag/<tag>.atom                             the same as an Atom feed
// Pages go back in time with ?after=<item id> (tag pages: ?after=<position>, a post's index sequence
// number). Only posts anyone may see appear (is_public, access.hpp): never contacts-only posts nor
// per-post audiences; tag pages read the index of public posts (post_index.hpp), which holds only those.
#include <charconv>

#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "http/http_policy.hpp"
#include "modules/pubsub/blog_pages.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_module.hpp"
#include "modules/pubsub/tags.hpp"
#include "storage/post_index_store.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr std::string_view kAtomSuffix = "/atom.xml";
constexpr std::string_view kCommunity = "community/";

web::Response not_found() {
  web::Response r = web::Response::text(404, "No public blog here.\n");
  return r;
}

std::optional<int64_t> parse_position(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

void add_security_headers(web::Response& r) {
  // Defence in depth behind the escaping: no scripts, no plugins, styles only inline, pictures anywhere.
  // (The listener adds nosniff, no-referrer and no framing to every response; this CSP replaces its
  // frame-ancestors-only one.)
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
                         "media-src https: http:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
}

// The page as HTML or Atom, with the pages' security headers.
void respond_page(const BlogPage& page, bool atom, const web::Respond& respond) {
  web::Response r;
  if (atom) {
    r.content_type = "application/atom+xml; charset=utf-8";
    r.body = render_blog_atom(page);
  } else {
    r = web::Response::html(render_blog_html(page));
  }
  add_security_headers(r);
  respond(std::move(r));
}

}  // namespace

void serve_blog(ModuleContext& ctx, Engine& engine, size_t page_size, const web::Request& req, web::Respond respond) {
  std::string_view rest = req.path;
  if (!rest.starts_with("/blog/")) return respond(not_found());
  rest.remove_prefix(6);
  bool atom = rest.ends_with(kAtomSuffix);
  if (atom) rest.remove_suffix(kAtomSuffix.size());
  while (rest.ends_with('/')) rest.remove_suffix(1);

  std::optional<Service> svc;
  std::string node, path;
  if (rest.starts_with(kCommunity)) {
    std::string_view addr = rest.substr(kCommunity.size());
    size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at == 0) return respond(not_found());
    node = std::string(addr.substr(0, at));
    svc = engine.service_at(addr.substr(at + 1));
    if (!svc || svc->pep) return respond(not_found());
    path = "/blog/community/" + url_encode_segment(node) + "@" + svc->jid;
  } else {
    auto jid = Jid::parse(rest);
    if (!jid || !jid->has_localpart() || jid->has_resource()) return respond(not_found());
    svc = engine.service_at(jid->str());
    if (!svc) return respond(not_found());
    node = ns::kMicroblog;
    path = "/blog/" + svc->jid;
  }
  // Absolute links (the Atom feed wants them) name the host and port the client used, when plausible.
  std::string host = http::safe_host(req.header("host"));
  std::string base = host.empty() ? std::string() : (req.secure ? "https://" : "http://") + host;
  std::string after = req.param("after");
  ctx.storage().read([&engine, svc = *svc, node, path, base, after, atom, page_size,
                      respond = std::move(respond)](storage::Storage& db) {
    auto items = engine.public_items(db, svc, node, after, page_size);
    if (!items) return respond(not_found());
    const NodeConfig& c = items->node.config;
    BlogPage page;
    page.path = path;
    page.base_url = base;
    page.author = svc.pep ? svc.jid : items->node.row.creator;
    page.author_uri = "xmpp:" + page.author;
    page.title = !c.title.empty() ? c.title : svc.pep ? "Blog of " + svc.jid : node;
    page.subtitle = c.description;
    page.feed_id = "xmpp:" + svc.jid + "?;node=" + url_encode_segment(node);
    for (const auto& item : items->items) {
      auto entry = xml::parse_fragment(item.payload);
      if (!entry) continue;
      std::string published = util::format_datetime(util::SystemTime(std::chrono::milliseconds(item.published)));
      BlogPost p = post_from_entry(*entry, item.id, published);
      if (p.id.empty()) continue;  // not an Atom entry (XEP-0277 §9 metadata, or another payload)
      page.posts.push_back(std::move(p));
    }
    page.updated = !page.posts.empty() ? page.posts.front().updated
                                       : util::format_datetime(std::chrono::system_clock::now());
    if (items->more && !items->items.empty()) page.older = items->items.back().id;
    respond_page(page, atom, respond);
  });
}

void serve_tag(ModuleContext& ctx, size_t page_size, const web::Request& req, web::Respond respond) {
  constexpr std::string_view kTagAtom = ".atom";
  std::string_view rest = req.path;
  if (!rest.starts_with("/tag/")) return respond(web::Response::text(404, "No such tag.\n"));
  rest.remove_prefix(5);
  bool atom = rest.ends_with(kTagAtom);
  if (atom) rest.remove_suffix(kTagAtom.size());
  auto tag = normalize_tag(rest);
  if (!tag) return respond(web::Response::text(404, "Not a tag.\n"));
  int64_t after = 0;
  if (std::string a = req.param("after"); !a.empty()) {
    auto p = parse_position(a);
    if (!p) return respond(web::Response::text(400, "?after= takes a position from an earlier page.\n"));
    after = *p;
  }
  std::string host = http::safe_host(req.header("host"));
  std::string base = host.empty() ? std::string() : (req.secure ? "https://" : "http://") + host;
  std::string site = req.host.empty() ? std::string("Causerie") : req.host;
  ctx.storage().read([tag = *tag, after, atom, base, site, page_size, respond = std::move(respond)](storage::Storage& db) {
    storage::PostQuery q;
    q.tag = tag;
    q.older_than = after;
    q.limit = page_size + 1;
    std::vector<storage::PostHit> hits;
    try {
      hits = db.post_index().search(q);
    } catch (const std::exception&) {
      return respond(web::Response::text(500, "The index could not be read.\n"));
    }
    BlogPage page;
    page.path = "/tag/" + url_encode_segment(tag);
    page.atom_path = page.path + ".atom";
    page.base_url = base;
    page.title = "#" + tag;
    page.subtitle = "Public posts tagged #" + tag + " on " + site;
    page.author = site;
    page.feed_id = "urn:causerie:tag:" + url_encode_segment(tag);
    bool more = hits.size() > page_size;
    if (more) hits.resize(page_size);
    for (const auto& h : hits) {
      auto entry = xml::parse_fragment(h.item.payload);
      if (!entry) continue;
      std::string published = util::format_datetime(util::SystemTime(std::chrono::milliseconds(h.item.published)));
      BlogPost p = post_from_entry(*entry, h.item.id, published);
      if (p.id.empty()) continue;
      if (p.author.empty()) p.author = h.item.publisher;
      std::string node_uri = "xmpp:" + h.service + "?;node=" + url_encode_segment(h.node);
      if (p.atom_id.empty()) p.atom_id = node_uri + ";item=" + url_encode_segment(h.item.id);
      // Where the post lives: its author's blog, or its community's page.
      bool pep = h.service.find('@') != std::string::npos;
      p.link = (pep ? "/blog/" + h.service : "/blog/community/" + url_encode_segment(h.node) + "@" + h.service) +
               "#post-" + url_encode_segment(h.item.id);
      page.posts.push_back(std::move(p));
    }
    page.updated = !page.posts.empty() ? page.posts.front().updated
                                       : util::format_datetime(std::chrono::system_clock::now());
    if (more && !hits.empty()) page.older = std::to_string(hits.back().seq);
    respond_page(page, atom, respond);
  });
}

}  // namespace causerie::modules::pubsub
