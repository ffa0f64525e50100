// PieReader: reads a XEP-0227 document as a stream (expat), handing over each child of a <host/> (a
// <user/>, one of our <service/> elements) as an element tree, so that a dump of 100 000 accounts needs
// no more memory than its largest account. It is the gate hostile files meet first:
//   - no DTD at all: a DOCTYPE or entity declaration ends the read (no entity expansion, so no
//     "billion laughs" and no external entities);
//   - bounded: total bytes over every file read, bytes of one host child, element depth;
//   - XInclude (XEP-0227 §5): an <include/> child of <server-data/> or <host/> with a plain file name in
//     'href' (no directory, no scheme), no 'parse' and no 'xpointer' is read from the including file's
//     directory (ejabberd's export_piefxis writes one file per host); any other include is refused.
// The first error stops the read. Used on one thread (the CLI's).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <optional>
#include <string>

#include "core/xml/element.hpp"

namespace causerie {

struct PieLimits {
  uint64_t max_total_bytes = 16ull << 30;   // every file read, together
  uint64_t max_element_bytes = 1ull << 30;  // one <user/> or <service/>, its archive included
  int max_depth = 48;
  int max_include_nesting = 2;  // server-data → host file → user file
};

class PieReader {
 public:
  // Called with the host's JID (as written) and the element; an error message stops the read.
  using OnElement = std::function<std::optional<std::string>(const std::string& host, xml::Element el)>;

  PieReader(OnElement on_element, PieLimits limits) : on_element_(std::move(on_element)), limits_(limits) {}

  // The whole document; XIncludes are read relative to `base_dir`. Returns the error, if any, as
  // "file:line: what".
  std::optional<std::string> read(std::istream& in, const std::string& name, const std::filesystem::path& base_dir);
  std::optional<std::string> read_file(const std::filesystem::path& path);

  // Elements at the host level this importer does not know (ignored, XEP-0227 §4 "SHOULD ignore").
  unsigned skipped() const { return skipped_; }
  uint64_t bytes_read() const { return total_bytes_; }

 private:
  friend class PieDocument;
  OnElement on_element_;
  PieLimits limits_;
  uint64_t total_bytes_ = 0;
  unsigned skipped_ = 0;
  int nesting_ = 0;
  std::string host_;
};

}  // namespace causerie
