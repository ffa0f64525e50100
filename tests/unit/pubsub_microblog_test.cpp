// XEP-0277 helpers: node URIs (with the XEP's own link as fixture), comments links, social feeds.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "modules/pubsub/microblog.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

TEST(PubsubMicroblog, NodeUris) {
  struct Case {
    const char* uri;
    std::optional<NodeAddress> expected;
  };
  const Case cases[] = {
      // XEP-0277 §6.1.
      {"xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fdd88c9bc58886fce0049ed050df0c5f2",
       NodeAddress{"pubsub.montague.lit", "urn:xmpp:microblog:0:comments/dd88c9bc58886fce0049ed050df0c5f2", std::nullopt}},
      {"xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c",
       NodeAddress{"romeo@montague.lit", "urn:xmpp:microblog:0", std::string("1cb57d9c")}},
      // XEP-0060 §12.22 style, and the line-broken form of XEP-0277's examples.
      {"xmpp:pubsub.shakespeare.lit?pubsub;action=subscribe;node=princely_musings",
       NodeAddress{"pubsub.shakespeare.lit", "princely_musings", std::nullopt}},
      {"xmpp:benvolio@montague.lit?;\n node=urn%3Axmpp%3Amicroblog%3A0;\n item=c4145006",
       NodeAddress{"benvolio@montague.lit", "urn:xmpp:microblog:0", std::string("c4145006")}},
      {"https://example.org/?node=x", std::nullopt},
      {"xmpp:pubsub.example.org", std::nullopt},
      {"xmpp:pubsub.example.org?;item=1", std::nullopt},
      {"xmpp:pubsub.example.org?;node=%zz", std::nullopt},
      {"xmpp://pubsub.example.org?;node=a", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_node_uri(c.uri), c.expected) << c.uri;
}

TEST(PubsubMicroblog, CommentsLinkAndTitle) {
  auto entry = xml::parse_fragment(
      "<entry xmlns='http://www.w3.org/2005/Atom'><title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>"
      "<p>hanging out at the <strong>Caf\xc3\xa9</strong></p></div></title>"
      "<link rel='alternate' href='xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1'/>"
      "<link rel='replies' title='comments' href='xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fabc'/>"
      "</entry>");
  ASSERT_TRUE(entry);
  auto link = comments_link(*entry);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->service, "pubsub.montague.lit");
  EXPECT_EQ(link->node, "urn:xmpp:microblog:0:comments/abc");
  EXPECT_EQ(entry_title(*entry), "hanging out at the Caf\xc3\xa9");
  auto plain = xml::parse_fragment("<entry xmlns='http://www.w3.org/2005/Atom'><title>hi</title></entry>");
  EXPECT_FALSE(comments_link(*plain));
}

TEST(PubsubMicroblog, SocialFeedsAndComments) {
  NodeConfig c;
  EXPECT_TRUE(is_social_feed("urn:xmpp:microblog:0", c));
  EXPECT_FALSE(is_social_feed("urn:xmpp:avatar:data", c));
  c.type = "urn:xmpp:pubsub-social-feed:1";
  EXPECT_TRUE(is_social_feed("community", c));
  c.type = "urn:xmpp:pubsub-social-feed:gallery:1";
  EXPECT_TRUE(is_social_feed("gallery", c));
  EXPECT_TRUE(is_comments_node("urn:xmpp:microblog:0:comments/abc"));
  EXPECT_FALSE(is_comments_node("urn:xmpp:microblog:0:comments/"));
  NodeConfig comments = comments_defaults(NodeConfig{});
  EXPECT_EQ(comments.publish_model, PublishModel::kOpen);
  EXPECT_TRUE(comments.notify_retract);
}
