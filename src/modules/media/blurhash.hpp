// BlurHash (https://blurha.sh, the algorithm as its author describes it): a picture as a few cosine
// components of its colours, written as a short base-83 string that a client paints as a blurred
// placeholder before the real image arrives. Written from the description, not from any implementation.
//
// Layout of a hash with nx × ny components (1..9 each): one character for (nx-1) + (ny-1)·9, one for the
// quantised largest AC amplitude, four for the DC (average) colour as 24-bit sRGB, then two per AC
// component (each channel quantised to 19 levels on a square-root scale), in row-major order.
//
// Thread rules: pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::modules::media {

// One component: linear-light RGB weights of cos(π·i·x/w)·cos(π·j·y/h).
struct BlurComponent {
  double r = 0, g = 0, b = 0;
};

// The nx·ny components (row-major: j outer, i inner) of an sRGB image of w × h pixels, 3 bytes per
// pixel, rows `stride` bytes apart.
std::vector<BlurComponent> blurhash_components(std::span<const uint8_t> rgb, int w, int h, size_t stride, int nx,
                                               int ny);

// The hash of an sRGB image (3 bytes per pixel). Empty when the arguments make no sense (no pixels, a
// component count outside 1..9, a buffer shorter than the image).
std::string blurhash_encode(std::span<const uint8_t> rgb, int w, int h, size_t stride, int nx = 4, int ny = 3);

// A hash read back: its component counts and the components as the hash carries them (quantised).
struct BlurHashDecoded {
  int nx = 0, ny = 0;
  std::vector<BlurComponent> components;
};
// nullopt for a string that is not a well-formed hash (length, alphabet).
std::optional<BlurHashDecoded> blurhash_decode(std::string_view hash);

}  // namespace causerie::modules::media
