// The conversions of pep_compat.hpp: XEP-0048 ↔ XEP-0402 bookmarks (the XEPs' own examples as fixtures),
// the vcard-temp PHOTO (XEP-0153 §3), and the SHA-1 that names an avatar.
#include <gtest/gtest.h>

#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/pep_compat.hpp"

using namespace causerie;
using namespace causerie::modules::pubsub;

namespace {

xml::Element parse(std::string_view text) {
  auto el = xml::parse_fragment(text);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

}  // namespace

TEST(PubsubPepCompat, LegacyBookmarkToXep0402Item) {
  // XEP-0048 §3.2 Example 3.
  auto legacy = parse(
      "<conference xmlns='storage:bookmarks' name='Council of Oberon' autojoin='true' jid='council@conference.underhill.org'>"
      "<nick>Puck</nick><password>secret</password></conference>");
  auto item = bookmark_from_legacy(legacy);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->first, "council@conference.underhill.org");
  // XEP-0402 §"Outline of use": the jid is the item id, not in the payload.
  EXPECT_EQ(xml::to_string(item->second),
            "<conference xmlns='urn:xmpp:bookmarks:1' name='Council of Oberon' autojoin='true'><nick>Puck</nick>"
            "<password>secret</password></conference>");

  // autojoin '1' is true, anything else false (the default is left out); a room JID is needed.
  auto one = bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' jid='a@b' autojoin='1'/>"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->second.attr("autojoin"), "true");
  auto no = bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' jid='a@b' autojoin='false'/>"));
  ASSERT_TRUE(no);
  EXPECT_FALSE(no->second.has_attr("autojoin"));
  EXPECT_FALSE(bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' name='x'/>")));
  EXPECT_FALSE(bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' jid='a@b/nick'/>")));
  EXPECT_FALSE(bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' jid='@@'/>")));
  // The JID is prepared, so that two spellings of one room are one item.
  EXPECT_EQ(bookmark_from_legacy(parse("<conference xmlns='storage:bookmarks' jid='Room@Conference.Example'/>"))->first,
            "room@conference.example");
}

TEST(PubsubPepCompat, Xep0402ItemToLegacyBookmark) {
  // XEP-0402 §"Adding a bookmark" Example 5, with its extensions (which XEP-0048 has no place for).
  auto conference = parse(
      "<conference xmlns='urn:xmpp:bookmarks:1' name='The Play&apos;s the Thing' autojoin='true'><nick>JC</nick>"
      "<extensions><state xmlns='http://myclient.example/bookmark/state' minimized='true'/></extensions></conference>");
  EXPECT_EQ(xml::to_string(bookmark_to_legacy("theplay@conference.shakespeare.lit", conference)),
            "<conference xmlns='storage:bookmarks' jid='theplay@conference.shakespeare.lit' name='The Play&apos;s the Thing' "
            "autojoin='true'><nick>JC</nick></conference>");
  EXPECT_EQ(xml::to_string(bookmark_to_legacy("a@b", parse("<conference xmlns='urn:xmpp:bookmarks:1'/>"))),
            "<conference xmlns='storage:bookmarks' jid='a@b' autojoin='false'/>");
}

TEST(PubsubPepCompat, VcardPhoto) {
  std::string image = "\x89PNG\r\n\x1a\n";
  image += std::string(100, 'x');
  std::string b64 = util::base64_encode(image);
  // Clients wrap BINVAL in lines (XEP-0153 §3 example): whitespace is not part of the base64.
  std::string wrapped = b64.substr(0, 20) + "\n  " + b64.substr(20);
  auto photo = vcard_photo(parse("<vCard xmlns='vcard-temp'><FN>x</FN><PHOTO><TYPE>image/jpeg</TYPE><BINVAL>" + wrapped +
                                 "</BINVAL></PHOTO></vCard>"));
  ASSERT_TRUE(photo);
  EXPECT_EQ(photo->bytes, image);
  EXPECT_EQ(photo->type, "image/jpeg");
  EXPECT_FALSE(vcard_photo(parse("<vCard xmlns='vcard-temp'><FN>x</FN></vCard>")));
  EXPECT_FALSE(vcard_photo(parse("<vCard xmlns='vcard-temp'><PHOTO><BINVAL>not base64!</BINVAL></PHOTO></vCard>")));
  EXPECT_FALSE(vcard_photo(parse("<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>https://example.org/a.png</EXTVAL></PHOTO></vCard>")));
}

TEST(PubsubPepCompat, VcardNamesBothWays) {
  // XEP-0292 §"Examples" (shortened) and XEP-0054 §3.1.
  auto v4 = parse(
      "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Peter Saint-Andre</text></fn>"
      "<nickname><text>stpeter</text></nickname><note><text>x</text></note></vcard>");
  VcardNames names = vcard4_names(v4);
  EXPECT_EQ(names.fn, "Peter Saint-Andre");
  EXPECT_EQ(names.nickname, "stpeter");
  auto temp = parse("<vCard xmlns='vcard-temp'><FN>Old</FN><ORG><ORGNAME>JSF</ORGNAME></ORG></vCard>");
  set_vcard_temp_names(temp, names);
  EXPECT_EQ(xml::to_string(temp),
            "<vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN><ORG><ORGNAME>JSF</ORGNAME></ORG>"
            "<NICKNAME>stpeter</NICKNAME></vCard>");
  VcardNames back = vcard_temp_names(temp);
  EXPECT_EQ(back.fn, "Peter Saint-Andre");
  EXPECT_EQ(back.nickname, "stpeter");
  // Only what the other side has is replaced.
  set_vcard4_names(v4, VcardNames{std::string("P. S-A"), std::nullopt});
  EXPECT_EQ(xml::to_string(v4),
            "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>P. S-A</text></fn>"
            "<nickname><text>stpeter</text></nickname><note><text>x</text></note></vcard>");
  EXPECT_FALSE(vcard_temp_names(parse("<vCard xmlns='vcard-temp'/>")).fn);
}

TEST(PubsubPepCompat, Sha1NamesTheAvatar) {
  // FIPS 180 test vector; XEP-0084 ids and XEP-0153 hashes are lower-case hex.
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
