// XEP-0045 §7.2.15 history limits (src/modules/muc/history.hpp).
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "modules/muc/history.hpp"

using namespace causerie;
using namespace causerie::modules::muc;
using namespace std::chrono_literals;

namespace {

const util::SystemTime kNow = util::from_unix_seconds(1'700'000'000);

// Ten messages, one a minute, the last one a minute ago; each 100 characters.
std::deque<HistoryEntry> ten() {
  std::deque<HistoryEntry> d;
  for (int i = 0; i < 10; ++i) d.push_back(HistoryEntry{kNow - std::chrono::minutes(10 - i), xml::Element("message"), 100});
  return d;
}

TEST(MucHistory, Selection) {
  auto h = ten();
  struct Row {
    const char* what;
    HistoryRequest req;
    size_t room_limit;
    size_t sent;
  };
  auto r = [](auto f) {
    HistoryRequest q;
    f(q);
    return q;
  };
  std::vector<Row> rows = {
      {"no request: the room's limit", {}, 20, 10},
      {"room limit", {}, 4, 4},
      {"maxstanzas", r([](auto& q) { q.maxstanzas = 3; }), 20, 3},
      {"maxstanzas above room limit", r([](auto& q) { q.maxstanzas = 30; }), 5, 5},
      {"maxchars 0: nothing", r([](auto& q) { q.maxchars = 0; }), 20, 0},
      {"maxchars: whole stanzas only", r([](auto& q) { q.maxchars = 250; }), 20, 2},
      {"maxchars exact", r([](auto& q) { q.maxchars = 300; }), 20, 3},
      {"seconds", r([](auto& q) { q.seconds = 150; }), 20, 2},
      {"since", r([](auto& q) { q.since = kNow - 5min; }), 20, 5},
      {"since in the future", r([](auto& q) { q.since = kNow + 1min; }), 20, 0},
      {"smallest of all limits", r([](auto& q) { q.maxstanzas = 6; q.seconds = 240; q.maxchars = 1000; }), 20, 4},
      {"since and seconds: the later", r([](auto& q) { q.since = kNow - 9min; q.seconds = 180; }), 20, 3},
  };
  for (const auto& row : rows) EXPECT_EQ(h.size() - select_history(h, row.req, row.room_limit, kNow), row.sent) << row.what;
  EXPECT_EQ(select_history({}, {}, 20, kNow), 0u);
}

TEST(MucHistory, ParsesRequest) {
  auto el = xml::parse_fragment("<history xmlns='http://jabber.org/protocol/muc' maxchars='65000' maxstanzas='20' "
                                "seconds='180' since='1970-01-01T00:00:00Z'/>");
  ASSERT_TRUE(el);
  HistoryRequest q = HistoryRequest::parse(&*el);
  EXPECT_EQ(q.maxchars, 65000u);
  EXPECT_EQ(q.maxstanzas, 20u);
  EXPECT_EQ(q.seconds, 180);
  EXPECT_EQ(q.since, util::from_unix_seconds(0));
  // Malformed values are no limit (the XEP has no error for them).
  auto bad = xml::parse_fragment("<history xmlns='http://jabber.org/protocol/muc' maxchars='-1' maxstanzas='x' since='y'/>");
  HistoryRequest b = HistoryRequest::parse(&*bad);
  EXPECT_FALSE(b.maxchars || b.maxstanzas || b.since || b.seconds);
  EXPECT_FALSE(HistoryRequest::parse(nullptr).maxchars);
}

TEST(MucHistory, BoundedByCountAndBytes) {
  History h(3, 1000);
  for (int i = 0; i < 5; ++i) h.add(HistoryEntry{kNow, xml::Element("message"), 100});
  EXPECT_EQ(h.entries().size(), 3u);
  EXPECT_EQ(h.bytes(), 300u);
  h.add(HistoryEntry{kNow, xml::Element("message"), 900});  // pushes out the two oldest
  EXPECT_EQ(h.entries().size(), 2u);
  EXPECT_EQ(h.bytes(), 1000u);
  h.add(HistoryEntry{kNow, xml::Element("message"), 5000});  // larger than the bound: not kept at all
  EXPECT_TRUE(h.entries().empty());
  EXPECT_EQ(h.bytes(), 0u);
}

TEST(MucHistory, RemovesWhatIsSelected) {
  History h(10, 10000);
  for (size_t i = 1; i <= 4; ++i) h.add(HistoryEntry{kNow, xml::Element("message"), i * 100});
  EXPECT_EQ(h.remove_if([](const HistoryEntry& e) { return e.chars == 200 || e.chars == 400; }), 2u);
  ASSERT_EQ(h.entries().size(), 2u);
  EXPECT_EQ(h.entries()[0].chars, 100u);
  EXPECT_EQ(h.entries()[1].chars, 300u);
  EXPECT_EQ(h.bytes(), 400u);
  EXPECT_EQ(h.remove_if([](const HistoryEntry&) { return false; }), 0u);
}

}  // namespace
