// The index of public posts: tag normalisation and FTS5 quoting (modules/pubsub/tags.hpp), what counts
// as public (modules/pubsub/post_index.hpp), the SQLite PostIndexStore against its contract
// (storage/post_index_store.hpp: pages both ways, tag and text together, rows gone with their item on
// retraction and on an edit, node removal, the backfill bookkeeping), the explore request parsing
// (modules/explore/explore.hpp) and OpenGraph/tag links on the blog pages.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include <sqlite3.h>

#include "core/xml/fragment.hpp"
#include "modules/explore/explore.hpp"
#include "modules/pubsub/blog_pages.hpp"
#include "modules/pubsub/post_index.hpp"
#include "modules/pubsub/tags.hpp"
#include "storage/post_index_store.hpp"
#include "storage/pubsub_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;
using namespace causerie::storage;

namespace {

TEST(PostTags, Normalisation) {
  struct Case {
    const char* in;
    const char* out;  // nullptr: refused
  } cases[] = {
      {"xmpp", "xmpp"},
      {"#XMPP", "xmpp"},
      {"  #Xmpp ", "xmpp"},
      {"\xEF\xBC\xB8mpp", "xmpp"},            // U+FF38 FULLWIDTH LATIN CAPITAL LETTER X: NFKC
      {"Caf\x65\xCC\x81", "caf\xC3\xA9"},     // e + U+0301 COMBINING ACUTE → é (composed)
      {"CAF\xC3\x89", "caf\xC3\xA9"},          // É case-folded
      {"Stra\xC3\x9F" "e", "strasse"},         // ß case-folds to ss (RFC 3454 B.2)
      {"\xCE\xA3\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1", "\xCF\x83\xCE\xBF\xCF\x86\xCE\xAF\xCE\xB1"},  // Σοφία → σοφία
      {"", nullptr},
      {"#", nullptr},
      {"   ", nullptr},
      {"two words", nullptr},
      {"tab\there", nullptr},
      {"ctl\x01", nullptr},
      {"a/b", nullptr},
      {"feed.atom", nullptr},
      {"##double", nullptr},
  };
  for (const auto& c : cases) {
    auto got = normalize_tag(c.in);
    if (!c.out) {
      EXPECT_FALSE(got) << c.in << " → " << got.value_or("");
    } else {
      ASSERT_TRUE(got) << c.in;
      EXPECT_EQ(*got, c.out) << c.in;
    }
  }
  EXPECT_TRUE(normalize_tag(std::string(kMaxTagBytes, 'a')));
  EXPECT_FALSE(normalize_tag(std::string(kMaxTagBytes + 1, 'a')));
  EXPECT_FALSE(normalize_tag(std::string(1 << 20, 'a')));  // huge: refused before any work
}

TEST(PostTags, EntryTagsTextAndImage) {
  auto entry = xml::parse_fragment(
      "<entry xmlns='http://www.w3.org/2005/Atom'><title>Hello</title><content type='text'>Some **words**</content>"
      "<category term='XMPP'/><category term='#xmpp'/><category term='bad tag'/><category term='Jabber'/>"
      "<link rel='enclosure' type='image/png' href='javascript:alert(1)'/>"
      "<link rel='enclosure' type='image/jpeg' href='https://example.org/a.jpg'/></entry>");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry_tags(*entry), (std::vector<std::string>{"xmpp", "jabber"}));
  EXPECT_EQ(entry_text(*entry), "Hello\nSome **words**");
  EXPECT_EQ(entry_image(*entry), "https://example.org/a.jpg");
  std::string many = "<entry xmlns='http://www.w3.org/2005/Atom'>";
  for (int i = 0; i < 100; ++i) many += "<category term='t" + std::to_string(i) + "'/>";
  many += "<content>" + std::string(100000, 'x') + "</content></entry>";
  auto big = xml::parse_fragment(many, 1 << 20);
  ASSERT_TRUE(big);
  EXPECT_EQ(entry_tags(*big).size(), kMaxTagsPerPost);
  EXPECT_EQ(entry_text(*big).size(), kMaxIndexedText);
}

TEST(PostTags, FtsQueryQuotesEverything) {
  EXPECT_EQ(*fts_query("hello world"), "\"hello\" \"world\"");
  EXPECT_EQ(*fts_query("a\"b OR c*"), "\"a\"\"b\" \"OR\" \"c*\"");
  EXPECT_EQ(*fts_query("body:x NEAR(y) -z"), "\"body:x\" \"NEAR(y)\" \"-z\"");
  EXPECT_EQ(*fts_query("  \xC3\xA9t\xC3\xA9  * ) "), "\"\xC3\xA9t\xC3\xA9\"");  // punctuation-only words dropped
  std::string why;
  EXPECT_FALSE(fts_query("", &why));
  EXPECT_FALSE(fts_query(" \"  * ", &why));
  EXPECT_FALSE(fts_query(std::string(kMaxSearchText + 1, 'a'), &why));
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += "w ";
  EXPECT_FALSE(fts_query(seventeen, &why));
  EXPECT_EQ(why, "too many words to search for");
}

