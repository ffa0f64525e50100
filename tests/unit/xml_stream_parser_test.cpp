// The streaming XML parser: stanzas split at every byte boundary, restricted XML, limits, restarts.
#include <gtest/gtest.h>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "core/xml/stream_parser.hpp"

using namespace causerie;
using namespace causerie::xml;

namespace {

struct Recorder : StreamParser::Handler {
  std::vector<std::string> events;
  std::vector<Element> elements;
  StreamParser* parser = nullptr;
  bool stop_after_element = false;
  void on_stream_open(const Element& h, std::string_view content_ns) override {
    events.push_back("open " + h.ns() + " " + h.name() + " to=" + std::string(h.attr("to")) + " ns=" +
                     std::string(content_ns));
  }
  void on_element(Element&& el) override {
    events.push_back("element " + el.name());
    elements.push_back(std::move(el));
    if (stop_after_element) parser->stop();
  }
  void on_stream_close() override { events.push_back("close"); }
};

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
// RFC 6120 §8: a message with an extension namespace, attributes needing escapes and text.
const std::string kStanzas =
    "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' xml:lang='en'>"
    "<body>Wherefore art thou, &amp; &lt;Romeo&gt;?</body>"
    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"
    " \n\t "
    "<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"
    "<presence><show>away</show></presence>";

TEST(StreamParser, ParsesHeaderStanzasAndClose) {
  Recorder r;
  StreamParser p(r, StreamLimits{});
  ASSERT_EQ(p.feed(kHeader + kStanzas + "</stream:stream>"), StreamParser::Status::kOk);
  std::vector<std::string> expected = {
      "open http://etherx.jabber.org/streams stream to=example.com ns=jabber:client", "element message",
      "element iq", "element presence", "close"};
  EXPECT_EQ(r.events, expected);
  const Element& m = r.elements[0];
  EXPECT_EQ(m.ns(), ns::kClient);
  EXPECT_EQ(m.attr("xml:lang"), "en");
  EXPECT_EQ(m.child_text("body", ns::kClient), "Wherefore art thou, & <Romeo>?");
  EXPECT_NE(m.child("active", "http://jabber.org/protocol/chatstates"), nullptr);
}

TEST(StreamParser, SplitAtEveryByteBoundaryGivesTheSameResult) {
  std::string all = kHeader + kStanzas + "</stream:stream>";
  Recorder whole;
  StreamParser pw(whole, StreamLimits{});
  ASSERT_EQ(pw.feed(all), StreamParser::Status::kOk);
  for (size_t cut = 1; cut < all.size(); ++cut) {
    Recorder r;
    StreamParser p(r, StreamLimits{});
    ASSERT_EQ(p.feed(std::string_view(all).substr(0, cut)), StreamParser::Status::kOk) << cut;
    ASSERT_EQ(p.feed(std::string_view(all).substr(cut)), StreamParser::Status::kOk) << cut;
    ASSERT_EQ(r.events, whole.events) << "cut at " << cut;
    for (size_t i = 0; i < r.elements.size(); ++i)
      ASSERT_EQ(to_string(r.elements[i]), to_string(whole.elements[i])) << "cut at " << cut;
  }
}

TEST(StreamParser, ByteByByte) {
  std::string all = kHeader + kStanzas;
  Recorder r;
  StreamParser p(r, StreamLimits{});
  for (char c : all) ASSERT_EQ(p.feed(std::string_view(&c, 1)), StreamParser::Status::kOk);
  EXPECT_EQ(r.elements.size(), 3u);
  EXPECT_TRUE(p.between_elements());
}

struct BadCase {
  const char* name;
  std::string input;
  StreamParser::Error error;
};

TEST(StreamParser, RestrictedXmlAndMalformedInputAreErrors) {
  std::vector<BadCase> cases = {
      {"comment", kHeader + "<!-- hi -->", StreamParser::Error::kRestrictedXml},
      {"processing instruction", kHeader + "<?foo bar?>", StreamParser::Error::kRestrictedXml},
      {"doctype", "<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]><stream:stream/>",
       StreamParser::Error::kRestrictedXml},
      {"entity in stanza", kHeader + "<message>&ent;</message>", StreamParser::Error::kNotWellFormed},
      {"mismatched tags", kHeader + "<message></presence>", StreamParser::Error::kNotWellFormed},
      {"text at stream level", kHeader + "hello", StreamParser::Error::kNotWellFormed},
      {"bad utf-8", kHeader + "<message><body>\xff\xfe</body></message>", StreamParser::Error::kNotWellFormed},
      {"unbound prefix", kHeader + "<foo:bar/>", StreamParser::Error::kNotWellFormed},
  };
  for (const auto& c : cases) {
    Recorder r;
    StreamParser p(r, StreamLimits{});
    EXPECT_EQ(p.feed(c.input), StreamParser::Status::kError) << c.name;
    EXPECT_EQ(p.error(), c.error) << c.name;
    EXPECT_FALSE(p.error_text().empty()) << c.name;
  }
}

TEST(StreamParser, BillionLaughsNeverExpands) {
  std::string doc =
      "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;'>]>"
      "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol2;";
  Recorder r;
  StreamParser p(r, StreamLimits{});
  EXPECT_EQ(p.feed(doc), StreamParser::Status::kError);
  EXPECT_EQ(p.error(), StreamParser::Error::kRestrictedXml);
  EXPECT_TRUE(r.elements.empty());
}

TEST(StreamParser, StanzaSizeLimit) {
  Recorder r;
  StreamParser p(r, StreamLimits{1000, 96});
  ASSERT_EQ(p.feed(kHeader), StreamParser::Status::kOk);
  ASSERT_EQ(p.feed("<message><body>" + std::string(900, 'a') + "</body></message>"), StreamParser::Status::kOk);
  EXPECT_EQ(r.elements.size(), 1u);
  // One byte at a time, so the limit is checked as data arrives, not only when the element ends.
  std::string big = "<message><body>" + std::string(2000, 'b') + "</body></message>";
  StreamParser::Status st = StreamParser::Status::kOk;
  size_t fed = 0;
  for (; fed < big.size() && st == StreamParser::Status::kOk; ++fed) st = p.feed(std::string_view(&big[fed], 1));
  EXPECT_EQ(st, StreamParser::Status::kError);
  EXPECT_EQ(p.error(), StreamParser::Error::kTooLarge);
  EXPECT_LT(fed, 1100u);
}

TEST(StreamParser, HugeAttributeIsRefusedBeforeItIsBuffered) {
  Recorder r;
  StreamParser p(r, StreamLimits{1000, 96});
  ASSERT_EQ(p.feed(kHeader), StreamParser::Status::kOk);
  std::string chunk = "<message to='" + std::string(4000, 'x');
  EXPECT_EQ(p.feed(chunk), StreamParser::Status::kError);
  EXPECT_EQ(p.error(), StreamParser::Error::kTooLarge);
}

TEST(StreamParser, DepthLimit) {
  Recorder r;
  StreamParser p(r, StreamLimits{1 << 20, 20});
  ASSERT_EQ(p.feed(kHeader), StreamParser::Status::kOk);
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<a>";
  EXPECT_EQ(p.feed(deep), StreamParser::Status::kError);
  EXPECT_EQ(p.error(), StreamParser::Error::kTooDeep);
}

TEST(StreamParser, StopThenResetContinuesWithTheRestOfTheBuffer) {
  // After SASL success the client may pipeline the new stream header right after <auth/>.
  Recorder r;
  StreamParser p(r, StreamLimits{});
  r.parser = &p;
  r.stop_after_element = true;
  std::string first = kHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
  std::string rest = kHeader + "<iq type='set' id='b'/>";
  size_t consumed = 0;
  ASSERT_EQ(p.feed(first + rest, &consumed), StreamParser::Status::kStopped);
  EXPECT_EQ(consumed, first.size());
  r.stop_after_element = false;
  p.reset();
  ASSERT_EQ(p.feed(std::string_view(first + rest).substr(consumed)), StreamParser::Status::kOk);
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[1].name(), "iq");
  EXPECT_EQ(r.events.front(), r.events[2]);  // the same header twice
}

