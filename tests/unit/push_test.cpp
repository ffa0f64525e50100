// XEP-0357 decisions and documents (src/modules/push.hpp): <enable/> checks, the stored registrations,
// §4's replace-and-disable rules, which messages are pushed, and the §5 publish with its summary form.
#include <gtest/gtest.h>

#include "core/xml/data_form.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/push.hpp"

using namespace causerie;
using namespace causerie::modules::push;

namespace {

xml::Element parse(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

constexpr const char* kEnableWithForm =
    "<enable xmlns='urn:xmpp:push:0' jid='push-5.client.example' node='yxs32uqsflafdk3iuqo'>"
    "<x xmlns='jabber:x:data' type='submit'>"
    "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
    "<field var='secret'><value>eruio234vzxc2kla-91</value></field></x></enable>";

TEST(Push, EnableNeedsAJidAndOnlyPublishOptionsForms) {
  auto ok = parse_enable(parse(kEnableWithForm));
  ASSERT_TRUE(ok.reg);
  EXPECT_EQ(ok.reg->jid, "push-5.client.example");
  EXPECT_EQ(ok.reg->node, "yxs32uqsflafdk3iuqo");
  ASSERT_TRUE(ok.reg->publish_options);
  EXPECT_EQ(xml::DataForm::parse(*ok.reg->publish_options)->value("secret"), "eruio234vzxc2kla-91");

  auto no_node = parse_enable(parse("<enable xmlns='urn:xmpp:push:0' jid='push.example'/>"));
  ASSERT_TRUE(no_node.reg);
  EXPECT_TRUE(no_node.reg->node.empty());
  EXPECT_FALSE(no_node.reg->publish_options);

  auto no_jid = parse_enable(parse("<enable xmlns='urn:xmpp:push:0' node='n'/>"));
  EXPECT_FALSE(no_jid.reg);
  EXPECT_FALSE(no_jid.jid_malformed);
  auto bad_jid = parse_enable(parse("<enable xmlns='urn:xmpp:push:0' jid='a@b@c' node='n'/>"));
  EXPECT_FALSE(bad_jid.reg);
  EXPECT_TRUE(bad_jid.jid_malformed);
  auto other_form = parse_enable(parse(
      "<enable xmlns='urn:xmpp:push:0' jid='p.example' node='n'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='FORM_TYPE'><value>urn:example:other</value></field></x></enable>"));
  EXPECT_FALSE(other_form.reg);
}

TEST(Push, RegistrationsSurviveTheirStoredForm) {
  std::vector<Registration> regs;
  ASSERT_TRUE(upsert(regs, *parse_enable(parse(kEnableWithForm)).reg));
  ASSERT_TRUE(upsert(regs, Registration{"push.example", "", std::nullopt}));
  auto back = from_xml(to_xml(regs));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].jid, "push-5.client.example");
  EXPECT_EQ(back[0].node, "yxs32uqsflafdk3iuqo");
  ASSERT_TRUE(back[0].publish_options);
  EXPECT_EQ(xml::DataForm::parse(*back[0].publish_options)->value("secret"), "eruio234vzxc2kla-91");
  EXPECT_EQ(back[1].jid, "push.example");
  EXPECT_FALSE(back[1].publish_options);
  EXPECT_TRUE(from_xml("").empty());
  EXPECT_TRUE(from_xml("<not-ours/>").empty());
}

TEST(Push, EnablingAgainReplacesAndDisableRemovesByJidAndNode) {
  std::vector<Registration> regs;
  upsert(regs, {"a.example", "n1", std::nullopt});
  upsert(regs, {"a.example", "n2", std::nullopt});
  upsert(regs, {"b.example", "n1", std::nullopt});
  // §4: the same JID and node again: the last request's options, no new entry.
  upsert(regs, {"a.example", "n1", parse("<x xmlns='jabber:x:data' type='submit'/>")});
  ASSERT_EQ(regs.size(), 3u);
  EXPECT_TRUE(regs[0].publish_options);
  // With a node: that combination only; without: every node of the JID.
  EXPECT_EQ(remove(regs, "a.example", std::string_view("n2")), 1u);
  EXPECT_EQ(remove(regs, "a.example", std::string_view("nope")), 0u);
  upsert(regs, {"a.example", "n3", std::nullopt});
  EXPECT_EQ(remove(regs, "a.example", std::nullopt), 2u);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].jid, "b.example");
  // Bounded.
  for (size_t i = regs.size(); i < kMaxRegistrations; ++i)
    EXPECT_TRUE(upsert(regs, {"c.example", std::to_string(i), std::nullopt}));
  EXPECT_FALSE(upsert(regs, {"c.example", "one-more", std::nullopt}));
  EXPECT_TRUE(upsert(regs, {"c.example", "5", std::nullopt})) << "replacing is always allowed";
}