TEST(PostIndexRules, WhatIsPublic) {
  auto state = [](std::string node, AccessModel m, bool social) {
    NodeState n;
    n.row.node = std::move(node);
    n.config.access_model = m;
    n.social = social;
    return n;
  };
  Service pep{"alice@x", true, "x"};
  Service svc{"pubsub.x", false, "x"};
  PubsubItem open{"1", "alice@x", "", "open", 1, 1};
  PubsubItem contacts{"2", "alice@x", "", "presence", 1, 2};
  PubsubItem nodes_default{"3", "alice@x", "", "", 1, 3};
  PubsubItem unknown{"4", "alice@x", "", "roster-group:friends", 1, 4};
  auto blog = state("urn:xmpp:microblog:0", AccessModel::kPresence, true);
  EXPECT_TRUE(is_public_post(pep, blog, open));
  EXPECT_FALSE(is_public_post(pep, blog, contacts));
  EXPECT_FALSE(is_public_post(pep, blog, nodes_default));
  EXPECT_FALSE(is_public_post(pep, blog, unknown));
  EXPECT_TRUE(is_public_post(pep, state("urn:xmpp:microblog:0", AccessModel::kOpen, true), nodes_default));
  EXPECT_FALSE(is_public_post(pep, state("urn:xmpp:avatar:metadata", AccessModel::kOpen, false), open));
  EXPECT_TRUE(is_public_post(svc, state("news", AccessModel::kOpen, false), nodes_default));
  EXPECT_FALSE(is_public_post(svc, state("club", AccessModel::kWhitelist, false), nodes_default));
  EXPECT_FALSE(is_public_post(svc, state("urn:xmpp:microblog:0:comments/1", AccessModel::kOpen, false), nodes_default));
  auto volatile_node = state("live", AccessModel::kOpen, false);
  volatile_node.config.persist_items = false;
  EXPECT_FALSE(is_public_post(svc, volatile_node, nodes_default));
}

class PostIndexStoreTest : public ::testing::Test {
 protected:
  PostIndexStoreTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("causerie-postindex-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = sqlite::open_sqlite((dir_ / "t.db").string());
    node_ = db_->pubsub().create_node(PubsubNode{0, "a@x", "urn:xmpp:microblog:0", "", "a@x", 1, 0});
  }
  ~PostIndexStoreTest() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t publish(const std::string& id, std::vector<std::string> tags, const std::string& text) {
    db_->pubsub().put_item(node_, PubsubItem{id, "a@x", "<entry xmlns='http://www.w3.org/2005/Atom'/>", "open", 1000, 0});
    int64_t seq = db_->pubsub().item(node_, id)->seq;
    db_->post_index().put(IndexedPost{seq, std::move(tags), text});
    return seq;
  }
  static std::vector<std::string> ids(const std::vector<PostHit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.item.id);
    return out;
  }
  std::vector<std::string> by_tag(const std::string& tag, size_t limit = 100) {
    PostQuery q;
    q.tag = tag;
    q.limit = limit;
    return ids(db_->post_index().search(q));
  }
  std::vector<std::string> by_text(const std::string& words, const std::string& tag = {}) {
    PostQuery q;
    q.match = *fts_query(words);
    q.tag = tag;
    q.limit = 100;
    return ids(db_->post_index().search(q));
  }

  // A count read through a connection of its own (the test's view of the file, committed rows only:
  // the store runs in autocommit here).
  int64_t raw_count(const char* sql) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / "t.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    int64_t n = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> db_;
  int64_t node_ = 0;
};