TEST(StreamParser, RestartAfterTrailingWhitespaceAcceptsAnXmlDeclaration) {
  // go-sendxmpp writes "</auth>\n": the newline arrives with the <auth/> that a cached login answers at
  // once, so it is left over after the stop; the new header then opens with an XML declaration (issue 10).
  for (std::string trailer : std::vector<std::string>{"\n", " \r\n\t", ""}) {
    Recorder r;
    StreamParser p(r, StreamLimits{});
    r.parser = &p;
    r.stop_after_element = true;
    std::string first = kHeader + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>AGFsaWNlAHB3</auth>";
    size_t consumed = 0;
    ASSERT_EQ(p.feed(first + trailer, &consumed), StreamParser::Status::kStopped);
    EXPECT_EQ(consumed, first.size());
    r.stop_after_element = false;
    p.reset();
    ASSERT_EQ(p.feed(std::string_view(first + trailer).substr(consumed)), StreamParser::Status::kOk);
    // The new header, declaration first, split at every byte of its first part.
    std::string next = "\n" + kHeader + "<iq type='set' id='b'/>";
    for (char c : next.substr(0, 40)) ASSERT_EQ(p.feed(std::string_view(&c, 1)), StreamParser::Status::kOk);
    ASSERT_EQ(p.feed(std::string_view(next).substr(40)), StreamParser::Status::kOk) << p.error_text();
    ASSERT_EQ(r.elements.size(), 2u);
    EXPECT_EQ(r.elements[1].name(), "iq");
    EXPECT_EQ(r.events.front(), r.events[2]);
  }
}

