// XEP-0033 (src/modules/multicast.hpp): the copies a multicast service makes of an <addresses/> header,
// with the §4 rules (delivered='true', bcc stripped but kept for its own recipient, delivered addresses
// not delivered again) and the §8 errors. The fixtures follow the XEP's examples.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/multicast.hpp"

using namespace causerie;
using namespace causerie::modules::multicast;

namespace {

xml::Element header(std::string_view inner) {
  auto el = xml::parse_fragment("<addresses xmlns='http://jabber.org/protocol/address'>" + std::string(inner) +
                                "</addresses>");
  EXPECT_TRUE(el.has_value()) << inner;
  return el ? std::move(*el) : xml::Element();
}

// The addresses of a copy as "type:jid:delivered" strings, in order.
std::vector<std::string> seen(const Copy& c) {
  std::vector<std::string> out;
  for (const auto* a : c.addresses.children("address")) {
    out.push_back(std::string(a->attr("type")) + ":" + std::string(a->attr("jid")) + ":" + std::string(a->attr("delivered")));
  }
  return out;
}

TEST(Multicast, ToCcAndBcc) {
  auto copies = plan_multicast(header("<address type='to' jid='hildjj@jabber.org/Work' desc='Joe Hildebrand'/>"
                                      "<address type='cc' jid='jer@jabber.org/Home' desc='Jeremie Miller'/>"
                                      "<address type='bcc' jid='temas@jabber.org'/>"
                                      "<address type='bcc' jid='sam@jabber.org'/>"),
                               50);
  ASSERT_TRUE(copies.has_value());
  ASSERT_EQ(copies->size(), 4u);
  std::vector<std::string> visible = {"to:hildjj@jabber.org/Work:true", "cc:jer@jabber.org/Home:true"};
  EXPECT_EQ((*copies)[0].to.str(), "hildjj@jabber.org/Work");
  EXPECT_EQ(seen((*copies)[0]), visible);
  EXPECT_EQ((*copies)[1].to.str(), "jer@jabber.org/Home");
  EXPECT_EQ(seen((*copies)[1]), visible);
  // Each bcc recipient sees the others' addresses and its own bcc only.
  auto temas = visible;
  temas.push_back("bcc:temas@jabber.org:true");
  EXPECT_EQ((*copies)[2].to.str(), "temas@jabber.org");
  EXPECT_EQ(seen((*copies)[2]), temas);
  auto sam = visible;
  sam.push_back("bcc:sam@jabber.org:true");
  EXPECT_EQ(seen((*copies)[3]), sam);
  // desc kept.
  EXPECT_EQ((*copies)[0].addresses.child("address")->attr("desc"), "Joe Hildebrand");
}

TEST(Multicast, DeliveredAndNonDeliveryAddressesAreKept) {
  auto copies = plan_multicast(header("<address type='to' jid='a@x' delivered='true'/>"
                                      "<address type='bcc' jid='hidden@x' delivered='true'/>"
                                      "<address type='replyto' jid='list@x'/>"
                                      "<address type='noreply'/>"
                                      "<address type='cc' jid='b@y'/>"
                                      "<address type='cc' jid='b@y'/>"
                                      "<group xmlns='some:funny:group:ns'>foo</group>"),
                               50);
  ASSERT_TRUE(copies.has_value());
  ASSERT_EQ(copies->size(), 1u);  // only b@y, once
  EXPECT_EQ((*copies)[0].to.str(), "b@y");
  std::vector<std::string> want = {"to:a@x:true", "replyto:list@x:", "noreply::", "cc:b@y:true", "cc:b@y:true"};
  EXPECT_EQ(seen((*copies)[0]), want);
  EXPECT_NE((*copies)[0].addresses.child("group", "some:funny:group:ns"), nullptr);
}

TEST(Multicast, Errors) {
  struct Case {
    const char* inner;
    StanzaErrorCondition want;
  } cases[] = {
      {"<address jid='a@x'/>", StanzaErrorCondition::kBadRequest},
      {"<address type='to'/>", StanzaErrorCondition::kBadRequest},
      {"<address type='to' jid='a@x' uri='sip:a@x'/>", StanzaErrorCondition::kBadRequest},
      {"<address type='to' uri='sip:a@x'/>", StanzaErrorCondition::kJidMalformed},
      {"<address type='cc' jid='@@bad'/>", StanzaErrorCondition::kJidMalformed},
      {"<address type='replyto' jid='a@x'/>", StanzaErrorCondition::kBadRequest},  // nothing to deliver
      {"", StanzaErrorCondition::kBadRequest},
  };
  for (const auto& c : cases) {
    auto r = plan_multicast(header(c.inner), 50);
    ASSERT_FALSE(r.has_value()) << c.inner;
    EXPECT_EQ(r.error().condition, c.want) << c.inner;
  }
  std::string many;
  for (int i = 0; i < 4; ++i) many += "<address type='to' jid='u" + std::to_string(i) + "@x'/>";
  EXPECT_TRUE(plan_multicast(header(many), 4).has_value());
  auto r = plan_multicast(header(many), 3);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().condition, StanzaErrorCondition::kNotAcceptable);
}

}  // namespace
