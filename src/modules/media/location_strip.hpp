// Removes the location a picture carries in its metadata, without re-encoding it: the pixels, the
// orientation and the other EXIF fields stay byte for byte, so an original keeps its quality and only the
// metadata blocks change. What is removed:
//  - EXIF (JPEG APP1 "Exif", PNG eXIf, WebP EXIF): the GPSInfo IFD pointer (tag 0x8825) leaves IFD0 and
//    the GPS IFD's entries and their out-of-line values are overwritten with zeros;
//  - XMP (JPEG APP1 XMP and extended XMP, PNG iTXt "XML:com.adobe.xmp", WebP "XMP "), which may repeat the
//    location (exif:GPSLatitude…), is dropped whole, as are ImageMagick's "Raw profile type" text chunks.
// GIF carries no location. Vendor maker notes are not parsed (see docs/protocol/media.md).
//
// Thread rules: pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modules/media/image_rules.hpp"

namespace causerie::modules::media {

struct StripResult {
  std::string bytes;      // the file as it is served
  bool gps_removed = false;
  bool xmp_removed = false;
};

// The file without its location. nullopt: the container is malformed where metadata would be (a
// truncated segment or chunk); the caller decides (the upload module then stores the file unchanged,
// since no decoder would find metadata in it either, and the processing reports it as corrupt).
std::optional<StripResult> strip_location(ImageKind kind, std::string_view file);

// The same edit on a bare TIFF/EXIF block ("II*\0" or "MM\0*" first): true when a GPS IFD was removed.
// False (and the block unchanged) when there is none or the structure is invalid.
bool strip_exif_gps(std::string& tiff);

}  // namespace causerie::modules::media
