// The picture work done with libvips: from an uploaded image's bytes, a thumbnail and a web-sized copy
// (autorotated by their EXIF orientation, all metadata stripped) and a BlurHash. The header names no
// libvips type, so only image_processor.cpp pays for its headers.
//
// Thread rules: process_image is called from one thread at a time per call (the upload module's media
// thread); libvips itself is initialised once per process, on first use, with one worker thread of its
// own per operation (a Raspberry Pi has little to spare) and no operation cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "modules/media/image_rules.hpp"

namespace causerie::modules::media {

struct ImageLimits {
  int64_t max_pixels = 50'000'000;  // width × height of the decoded original
  int thumb_box = 320;              // the thumbnail fits in thumb_box × thumb_box
  int web_box = 1280;               // the web-sized copy fits in web_box × web_box
};

struct ImageCopy {
  std::string bytes;
  std::string media_type;  // image/jpeg, or image/png when the picture has transparency
  Size size;
};

struct ProcessedImage {
  Size original;  // as displayed, after the EXIF orientation
  ImageCopy thumb, web;
  std::string blurhash;
};

enum class ImageFailure { kNotImage, kTooManyPixels, kUndecodable };
struct ImageError {
  ImageFailure failure;
  std::string detail;  // for the log and the error text
};

// Never throws; libvips' errors come back as kUndecodable with its message.
tl::expected<ProcessedImage, ImageError> process_image(std::string_view file, const ImageLimits& limits);

// Frees libvips' per-thread buffers: called by a thread that used process_image, before it ends.
void release_image_thread();

}  // namespace causerie::modules::media
