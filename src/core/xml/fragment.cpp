#include "core/xml/fragment.hpp"

#include "core/xml/stream_parser.hpp"

namespace causerie::xml {

namespace {
struct Collector final : StreamParser::Handler {
  std::vector<Element> out;
  void on_stream_open(const Element&, std::string_view) override {}
  void on_element(Element&& el) override { out.push_back(std::move(el)); }
  void on_stream_close() override {}
};
}  // namespace

std::optional<Element> parse_fragment(std::string_view text, size_t max_bytes) {
  Collector c;
  StreamParser parser(c, StreamLimits{max_bytes, 96});
  parser.set_fragment_mode(true);
  if (parser.feed(text) != StreamParser::Status::kOk || !parser.between_elements() || c.out.size() != 1)
    return std::nullopt;
  return std::move(c.out.front());
}

}  // namespace causerie::xml
