#include "core/xml/stream_parser.hpp"

#include <expat.h>

#include <cstring>

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

namespace {
// In fragment mode the parser sees this synthetic root first; it is never reported.
constexpr std::string_view kFragmentRoot = "<fragments xmlns='jabber:client'>";

inline StreamParser* self_of(void* p) { return static_cast<StreamParser*>(p); }
}  // namespace

StreamParser::StreamParser(Handler& handler, StreamLimits limits) : handler_(handler), limits_(limits) {
  create();
}

StreamParser::~StreamParser() {
  if (parser_) XML_ParserFree(parser_);
}

// A hibernated parser is recreated on demand; everything else below assumes parser_ exists.

void StreamParser::install_handlers() {
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, &StreamParser::on_start, &StreamParser::on_end);
  XML_SetCharacterDataHandler(parser_, &StreamParser::on_chars);
  XML_SetCommentHandler(parser_, &StreamParser::on_comment);
  XML_SetProcessingInstructionHandler(parser_, &StreamParser::on_pi);
  XML_SetStartDoctypeDeclHandler(parser_, &StreamParser::on_doctype);
  XML_SetEntityDeclHandler(parser_, &StreamParser::on_entity);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
}

void StreamParser::create() {
  if (parser_) {
    XML_ParserReset(parser_, "UTF-8");
  } else {
    parser_ = XML_ParserCreate("UTF-8");
  }
  install_handlers();
  error_ = Error::kNone;
  stop_requested_ = false;
  depth_ = 0;
  fed_total_ = boundary_ = stanza_start_ = 0;
  stop_at_ = -1;
  bindings_.clear();
  marks_.clear();
  building_ = std::make_unique<Building>();
  synthetic_root_ = fragment_mode_;
  in_prolog_ = !fragment_mode_;
  prolog_.clear();
  if (fragment_mode_) {
    XML_Parse(parser_, kFragmentRoot.data(), static_cast<int>(kFragmentRoot.size()), XML_FALSE);
    fed_total_ = boundary_ = static_cast<int64_t>(kFragmentRoot.size());
  }
}

void StreamParser::reset() { create(); }

void StreamParser::begin_document() {
  if (!fragment_mode_) return;
  in_prolog_ = true;
  prolog_.clear();
}

size_t StreamParser::skip_prolog(std::string_view data) {
  constexpr std::string_view kDecl = "<?xml";
  constexpr size_t kMaxDecl = 256;  // "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>" and spaces
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t i = 0;
  if (prolog_.empty())
    while (i < data.size() && space(data[i])) ++i;
  if (!fragment_mode_) {
    // A stream's own declaration is at the start of expat's entity once whitespace is gone.
    if (i < data.size()) in_prolog_ = false;
    return i;
  }
  size_t held_before = prolog_.size();  // bytes of earlier feeds, kept while they looked like "<?xml"
  size_t begin = i;                      // where this feed's part of the held bytes starts
  while (i < data.size()) {
    prolog_ += data[i++];
    size_t k = prolog_.size();
    bool declaration = k <= kDecl.size() ? kDecl.substr(0, k) == prolog_
                       // "<?xml" then white space: a declaration, not a processing instruction like <?xml-x?>
                       : k > kDecl.size() + 1 || space(prolog_.back());
    if (!declaration) {
      // The held bytes start the document's element (or a forbidden PI), for expat: those of this feed are
      // handed back; only bytes of earlier feeds stay in prolog_ for feed() to put in front.
      in_prolog_ = false;
      prolog_.resize(held_before);
      return begin;
    }
    if (k > kDecl.size() + 1 && prolog_.ends_with("?>")) {
      in_prolog_ = false;
      prolog_.clear();
      return i;
    }
    if (k > kMaxDecl) return std::string_view::npos;
  }
  return i;
}

bool StreamParser::hibernate() {
  if (!parser_ || error_ != Error::kNone || depth_ != 1 || pending_bytes() != 0) return false;
  XML_ParserFree(parser_);
  parser_ = nullptr;
  building_.reset();
  // Stanzas grew these past what the stream root needs; an idle session keeps only the root's share.
  bindings_.shrink_to_fit();
  marks_.shrink_to_fit();
  return true;
}

void StreamParser::resume() {
  parser_ = XML_ParserCreate("UTF-8");
  building_ = std::make_unique<Building>();
  install_handlers();
  // The stream root is not parsed again: a stand-in with the same name lets expat accept what follows
  // (and the closing tag); the bindings the real root declared are still in bindings_.
  std::string root = "<" + (fragment_mode_ ? std::string("fragments") : root_qname_) + ">";
  resuming_ = true;
  depth_ = 0;
  XML_Parse(parser_, root.data(), static_cast<int>(root.size()), XML_FALSE);
  resuming_ = false;
  depth_ = 1;
  fed_total_ = boundary_ = stanza_start_ = static_cast<int64_t>(root.size());
}

