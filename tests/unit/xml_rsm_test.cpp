// XEP-0059 parsing and result sets, with the XEP's own examples as fixtures.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/rsm.hpp"
#include "core/xml/serializer.hpp"

using namespace causerie::xml;

TEST(Rsm, ParsesLimitAndPaging) {
  // XEP-0059 Example 5: requesting the next page.
  auto q = parse_fragment(
      "<query xmlns='jabber:iq:search'><set xmlns='http://jabber.org/protocol/rsm'>"
      "<max>10</max><after>peterpan@neverland.lit</after></set></query>");
  ASSERT_TRUE(q);
  RsmParse p = parse_rsm(*q);
  ASSERT_TRUE(p.request);
  EXPECT_EQ(p.request->max, 10u);
  EXPECT_EQ(p.request->after, "peterpan@neverland.lit");
  EXPECT_FALSE(p.request->before);
}

TEST(Rsm, EmptyBeforeMeansLastPage) {
  auto q = parse_fragment("<q xmlns='x'><set xmlns='http://jabber.org/protocol/rsm'><max>5</max><before/></set></q>");
  RsmParse p = parse_rsm(*q);
  ASSERT_TRUE(p.request && p.request->before);
  EXPECT_EQ(*p.request->before, "");
}

TEST(Rsm, AbsentAndMalformed) {
  auto none = parse_fragment("<q xmlns='x'/>");
  EXPECT_FALSE(parse_rsm(*none).request);
  EXPECT_TRUE(parse_rsm(*none).error.empty());
  for (const char* bad : {"<max>-1</max>", "<max>ten</max>", "<max></max>", "<index>1x</index>"}) {
    auto q = parse_fragment(std::string("<q xmlns='x'><set xmlns='http://jabber.org/protocol/rsm'>") + bad + "</set></q>");
    RsmParse p = parse_rsm(*q);
    EXPECT_FALSE(p.request) << bad;
    EXPECT_FALSE(p.error.empty()) << bad;
  }
}

TEST(Rsm, ResultSet) {
  RsmResult r{"stpeter@jabber.org", "peterpan@neverland.lit", 0, 800};
  EXPECT_EQ(to_string(to_element(r)),
            "<set xmlns='http://jabber.org/protocol/rsm'><first index='0'>stpeter@jabber.org</first>"
            "<last>peterpan@neverland.lit</last><count>800</count></set>");
  RsmResult empty{{}, {}, std::nullopt, 3};
  EXPECT_EQ(to_string(to_element(empty)), "<set xmlns='http://jabber.org/protocol/rsm'><count>3</count></set>");
}