TEST_F(PostIndexStoreTest, TagAndTextPagesBothWays) {
  std::vector<int64_t> seqs;
  for (int i = 0; i < 7; ++i)
    seqs.push_back(publish("p" + std::to_string(i), {"xmpp", i % 2 ? "odd" : "even"}, "post number " + std::to_string(i) + (i == 3 ? " Élan" : "")));
  EXPECT_EQ(by_tag("xmpp"), (std::vector<std::string>{"p6", "p5", "p4", "p3", "p2", "p1", "p0"}));
  EXPECT_EQ(by_tag("odd"), (std::vector<std::string>{"p5", "p3", "p1"}));
  EXPECT_TRUE(by_tag("none").empty());
  EXPECT_EQ(by_text("number"), (std::vector<std::string>{"p6", "p5", "p4", "p3", "p2", "p1", "p0"}));
  EXPECT_EQ(by_text("elan"), (std::vector<std::string>{"p3"}));  // diacritics removed by the tokenizer
  EXPECT_EQ(by_text("number", "even"), (std::vector<std::string>{"p6", "p4", "p2", "p0"}));
  EXPECT_TRUE(by_text("number 5", "even").empty());

  PostQuery q;
  q.tag = "xmpp";
  q.limit = 3;
  auto first = db_->post_index().search(q);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"p6", "p5", "p4"}));
  EXPECT_TRUE(db_->post_index().has_older(q, first.back().seq));
  EXPECT_FALSE(db_->post_index().has_newer(q, first.front().seq));
  q.older_than = first.back().seq;
  EXPECT_EQ(ids(db_->post_index().search(q)), (std::vector<std::string>{"p3", "p2", "p1"}));
  q.older_than = 0;
  q.oldest_first = true;  // the last page, still newest first
  EXPECT_EQ(ids(db_->post_index().search(q)), (std::vector<std::string>{"p2", "p1", "p0"}));
  q.newer_than = seqs[3];
  EXPECT_EQ(ids(db_->post_index().search(q)), (std::vector<std::string>{"p6", "p5", "p4"}));
  EXPECT_FALSE(db_->post_index().has_older(q, seqs[0]));
}

TEST_F(PostIndexStoreTest, RowsGoWithTheirItem) {
  publish("keep", {"xmpp"}, "kept words");
  publish("gone", {"xmpp"}, "retracted words");
  int64_t old_seq = publish("edited", {"xmpp", "draft"}, "first words");
  db_->pubsub().remove_item(node_, "gone");  // a retraction
  // An edit: the same id stored again (REPLACE) before the new version is indexed, without "draft".
  db_->pubsub().put_item(node_, PubsubItem{"edited", "a@x", "<entry xmlns='http://www.w3.org/2005/Atom'/>", "open", 2000, 0});
  int64_t new_seq = db_->pubsub().item(node_, "edited")->seq;
  EXPECT_NE(new_seq, old_seq);
  EXPECT_TRUE(by_tag("draft").empty());
  EXPECT_TRUE(by_text("first").empty());
  db_->post_index().put(IndexedPost{new_seq, {"xmpp"}, "second words"});
  EXPECT_EQ(by_tag("xmpp"), (std::vector<std::string>{"edited", "keep"}));
  EXPECT_EQ(by_text("words"), (std::vector<std::string>{"edited", "keep"}));
  EXPECT_TRUE(by_text("retracted").empty());
  // The index rows themselves are gone (the schema's triggers), not just hidden by the join.
  EXPECT_EQ(raw_count("SELECT count(*) FROM post_tags WHERE tag = 'draft'"), 0);
  EXPECT_EQ(raw_count("SELECT count(*) FROM post_text WHERE post_text MATCH 'retracted OR first'"), 0);
  EXPECT_EQ(raw_count("SELECT count(*) FROM post_tags"), 2);

  db_->post_index().remove_node(node_);
  EXPECT_TRUE(by_tag("xmpp").empty());
  EXPECT_TRUE(by_text("words").empty());
  publish("again", {"xmpp"}, "");
  db_->pubsub().delete_node(node_);
  EXPECT_TRUE(by_tag("xmpp").empty());
}

TEST(PostIndexBackfill, MigrationRecordsTheItemsAlreadyStored) {
  auto dir = std::filesystem::temp_directory_path() / ("causerie-postindex-backfill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto db = sqlite::open_sqlite((dir / "t.db").string());
    EXPECT_FALSE(db->post_index().backfill());  // a new database: nothing to do
    int64_t node = db->pubsub().create_node(PubsubNode{0, "a@x", "urn:xmpp:microblog:0", "", "a@x", 1, 0});
    for (int i = 0; i < 5; ++i)
      db->pubsub().put_item(node, PubsubItem{"i" + std::to_string(i), "a@x", "<x xmlns='y'/>", "", 1, 0});
    auto all = db->post_index().items_between(0, INT64_MAX, 100);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.front().service, "a@x");
    EXPECT_EQ(all.front().node, "urn:xmpp:microblog:0");
    EXPECT_EQ(all.front().item.id, "i0");
    EXPECT_EQ(db->post_index().items_between(all[1].seq, all[3].seq, 100).size(), 2u);
    EXPECT_EQ(db->post_index().items_between(0, INT64_MAX, 2).size(), 2u);
  }
  std::filesystem::remove_all(dir);
}

