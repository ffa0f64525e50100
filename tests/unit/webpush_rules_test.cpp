// Web Push module decisions (src/modules/webpush/webpush_rules.hpp, push_queue.hpp): <subscribe/> checks
// and their stanza errors, the payload and headers of each event, what push service answers mean, the
// backoff, and the queue's retries, removals and bound driven by a ManualClock.
#include <gtest/gtest.h>

#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/webpush/ec_key.hpp"
#include "modules/webpush/outbound_push_transport.hpp"
#include "modules/webpush/push_queue.hpp"
#include "modules/webpush/webpush_rules.hpp"

using namespace causerie;
using namespace causerie::modules::webpush;
using namespace std::chrono_literals;

namespace {

xml::Element parse(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

std::string subscribe_xml(std::string endpoint, std::string p256dh, std::string auth, std::string kinds = "") {
  return "<subscribe xmlns='urn:causerie:webpush:0' endpoint='" + endpoint + "' p256dh='" + p256dh + "' auth='" + auth +
         "'>" + kinds + "</subscribe>";
}

}  // namespace

TEST(WebPushRules, SubscribeChecksEndpointKeysAndKinds) {
  std::string key = util::base64url_encode(EcKey::generate().public_point());
  std::string auth = util::base64url_encode(std::string(16, 'a'));
  SubscribePolicy policy{{"127.0.0.1"}};
  auto ok = parse_subscribe(parse(subscribe_xml("https://push.example.net/x", key, auth,
                                                "<kind>messages</kind><kind>likes</kind>")), policy);
  ASSERT_TRUE(ok.sub);
  EXPECT_EQ(ok.sub->kinds, uint32_t{storage::kWebPushMessages | storage::kWebPushLikes});
  EXPECT_EQ(ok.sub->p256dh.size(), 65u);
  auto all = parse_subscribe(parse(subscribe_xml("http://127.0.0.1:5000/p", key, auth)), policy);
  ASSERT_TRUE(all.sub);
  EXPECT_EQ(all.sub->kinds, uint32_t{storage::kWebPushAll});

  std::string off_curve = util::base64url_encode(std::string("\x04") + std::string(64, '\x01'));
  struct Case {
    std::string xml;
    StanzaErrorCondition condition;
  } bad[] = {
      {subscribe_xml("http://push.example.net/x", key, auth), StanzaErrorCondition::kNotAcceptable},
      {subscribe_xml("ftp://push.example.net/x", key, auth), StanzaErrorCondition::kBadRequest},
      {subscribe_xml("https://push.example.net/x", off_curve, auth), StanzaErrorCondition::kBadRequest},
      {subscribe_xml("https://push.example.net/x", "not base64!", auth), StanzaErrorCondition::kBadRequest},
      {subscribe_xml("https://push.example.net/x", key, util::base64url_encode("short")), StanzaErrorCondition::kBadRequest},
      {subscribe_xml("https://push.example.net/x", key, auth, "<kind>everything</kind>"), StanzaErrorCondition::kBadRequest},
      {subscribe_xml("https://push.example.net/x", key, auth, "<other/>"), StanzaErrorCondition::kBadRequest},
  };
  for (const auto& c : bad) {
    auto r = parse_subscribe(parse(c.xml), policy);
    EXPECT_FALSE(r.sub) << c.xml;
    EXPECT_EQ(r.error.condition, c.condition) << c.xml;
    EXPECT_FALSE(r.error.text.empty()) << c.xml;
  }
}

TEST(WebPushRules, SubscriptionElementListsItsKinds) {
  storage::WebPushSubscription s;
  s.id = "abc";
  s.endpoint = "https://push.example.net/x";
  s.kinds = storage::kWebPushMentions | storage::kWebPushFollowers;
  s.created = 42;
  EXPECT_EQ(xml::to_string(subscription_element(s)),
            "<subscription xmlns='urn:causerie:webpush:0' id='abc' endpoint='https://push.example.net/x' "
            "created='42'><kind>mentions</kind><kind>followers</kind></subscription>");
}

TEST(WebPushRules, PayloadsAndHeadersOfEachKind) {
  auto m = message_content("juliet@example.com", "romeo@example.net/orchard", "Art thou not Romeo?", 1000);
  EXPECT_EQ(m.kind, uint32_t{storage::kWebPushMessages});
  EXPECT_EQ(m.json, R"({"type":"message","account":"juliet@example.com","from":"romeo@example.net/orchard","body":"Art thou not Romeo?"})");
  EXPECT_EQ(m.urgency, "high");
  EXPECT_EQ(m.topic.size(), 32u);
  // One topic per sender, whatever its resource: a newer message replaces one not yet delivered.
  EXPECT_EQ(m.topic, message_content("juliet@example.com", "romeo@example.net", "x", 1000).topic);
  EXPECT_NE(m.topic, message_content("juliet@example.com", "nurse@example.net", "x", 1000).topic);

  struct Case {
    AccountEvent ev;
    uint32_t kind;
    const char* urgency;
    const char* json;
  } cases[] = {
      {{AccountEvent::Kind::kRoomMention, "juliet@example.com", "room@muc.example.com/romeo", "room@muc.example.com", "",
        "", "juliet, come"},
       storage::kWebPushMentions, "high",
       R"({"type":"mention","account":"juliet@example.com","from":"room@muc.example.com/romeo","room":"room@muc.example.com","body":"juliet, come"})"},
      {{AccountEvent::Kind::kComment, "juliet@example.com", "romeo@example.net", "pubsub.example.com",
        "urn:xmpp:microblog:0:comments/p1", "c1", "Lovely"},
       storage::kWebPushComments, "normal",
       R"({"type":"comment","account":"juliet@example.com","from":"romeo@example.net","service":"pubsub.example.com","node":"urn:xmpp:microblog:0:comments/p1","item":"c1","body":"Lovely"})"},
      {{AccountEvent::Kind::kLike, "juliet@example.com", "romeo@example.net", "juliet@example.com",
        "urn:xmpp:microblog:0", "p1", ""},
       storage::kWebPushLikes, "low",
       R"({"type":"like","account":"juliet@example.com","from":"romeo@example.net","service":"juliet@example.com","node":"urn:xmpp:microblog:0","item":"p1"})"},
      {{AccountEvent::Kind::kFollower, "juliet@example.com", "romeo@example.net", "juliet@example.com",
        "urn:xmpp:microblog:0", "", ""},
       storage::kWebPushFollowers, "low",
       R"({"type":"follower","account":"juliet@example.com","from":"romeo@example.net","service":"juliet@example.com","node":"urn:xmpp:microblog:0"})"},
  };
  for (const auto& c : cases) {
    auto p = event_content(c.ev, 1000);
    EXPECT_EQ(p.kind, c.kind);
    EXPECT_EQ(p.urgency, c.urgency);
    EXPECT_EQ(p.json, c.json);
    EXPECT_EQ(p.topic.size(), 32u);
    EXPECT_EQ(p.topic.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
  }
}

TEST(WebPushRules, TextIsCutOnACharacterBoundary) {
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
  EXPECT_EQ(utf8_prefix("h\xC3\xA9llo", 2), "h");  // é is two octets: not cut in half
  EXPECT_EQ(utf8_prefix("h\xC3\xA9llo", 3), "h\xC3\xA9");
  auto m = message_content("a@b", "c@d", std::string(2000, 'x'), 1000);
  EXPECT_NE(m.json.find(std::string(1000, 'x') + "\"}"), std::string::npos);
}

TEST(WebPushRules, AnswersOfPushServices) {
  struct Case {
    int status;
    PushOutcome outcome;
  } cases[] = {{201, PushOutcome::kDelivered}, {202, PushOutcome::kDelivered}, {404, PushOutcome::kGone},
               {410, PushOutcome::kGone},      {429, PushOutcome::kRetry},     {500, PushOutcome::kRetry},
               {503, PushOutcome::kRetry},     {0, PushOutcome::kRetry},       {400, PushOutcome::kDrop},
               {401, PushOutcome::kDrop},      {403, PushOutcome::kDrop},      {413, PushOutcome::kDrop}};
  for (const auto& c : cases) EXPECT_EQ(classify(c.status), c.outcome) << c.status;
}

TEST(WebPushRules, BackoffDoublesHonoursRetryAfterAndIsCapped) {
  EXPECT_EQ(backoff(1, std::nullopt, 2s, 600s), 2s);
  EXPECT_EQ(backoff(2, std::nullopt, 2s, 600s), 4s);
  EXPECT_EQ(backoff(4, std::nullopt, 2s, 600s), 16s);
  EXPECT_EQ(backoff(20, std::nullopt, 2s, 600s), 600s);
  EXPECT_EQ(backoff(1, 30s, 2s, 600s), 30s);
  EXPECT_EQ(backoff(3, 1s, 2s, 600s), 8s);
  EXPECT_EQ(backoff(1, 86400s, 2s, 600s), 600s);
}

TEST(WebPushRules, RetryAfterInSecondsOnly) {
  EXPECT_EQ(parse_retry_after("120"), 120s);
  EXPECT_EQ(parse_retry_after(" 0 "), 0s);
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT"));  // an HTTP-date: the backoff decides
}

namespace {

// The network's side of the queue: records each POST and answers when the test says so.
class ScriptedNetwork final : public PushTransport {
 public:
  void post(PushPost request, std::function<void(PushAnswer)> done) override {
    posts.push_back(std::move(request));
    pending.push_back(std::move(done));
  }
  void answer(int status) {
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    done(PushAnswer{status, std::nullopt, status ? "" : "connection refused"});
  }
  std::vector<PushPost> posts;
  std::vector<std::function<void(PushAnswer)>> pending;
};

PushJob job(std::string id) {
  return PushJob{"juliet@example.com", std::move(id), *PushEndpoint::parse("https://push.example.net/x"), "body",
                 "high", "topic"};
}

std::string header(const PushPost& p, std::string_view name) {
  for (const auto& [n, v] : p.headers)
    if (n == name) return v;
  return {};
}

}  // namespace

TEST(WebPushQueue, RetriesOnTheInjectedClockAndRemovesGoneSubscriptions) {
  ManualClock clock;
  ScriptedNetwork net;
  std::vector<std::string> gone;
  PushQueueSettings s;
  s.max_attempts = 3;
  s.first_backoff = 2s;
  s.subject = "mailto:admin@example.com";
  PushQueue q(clock, net, s, [&](const std::string&, const std::string& id) { gone.push_back(id); });
  q.enqueue(job("a"));
  EXPECT_TRUE(net.posts.empty());  // no VAPID key yet
  q.set_vapid_key(EcKey::generate());
  ASSERT_EQ(net.posts.size(), 1u);
  EXPECT_EQ(header(net.posts[0], "TTL"), "86400");
  EXPECT_EQ(header(net.posts[0], "Content-Encoding"), "aes128gcm");
  EXPECT_EQ(header(net.posts[0], "Urgency"), "high");
  EXPECT_EQ(header(net.posts[0], "Topic"), "topic");
  EXPECT_TRUE(header(net.posts[0], "Authorization").starts_with("vapid t="));

  net.answer(503);
  q.poll();
  EXPECT_EQ(net.posts.size(), 1u);  // waits for the backoff
  clock.advance(1s);
  q.poll();
  EXPECT_EQ(net.posts.size(), 1u);
  clock.advance(1s);
  q.poll();
  ASSERT_EQ(net.posts.size(), 2u);
  net.answer(0);  // no answer at all: retried too, after twice as long
  clock.advance(3s);
  q.poll();
  EXPECT_EQ(net.posts.size(), 2u);
  clock.advance(1s);
  q.poll();
  ASSERT_EQ(net.posts.size(), 3u);
  net.answer(500);  // third attempt of three: dropped
  clock.advance(3600s);
  q.poll();
  EXPECT_EQ(net.posts.size(), 3u);
  EXPECT_EQ(q.stats().dropped, 1u);
  EXPECT_EQ(q.stats().retried, 2u);

  q.enqueue(job("b"));
  ASSERT_EQ(net.posts.size(), 4u);
  net.answer(410);
  EXPECT_EQ(gone, std::vector<std::string>{"b"});
  q.enqueue(job("c"));
  net.answer(201);
  EXPECT_EQ(q.stats().delivered, 1u);
  EXPECT_EQ(q.stats().queued, 0u);
  EXPECT_EQ(q.stats().in_flight, 0u);
}

TEST(WebPushQueue, BoundedQueueAndRequestsInFlight) {
  ManualClock clock;
  ScriptedNetwork net;
  PushQueueSettings s;
  s.max_queued = 3;
  s.max_in_flight = 2;
  PushQueue q(clock, net, s, [](const std::string&, const std::string&) {});
  q.set_vapid_key(EcKey::generate());
  EXPECT_TRUE(q.enqueue(job("1")));
  EXPECT_TRUE(q.enqueue(job("2")));
  EXPECT_TRUE(q.enqueue(job("3")));
  EXPECT_FALSE(q.enqueue(job("4")));
  EXPECT_EQ(q.stats().refused_full, 1u);
  EXPECT_EQ(net.posts.size(), 2u);  // two in flight, one waiting
  net.answer(201);
  EXPECT_EQ(net.posts.size(), 3u);
  EXPECT_TRUE(q.enqueue(job("5")));
}
