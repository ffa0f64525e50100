// Link previews' pure parts: what html_meta reads from a page's <head> (OpenGraph before Twitter cards
// before <title>; nothing from <body>; entities and charsets; bounded text), and the image proxy's
// signatures and image checks.
#include <gtest/gtest.h>

#include "modules/previews/html_meta.hpp"
#include "modules/previews/image_proxy.hpp"

using namespace causerie::modules::previews;

TEST(HtmlMeta, OpenGraphFirst) {
  init_html_parser();
  auto m = read_page_meta(R"(<!doctype html><html><head>
    <title>Plain title</title>
    <meta name="description" content="plain description">
    <meta name="twitter:title" content="Twitter title">
    <meta property="og:title" content="OG &amp; title">
    <meta property="og:description" content="  OG
       description  ">
    <meta property="og:image" content="/img/a.png">
    <meta property="og:image" content="/img/second.png">
    <meta property="og:site_name" content="Site">
    <meta property="og:type" content="article">
    <link rel="alternate" type="application/json+oembed" href="/oembed?u=1">
    </head><body><p>hello</p></body></html>)",
                          "");
  EXPECT_EQ(m.title, "OG & title");
  EXPECT_EQ(m.description, "OG description");
  EXPECT_EQ(m.image, "/img/a.png");
  EXPECT_EQ(m.site_name, "Site");
  EXPECT_EQ(m.type, "article");
  EXPECT_EQ(m.oembed, "/oembed?u=1");
}

TEST(HtmlMeta, FallsBackToTwitterThenTitle) {
  auto t = read_page_meta(R"(<html><head><meta name="twitter:title" content="T"><meta name="twitter:image:src"
      content="https://x.example/i.jpg"><title>ignored</title></head></html>)",
                          "");
  EXPECT_EQ(t.title, "T");
  EXPECT_EQ(t.image, "https://x.example/i.jpg");
  auto p = read_page_meta("<title>Just a\n title</title><meta name=description content='d'><p>text", "");
  EXPECT_EQ(p.title, "Just a title");
  EXPECT_EQ(p.description, "d");
  EXPECT_TRUE(read_page_meta("", "").empty());
  EXPECT_TRUE(read_page_meta("not html at all \x01\x02", "").empty());
}

TEST(HtmlMeta, BodyDoesNotCount) {
  auto m = read_page_meta(R"(<html><head><title>Real</title></head><body>
      <meta property="og:title" content="Injected by a comment">
      <meta property="og:image" content="http://127.0.0.1/secret.png"></body></html>)",
                          "");
  EXPECT_EQ(m.title, "Real");
  EXPECT_EQ(m.image, "");
  // After content the parser has opened <body>: a late <meta> is not metadata.
  auto late = read_page_meta("<p>content</p><meta property='og:title' content='late'>", "");
  EXPECT_EQ(late.title, "");
}

TEST(HtmlMeta, Charsets) {
  // ISO-8859-1 "café", declared by HTTP, then by the document
  EXPECT_EQ(read_page_meta("<html><head><title>caf\xe9</title></head></html>", "iso-8859-1").title, "caf\xc3\xa9");
  EXPECT_EQ(read_page_meta("<html><head><meta charset='iso-8859-1'><title>caf\xe9</title></head></html>", "").title,
            "caf\xc3\xa9");
  EXPECT_EQ(read_page_meta("<html><head><title>caf\xc3\xa9</title></head></html>", "utf-8").title, "caf\xc3\xa9");
  EXPECT_EQ(read_page_meta("<html><head><title>x</title></head></html>", "no-such-charset").title, "x");
}

TEST(HtmlMeta, BoundedText) {
  std::string long_title(5000, 'a');
  auto m = read_page_meta("<html><head><title>" + long_title + "</title></head></html>", "");
  EXPECT_LE(m.title.size(), kMaxTitleChars + 3);
  EXPECT_TRUE(m.title.ends_with("…"));
  EXPECT_EQ(clean_text("a\tb\r\n  c\x01", 100), "a b c");
  EXPECT_EQ(clean_text("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xe2\x80\xa6");
  EXPECT_EQ(clean_text("ok\xff", 10), "ok");
  // A page larger than the parser's limit is read up to it.
  std::string huge = "<html><head><title>big</title></head><body>" + std::string(kMaxHtmlBytes * 2, 'x');
  EXPECT_EQ(read_page_meta(huge, "").title, "big");
}

TEST(ImageProxy, Signatures) {
  std::string url = "https://example.org/a.png?x=1";
  std::string sig = sign_url("secret-1", url);
  EXPECT_TRUE(signature_valid("secret-1", url, sig));
  EXPECT_FALSE(signature_valid("secret-2", url, sig));
  EXPECT_FALSE(signature_valid("secret-1", url + "&y", sig));
  EXPECT_FALSE(signature_valid("secret-1", url, sig.substr(1)));
  EXPECT_FALSE(signature_valid("secret-1", url, ""));
  EXPECT_EQ(sig.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(proxy_url("https://chat.example", "secret-1", url),
            "https://chat.example/proxy/image?u=https%3A%2F%2Fexample.org%2Fa.png%3Fx%3D1&s=" + sig);
}

TEST(ImageProxy, ImagesOnly) {
  EXPECT_TRUE(declared_image("image/png"));
  EXPECT_TRUE(declared_image("Image/JPEG; charset=binary"));
  EXPECT_TRUE(declared_image("image/webp"));
  EXPECT_FALSE(declared_image("image/svg+xml"));
  EXPECT_FALSE(declared_image("text/html"));
  EXPECT_FALSE(declared_image(""));
  EXPECT_EQ(sniff_image(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), "image/png");
  EXPECT_EQ(sniff_image(std::string("\xff\xd8\xff\xe0\0\x10JFIF", 10)), "image/jpeg");
  EXPECT_EQ(sniff_image("GIF89a..."), "image/gif");
  EXPECT_EQ(sniff_image(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), "image/webp");
  EXPECT_EQ(sniff_image(std::string("\0\0\0\x1c" "ftypavif\0\0\0\0", 16)), "image/avif");
  EXPECT_FALSE(sniff_image("<svg xmlns='http://www.w3.org/2000/svg'/>"));
  EXPECT_FALSE(sniff_image("<html><script>alert(1)</script>"));
  EXPECT_FALSE(sniff_image(""));
  EXPECT_FALSE(sniff_image(std::string("RIFF\x10\0\0\0WAVEfmt ", 16)));
}