TEST(Explore, PostRequests) {
  modules::explore::Paging paging{20, 50};
  auto parse = [&](const std::string& inner) {
    auto el = xml::parse_fragment("<posts xmlns='urn:causerie:explore:0'>" + inner + "</posts>");
    return modules::explore::parse_posts(*el, paging);
  };
  auto q = parse("<tag>#XMPP</tag><text>server \"news\"</text>");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tag, "xmpp");
  EXPECT_EQ(q->match, "\"server\" \"\"\"news\"\"\"");
  EXPECT_EQ(q->limit, 20u);
  auto paged = parse("<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><max>500</max><after>42</after></set>");
  ASSERT_TRUE(paged);
  EXPECT_EQ(paged->limit, 50u);
  EXPECT_EQ(paged->older_than, 42);
  auto last = parse("<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><before/></set>");
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->oldest_first);
  struct Bad {
    const char* inner;
    StanzaErrorCondition condition;
  } bad[] = {
      {"", StanzaErrorCondition::kBadRequest},
      {"<tag></tag>", StanzaErrorCondition::kBadRequest},
      {"<tag>two words</tag>", StanzaErrorCondition::kBadRequest},
      {"<tag>a</tag><tag>b</tag>", StanzaErrorCondition::kBadRequest},
      {"<text>  *  </text>", StanzaErrorCondition::kBadRequest},
      {"<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><max>many</max></set>", StanzaErrorCondition::kBadRequest},
      {"<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><after>x1</after></set>", StanzaErrorCondition::kItemNotFound},
      {"<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><after>-3</after></set>", StanzaErrorCondition::kItemNotFound},
      {"<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><index>3</index></set>", StanzaErrorCondition::kFeatureNotImplemented},
      {"<tag>a</tag><set xmlns='http://jabber.org/protocol/rsm'><after>1</after><before>2</before></set>", StanzaErrorCondition::kBadRequest},
  };
  for (const auto& b : bad) {
    auto r = parse(b.inner);
    ASSERT_FALSE(r) << b.inner;
    EXPECT_EQ(r.error().condition, b.condition) << b.inner;
  }
  EXPECT_FALSE(parse("<tag>" + std::string(1000, 'a') + "</tag>"));
}

TEST(Explore, PeoplePages) {
  std::vector<modules::explore::Person> people;
  for (const char* j : {"a@x", "b@x", "c@x", "d@x", "e@x"}) people.push_back({j, "", ""});
  modules::explore::PeopleQuery q;
  q.limit = 2;
  auto first = modules::explore::people_result(people, q);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->children("person").size(), 2u);
  q.after = "d@x";
  auto rest = modules::explore::people_result(people, q);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->children("person").size(), 1u);
  EXPECT_EQ(rest->children("person").front()->attr("jid"), "e@x");
  q.after = "zz@x";
  EXPECT_FALSE(modules::explore::people_result(people, q));
  q.after.clear();
  q.last_page = true;
  auto last = modules::explore::people_result(people, q);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->children("person").front()->attr("jid"), "d@x");
}

TEST(BlogOpenGraph, MetaTagsAndTagLinks) {
  BlogPage page;
  page.title = "#xmpp \"quoted\"";
  page.subtitle = "Public posts";
  page.path = "/tag/xmpp";
  page.atom_path = "/tag/xmpp.atom";
  page.base_url = "http://example.org";
  BlogPost p;
  p.id = "1";
  p.title = "Hello";
  p.tags = {"xmpp", "caf\xC3\xA9"};
  p.image = "https://example.org/a.jpg?x=1&y=\"2\"";
  page.posts.push_back(p);
  std::string html = render_blog_html(page);
  EXPECT_NE(html.find("<meta property=\"og:title\" content=\"#xmpp &quot;quoted&quot;\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<meta property=\"og:url\" content=\"http://example.org/tag/xmpp\">"), std::string::npos);
  EXPECT_NE(html.find("<meta property=\"og:type\" content=\"website\">"), std::string::npos);
  EXPECT_NE(html.find("<meta property=\"og:description\" content=\"Public posts\">"), std::string::npos);
  EXPECT_NE(html.find("<meta property=\"og:image\" content=\"https://example.org/a.jpg?x=1&amp;y=&quot;2&quot;\">"),
            std::string::npos);
  EXPECT_NE(html.find("href=\"/tag/caf%C3%A9\">#caf\xC3\xA9</a>"), std::string::npos);
  EXPECT_NE(html.find("href=\"/tag/xmpp.atom\""), std::string::npos);
  std::string atom = render_blog_atom(page);
  EXPECT_NE(atom.find("<category term='xmpp'/>"), std::string::npos) << atom;
  EXPECT_NE(atom.find("href='http://example.org/tag/xmpp.atom'"), std::string::npos);
}

}  // namespace
