// libvips behind process_image (image_processor.hpp). Every VipsImage is owned by a small RAII holder;
// every failure path clears libvips' per-thread error buffer after reading it.
#include "modules/media/image_processor.hpp"

#include <vips/vips.h>

#include <atomic>
#include <mutex>

#include "modules/media/blurhash.hpp"

namespace causerie::modules::media {
namespace {

struct Img {
  VipsImage* p = nullptr;
  Img() = default;
  Img(const Img&) = delete;
  Img& operator=(const Img&) = delete;
  ~Img() {
    if (p) g_object_unref(p);
  }
  VipsImage** out() { return &p; }
};

std::string vips_failure() {
  std::string msg = vips_error_buffer();
  vips_error_clear();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg.empty() ? "libvips failed" : msg;
}

// Whether libvips started (it starts at the first picture): its per-thread state exists only then, and
// vips_thread_shutdown() on a thread of a process where it never started crashes in GLib.
std::atomic<bool> vips_started{false};

void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("causerie") != 0) return;
    vips_started.store(true);
    // Loaders libvips marks untrusted (ImageMagick, PDF, …) are never reached: the file's kind was
    // sniffed first, and this closes the door anyway.
    vips_block_untrusted_set(TRUE);
    vips_concurrency_set(1);
    vips_cache_set_max(0);
  });
}

bool has_alpha(VipsImage* im) { return vips_image_hasalpha(im) != 0; }

// The copy as 8-bit sRGB (3 bands), transparency flattened onto white.
bool to_rgb(VipsImage* in, Img& out) {
  Img flat, srgb;
  VipsImage* cur = in;
  if (has_alpha(cur)) {
    VipsArrayDouble* white = vips_array_double_newv(1, 255.0);
    int rc = vips_flatten(cur, flat.out(), "background", white, NULL);
    vips_area_unref(VIPS_AREA(white));
    if (rc) return false;
    cur = flat.p;
  }
  if (vips_colourspace(cur, srgb.out(), VIPS_INTERPRETATION_sRGB, NULL)) return false;
  return vips_cast_uchar(srgb.p, out.out(), NULL) == 0;
}

bool encode(VipsImage* im, ImageCopy& copy) {
  void* buf = nullptr;
  size_t len = 0;
  int rc;
  // Metadata (EXIF, XMP, ICC, comments) is dropped: the copies are sRGB, and carry nothing else.
  if (has_alpha(im)) {
    copy.media_type = "image/png";
    rc = vips_pngsave_buffer(im, &buf, &len, "strip", TRUE, "compression", 6, NULL);
  } else {
    copy.media_type = "image/jpeg";
    rc = vips_jpegsave_buffer(im, &buf, &len, "strip", TRUE, "Q", 82, "optimize_coding", TRUE, "interlace", TRUE,
                              NULL);
  }
  if (rc) return false;
  copy.bytes.assign(static_cast<const char*>(buf), len);
  g_free(buf);
  copy.size = {vips_image_get_width(im), vips_image_get_height(im)};
  return true;
}

}  // namespace

tl::expected<ProcessedImage, ImageError> process_image(std::string_view file, const ImageLimits& limits) {
  ImageKind kind = sniff_image(file);
  if (kind == ImageKind::kNone) return tl::make_unexpected(ImageError{ImageFailure::kNotImage, "not a picture"});
  init_once();
  auto fail = [](ImageFailure f) { return tl::make_unexpected(ImageError{f, vips_failure()}); };
  // libvips reads from the buffer without copying it; it stays alive for the whole call.
  void* data = const_cast<char*>(file.data());
  // The header only: dimensions and orientation, no pixel decoded yet.
  Img header;
  header.p = vips_image_new_from_buffer(data, file.size(), "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
  if (!header.p) return fail(ImageFailure::kUndecodable);
  int w = vips_image_get_width(header.p), h = vips_image_get_height(header.p);
  // Only the first frame of an animation is decoded, so frames count once.
  if (!acceptable_pixels(w, h, 1, limits.max_pixels))
    return tl::make_unexpected(ImageError{ImageFailure::kTooManyPixels, std::to_string(w) + "×" + std::to_string(h) +
                                                                       " pixels, more than " +
                                                                       std::to_string(limits.max_pixels)});
  ProcessedImage out;
  out.original = vips_image_get_orientation_swap(header.p) ? Size{h, w} : Size{w, h};
  Size web_size = fit_within(out.original, limits.web_box);
  Size thumb_size = fit_within(out.original, limits.thumb_box);

  // The web copy straight from the file (JPEG shrinks while decoding), autorotated (libvips' thumbnail
  // applies the EXIF orientation unless told not to), decoding errors fatal rather than grey blocks.
  Img web, web_mem;
  if (vips_thumbnail_buffer(data, file.size(), web.out(), web_size.width, "height", web_size.height, "size",
                            VIPS_SIZE_FORCE, "option_string", "fail_on=error", NULL))
    return fail(ImageFailure::kUndecodable);
  // Decoded once into memory: the thumbnail and the hash are made from it.
  web_mem.p = vips_image_copy_memory(web.p);
  if (!web_mem.p) return fail(ImageFailure::kUndecodable);
  VipsImage* web_src = web_mem.p;
  Img web_flat;
  if (!has_alpha(web_src) || vips_image_get_bands(web_src) != 4) {
    // JPEG output: 8-bit sRGB (grey pictures become RGB too, which every client shows).
    if (!to_rgb(web_src, web_flat)) return fail(ImageFailure::kUndecodable);
    web_src = web_flat.p;
  }
  if (!encode(web_src, out.web)) return fail(ImageFailure::kUndecodable);

  Img thumb;
  if (vips_thumbnail_image(web_src, thumb.out(), thumb_size.width, "height", thumb_size.height, "size",
                           VIPS_SIZE_FORCE, NULL))
    return fail(ImageFailure::kUndecodable);
  if (!encode(thumb.p, out.thumb)) return fail(ImageFailure::kUndecodable);

  // The hash from a copy of at most 32 × 32: the components are averages, more pixels add nothing.
  Size tiny = fit_within(out.original, 32);
  Img small, small_rgb;
  if (vips_thumbnail_image(web_src, small.out(), tiny.width, "height", tiny.height, "size", VIPS_SIZE_FORCE, NULL) ||
      !to_rgb(small.p, small_rgb))
    return fail(ImageFailure::kUndecodable);
  size_t len = 0;
  void* pixels = vips_image_write_to_memory(small_rgb.p, &len);
  if (!pixels) return fail(ImageFailure::kUndecodable);
  int sw = vips_image_get_width(small_rgb.p), sh = vips_image_get_height(small_rgb.p);
  out.blurhash = blurhash_encode({static_cast<const uint8_t*>(pixels), len}, sw, sh, size_t(sw) * 3);
  g_free(pixels);
  return out;
}

void release_image_thread() {
  if (vips_started.load()) vips_thread_shutdown();
}

}  // namespace causerie::modules::media