void StreamParser::set_fragment_mode(bool on) {
  fragment_mode_ = on;
  create();
}

void StreamParser::fail(Error e) {
  if (error_ == Error::kNone) error_ = e;
  XML_StopParser(parser_, XML_FALSE);
}

std::string StreamParser::error_text() const {
  switch (error_) {
    case Error::kNone: return {};
    case Error::kNotWellFormed: return XML_ErrorString(XML_GetErrorCode(parser_));
    case Error::kRestrictedXml: return "comments, processing instructions, DTDs and entity declarations are not allowed";
    case Error::kTooLarge: return "stanza exceeds the size limit of " + std::to_string(limits_.max_stanza_bytes) + " bytes";
    case Error::kTooDeep: return "stanza nested deeper than " + std::to_string(limits_.max_depth) + " levels";
    case Error::kBadFormat: return "unexpected element";
  }
  return {};
}

bool StreamParser::check_size() {
  int64_t end = XML_GetCurrentByteIndex(parser_) + XML_GetCurrentByteCount(parser_);
  if (depth_ >= 1 && end - stanza_start_ > static_cast<int64_t>(limits_.max_stanza_bytes)) {
    fail(Error::kTooLarge);
    return false;
  }
  return true;
}

StreamParser::Status StreamParser::feed(std::string_view data, size_t* consumed) {
  if (error_ != Error::kNone) return Status::kError;
  if (!parser_) resume();
  if (consumed) *consumed = data.size();
  size_t start = 0;
  if (in_prolog_) {
    start = skip_prolog(data);
    if (start == std::string_view::npos) {
      error_ = Error::kNotWellFormed;
      return Status::kError;
    }
    if (in_prolog_) return Status::kOk;  // all of it was prolog; more to come
    if (!prolog_.empty()) {
      // The first bytes of an element came in an earlier feed, held back while they looked like "<?xml"
      // (a message split within its first bytes: rare, so the copy is fine).
      std::string joined = std::move(prolog_);
      prolog_.clear();
      size_t held = joined.size();
      joined.append(data.substr(start));
      size_t used = 0;
      Status st = feed_expat(joined, 0, &used);
      if (consumed) *consumed = start + (used > held ? used - held : 0);
      return st;
    }
  }
  return feed_expat(data, start, consumed);
}

StreamParser::Status StreamParser::feed_expat(std::string_view data, size_t start, size_t* consumed) {
  if (consumed) *consumed = data.size();
  // Feed in bounded slices so that the size limit is checked before expat buffers much more than it.
  constexpr size_t kSlice = 16 * 1024;
  size_t off = start;
  while (off < data.size()) {
    size_t n = std::min(kSlice, data.size() - off);
    int64_t base = fed_total_;
    fed_total_ += static_cast<int64_t>(n);
    if (XML_Parse(parser_, data.data() + off, static_cast<int>(n), XML_FALSE) != XML_STATUS_OK) {
      if (stop_requested_ && error_ == Error::kNone) {
        if (consumed) *consumed = off + static_cast<size_t>(stop_at_ - base);
        return Status::kStopped;
      }
      if (error_ == Error::kNone) error_ = Error::kNotWellFormed;
      return Status::kError;
    }
    off += n;
    // A start tag or text run that expat is still buffering counts against the limit too.
    if (depth_ >= 1 && fed_total_ - boundary_ > static_cast<int64_t>(limits_.max_stanza_bytes) + 1024) {
      error_ = Error::kTooLarge;
      return Status::kError;
    }
  }
  return Status::kOk;
}

const std::string* StreamParser::lookup(std::string_view prefix) const {
  static const std::string kXmlUri = ns::kXml;
  static const std::string kNoNamespace;
  if (prefix == "xml") return &kXmlUri;
  for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
    if (it->prefix == prefix) return &it->uri;
  return prefix.empty() ? &kNoNamespace : nullptr;
}

// Namespaces in XML 1.0 §3: xmlns and xmlns:p attributes bind for the element and its content.
bool StreamParser::push_bindings(const char** attrs) {
  for (const char** a = attrs; *a; a += 2) {
    const char* n = a[0];
    if (n[0] != 'x' || std::strncmp(n, "xmlns", 5) != 0) continue;
    if (n[5] == '\0') {
      bindings_.push_back(Binding{std::string(), a[1]});
    } else if (n[5] == ':') {
      std::string_view prefix(n + 6);
      // §3: a prefix cannot be undeclared, and xml/xmlns cannot be rebound.
      if (prefix.empty() || a[1][0] == '\0' || prefix == "xmlns" || (prefix == "xml" && std::string_view(a[1]) != ns::kXml))
        return false;
      bindings_.push_back(Binding{std::string(prefix), a[1]});
    }
  }
  return true;
}

