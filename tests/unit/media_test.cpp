// The picture pipeline's pure parts (modules/media): BlurHash, the decisions (kind by magic bytes, pixel
// limit, sizes, variant URLs) and the lossless removal of location metadata from JPEG, PNG and WebP.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "modules/media/blurhash.hpp"
#include "modules/media/image_rules.hpp"
#include "modules/media/location_strip.hpp"

namespace causerie::modules::media {
namespace {

// A 16 × 12 sRGB picture: a horizontal red ramp, a vertical blue ramp, constant green.
std::vector<uint8_t> gradient(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(size_t(y) * w + x) * 3];
      p[0] = uint8_t(255 * x / (w - 1));
      p[1] = 96;
      p[2] = uint8_t(255 * y / (h - 1));
    }
  return px;
}

TEST(BlurHash, FormatOfFourByThree) {
  auto px = gradient(16, 12);
  std::string hash = blurhash_encode(px, 16, 12, 16 * 3, 4, 3);
  ASSERT_EQ(hash.size(), 4u + 2 * 4 * 3);
  EXPECT_EQ(hash[0], 'L');  // (4-1) + (3-1)·9 = 21 in base 83
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  for (char c : hash) EXPECT_NE(alphabet.find(c), std::string::npos) << c;
  auto d = blurhash_decode(hash);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->nx, 4);
  EXPECT_EQ(d->ny, 3);
}

TEST(BlurHash, ComponentsDecodeBackWithinQuantisation) {
  auto px = gradient(16, 12);
  auto exact = blurhash_components(px, 16, 12, 16 * 3, 4, 3);
  ASSERT_EQ(exact.size(), 12u);
  auto d = blurhash_decode(blurhash_encode(px, 16, 12, 16 * 3, 4, 3));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->components.size(), 12u);
  // DC: 8-bit sRGB, so within one step in linear light near these values.
  EXPECT_NEAR(d->components[0].r, exact[0].r, 0.01);
  EXPECT_NEAR(d->components[0].g, exact[0].g, 0.01);
  EXPECT_NEAR(d->components[0].b, exact[0].b, 0.01);
  double max_ac = 0;
  for (size_t k = 1; k < exact.size(); ++k)
    max_ac = std::max({max_ac, std::abs(exact[k].r), std::abs(exact[k].g), std::abs(exact[k].b)});
  // AC: 19 levels on a square-root scale of the largest amplitude; half a step at the top is ~1/9 of it.
  for (size_t k = 1; k < exact.size(); ++k) {
    EXPECT_NEAR(d->components[k].r, exact[k].r, max_ac * 0.12) << k;
    EXPECT_NEAR(d->components[k].g, exact[k].g, max_ac * 0.12) << k;
    EXPECT_NEAR(d->components[k].b, exact[k].b, max_ac * 0.12) << k;
  }
  // The ramps show up where they should: red varies along x (component i=1, j=0), blue along y (i=0, j=1);
  // green, constant, only through the basis sampled at x/w (the format's definition), far weaker.
  EXPECT_LT(d->components[1].r, -0.3);
  EXPECT_LT(d->components[4].b, -0.3);
  EXPECT_LT(std::abs(d->components[1].g), 0.05);
  EXPECT_LT(std::abs(d->components[4].g), 0.05);
}

TEST(BlurHash, UniformPictureHasOnlyItsColour) {
  std::vector<uint8_t> px(8 * 8 * 3);
  for (size_t k = 0; k < px.size(); k += 3) px[k] = 200, px[k + 1] = 100, px[k + 2] = 50;
  std::string hash = blurhash_encode(px, 8, 8, 24, 3, 3);
  auto d = blurhash_decode(hash);
  ASSERT_TRUE(d);
  // 0xC86432 as four base-83 digits, after the size flag and the AC maximum.
  unsigned dc = 0;
  const std::string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  for (char c : hash.substr(2, 4)) dc = dc * 83 + unsigned(alphabet.find(c));
  EXPECT_EQ(dc, 0xC86432u);
  // Every component of a uniform picture is its colour times a basis sum: the channels keep its ratios.
  for (size_t k = 1; k < d->components.size(); ++k) {
    EXPECT_GE(std::abs(d->components[k].r), std::abs(d->components[k].g)) << k;
    EXPECT_GE(std::abs(d->components[k].g), std::abs(d->components[k].b)) << k;
  }
}

