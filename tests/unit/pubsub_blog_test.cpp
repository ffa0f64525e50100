// Public blog pages: the renderers (XSS cases: <script>, javascript: links, attribute injection) and the
// /blog routes end to end through the real module, its engine and an SQLite database, without a network.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>

#include <unistd.h>

#include "core/config/config.hpp"
#include "core/module/module.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/blog_pages.hpp"
#include "modules/pubsub/pubsub_module.hpp"
#include "storage/account_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

BlogPage hostile_page() {
  BlogPage page;
  page.title = "Alice's <b>blog</b>";
  page.author = "alice@example.org";
  page.path = "/blog/alice@example.org";
  page.feed_id = "xmpp:alice@example.org?;node=urn:xmpp:microblog:0";
  page.updated = "2026-01-01T00:00:00Z";
  BlogPost p;
  p.id = "x\" onmouseover=\"alert(1)";
  p.title = "<script>alert('title')</script>";
  p.markdown =
      "Hello **world**\n\n<script>alert('body')</script>\n\n[click](javascript:alert(1)) "
      "[ok](https://example.org/\"onclick=\"x) <img src=x onerror=alert(2)>\n\n"
      "<a href=\"javascript:alert(3)\">raw link</a> [data](data:text/html;base64,PHNjcmlwdD4=)";
  p.published = p.updated = "2026-01-01T00:00:00Z";
  page.posts.push_back(p);
  page.older = "older\"><script>";
  return page;
}

}  // namespace

TEST(PubsubBlog, HtmlNeutralisesScriptsLinksAndAttributes) {
  std::string html = render_blog_html(hostile_page());
  EXPECT_FALSE(contains(html, "<script")) << html;
  EXPECT_FALSE(contains(html, "javascript:")) << html;
  EXPECT_FALSE(contains(html, "onerror=")) << html;
  EXPECT_FALSE(contains(html, "<img")) << html;
  EXPECT_FALSE(contains(html, "data:text/html")) << html;
  EXPECT_FALSE(contains(html, "\" onmouseover=\"")) << html;  // the item id cannot leave its attribute
  EXPECT_FALSE(contains(html, "onclick=\"")) << html;
  EXPECT_TRUE(contains(html, "&lt;script&gt;alert(")) << "the title is shown, escaped";
  EXPECT_TRUE(contains(html, "<strong>world</strong>")) << "Markdown still renders";
  EXPECT_TRUE(contains(html, "Alice&#39;s &lt;b&gt;blog&lt;/b&gt;") || contains(html, "Alice&apos;s &lt;b&gt;blog&lt;/b&gt;"))
      << html;
  EXPECT_TRUE(contains(html, "name=\"viewport\"")) << "readable on a phone";
}

TEST(PubsubBlog, AtomIsWellFormedAndEscaped) {
  std::string atom = render_blog_atom(hostile_page());
  auto doc = xml::parse_fragment(atom.substr(atom.find("<feed")));
  ASSERT_TRUE(doc) << atom;
  EXPECT_TRUE(doc->is("feed", ns::kAtom));
  auto entries = doc->children("entry", ns::kAtom);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]->child_text("title", ns::kAtom), "<script>alert('title')</script>");  // text, not markup
  std::string content = entries[0]->child_text("content", ns::kAtom);
  EXPECT_FALSE(contains(content, "<script")) << content;
  EXPECT_FALSE(contains(content, "javascript:")) << content;
  for (const char* required : {"id", "title", "updated", "author"}) EXPECT_TRUE(doc->child(required, ns::kAtom)) << required;
}

TEST(PubsubBlog, PostFromEntry) {
  auto e = xml::parse_fragment(
      "<entry xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
      "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>one <script>evil()</script></p><p>two</p></div></content>"
      "<content type='text'>*markdown* text</content><published>2020-01-01T00:00:00Z</published>"
      "<author><name>Alice</name></author></entry>");
  BlogPost p = post_from_entry(*e, "i1", "2021-01-01T00:00:00Z");
  EXPECT_EQ(p.markdown, "*markdown* text");  // the text content is preferred
  EXPECT_EQ(p.published, "2020-01-01T00:00:00Z");
  EXPECT_EQ(p.author, "Alice");
  auto only_xhtml = xml::parse_fragment(
      "<entry xmlns='http://www.w3.org/2005/Atom'><title>T</title><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>"
      "<p>one <script>evil()</script></p></div></content></entry>");
  BlogPost x = post_from_entry(*only_xhtml, "i2", "2021-01-01T00:00:00Z");
  EXPECT_FALSE(contains(markdown_to_html(x.markdown), "<script")) << "XHTML is reduced to text, then escaped";
  auto feed = xml::parse_fragment("<feed xmlns='http://www.w3.org/2005/Atom'><title>meta</title></feed>");
  EXPECT_TRUE(post_from_entry(*feed, "0", "").id.empty()) << "XEP-0277 metadata is not a post";
}

