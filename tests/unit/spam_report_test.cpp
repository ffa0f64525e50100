// XEP-0377 reports (src/modules/spam_report.hpp): reading a <report/> from a <block/> item (examples of
// the XEP) and the message that takes it to an admin.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/spam_report.hpp"

using namespace causerie;
using namespace causerie::modules::spam_report;

namespace {

xml::Element parse_xml(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

TEST(SpamReport, ItemsWithAndWithoutReports) {
  auto plain = parse(parse_xml("<item xmlns='urn:xmpp:blocking' jid='romeo@example.net'/>"), "juliet@example.com",
                     "romeo@example.net");
  EXPECT_FALSE(plain.report);
  EXPECT_TRUE(plain.error.empty());

  // §3: a reason is required.
  auto no_reason = parse(parse_xml("<item xmlns='urn:xmpp:blocking' jid='romeo@example.net'>"
                                   "<report xmlns='urn:xmpp:reporting:1'/></item>"),
                         "juliet@example.com", "romeo@example.net");
  EXPECT_FALSE(no_reason.report);
  EXPECT_FALSE(no_reason.error.empty());

  // §5 "Report sent with stanza IDs", with text.
  auto full = parse(parse_xml("<item xmlns='urn:xmpp:blocking' jid='romeo@example.net'>"
                              "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>"
                              "<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@example.net' id='28482-98726-73623'/>"
                              "<stanza-id xmlns='urn:xmpp:sid:0' by='romeo@example.net' id='38383-38018-18385'/>"
                              "<text xml:lang='en'>\n    Never came trouble to my house like this.\n  </text>"
                              "</report></item>"),
                    "juliet@example.com", "romeo@example.net");
  ASSERT_TRUE(full.report);
  const SpamReport& r = *full.report;
  EXPECT_EQ(r.reporter, "juliet@example.com");
  EXPECT_EQ(r.reported, "romeo@example.net");
  EXPECT_EQ(r.reason, kSpam);
  ASSERT_EQ(r.texts.size(), 1u);
  EXPECT_EQ(r.texts[0], "[en] Never came trouble to my house like this.");
  ASSERT_EQ(r.stanza_ids.size(), 2u);
  EXPECT_EQ(r.stanza_ids[1].id, "38383-38018-18385");

  std::string d = describe(r);
  EXPECT_NE(d.find("juliet@example.com blocked and reported romeo@example.net for spam"), std::string::npos) << d;
  EXPECT_NE(d.find("Never came trouble"), std::string::npos) << d;
  EXPECT_NE(d.find("28482-98726-73623"), std::string::npos) << d;
}

TEST(SpamReport, AdminMessageComesFromTheHost) {
  auto p = parse(parse_xml("<item xmlns='urn:xmpp:blocking' jid='romeo@example.net'>"
                           "<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:abuse'/></item>"),
                 "juliet@example.com", "romeo@example.net");
  ASSERT_TRUE(p.report);
  xml::Element m = admin_message(*p.report, "example.com", "admin@example.com");
  EXPECT_EQ(m.attr("from"), "example.com");
  EXPECT_EQ(m.attr("to"), "admin@example.com");
  EXPECT_EQ(m.attr("type"), "normal");
  EXPECT_NE(m.child_text("body", ns::kClient).find("for abuse"), std::string::npos);
  const xml::Element* report = m.child("report", kNs);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->attr("reason"), kAbuse);
}

}  // namespace