Element StreamParser::make_element(const char* name, const char** attrs) {
  Element el;
  std::string_view qname(name);
  size_t colon = qname.find(':');
  std::string_view prefix = colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon);
  const std::string* uri = lookup(prefix);
  if (!uri) {
    fail(Error::kNotWellFormed);  // unbound prefix
    return el;
  }
  el.set_ns(*uri);
  el.set_name(std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1)));
  for (const char** a = attrs; *a; a += 2) {
    std::string_view an(a[0]);
    if (an.starts_with("xmlns") && (an.size() == 5 || an[5] == ':')) continue;
    size_t c = an.find(':');
    std::string key;
    if (c == std::string_view::npos) {
      key.assign(an);
    } else if (an.substr(0, c) == "xml") {
      key.assign(an);
    } else {
      const std::string* auri = lookup(an.substr(0, c));
      if (!auri) {
        fail(Error::kNotWellFormed);
        return el;
      }
      key.reserve(auri->size() + an.size() - c + 1);
      key.append("{").append(*auri).append("}").append(an.substr(c + 1));
    }
    el.attrs().push_back(Attribute{std::move(key), a[1]});
  }
  return el;
}

void StreamParser::on_start(void* p, const char* name, const char** attrs) {
  StreamParser* self = self_of(p);
  if (self->resuming_) {
    self->depth_ = 1;
    return;
  }
  if (self->depth_ >= 1) {
    if (self->depth_ == 1) self->stanza_start_ = XML_GetCurrentByteIndex(self->parser_);
    if (!self->check_size()) return;
    if (self->depth_ >= self->limits_.max_depth) {
      self->fail(Error::kTooDeep);
      return;
    }
  }
  self->marks_.push_back(static_cast<uint32_t>(self->bindings_.size()));
  if (!self->push_bindings(attrs)) {
    self->fail(Error::kNotWellFormed);
    return;
  }
  if (self->depth_ == 0) {
    self->depth_ = 1;
    if (!self->synthetic_root_) {
      self->root_qname_ = name;
      Element header = self->make_element(name, attrs);
      if (self->error_ != Error::kNone) return;
      self->handler_.on_stream_open(header, *self->lookup(""));
      if (self->stop_requested_) {
        self->stop_at_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
        XML_StopParser(self->parser_, XML_FALSE);
      }
    }
    self->boundary_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
    return;
  }
  ++self->depth_;
  Building& b = *self->building_;
  if (self->depth_ == 2) {
    b.current = self->make_element(name, attrs);
    if (self->error_ != Error::kNone) return;
    b.stack.assign(1, &b.current);
  } else {
    Element& child = b.stack.back()->add(self->make_element(name, attrs));
    b.stack.push_back(&child);
  }
}

void StreamParser::on_end(void* p, const char*) {
  StreamParser* self = self_of(p);
  if (self->error_ != Error::kNone) return;  // expat may still report the end of an empty element
  if (!self->marks_.empty()) {
    self->bindings_.resize(self->marks_.back());
    self->marks_.pop_back();
  }
  if (self->depth_ == 1) {
    self->depth_ = 0;
    self->handler_.on_stream_close();
    if (self->stop_requested_) {
      self->stop_at_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
      XML_StopParser(self->parser_, XML_FALSE);
    }
    return;
  }
  --self->depth_;
  Building& b = *self->building_;
  b.stack.pop_back();
  if (self->depth_ == 1) {
    int64_t end = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
    self->boundary_ = end;
    Element done = std::move(b.current);
    b.current = Element();
    self->handler_.on_element(std::move(done));
    if (self->stop_requested_) {
      self->stop_at_ = end;
      XML_StopParser(self->parser_, XML_FALSE);
    }
  }
}

void StreamParser::on_chars(void* p, const char* s, int len) {
  StreamParser* self = self_of(p);
  if (self->error_ != Error::kNone) return;
  if (self->depth_ < 2) {
    // Whitespace between stanzas (keepalives) is fine; text directly in the stream is not.
    for (int i = 0; i < len; ++i) {
      char c = s[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        self->fail(Error::kNotWellFormed);
        return;
      }
    }
    self->boundary_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
    return;
  }
  if (!self->check_size()) return;
  self->building_->stack.back()->add_text(std::string_view(s, static_cast<size_t>(len)));
}

void StreamParser::on_forbidden(void* p) { self_of(p)->fail(Error::kRestrictedXml); }
void StreamParser::on_comment(void* p, const char*) { on_forbidden(p); }
void StreamParser::on_pi(void* p, const char*, const char*) { on_forbidden(p); }
void StreamParser::on_doctype(void* p, const char*, const char*, const char*, int) { on_forbidden(p); }
void StreamParser::on_entity(void* p, const char*, int, const char*, int, const char*, const char*, const char*,
                             const char*) {
  on_forbidden(p);
}

}  // namespace causerie::xml