TEST(Push, OnlyMessagesThatMatterArePushed) {
  struct Case {
    const char* xml;
    bool pushed;
  };
  const Case cases[] = {
      {"<message xmlns='jabber:client' type='chat'><body>hi</body></message>", true},
      {"<message xmlns='jabber:client'><body>hi</body></message>", true},
      {"<message type='normal'><body>serialized without its namespace</body></message>", true},
      {"<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
       false},
      {"<message xmlns='jabber:client' type='chat'><body/><composing xmlns='http://jabber.org/protocol/chatstates'/>"
       "</message>",
       false},
      {"<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:receipts' id='x'/></message>", false},
      {"<message xmlns='jabber:client' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='x'/></message>",
       false},
      {"<message xmlns='jabber:client' type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>",
       true},
      {"<message xmlns='jabber:client' type='chat'><encrypted xmlns='urn:xmpp:omemo:2'/></message>", true},
      {"<message xmlns='jabber:client' type='chat'><propose xmlns='urn:xmpp:jingle-message:0' id='c'/></message>",
       true},
      {"<message xmlns='jabber:client' type='groupchat'><body>room</body></message>", false},
      {"<message xmlns='jabber:client' type='headline'><body>news</body></message>", false},
      {"<message xmlns='jabber:client' type='error'><body>bounced</body></message>", false},
  };
  for (const auto& c : cases) EXPECT_EQ(worth_pushing(parse(c.xml)), c.pushed) << c.xml;
}

TEST(Push, PermanentErrorsDisableTransientOnesDoNot) {
  struct Case {
    const char* xml;
    bool disables;
    const char* condition;
  };
  const Case cases[] = {
      {"<iq xmlns='jabber:client' type='error'><error type='cancel'>"
       "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
       true, "item-not-found"},
      {"<iq xmlns='jabber:client' type='error'><error type='auth'>"
       "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
       "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>bad secret</text></error></iq>",
       true, "not-authorized"},
      {"<iq xmlns='jabber:client' type='error'><error type='wait'>"
       "<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
       false, "resource-constraint"},
      {"<iq xmlns='jabber:client' type='error'><error type='cancel'>"
       "<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
       false, "remote-server-not-found"},
      {"<iq xmlns='jabber:client' type='error'/>", true, ""},
  };
  for (const auto& c : cases) {
    std::string condition;
    EXPECT_EQ(error_disables(parse(c.xml), condition), c.disables) << c.xml;
    EXPECT_EQ(condition, c.condition) << c.xml;
  }
}

TEST(Push, PublishCarriesTheSummaryAndThePublishOptions) {
  Registration reg = *parse_enable(parse(kEnableWithForm)).reg;
  Summary s{3, "juliet@capulet.example/balcony", "Wherefore art thou, Romeo?"};
  xml::Element iq = make_publish(reg, s, "user@example.com", "push-1");
  EXPECT_EQ(iq.attr("type"), "set");
  EXPECT_EQ(iq.attr("to"), "push-5.client.example");
  EXPECT_EQ(iq.attr("from"), "user@example.com");
  EXPECT_EQ(iq.attr("id"), "push-1");
  const xml::Element* pubsub = iq.child("pubsub", ns::kPubsub);
  ASSERT_TRUE(pubsub);
  const xml::Element* publish = pubsub->child("publish", ns::kPubsub);
  ASSERT_TRUE(publish);
  EXPECT_EQ(publish->attr("node"), "yxs32uqsflafdk3iuqo");
  const xml::Element* n = publish->child("item", ns::kPubsub)->child("notification", kNs);
  ASSERT_TRUE(n);
  auto form = xml::DataForm::parse(*n->child("x", ns::kDataForms));
  ASSERT_TRUE(form);
  EXPECT_EQ(form->form_type(), kSummary);
  EXPECT_EQ(form->value("message-count"), "3");
  EXPECT_EQ(form->value("last-message-sender"), "juliet@capulet.example/balcony");
  EXPECT_EQ(form->value("last-message-body"), "Wherefore art thou, Romeo?");
  const xml::Element* po = pubsub->child("publish-options", ns::kPubsub);
  ASSERT_TRUE(po);
  auto options = xml::DataForm::parse(*po->child("x", ns::kDataForms));
  EXPECT_EQ(options->form_type(), kPublishOptions);
  EXPECT_EQ(options->value("secret"), "eruio234vzxc2kla-91");

  // What privacy leaves out is not there at all; no options, no <publish-options/>.
  Registration bare{"push.example", "n", std::nullopt};
  xml::Element quiet = make_publish(bare, Summary{1, "", ""}, "user@example.com", "push-2");
  auto f2 = xml::DataForm::parse(
      *quiet.child("pubsub", ns::kPubsub)->child("publish", ns::kPubsub)->child("item", ns::kPubsub)->child("notification", kNs)->child("x", ns::kDataForms));
  EXPECT_EQ(f2->value("message-count"), "1");
  EXPECT_FALSE(f2->field("last-message-sender"));
  EXPECT_FALSE(f2->field("last-message-body"));
  EXPECT_FALSE(quiet.child("pubsub", ns::kPubsub)->child("publish-options", ns::kPubsub));
}

}  // namespace
