// XEP-0191 decisions (src/modules/blocking.hpp): §6 JID matching, the §3.3 handling of stanzas from and
// to a blocked JID, and the in-memory BlockLists the hooks consult. Table-driven, JIDs from the XEP.
#include <gtest/gtest.h>

#include "modules/blocking.hpp"

using namespace causerie;
using namespace causerie::modules::blocking;

namespace {

Jid jid(std::string_view s) {
  return *Jid::parse(s);
}

TEST(Blocking, JidMatchingFollowsTheFourForms) {
  struct Case {
    JidSet items;
    const char* jid;
    bool blocked;
  };
  const Case cases[] = {
      // <user@domain>: any resource of it.
      {{"romeo@montague.net"}, "romeo@montague.net", true},
      {{"romeo@montague.net"}, "romeo@montague.net/orchard", true},
      {{"romeo@montague.net"}, "benvolio@montague.net", false},
      {{"romeo@montague.net"}, "montague.net", false},
      // <user@domain/resource>: only that resource.
      {{"romeo@montague.net/orchard"}, "romeo@montague.net/orchard", true},
      {{"romeo@montague.net/orchard"}, "romeo@montague.net", false},
      {{"romeo@montague.net/orchard"}, "romeo@montague.net/garden", false},
      // <domain/resource>: that resource of the domain, and of any user there (XEP-0016 §2.1 order).
      {{"montague.net/orchard"}, "montague.net/orchard", true},
      {{"montague.net/orchard"}, "romeo@montague.net/orchard", true},
      {{"montague.net/orchard"}, "montague.net", false},
      {{"montague.net/orchard"}, "romeo@montague.net", false},
      // <domain>: the domain itself and everything at it, not its subdomains.
      {{"montague.net"}, "montague.net", true},
      {{"montague.net"}, "romeo@montague.net", true},
      {{"montague.net"}, "romeo@montague.net/orchard", true},
      {{"montague.net"}, "montague.net/orchard", true},
      {{"montague.net"}, "chat.montague.net", false},
      {{"montague.net"}, "juliet@capulet.lit", false},
      {{}, "romeo@montague.net", false},
      {{"romeo@montague.net", "iago@shakespeare.lit"}, "iago@shakespeare.lit/x", true},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.items, jid(c.jid)), c.blocked) << c.jid;
  EXPECT_FALSE(matches({"romeo@montague.net"}, Jid()));
}

TEST(Blocking, InboundStanzasFromABlockedJid) {
  struct Case {
    StanzaKind kind;
    const char* type;
    Inbound action;
  };
  const Case cases[] = {
      // Presence of every kind: no answer, no error (the user looks offline).
      {StanzaKind::kPresence, "", Inbound::kDrop},
      {StanzaKind::kPresence, "unavailable", Inbound::kDrop},
      {StanzaKind::kPresence, "subscribe", Inbound::kDrop},
      {StanzaKind::kPresence, "probe", Inbound::kDrop},
      {StanzaKind::kPresence, "error", Inbound::kDrop},
      // Messages: service-unavailable, except errors (never answered, RFC 6120 §8.3.1).
      {StanzaKind::kMessage, "", Inbound::kServiceUnavailable},
      {StanzaKind::kMessage, "chat", Inbound::kServiceUnavailable},
      {StanzaKind::kMessage, "normal", Inbound::kServiceUnavailable},
      {StanzaKind::kMessage, "headline", Inbound::kServiceUnavailable},
      {StanzaKind::kMessage, "error", Inbound::kDrop},
      // IQs: get and set answered service-unavailable, results and errors dropped.
      {StanzaKind::kIq, "get", Inbound::kServiceUnavailable},
      {StanzaKind::kIq, "set", Inbound::kServiceUnavailable},
      {StanzaKind::kIq, "result", Inbound::kDrop},
      {StanzaKind::kIq, "error", Inbound::kDrop},
  };
  for (const auto& c : cases)
    EXPECT_EQ(inbound_action(c.kind, c.type), c.action) << static_cast<int>(c.kind) << " " << c.type;
}

TEST(Blocking, OutboundStanzasToABlockedJid) {
  struct Case {
    StanzaKind kind;
    const char* type;
    Outbound client;
    bool server_may;
  };
  const Case cases[] = {
      {StanzaKind::kMessage, "chat", Outbound::kNotAcceptable, false},
      {StanzaKind::kMessage, "", Outbound::kNotAcceptable, false},
      {StanzaKind::kMessage, "error", Outbound::kDrop, true},
      {StanzaKind::kIq, "get", Outbound::kNotAcceptable, false},
      {StanzaKind::kIq, "set", Outbound::kNotAcceptable, false},
      {StanzaKind::kIq, "result", Outbound::kDrop, false},
      {StanzaKind::kIq, "error", Outbound::kDrop, true},
      // A client's directed presence or subscription request is refused; the server's broadcasts and
      // probes are dropped, and so is its unavailable presence (it would say the user had been online).
      {StanzaKind::kPresence, "", Outbound::kNotAcceptable, false},
      {StanzaKind::kPresence, "subscribe", Outbound::kNotAcceptable, false},
      {StanzaKind::kPresence, "subscribed", Outbound::kNotAcceptable, false},
      {StanzaKind::kPresence, "probe", Outbound::kNotAcceptable, false},
      {StanzaKind::kPresence, "unavailable", Outbound::kNotAcceptable, false},
      {StanzaKind::kPresence, "error", Outbound::kDrop, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(client_outbound_action(c.kind, c.type), c.client) << static_cast<int>(c.kind) << " " << c.type;
    EXPECT_EQ(server_may_send(c.kind, c.type), c.server_may) << static_cast<int>(c.kind) << " " << c.type;
  }
}

TEST(Blocking, BlockListsPerAccount) {
  BlockLists lists;
  const Jid romeo = jid("romeo@montague.net/orchard");
  EXPECT_FALSE(lists.blocks("juliet@capulet.lit", romeo));
  lists.add("juliet@capulet.lit", {"romeo@montague.net", "iago@shakespeare.lit"});
  lists.add("nurse@capulet.lit", {"montague.net"});
  EXPECT_TRUE(lists.blocks("juliet@capulet.lit", romeo));
  EXPECT_TRUE(lists.blocks("nurse@capulet.lit", romeo));
  EXPECT_FALSE(lists.blocks("tybalt@capulet.lit", romeo));
  EXPECT_EQ(lists.list("juliet@capulet.lit"), (JidSet{"iago@shakespeare.lit", "romeo@montague.net"}));
  EXPECT_EQ(lists.size("juliet@capulet.lit"), 2u);

  lists.remove("juliet@capulet.lit", {"romeo@montague.net", "never@blocked.lit"});
  EXPECT_FALSE(lists.blocks("juliet@capulet.lit", romeo));
  EXPECT_EQ(lists.list("juliet@capulet.lit"), JidSet{"iago@shakespeare.lit"});
  lists.remove("juliet@capulet.lit", {"iago@shakespeare.lit"});
  EXPECT_EQ(lists.size("juliet@capulet.lit"), 0u);
  lists.add("juliet@capulet.lit", {});  // nothing to add: still no list
  EXPECT_EQ(lists.size("juliet@capulet.lit"), 0u);

  lists.clear("nurse@capulet.lit");
  EXPECT_FALSE(lists.blocks("nurse@capulet.lit", romeo));
  lists.clear("nurse@capulet.lit");  // twice is harmless
  lists.add("nurse@capulet.lit", {"montague.net"});
  EXPECT_TRUE(lists.blocks("nurse@capulet.lit", romeo));
}

}  // namespace
