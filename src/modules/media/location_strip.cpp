// Lossless removal of location metadata (location_strip.hpp). Offsets inside EXIF are relative to the
// TIFF header (CIPA DC-008, §4.6.2); every read is bounds-checked, a malformed block is left alone.
#include "modules/media/location_strip.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace causerie::modules::media {
namespace {

struct Tiff {
  std::string& b;
  bool little;
  uint16_t u16(size_t at) const {
    auto p = reinterpret_cast<const uint8_t*>(b.data()) + at;
    return little ? uint16_t(p[0] | p[1] << 8) : uint16_t(p[0] << 8 | p[1]);
  }
  uint32_t u32(size_t at) const {
    auto p = reinterpret_cast<const uint8_t*>(b.data()) + at;
    return little ? uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24
                  : uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
  }
  void put16(size_t at, uint16_t v) {
    b[at] = char(little ? v & 0xff : v >> 8);
    b[at + 1] = char(little ? v >> 8 : v & 0xff);
  }
  bool has(size_t at, size_t n) const { return at <= b.size() && n <= b.size() - at; }
};

// Bytes per value of each TIFF field type (TIFF 6.0 §2, plus the EXIF additions); 0: unknown.
size_t type_size(uint16_t type) {
  static constexpr std::array<uint8_t, 14> kSizes{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
  return size_t(type) < kSizes.size() ? kSizes[type] : 0;
}

void zero(std::string& b, size_t at, size_t n) { std::memset(b.data() + at, 0, n); }

uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = table[(c ^ uint8_t(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t be32(std::string_view s, size_t at) {
  auto p = reinterpret_cast<const uint8_t*>(s.data()) + at;
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
uint32_t le32(std::string_view s, size_t at) {
  auto p = reinterpret_cast<const uint8_t*>(s.data()) + at;
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
void put_be32(std::string& s, uint32_t v) {
  for (int k = 3; k >= 0; --k) s.push_back(char((v >> (8 * k)) & 0xff));
}
void set_le32(std::string& s, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) s[at + k] = char((v >> (8 * k)) & 0xff);
}

constexpr std::string_view kExifHeader{"Exif\0\0", 6};
constexpr std::string_view kXmpHeader{"http://ns.adobe.com/xap/1.0/\0", 29};
constexpr std::string_view kXmpExtHeader{"http://ns.adobe.com/xmp/extension/\0", 35};

// An EXIF payload that may start with "Exif\0\0" (JPEG always, WebP sometimes).
bool strip_exif_payload(std::string& payload) {
  if (payload.starts_with(kExifHeader)) {
    std::string tiff = payload.substr(kExifHeader.size());
    if (!strip_exif_gps(tiff)) return false;
    payload.replace(kExifHeader.size(), std::string::npos, tiff);
    return true;
  }
  return strip_exif_gps(payload);
}

// JPEG (ITU T.81 Annex B): markers until SOS; APP1 segments are edited or dropped, the rest copied.
std::optional<StripResult> strip_jpeg(std::string_view f) {
  StripResult r;
  r.bytes.append(f.substr(0, 2));  // SOI
  size_t at = 2;
  for (;;) {
    if (at + 4 > f.size() || uint8_t(f[at]) != 0xFF) return std::nullopt;
    uint8_t marker = uint8_t(f[at + 1]);
    if (marker == 0xFF) {  // fill byte
      r.bytes.push_back(f[at]);
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // start of scan / end: the rest is entropy-coded data
    size_t len = size_t(uint8_t(f[at + 2])) << 8 | uint8_t(f[at + 3]);
    if (len < 2 || at + 2 + len > f.size()) return std::nullopt;
    std::string_view body = f.substr(at + 4, len - 2);
    if (marker == 0xE1 && (body.starts_with(kXmpHeader) || body.starts_with(kXmpExtHeader))) {
      r.xmp_removed = true;
    } else if (marker == 0xE1 && body.starts_with(kExifHeader)) {
      std::string payload(body);
      if (strip_exif_payload(payload)) r.gps_removed = true;  // same length: the segment header stands
      r.bytes.append(f.substr(at, 4));
      r.bytes.append(payload);
    } else {
      r.bytes.append(f.substr(at, 2 + len));
    }
    at += 2 + len;
  }
  r.bytes.append(f.substr(at));
  return r;
}

bool png_text_is_metadata(std::string_view type, std::string_view data) {
  if (type != "iTXt" && type != "tEXt" && type != "zTXt") return false;
  std::string_view keyword = data.substr(0, data.find('\0'));
  return keyword == "XML:com.adobe.xmp" || keyword.starts_with("Raw profile type");
}

// PNG (RFC 2083 §3): length, type, data, CRC per chunk; the CRC covers type and data.
std::optional<StripResult> strip_png(std::string_view f) {
  StripResult r;
  r.bytes.append(f.substr(0, 8));
  size_t at = 8;
  while (at < f.size()) {
    if (at + 12 > f.size()) return std::nullopt;
    size_t len = be32(f, at);
    if (len > f.size() - at - 12) return std::nullopt;
    std::string_view type = f.substr(at + 4, 4), data = f.substr(at + 8, len);
    if (png_text_is_metadata(type, data)) {
      r.xmp_removed = true;
    } else if (type == "eXIf") {
      std::string payload(data);
      if (strip_exif_payload(payload)) r.gps_removed = true;
      put_be32(r.bytes, uint32_t(len));
      r.bytes.append(type);
      r.bytes.append(payload);
      put_be32(r.bytes, crc32(std::string(type) + payload));
    } else {
      r.bytes.append(f.substr(at, 12 + len));
    }
    at += 12 + len;
    if (type == "IEND") {
      r.bytes.append(f.substr(at));
      break;
    }
  }
  return r;
}

// WebP (RIFF, RFC 9649 §2.7): chunks padded to even sizes; the VP8X header's flags announce EXIF (0x08)
// and XMP (0x04), so dropping XMP clears its flag, and the RIFF size is rewritten.
std::optional<StripResult> strip_webp(std::string_view f) {
  if (f.size() < 12) return std::nullopt;
  StripResult r;
  r.bytes.append(f.substr(0, 12));
  size_t at = 12, vp8x_flags = 0;
  while (at < f.size()) {
    if (at + 8 > f.size()) return std::nullopt;
    std::string_view type = f.substr(at, 4);
    size_t len = le32(f, at + 4), padded = len + (len & 1);
    if (padded > f.size() - at - 8) return std::nullopt;
    std::string_view data = f.substr(at + 8, len);
    if (type == "XMP ") {
      r.xmp_removed = true;
    } else if (type == "EXIF") {
      std::string payload(data);
      if (strip_exif_payload(payload)) r.gps_removed = true;
      r.bytes.append(f.substr(at, 8));
      r.bytes.append(payload);
      r.bytes.append(f.substr(at + 8 + len, padded - len));
    } else {
      if (type == "VP8X" && len >= 4) vp8x_flags = r.bytes.size() + 8;
      r.bytes.append(f.substr(at, 8 + padded));
    }
    at += 8 + padded;
  }
  if (r.xmp_removed && vp8x_flags) r.bytes[vp8x_flags] = char(uint8_t(r.bytes[vp8x_flags]) & ~0x04);
  set_le32(r.bytes, 4, uint32_t(r.bytes.size() - 8));
  return r;
}

}  // namespace

bool strip_exif_gps(std::string& tiff) {
  if (tiff.size() < 8) return false;
  bool little;
  if (tiff.starts_with(std::string_view("II*\0", 4))) little = true;
  else if (tiff.starts_with(std::string_view("MM\0*", 4))) little = false;
  else return false;
  Tiff t{tiff, little};
  size_t ifd0 = t.u32(4);
  if (!t.has(ifd0, 2)) return false;
  size_t n = t.u16(ifd0);
  if (!t.has(ifd0 + 2, n * 12 + 4)) return false;
  for (size_t k = 0; k < n; ++k) {
    size_t entry = ifd0 + 2 + k * 12;
    if (t.u16(entry) != 0x8825) continue;
    size_t gps = t.u32(entry + 8);
    // The GPS IFD: its out-of-line values, then its entries, then its count, all zeros.
    if (t.has(gps, 2)) {
      size_t gn = t.u16(gps);
      if (t.has(gps + 2, gn * 12 + 4)) {
        for (size_t g = 0; g < gn; ++g) {
          size_t ge = gps + 2 + g * 12;
          size_t bytes = type_size(t.u16(ge + 2)) * size_t(t.u32(ge + 4));
          if (bytes > 4 && t.has(t.u32(ge + 8), bytes)) zero(tiff, t.u32(ge + 8), bytes);
        }
        zero(tiff, gps, 2 + gn * 12 + 4);
      }
    }
    // IFD0 without the pointer: the following entries and the next-IFD offset move up one slot.
    size_t end = ifd0 + 2 + n * 12 + 4;
    std::memmove(tiff.data() + entry, tiff.data() + entry + 12, end - entry - 12);
    zero(tiff, end - 12, 12);
    t.put16(ifd0, uint16_t(n - 1));
    return true;
  }
  return false;
}

std::optional<StripResult> strip_location(ImageKind kind, std::string_view file) {
  switch (kind) {
    case ImageKind::kJpeg: return strip_jpeg(file);
    case ImageKind::kPng: return strip_png(file);
    case ImageKind::kWebp: return strip_webp(file);
    case ImageKind::kGif:
    case ImageKind::kNone: break;
  }
  return StripResult{std::string(file), false, false};
}

}  // namespace causerie::modules::media
