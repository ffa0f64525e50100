// BlurHash encoding and decoding (blurhash.hpp), from the format's description.
#include "modules/media/blurhash.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace causerie::modules::media {
namespace {

constexpr std::string_view kBase83 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

void put_base83(std::string& out, unsigned value, int digits) {
  for (int d = digits - 1; d >= 0; --d) {
    unsigned p = 1;
    for (int k = 0; k < d; ++k) p *= 83;
    out.push_back(kBase83[(value / p) % 83]);
  }
}

std::optional<unsigned> get_base83(std::string_view s) {
  unsigned v = 0;
  for (char c : s) {
    size_t digit = kBase83.find(c);
    if (digit == std::string_view::npos) return std::nullopt;
    v = v * 83 + static_cast<unsigned>(digit);
  }
  return v;
}

// The sRGB transfer function and its inverse (IEC 61966-2-1).
double to_linear(uint8_t v) {
  double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
unsigned to_srgb(double v) {
  v = std::clamp(v, 0.0, 1.0);
  double c = v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
  return static_cast<unsigned>(std::lround(c * 255));
}
// |x|^e with x's sign: AC values are quantised on a square-root scale so small ones keep precision.
double sign_pow(double x, double e) { return std::copysign(std::pow(std::abs(x), e), x); }

}  // namespace

std::vector<BlurComponent> blurhash_components(std::span<const uint8_t> rgb, int w, int h, size_t stride, int nx,
                                               int ny) {
  std::vector<BlurComponent> out;
  if (w <= 0 || h <= 0 || nx < 1 || nx > 9 || ny < 1 || ny > 9 || stride < size_t(w) * 3 ||
      rgb.size() < stride * size_t(h - 1) + size_t(w) * 3)
    return out;
  // Linearise once; the basis is separable, so the cosines are tabled per axis.
  std::vector<double> lin(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w * 3; ++x) lin[(size_t(y) * w) * 3 + x] = to_linear(rgb[size_t(y) * stride + x]);
  std::vector<double> cx(size_t(nx) * w), cy(size_t(ny) * h);
  for (int i = 0; i < nx; ++i)
    for (int x = 0; x < w; ++x) cx[size_t(i) * w + x] = std::cos(std::numbers::pi * i * x / w);
  for (int j = 0; j < ny; ++j)
    for (int y = 0; y < h; ++y) cy[size_t(j) * h + y] = std::cos(std::numbers::pi * j * y / h);
  for (int j = 0; j < ny; ++j) {
    for (int i = 0; i < nx; ++i) {
      BlurComponent c;
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          double basis = cx[size_t(i) * w + x] * cy[size_t(j) * h + y];
          const double* p = &lin[(size_t(y) * w + x) * 3];
          c.r += basis * p[0];
          c.g += basis * p[1];
          c.b += basis * p[2];
        }
      }
      // The DC term is the mean; the others are doubled (the cosine basis' norm).
      double scale = (i == 0 && j == 0 ? 1.0 : 2.0) / (double(w) * h);
      out.push_back({c.r * scale, c.g * scale, c.b * scale});
    }
  }
  return out;
}

std::string blurhash_encode(std::span<const uint8_t> rgb, int w, int h, size_t stride, int nx, int ny) {
  std::vector<BlurComponent> comps = blurhash_components(rgb, w, h, stride, nx, ny);
  if (comps.empty()) return {};
  std::string out;
  put_base83(out, unsigned((nx - 1) + (ny - 1) * 9), 1);
  double max_ac = 0;
  for (size_t k = 1; k < comps.size(); ++k)
    max_ac = std::max({max_ac, std::abs(comps[k].r), std::abs(comps[k].g), std::abs(comps[k].b)});
  double max_value = 1;
  if (comps.size() > 1) {
    int q = static_cast<int>(std::clamp(std::floor(max_ac * 166 - 0.5), 0.0, 82.0));
    max_value = (q + 1) / 166.0;
    put_base83(out, unsigned(q), 1);
  } else {
    put_base83(out, 0, 1);
  }
  const BlurComponent& dc = comps[0];
  put_base83(out, (to_srgb(dc.r) << 16) | (to_srgb(dc.g) << 8) | to_srgb(dc.b), 4);
  auto quant = [max_value](double v) {
    return unsigned(std::clamp(std::floor(sign_pow(v / max_value, 0.5) * 9 + 9.5), 0.0, 18.0));
  };
  for (size_t k = 1; k < comps.size(); ++k)
    put_base83(out, quant(comps[k].r) * 19 * 19 + quant(comps[k].g) * 19 + quant(comps[k].b), 2);
  return out;
}

std::optional<BlurHashDecoded> blurhash_decode(std::string_view hash) {
  if (hash.size() < 6) return std::nullopt;
  auto size_flag = get_base83(hash.substr(0, 1));
  if (!size_flag) return std::nullopt;
  BlurHashDecoded d;
  d.nx = int(*size_flag % 9) + 1;
  d.ny = int(*size_flag / 9) + 1;
  if (hash.size() != size_t(4 + 2 * d.nx * d.ny)) return std::nullopt;
  auto q = get_base83(hash.substr(1, 1));
  auto dc = get_base83(hash.substr(2, 4));
  if (!q || !dc) return std::nullopt;
  double max_value = (*q + 1) / 166.0;
  auto lin = [](unsigned v) { return to_linear(static_cast<uint8_t>(v & 0xff)); };
  d.components.push_back({lin(*dc >> 16), lin(*dc >> 8), lin(*dc)});
  for (int k = 1; k < d.nx * d.ny; ++k) {
    auto v = get_base83(hash.substr(size_t(4 + 2 * k), 2));
    if (!v || *v >= 19 * 19 * 19) return std::nullopt;
    auto unq = [max_value](unsigned n) { return sign_pow((double(n) - 9) / 9, 2.0) * max_value; };
    d.components.push_back({unq(*v / (19 * 19)), unq((*v / 19) % 19), unq(*v % 19)});
  }
  return d;
}

}  // namespace causerie::modules::media