// --- the routes, through the real module ---

namespace {

class InlineDispatcher final : public SessionDispatcher {
 public:
  void deliver(SessionRef, OutStanza) override {}
  void with_session(SessionRef, std::function<void(ClientSession&)>) override {}
  void post(uint32_t, std::function<void()> fn) override { fn(); }
  void end_stream(SessionRef, StreamErrorCondition, std::string) override {}
  uint32_t worker_count() const override { return 0; }
};

struct ModuleHarness {
  std::filesystem::path dir;
  LiveConfig live;
  const Config& config;
  SessionRegistry sessions;
  InlineDispatcher dispatcher;
  Router router;
  std::unique_ptr<storage::StorageService> storage;
  DiscoRegistry disco;
  StreamExtensions streams;
  web::Routes routes;
  CredentialCache credentials;
  ManualClock clock;
  SessionDirectory resumable;
  CommandRegistry commands{live, clock};
  std::unique_ptr<ServerServices> services;
  std::unique_ptr<ModuleContext> ctx;
  std::unique_ptr<PubsubModule> module;

  ModuleHarness()
      : dir(std::filesystem::temp_directory_path() / ("causerie-blog-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))),
        live(load_config_text("[[host]]\nname = \"example.org\"\n", "test")),
        config(live.current()),
        router({"example.org"}, sessions, dispatcher) {
    std::filesystem::create_directories(dir);
    std::string path = (dir / "db.sqlite").string();
    storage = std::make_unique<storage::StorageService>([path] { return storage::sqlite::open_sqlite(path); });
    services = std::make_unique<ServerServices>(ServerServices{live, router, sessions, dispatcher, *storage, disco, streams, routes, credentials, clock, resumable, commands});
    ctx = std::make_unique<ModuleContext>(*services, "pubsub");
    module = std::make_unique<PubsubModule>(*ctx);
  }
  ~ModuleHarness() {
    storage->stop();
    std::filesystem::remove_all(dir);
  }

  // Sends a pubsub iq from `from` to `to` and waits for the answer.
  xml::Element iq(const std::string& from, const std::string& to, const std::string& payload) {
    xml::Element el("iq", ns::kClient);
    el.set_attr("type", "set").set_attr("id", "t");
    el.add(*xml::parse_fragment(payload));
    Stanza st(std::move(el), *Jid::parse(from), *Jid::parse(to));
    std::promise<xml::Element> answer;
    auto fut = answer.get_future();
    IqRequest req{st, IqResponder(st, [&answer](Stanza&& r) { answer.set_value(std::move(r).release()); }), nullptr};
    auto svc = module->engine().service_at(to);
    module->engine().handle(req, *svc);
    req.reply = IqResponder();
    EXPECT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return fut.get();
  }

  void post(const std::string& id, const std::string& title, const std::string& body, const char* access) {
    xml::Element r = iq("alice@example.org/pc", "alice@example.org",
                        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:microblog:0'>"
                        "<item id='" + id + "'><entry xmlns='http://www.w3.org/2005/Atom'><title>" + title +
                        "</title><content type='text'>" + body + "</content></entry></item></publish>"
                        "<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                        "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                        "<field var='pubsub#access_model'><value>" + access + "</value></field></x></publish-options></pubsub>");
    EXPECT_EQ(r.attr("type"), "result") << xml::to_string(r);
  }

  web::Response get(const std::string& path, const std::string& query = {}) {
    const web::Handler* h = routes.find("GET", path);
    EXPECT_TRUE(h) << path;
    web::Request req;
    req.method = "GET";
    req.path = path;
    req.query = query;
    req.host = "blog.example.org";
    req.headers.emplace_back("host", "blog.example.org");
    std::promise<web::Response> p;
    auto f = p.get_future();
    (*h)(req, [&p](web::Response r) { p.set_value(std::move(r)); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get();
  }
};

}  // namespace

TEST(PubsubBlogRoutes, PublicPostsOnlyOnPageAndFeed) {
  ModuleHarness h;
  h.storage->write([](storage::Storage& db) -> storage::StorageService::Completion {
    db.accounts().create(storage::Account{"alice@example.org", {}, {}, 0});
    return nullptr;
  });
  h.post("private1", "contacts only", "the secret plan", "presence");
  h.post("public1", "&lt;script&gt;alert(1)&lt;/script&gt; hello",
         "see [this](javascript:alert(1)) and &lt;img src=x onerror=alert(2)&gt; **now**", "open");

  web::Response page = h.get("/blog/alice@example.org");
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(contains(page.content_type, "text/html"));
  EXPECT_TRUE(contains(page.body, "hello")) << page.body;
  EXPECT_TRUE(contains(page.body, "<strong>now</strong>")) << page.body;
  EXPECT_FALSE(contains(page.body, "secret plan")) << "contacts-only posts never appear";
  EXPECT_FALSE(contains(page.body, "<script")) << page.body;
  EXPECT_FALSE(contains(page.body, "javascript:")) << page.body;
  EXPECT_FALSE(contains(page.body, "onerror=")) << page.body;
  bool csp = false;
  for (const auto& [k, v] : page.headers) csp = csp || k == "Content-Security-Policy";
  EXPECT_TRUE(csp);

  web::Response feed = h.get("/blog/alice@example.org/atom.xml");
  EXPECT_EQ(feed.status, 200);
  EXPECT_TRUE(contains(feed.content_type, "application/atom+xml"));
  auto doc = xml::parse_fragment(feed.body.substr(feed.body.find("<feed")));
  ASSERT_TRUE(doc) << feed.body;
  auto entries = doc->children("entry", ns::kAtom);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(contains(entries[0]->child_text("title", ns::kAtom), "hello"));
  EXPECT_FALSE(contains(feed.body, "secret plan"));
  const xml::Element* self = nullptr;
  for (const xml::Element* l : doc->children("link", ns::kAtom))
    if (l->attr("rel") == "self") self = l;
  ASSERT_TRUE(self);
  EXPECT_EQ(self->attr("href"), "http://blog.example.org/blog/alice@example.org/atom.xml");

  EXPECT_EQ(h.get("/blog/nobody@example.org").status, 404);
  EXPECT_EQ(h.get("/blog/not a jid").status, 404);
  EXPECT_EQ(h.get("/blog/community/nothing@pubsub.example.org").status, 404);
}

TEST(PubsubBlogRoutes, PaginationNewestFirst) {
  ModuleHarness h;
  for (int i = 0; i < 25; ++i) h.post("p" + std::to_string(100 + i), "post " + std::to_string(i), "body", "open");
  web::Response first = h.get("/blog/alice@example.org");
  EXPECT_TRUE(contains(first.body, "post 24"));
  EXPECT_TRUE(contains(first.body, "post 5"));
  EXPECT_FALSE(contains(first.body, "post 4<"));
  EXPECT_TRUE(contains(first.body, "?after=p105")) << first.body;
  web::Response second = h.get("/blog/alice@example.org", "after=p105");
  EXPECT_TRUE(contains(second.body, "post 4<"));
  EXPECT_TRUE(contains(second.body, "post 0<"));
  EXPECT_FALSE(contains(second.body, "post 5<"));
  EXPECT_FALSE(contains(second.body, "Older posts"));
  EXPECT_LT(first.body.find("post 24"), first.body.find("post 23")) << "newest first";
}

TEST(PubsubBlogRoutes, Communities) {
  ModuleHarness h;
  auto r = h.iq("alice@example.org/pc", "pubsub.example.org",
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='gardening'/><configure>"
                "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                "<value>http://jabber.org/protocol/pubsub#node_config</value></field>"
                "<field var='pubsub#title'><value>Gardening</value></field>"
                "<field var='pubsub#type'><value>urn:xmpp:pubsub-social-feed:1</value></field>"
                "</x></configure></pubsub>");
  ASSERT_EQ(r.attr("type"), "result") << xml::to_string(r);
  h.iq("alice@example.org/pc", "pubsub.example.org",
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='gardening'><item id='t1'>"
       "<entry xmlns='http://www.w3.org/2005/Atom'><title>Tomatoes</title></entry></item></publish></pubsub>");
  web::Response page = h.get("/blog/community/gardening@pubsub.example.org");
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(contains(page.body, "Gardening"));
  EXPECT_TRUE(contains(page.body, "Tomatoes"));
  EXPECT_EQ(h.get("/blog/community/gardening@pubsub.example.org/atom.xml").status, 200);
  // A closed community has no public page.
  h.iq("alice@example.org/pc", "pubsub.example.org",
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='secret'/><configure>"
       "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
       "<value>http://jabber.org/protocol/pubsub#node_config</value></field>"
       "<field var='pubsub#access_model'><value>whitelist</value></field></x></configure></pubsub>");
  EXPECT_EQ(h.get("/blog/community/secret@pubsub.example.org").status, 404);
}
