// The picture pipeline's pure decisions (image_rules.hpp).
#include "modules/media/image_rules.hpp"

#include <algorithm>
#include <cmath>

namespace causerie::modules::media {

ImageKind sniff_image(std::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3)) return ImageKind::kJpeg;
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return ImageKind::kPng;
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return ImageKind::kWebp;
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return ImageKind::kGif;
  return ImageKind::kNone;
}

std::string_view image_media_type(ImageKind kind) {
  switch (kind) {
    case ImageKind::kJpeg: return "image/jpeg";
    case ImageKind::kPng: return "image/png";
    case ImageKind::kWebp: return "image/webp";
    case ImageKind::kGif: return "image/gif";
    case ImageKind::kNone: break;
  }
  return "";
}

bool acceptable_pixels(int64_t width, int64_t height, int64_t frames, int64_t max_pixels) {
  if (width <= 0 || height <= 0 || frames <= 0) return false;
  // Divisions, not products: header values up to 2^31 each must not overflow the check itself.
  if (width > max_pixels || height > max_pixels / width) return false;
  return frames <= max_pixels / (width * height);
}

Size fit_within(Size o, int box) {
  if (o.width <= 0 || o.height <= 0 || box <= 0) return {1, 1};
  if (o.width <= box && o.height <= box) return o;
  double scale = double(box) / std::max(o.width, o.height);
  return {std::max(1, int(std::lround(o.width * scale))), std::max(1, int(std::lround(o.height * scale)))};
}

std::optional<Variant> parse_variant(std::string_view s) {
  if (s == "thumb") return Variant::kThumb;
  if (s == "web") return Variant::kWeb;
  return std::nullopt;
}

std::string_view variant_name(Variant v) {
  switch (v) {
    case Variant::kThumb: return "thumb";
    case Variant::kWeb: return "web";
    case Variant::kOriginal: break;
  }
  return "";
}

}  // namespace causerie::modules::media