TEST(StreamParser, TextBeforeAStreamHeaderIsStillAnError) {
  Recorder r;
  StreamParser p(r, StreamLimits{});
  EXPECT_EQ(p.feed("  junk" + kHeader), StreamParser::Status::kError);
}

TEST(StreamParser, FragmentModeDropsAnXmlDeclarationAtTheStartOfEachDocument) {
  // RFC 7395 §3.3.3: declarations in WebSocket messages are NOT RECOMMENDED, so allowed.
  const std::string messages[] = {
      "<?xml version='1.0'?><open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<message xmlns='jabber:client'><body>hi</body></message>",
      "<iq xmlns='jabber:client' type='get' id='1'/>",
      "<?xml version='1.0'?><presence xmlns='jabber:client'/>"};
  std::string all;
  for (const auto& m : messages) all += m;
  // Each message cut in two at every byte, as reads may deliver it.
  for (size_t m = 0; m < std::size(messages); ++m) {
    for (size_t cut = 0; cut <= messages[m].size(); ++cut) {
      Recorder r;
      StreamParser p(r, StreamLimits{});
      p.set_fragment_mode(true);
      for (size_t i = 0; i < std::size(messages); ++i) {
        p.begin_document();
        std::string_view msg = messages[i];
        if (i == m) {
          ASSERT_EQ(p.feed(msg.substr(0, cut)), StreamParser::Status::kOk) << m << " " << cut;
          ASSERT_EQ(p.feed(msg.substr(cut)), StreamParser::Status::kOk) << m << " " << cut << p.error_text();
        } else {
          ASSERT_EQ(p.feed(msg), StreamParser::Status::kOk) << i << p.error_text();
        }
      }
      std::vector<std::string> expected = {"element open", "element message", "element iq", "element presence"};
      ASSERT_EQ(r.events, expected) << "message " << m << " cut at " << cut;
      EXPECT_EQ(r.elements[1].child_text("body", ns::kClient), "hi");
    }
  }
}

TEST(StreamParser, FragmentModeStillRefusesProcessingInstructionsAndBadDeclarations) {
  for (const std::string& bad : std::vector<std::string>{"<?xml-stylesheet href='a'?><iq xmlns='jabber:client'/>", "<?pi x?><iq xmlns='jabber:client'/>",
                          "<?xml " + std::string(300, ' ') + "?><iq xmlns='jabber:client'/>",
                          "<iq xmlns='jabber:client'/><?xml version='1.0'?>"}) {
    Recorder r;
    StreamParser p(r, StreamLimits{});
    p.set_fragment_mode(true);
    p.begin_document();
    EXPECT_EQ(p.feed(bad), StreamParser::Status::kError) << bad;
  }
}

TEST(StreamParser, FragmentModeParsesStandaloneElements) {
  // RFC 7395: each WebSocket message is one element with its namespace declared.
  Recorder r;
  StreamParser p(r, StreamLimits{});
  p.set_fragment_mode(true);
  ASSERT_EQ(p.feed("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"),
            StreamParser::Status::kOk);
  ASSERT_EQ(p.feed("<message xmlns='jabber:client'><body>hi</body></message>"), StreamParser::Status::kOk);
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[0].ns(), ns::kFraming);
  EXPECT_EQ(r.elements[1].child_text("body", ns::kClient), "hi");
}

TEST(Serializer, RoundTripsNamespacesAndEscapes) {
  auto el = parse_fragment(
      "<message xmlns='jabber:client' to='a@b' xml:lang='fr'><body>x &amp; &lt;y&gt; 'q' \"d\"</body>"
      "<x xmlns='jabber:x:data' type='form'><field var='a&apos;b'/></x></message>");
  ASSERT_TRUE(el);
  std::string out;
  serialize_stanza(*el, out);
  EXPECT_EQ(out,
            "<message to='a@b' xml:lang='fr'><body>x &amp; &lt;y&gt; 'q' \"d\"</body>"
            "<x xmlns='jabber:x:data' type='form'><field var='a&apos;b'/></x></message>");
  auto again = parse_fragment("<wrap xmlns='jabber:client'>" + out + "</wrap>");
  ASSERT_TRUE(again);
  EXPECT_EQ(to_string(*again->child()), to_string(*el));
}