TEST(BlurHash, RejectsNonsense) {
  std::vector<uint8_t> px(12);
  EXPECT_EQ(blurhash_encode(px, 2, 2, 6, 0, 3), "");
  EXPECT_EQ(blurhash_encode(px, 2, 2, 6, 10, 3), "");
  EXPECT_EQ(blurhash_encode(px, 3, 3, 9, 4, 3), "");  // buffer shorter than the picture
  EXPECT_FALSE(blurhash_decode("L"));
  EXPECT_FALSE(blurhash_decode("LEHV6nWB2yk8pyo0adR*.7kCMdn"));  // one character short of 4 + 24
  EXPECT_FALSE(blurhash_decode("LEHV6nWB2yk8pyo0adR*.7kCMdn\"j"));
  EXPECT_TRUE(blurhash_decode("LEHV6nWB2yk8pyo0adR*.7kCMdnj"));
}

TEST(ImageRules, KindByMagicBytes) {
  EXPECT_EQ(sniff_image(std::string("\xFF\xD8\xFF\xE0", 4)), ImageKind::kJpeg);
  EXPECT_EQ(sniff_image(std::string("\x89PNG\r\n\x1A\n....", 12)), ImageKind::kPng);
  EXPECT_EQ(sniff_image(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), ImageKind::kWebp);
  EXPECT_EQ(sniff_image(std::string("RIFF\x10\0\0\0WAVEfmt ", 16)), ImageKind::kNone);
  EXPECT_EQ(sniff_image("GIF89a..."), ImageKind::kGif);
  EXPECT_EQ(sniff_image("GIF87a"), ImageKind::kGif);
  EXPECT_EQ(sniff_image("<svg xmlns="), ImageKind::kNone);
  EXPECT_EQ(sniff_image(""), ImageKind::kNone);
  EXPECT_EQ(sniff_image(std::string("\xFF\xD8", 2)), ImageKind::kNone);
  EXPECT_EQ(image_media_type(ImageKind::kWebp), "image/webp");
  EXPECT_EQ(image_media_type(ImageKind::kNone), "");
}

TEST(ImageRules, PixelLimit) {
  EXPECT_TRUE(acceptable_pixels(1000, 1000, 1, 1'000'000));
  EXPECT_FALSE(acceptable_pixels(1000, 1001, 1, 1'000'000));
  EXPECT_FALSE(acceptable_pixels(1000, 1000, 2, 1'000'000));
  EXPECT_FALSE(acceptable_pixels(0, 10, 1, 1'000'000));
  EXPECT_FALSE(acceptable_pixels(10, -1, 1, 1'000'000));
  EXPECT_FALSE(acceptable_pixels(int64_t{1} << 31, int64_t{1} << 31, 1, 50'000'000));  // no overflow
  EXPECT_FALSE(acceptable_pixels(65535, 65535, 1, 50'000'000));
}

TEST(ImageRules, FitWithinKeepsRatioAndNeverEnlarges) {
  EXPECT_EQ(fit_within({4000, 3000}, 320), (Size{320, 240}));
  EXPECT_EQ(fit_within({3000, 4000}, 1280), (Size{960, 1280}));
  EXPECT_EQ(fit_within({200, 100}, 320), (Size{200, 100}));
  EXPECT_EQ(fit_within({10000, 10}, 320), (Size{320, 1}));
  EXPECT_EQ(fit_within({0, 10}, 320), (Size{1, 1}));
}

TEST(ImageRules, Variants) {
  EXPECT_EQ(parse_variant("thumb"), Variant::kThumb);
  EXPECT_EQ(parse_variant("web"), Variant::kWeb);
  EXPECT_FALSE(parse_variant("original"));
  EXPECT_FALSE(parse_variant(""));
  EXPECT_EQ(variant_name(Variant::kThumb), "thumb");
}

