// StreamParser: incremental parser for one XML stream (RFC 6120 §4), built on expat.
//
// Bytes go in as they arrive, split anywhere; out come the stream header, one Element per top-level child
// (stanza or nonza), and the stream close. Restricted XML (RFC 6120 §11.1) is enforced: a DTD, entity
// declaration, comment or processing instruction ends the stream. So do the limits: a top-level element
// larger than max_stanza_bytes, or nested deeper than max_depth.
//
// A handler may call stop() from inside a callback (after SASL success or STARTTLS, the stream restarts):
// feed() then returns kStopped and how many bytes of its input were consumed; reset() readies the parser
// for a new stream. Owned by the connection's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/xml/element.hpp"

struct XML_ParserStruct;

namespace causerie::xml {

struct StreamLimits {
  size_t max_stanza_bytes = 256 * 1024;
  unsigned max_depth = 96;  // depth of a stanza's own elements, the stanza itself being 1
};

class StreamParser {
 public:
  enum class Error { kNone, kNotWellFormed, kRestrictedXml, kTooLarge, kTooDeep, kBadFormat };
  enum class Status { kOk, kStopped, kError };

  class Handler {
   public:
    virtual ~Handler() = default;
    // The root element's start tag. content_ns is its default namespace declaration ("" if none).
    virtual void on_stream_open(const Element& header, std::string_view content_ns) = 0;
    virtual void on_element(Element&& element) = 0;
    virtual void on_stream_close() = 0;
  };

  StreamParser(Handler& handler, StreamLimits limits);
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Parses more input. On kStopped, *consumed tells how much of `data` was used before the stop.
  Status feed(std::string_view data, size_t* consumed = nullptr);
  // From inside a handler callback: stop after the current event.
  void stop() { stop_requested_ = true; }
  // Start over with a fresh stream (RFC 6120 §4.3.3 stream restart). Whitespace before the new header is
  // skipped: it belongs to the old stream (a client that wrote "</auth>\n" sends it after our <success/>
  // was decided), and expat would refuse an XML declaration after it.
  void reset();
  // Fragment mode: the next bytes start a new document (one WebSocket message, RFC 7395 §3.3.3), which
  // may open with an XML declaration ("NOT RECOMMENDED", so allowed); it is dropped before expat sees it.
  void begin_document();
  // Fragment mode (RFC 7395 WebSocket): there is no stream root, each top-level element arrives on its
  // own and is delivered through on_element; the framing <open/> and <close/> are elements like others.
  void set_fragment_mode(bool on);

  // Frees expat's state (several KiB) while the stream sits idle between top-level elements; the next
  // feed() recreates it under a synthetic root that re-declares the stream's namespace prefixes.
  // Returns false, changing nothing, when not between elements.
  bool hibernate();
  bool hibernated() const { return parser_ == nullptr; }

  Error error() const { return error_; }
  std::string error_text() const;
  const StreamLimits& limits() const { return limits_; }
  // True between top-level elements: no partial element is held.
  bool between_elements() const { return depth_ <= 1 && pending_bytes() == 0; }
  // Bytes received since the last complete top-level element (bounded by the stanza limit).
  size_t pending_bytes() const { return static_cast<size_t>(fed_total_ - boundary_); }

 private:
  static void on_start(void* self, const char* name, const char** attrs);
  static void on_end(void* self, const char* name);
  static void on_chars(void* self, const char* s, int len);
  static void on_forbidden(void* self);
  static void on_comment(void* self, const char*);
  static void on_pi(void* self, const char*, const char*);
  static void on_doctype(void* self, const char*, const char*, const char*, int);
  static void on_entity(void* self, const char*, int, const char*, int, const char*, const char*,
                        const char*, const char*);

  void create();
  void resume();
  // Consumes the prolog at the start of `data` (whitespace, and in fragment mode an XML declaration);
  // returns how many bytes of `data` it took, or npos on a malformed or oversized declaration.
  size_t skip_prolog(std::string_view data);
  Status feed_expat(std::string_view data, size_t start, size_t* consumed);
  void install_handlers();
  void fail(Error e);
  bool check_size();
  Element make_element(const char* name, const char** attrs);

  Handler& handler_;
  StreamLimits limits_;
  XML_ParserStruct* parser_ = nullptr;
  Error error_ = Error::kNone;
  bool stop_requested_ = false;
  bool fragment_mode_ = false;
  bool in_prolog_ = false;      // before the first markup of a stream (or of a fragment-mode document)
  std::string prolog_;          // fragment mode: the start of a possible "<?xml …?>" split across feeds
  unsigned depth_ = 0;  // 0 = before the root; 1 = inside the stream root (synthetic in fragment mode)
  int64_t fed_total_ = 0;    // absolute byte count fed to this parser
  int64_t boundary_ = 0;     // absolute index just past the last complete top-level element
  int64_t stanza_start_ = 0;
  int64_t stop_at_ = -1;
  // Namespace bindings in scope (prefix "" = default namespace), innermost last, and for each open
  // element the size of bindings_ before its own declarations. We resolve namespaces ourselves: expat's
  // namespace mode cost more than the rest of parsing a stanza.
  struct Binding {
    std::string prefix, uri;
  };
  std::vector<Binding> bindings_;
  std::vector<uint32_t> marks_;
  std::string root_qname_;  // the root's name as written ("stream:stream"), to re-open it
  bool resuming_ = false;   // parsing the stand-in root after hibernation
  const std::string* lookup(std::string_view prefix) const;
  bool push_bindings(const char** attrs);
  bool synthetic_root_ = false;  // the root being parsed is ours (fragment mode, or after hibernation)
  // The top-level element being built; allocated with the expat parser, freed with it on hibernate().
  struct Building {
    Element current;
    std::vector<Element*> stack;
  };
  std::unique_ptr<Building> building_;
};

}  // namespace causerie::xml
