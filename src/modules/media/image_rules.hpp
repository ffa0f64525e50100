// The decisions of the picture pipeline as pure functions, so they are table-tested without libvips: what
// kind of image a file is (by its magic bytes, never by the Content-Type its uploader declared), whether
// its pixel count is acceptable, the size of a scaled-down copy, and which variant a URL names.
//
// Thread rules: pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causerie::modules::media {

enum class ImageKind { kNone, kJpeg, kPng, kWebp, kGif };

// The kind named by the file's first bytes: JPEG (FF D8 FF), PNG (its 8-byte signature), WebP (a RIFF
// container of form type "WEBP"), GIF (GIF87a / GIF89a). kNone for anything else.
ImageKind sniff_image(std::string_view bytes);
// The media type of a kind ("" for kNone).
std::string_view image_media_type(ImageKind kind);

struct Size {
  int width = 0, height = 0;
  bool operator==(const Size&) const = default;
};

// A decompression bomb is refused on its header, before any pixel is decoded: width × height × frames
// above `max_pixels` (or a zero or negative dimension) is not processed.
bool acceptable_pixels(int64_t width, int64_t height, int64_t frames, int64_t max_pixels);

// The size of a copy that fits in a box × box square keeping the aspect ratio, never larger than the
// original (small pictures are not enlarged), at least 1 × 1.
Size fit_within(Size original, int box);

// The copies made of an uploaded picture, as they appear in URLs: /upload/<id>/<variant>/<name>.
enum class Variant { kOriginal, kThumb, kWeb };
// "thumb" → kThumb, "web" → kWeb; nullopt for anything else.
std::optional<Variant> parse_variant(std::string_view segment);
std::string_view variant_name(Variant v);

}  // namespace causerie::modules::media