// A little-endian TIFF block: IFD0 with Orientation, GPSInfo and Software (3 entries), then a GPS IFD with
// GPSLatitudeRef ("N", inline) and GPSLatitude (3 rationals, out of line at a known offset).
std::string exif_with_gps() {
  std::string t;
  auto u16 = [&](uint16_t v) { t.push_back(char(v & 0xff)), t.push_back(char(v >> 8)); };
  auto u32 = [&](uint32_t v) {
    for (int k = 0; k < 4; ++k) t.push_back(char((v >> (8 * k)) & 0xff));
  };
  t = std::string("II*\0", 4);
  u32(8);
  // IFD0 at 8: 3 entries (2 + 36 + 4 = 42 bytes), ends at 50.
  u16(3);
  u16(0x0112), u16(3), u32(1), u16(6), u16(0);  // Orientation = 6
  u16(0x8825), u16(4), u32(1), u32(50);         // GPSInfo → 50
  u16(0x0131), u16(2), u32(4), t.append("Cam", 4);  // Software, inline
  u32(0);
  // GPS IFD at 50: 2 entries (2 + 24 + 4 = 30 bytes), ends at 80; the latitude's rationals at 80.
  u16(2);
  u16(0x0001), u16(2), u32(2), t.append("N\0\0\0", 4);
  u16(0x0002), u16(5), u32(3), u32(80);
  u32(0);
  for (uint32_t v : {48u, 1u, 51u, 1u, 30u, 1u}) u32(v);
  return t;
}

TEST(LocationStrip, ExifLosesGpsKeepsTheRest) {
  std::string t = exif_with_gps();
  size_t size = t.size();
  ASSERT_TRUE(strip_exif_gps(t));
  EXPECT_EQ(t.size(), size);
  EXPECT_EQ(uint8_t(t[8]), 2);                      // IFD0 has two entries now
  EXPECT_EQ(uint8_t(t[10]) | uint8_t(t[11]) << 8, 0x0112);  // Orientation first, unchanged
  EXPECT_EQ(uint8_t(t[18]), 6);
  EXPECT_EQ(uint8_t(t[22]) | uint8_t(t[23]) << 8, 0x0131);  // Software moved up
  EXPECT_EQ(t.substr(30, 3), "Cam");
  EXPECT_EQ(t.substr(34, 4), std::string(4, '\0'));  // the next-IFD offset moved up, still 0
  EXPECT_EQ(t.substr(50), std::string(size - 50, '\0'));  // GPS IFD and the latitude gone
  EXPECT_FALSE(strip_exif_gps(t));  // nothing left to remove
  std::string junk("II*\0\xff\xff\xff\x7f", 8);  // IFD0 far outside the block
  EXPECT_FALSE(strip_exif_gps(junk));
}

std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

TEST(LocationStrip, JpegExifEditedXmpDropped) {
  std::string exif = std::string("Exif\0\0", 6) + exif_with_gps();
  std::string xmp = std::string("http://ns.adobe.com/xap/1.0/\0", 29) + "<x:xmpmeta>exif:GPSLatitude</x:xmpmeta>";
  auto seg = [](uint8_t marker, const std::string& body) {
    size_t len = body.size() + 2;
    return std::string{'\xFF', char(marker), char(len >> 8), char(len & 0xff)} + body;
  };
  std::string scan("\xFF\xDA\x00\x02\x12\x34\xFF\x00\x56\xFF\xD9", 11);
  std::string jpeg = std::string("\xFF\xD8", 2) + seg(0xE1, exif) + seg(0xE1, xmp) + seg(0xDB, "qtable") + scan;
  auto r = strip_location(ImageKind::kJpeg, jpeg);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->gps_removed);
  EXPECT_TRUE(r->xmp_removed);
  std::string stripped = exif;
  std::string tiff = stripped.substr(6);
  strip_exif_gps(tiff);
  EXPECT_EQ(r->bytes, std::string("\xFF\xD8", 2) + seg(0xE1, std::string("Exif\0\0", 6) + tiff) +
                          seg(0xDB, "qtable") + scan);
  // Without metadata: unchanged. Truncated: refused.
  std::string plain = std::string("\xFF\xD8", 2) + seg(0xDB, "qtable") + scan;
  EXPECT_EQ(strip_location(ImageKind::kJpeg, plain)->bytes, plain);
  EXPECT_FALSE(strip_location(ImageKind::kJpeg, jpeg.substr(0, 20)));
}

