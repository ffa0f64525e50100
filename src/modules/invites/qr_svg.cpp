#include "modules/invites/qr_svg.hpp"

#include <qrencode.h>

#include <memory>

namespace causerie::modules::invites {

std::string qr_svg(std::string_view text) {
  std::string input(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeString8bit(input.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (!code) return {};
  constexpr int kQuiet = 4;
  int width = code->width;
  int size = width + 2 * kQuiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each byte: the module is dark (qrencode.h).
      if (!(code->data[y * width + x] & 1)) continue;
      // A run of dark modules on this row becomes one rectangle.
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1)) ++run;
      path += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h" + std::to_string(run) + "v1h-" +
              std::to_string(run) + "z";
      x += run - 1;
    }
  }
  std::string s = std::to_string(size);
  return "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 " + s + " " + s +
         "' width='256' height='256' shape-rendering='crispEdges' role='img' aria-label='QR code'>"
         "<rect width='" + s + "' height='" + s + "' fill='#fff'/><path fill='#000' d='" + path + "'/></svg>";
}

}  // namespace causerie::modules::invites