TEST(Serializer, NamespacedAttributesGetAPrefix) {
  auto el = parse_fragment("<a xmlns='urn:a' xmlns:p='urn:p' p:x='1'/>");
  ASSERT_TRUE(el);
  EXPECT_EQ(el->attr("{urn:p}x"), "1");
  auto back = parse_fragment(to_string(*el));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->attr("{urn:p}x"), "1");
}

}  // namespace

namespace {

TEST(StreamParser, HibernationKeepsTheStreamGoing) {
  Recorder r;
  StreamParser p(r, StreamLimits{});
  std::string header =
      "<stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns:x='urn:example:x' version='1.0'>";
  ASSERT_EQ(p.feed(header + "<message><body>one</body></message>"), StreamParser::Status::kOk);
  // Not between elements: refuses.
  ASSERT_EQ(p.feed("<message><bo"), StreamParser::Status::kOk);
  EXPECT_FALSE(p.hibernate());
  ASSERT_EQ(p.feed("dy>two</body></message>"), StreamParser::Status::kOk);
  ASSERT_TRUE(p.hibernate());
  EXPECT_TRUE(p.hibernated());
  // A prefix declared on the stream header still resolves after waking up; the header is not reported twice.
  ASSERT_EQ(p.feed("<message><x:tag attr='1'/></message><presence/></stream:stream>"), StreamParser::Status::kOk);
  std::vector<std::string> expected = {"element message", "element message", "element message", "element presence",
                                       "close"};
  EXPECT_EQ(std::vector<std::string>(r.events.begin() + 1, r.events.end()), expected);
  ASSERT_EQ(r.elements.size(), 4u);
  EXPECT_NE(r.elements[2].child("tag", "urn:example:x"), nullptr);
  EXPECT_EQ(r.elements[2].ns(), ns::kClient);
}

TEST(StreamParser, LimitsStillApplyAfterHibernation) {
  Recorder r;
  StreamParser p(r, StreamLimits{1000, 96});
  ASSERT_EQ(p.feed(kHeader), StreamParser::Status::kOk);
  ASSERT_TRUE(p.hibernate());
  EXPECT_EQ(p.feed("<message><body>" + std::string(2000, 'z') + "</body></message>"), StreamParser::Status::kError);
  EXPECT_EQ(p.error(), StreamParser::Error::kTooLarge);
}

TEST(StreamParser, FragmentModeHibernates) {
  Recorder r;
  StreamParser p(r, StreamLimits{});
  p.set_fragment_mode(true);
  ASSERT_EQ(p.feed("<message xmlns='jabber:client'/>"), StreamParser::Status::kOk);
  ASSERT_TRUE(p.hibernate());
  ASSERT_EQ(p.feed("<iq xmlns='jabber:client' type='get' id='1'/>"), StreamParser::Status::kOk);
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[1].name(), "iq");
}

}  // namespace

namespace {

TEST(StreamParser, UnboundPrefixesAreNotDelivered) {
  for (std::string bad : {"<a:b xmlns='jabber:client'/>", "<message><x:y/></message>", "<message p:a='1'/>",
                          "<message xmlns:p=''/>"}) {
    Recorder r;
    StreamParser p(r, StreamLimits{});
    EXPECT_EQ(p.feed(kHeader + bad), StreamParser::Status::kError) << bad;
    EXPECT_EQ(p.error(), StreamParser::Error::kNotWellFormed) << bad;
    EXPECT_TRUE(r.elements.empty()) << bad;
  }
}

TEST(StreamParser, PrefixedElementsAndScopedDeclarations) {
  Recorder r;
  StreamParser p(r, StreamLimits{});
  ASSERT_EQ(p.feed(kHeader + "<iq type='get' id='1'><p:query xmlns:p='urn:p'><p:item p:attr='v' plain='w'/>"
                             "<other xmlns='urn:o'><deep/></other></p:query></iq><message/>"),
            StreamParser::Status::kOk);
  ASSERT_EQ(r.elements.size(), 2u);
  const Element* q = r.elements[0].child("query", "urn:p");
  ASSERT_NE(q, nullptr);
  const Element* item = q->child("item", "urn:p");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->attr("{urn:p}attr"), "v");
  EXPECT_EQ(item->attr("plain"), "w");
  EXPECT_EQ(q->child("other", "urn:o")->child()->ns(), "urn:o");
  // Declarations end with their element: the next stanza is back in jabber:client.
  EXPECT_EQ(r.elements[1].ns(), ns::kClient);
}

}  // namespace