TEST(LocationStrip, PngExifChunkRewrittenWithItsCrc) {
  auto chunk = [](const std::string& type, const std::string& data, uint32_t crc) {
    return be32(uint32_t(data.size())) + type + data + be32(crc);
  };
  std::string ihdr = be32(1) + be32(1) + std::string("\x08\x02\x00\x00\x00", 5);
  // CRCs of the chunks as written here, as zlib's crc32 computes them (checked by the stripped copy:
  // its eXIf CRC must be recomputed, the others kept).
  std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + chunk("IHDR", ihdr, 0x907753DE) +
                    chunk("eXIf", exif_with_gps(), 0) +
                    chunk("iTXt", std::string("XML:com.adobe.xmp\0\0\0\0\0<x/>", 26), 0) +
                    chunk("IEND", "", 0xAE426082);
  auto r = strip_location(ImageKind::kPng, png);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->gps_removed);
  EXPECT_TRUE(r->xmp_removed);
  EXPECT_EQ(r->bytes.find("iTXt"), std::string::npos);
  size_t at = r->bytes.find("eXIf");
  ASSERT_NE(at, std::string::npos);
  std::string tiff = exif_with_gps();
  strip_exif_gps(tiff);
  EXPECT_EQ(r->bytes.substr(at + 4, tiff.size()), tiff);
  // The CRC of "eXIf" + the edited block: recomputed bit by bit here, independently of the module.
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : "eXIf" + tiff) {
    c ^= uint8_t(ch);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  EXPECT_EQ(r->bytes.substr(at + 4 + tiff.size(), 4), be32(c ^ 0xFFFFFFFFu));
  EXPECT_TRUE(r->bytes.ends_with(chunk("IEND", "", 0xAE426082)));
}

TEST(LocationStrip, WebpXmpDroppedFlagClearedSizeRewritten) {
  auto le32 = [](uint32_t v) { return std::string{char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char(v >> 24)}; };
  auto chunk = [&](const std::string& type, const std::string& data) {
    return type + le32(uint32_t(data.size())) + data + (data.size() % 2 ? std::string(1, '\0') : "");
  };
  std::string vp8x = std::string(1, char(0x0C)) + std::string(9, '\0');  // EXIF and XMP flags
  std::string body = "WEBP" + chunk("VP8X", vp8x) + chunk("VP8 ", "frame") + chunk("EXIF", exif_with_gps()) +
                     chunk("XMP ", "<x:xmpmeta/>");
  std::string webp = "RIFF" + le32(uint32_t(body.size())) + body;
  auto r = strip_location(ImageKind::kWebp, webp);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->gps_removed);
  EXPECT_TRUE(r->xmp_removed);
  EXPECT_EQ(r->bytes.find("XMP "), std::string::npos);
  EXPECT_EQ(uint8_t(r->bytes[20]), 0x08);  // VP8X flags: EXIF only
  EXPECT_EQ(r->bytes.substr(4, 4), le32(uint32_t(r->bytes.size() - 8)));
}

TEST(LocationStrip, GifAndUnknownUntouched) {
  EXPECT_EQ(strip_location(ImageKind::kGif, "GIF89a...")->bytes, "GIF89a...");
  EXPECT_FALSE(strip_location(ImageKind::kGif, "GIF89a...")->gps_removed);
}

}  // namespace
}  // namespace causerie::modules::media
