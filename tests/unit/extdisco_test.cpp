// XEP-0215 answers as tables: TURN REST API credentials (checked against a value openssl computed:
// `printf %s "1796634322:alice@localhost" | openssl dgst -sha1 -hmac s3cret -binary | base64`), the
// <services/> listing with its type filter, and <credentials/> with its errors.
#include <gtest/gtest.h>

#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/extdisco.hpp"

using namespace causerie;
using namespace causerie::modules::extdisco;

namespace {

const auto kNow = util::from_unix_seconds(1796634322 - 86400);

std::vector<ExternalService> services() {
  std::vector<ExternalService> v(4);
  v[0].type = "stun", v[0].host = "turn.a.org", v[0].port = 3478, v[0].transport = "udp";
  v[1].type = "turn", v[1].host = "turn.a.org", v[1].port = 3478, v[1].transport = "udp", v[1].secret = "s3cret";
  v[2].type = "turn", v[2].host = "turn.a.org", v[2].port = 3479, v[2].transport = "tcp", v[2].secret = "s3cret";
  v[2].lifetime = std::chrono::seconds(600), v[2].name = "Backup";
  v[3].type = "turn", v[3].host = "open.a.org", v[3].port = 3478, v[3].transport = "udp";
  return v;
}

xml::Element request(const std::string& text) { return *xml::parse_fragment(text); }

xml::Element ok(const Answer& a) {
  if (auto* e = std::get_if<StanzaError>(&a)) ADD_FAILURE() << "error: " << static_cast<int>(e->condition);
  return std::get<xml::Element>(a);
}

StanzaErrorCondition error(const Answer& a) {
  if (!std::holds_alternative<StanzaError>(a)) {
    ADD_FAILURE() << "expected an error";
    return StanzaErrorCondition::kUndefinedCondition;
  }
  return std::get<StanzaError>(a).condition;
}

}  // namespace

TEST(ExtDisco, TurnRestCredentials) {
  TurnCredentials c = turn_rest_credentials("s3cret", "alice@localhost", kNow, std::chrono::seconds(86400));
  EXPECT_EQ(c.username, "1796634322:alice@localhost");
  EXPECT_EQ(c.password, "eulYYlRb8tq6wVvYWIZnglfO82A=");
  EXPECT_EQ(util::unix_seconds(c.expires), 1796634322);
  // Another secret, another password; another time, another username.
  EXPECT_NE(turn_rest_credentials("other", "alice@localhost", kNow, std::chrono::seconds(86400)).password, c.password);
  EXPECT_EQ(turn_rest_credentials("s3cret", "alice@localhost", kNow, std::chrono::seconds(60)).username,
            "1796547982:alice@localhost");
}

TEST(ExtDisco, ServicesListsAllOrOneType) {
  auto all = ok(answer_services(services(), request("<services xmlns='urn:xmpp:extdisco:2'/>"), "alice@a.org", kNow));
  EXPECT_TRUE(all.is("services", ns::kExtDisco));
  auto items = all.children("service", ns::kExtDisco);
  ASSERT_EQ(items.size(), 4u);
  // STUN: where, no credentials.
  EXPECT_EQ(items[0]->attr("type"), "stun");
  EXPECT_EQ(items[0]->attr("host"), "turn.a.org");
  EXPECT_EQ(items[0]->attr("port"), "3478");
  EXPECT_EQ(items[0]->attr("transport"), "udp");
  EXPECT_FALSE(items[0]->has_attr("username") || items[0]->has_attr("restricted"));
  // TURN with a secret: fresh credentials, their expiry, restricted.
  EXPECT_EQ(items[1]->attr("username"), "1796634322:alice@a.org");
  EXPECT_EQ(items[1]->attr("expires"), "2026-12-07T09:05:22Z");
  EXPECT_EQ(items[1]->attr("restricted"), "1");
  EXPECT_FALSE(items[1]->attr("password").empty());
  EXPECT_EQ(items[2]->attr("name"), "Backup");
  EXPECT_EQ(items[2]->attr("expires"), "2026-12-06T09:15:22Z");
  // TURN without a secret (open relay, or credentials handed out elsewhere): listed as is.
  EXPECT_FALSE(items[3]->has_attr("username"));

  auto turn = ok(answer_services(services(), request("<services xmlns='urn:xmpp:extdisco:2' type='turn'/>"), "a@a.org", kNow));
  EXPECT_EQ(turn.attr("type"), "turn");
  EXPECT_EQ(turn.children("service", ns::kExtDisco).size(), 3u);
  auto none = ok(answer_services(services(), request("<services xmlns='urn:xmpp:extdisco:2' type='ftp'/>"), "a@a.org", kNow));
  EXPECT_TRUE(none.children().empty());
  EXPECT_TRUE(ok(answer_services({}, request("<services xmlns='urn:xmpp:extdisco:2'/>"), "a@a.org", kNow)).children().empty());
}

TEST(ExtDisco, CredentialsForOneService) {
  auto creds = [](const std::string& service) {
    return answer_credentials(services(), request("<credentials xmlns='urn:xmpp:extdisco:2'>" + service + "</credentials>"),
                              "alice@localhost", kNow);
  };
  // Host and type: every port of it (§3.3, last paragraph).
  auto both = ok(creds("<service host='turn.a.org' type='turn'/>"));
  EXPECT_TRUE(both.is("credentials", ns::kExtDisco));
  auto items = both.children("service", ns::kExtDisco);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]->attr("port"), "3478");
  EXPECT_EQ(items[0]->attr("username"), "1796634322:alice@localhost");
  EXPECT_EQ(items[0]->attr("password"), "eulYYlRb8tq6wVvYWIZnglfO82A=");
  EXPECT_EQ(items[1]->attr("port"), "3479");
  // The port (or the transport) picks one.
  auto one = ok(creds("<service host='turn.a.org' type='turn' port='3479'/>"));
  ASSERT_EQ(one.children().size(), 1u);
  EXPECT_EQ(one.children()[0]->attr("transport"), "tcp");
  EXPECT_EQ(ok(creds("<service host='turn.a.org' type='turn' transport='udp'/>")).children().size(), 1u);
  // Errors.
  EXPECT_EQ(error(creds("")), StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(error(creds("<service type='turn'/>")), StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(error(creds("<service host='turn.a.org'/>")), StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(error(creds("<service host='turn.a.org' type='turn' port='http'/>")), StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(error(creds("<service host='turn.a.org' type='turn' port='70000'/>")), StanzaErrorCondition::kBadRequest);
  EXPECT_EQ(error(creds("<service host='turn.b.org' type='turn'/>")), StanzaErrorCondition::kItemNotFound);
  EXPECT_EQ(error(creds("<service host='turn.a.org' type='turn' port='9999'/>")), StanzaErrorCondition::kItemNotFound);
  EXPECT_EQ(error(creds("<service host='turn.a.org' type='stun'/>")), StanzaErrorCondition::kItemNotFound);
  EXPECT_EQ(error(creds("<service host='open.a.org' type='turn'/>")), StanzaErrorCondition::kItemNotFound);
  // One unknown service among several fails the request.
  EXPECT_EQ(error(creds("<service host='turn.a.org' type='turn'/><service host='x.a.org' type='turn'/>")),
            StanzaErrorCondition::kItemNotFound);
}
