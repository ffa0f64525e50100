#include "core/xml/stream_parser.hpp"

#include <expat.h>

#include <cstring>

#include "core/xml/namespaces.hpp"

namespace causerie::xml {

namespace {
// Expat joins namespace URI and local name with this separator; a space cannot occur in either.
constexpr char kSep = ' ';
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
  XML_SetStartNamespaceDeclHandler(parser_, &StreamParser::on_ns_decl);
  XML_SetCommentHandler(parser_, &StreamParser::on_comment);
  XML_SetProcessingInstructionHandler(parser_, &StreamParser::on_pi);
  XML_SetStartDoctypeDeclHandler(parser_, &StreamParser::on_doctype);
  XML_SetEntityDeclHandler(parser_, &StreamParser::on_entity);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
  // Names arrive as "uri local prefix": the prefix lets a hibernated stream re-open its root as written.
  XML_SetReturnNSTriplet(parser_, XML_TRUE);
}

void StreamParser::create() {
  if (parser_) {
    XML_ParserReset(parser_, "UTF-8");
  } else {
    parser_ = XML_ParserCreateNS("UTF-8", kSep);
  }
  install_handlers();
  error_ = Error::kNone;
  stop_requested_ = false;
  depth_ = 0;
  fed_total_ = boundary_ = stanza_start_ = 0;
  stop_at_ = -1;
  root_ns_decls_.clear();
  building_ = std::make_unique<Building>();
  synthetic_root_ = fragment_mode_;
  if (fragment_mode_) {
    XML_Parse(parser_, kFragmentRoot.data(), static_cast<int>(kFragmentRoot.size()), XML_FALSE);
    fed_total_ = boundary_ = static_cast<int64_t>(kFragmentRoot.size());
  }
}

void StreamParser::reset() { create(); }

bool StreamParser::hibernate() {
  if (!parser_ || error_ != Error::kNone || depth_ != 1 || pending_bytes() != 0) return false;
  XML_ParserFree(parser_);
  parser_ = nullptr;
  building_.reset();
  return true;
}

void StreamParser::resume() {
  parser_ = XML_ParserCreateNS("UTF-8", kSep);
  building_ = std::make_unique<Building>();
  install_handlers();
  // The stream root is not parsed again: a stand-in declares the same prefixes for what follows.
  std::string root = fragment_mode_ ? std::string(kFragmentRoot) : "<" + root_qname_;
  for (const auto& [prefix, uri] : root_ns_decls_) {
    root += prefix.empty() ? " xmlns='" : " xmlns:" + prefix + "='";
    for (char c : uri) root += c == '\'' ? std::string("&apos;") : c == '&' ? std::string("&amp;") : std::string(1, c);
    root += "'";
  }
  if (!fragment_mode_) root += ">";
  bool was_synthetic = synthetic_root_;
  synthetic_root_ = true;
  depth_ = 0;
  XML_Parse(parser_, root.data(), static_cast<int>(root.size()), XML_FALSE);
  synthetic_root_ = was_synthetic || fragment_mode_;
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
  // Feed in bounded slices so that the size limit is checked before expat buffers much more than it.
  constexpr size_t kSlice = 16 * 1024;
  size_t off = 0;
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

namespace {
struct Name {
  std::string_view uri, local, prefix;
};
// Splits expat's "uri<sep>local[<sep>prefix]" (or a bare "local").
Name split_name(std::string_view n) {
  size_t a = n.find(kSep);
  if (a == std::string_view::npos) return {{}, n, {}};
  size_t b = n.find(kSep, a + 1);
  if (b == std::string_view::npos) return {n.substr(0, a), n.substr(a + 1), {}};
  return {n.substr(0, a), n.substr(a + 1, b - a - 1), n.substr(b + 1)};
}
}  // namespace

Element StreamParser::make_element(const char* name, const char** attrs) {
  Element el;
  Name n = split_name(name);
  el.set_ns(std::string(n.uri));
  el.set_name(std::string(n.local));
  for (const char** a = attrs; *a; a += 2) {
    Name an = split_name(a[0]);
    std::string key;
    if (an.uri.empty()) {
      key.assign(an.local);
    } else if (an.uri == ns::kXml) {
      key = "xml:";
      key.append(an.local);
    } else {
      key = "{";
      key.append(an.uri).append("}").append(an.local);
    }
    el.attrs().push_back(Attribute{std::move(key), a[1]});
  }
  return el;
}

void StreamParser::on_start(void* p, const char* name, const char** attrs) {
  StreamParser* self = self_of(p);
  if (self->depth_ == 0) {
    self->depth_ = 1;
    if (!self->synthetic_root_) {
      Name n = split_name(name);
      self->root_qname_ = n.prefix.empty() ? std::string(n.local) : std::string(n.prefix) + ":" + std::string(n.local);
      Element header = self->make_element(name, attrs);
      std::string_view content_ns;
      for (const auto& [prefix, uri] : self->root_ns_decls_)
        if (prefix.empty()) content_ns = uri;
      self->handler_.on_stream_open(header, content_ns);
      if (self->stop_requested_) {
        self->stop_at_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
        XML_StopParser(self->parser_, XML_FALSE);
      }
    }
    self->boundary_ = XML_GetCurrentByteIndex(self->parser_) + XML_GetCurrentByteCount(self->parser_);
    return;
  }
  if (self->depth_ == 1) self->stanza_start_ = XML_GetCurrentByteIndex(self->parser_);
  if (!self->check_size()) return;
  if (self->depth_ >= self->limits_.max_depth) {
    self->fail(Error::kTooDeep);
    return;
  }
  ++self->depth_;
  Building& b = *self->building_;
  if (self->depth_ == 2) {
    b.current = self->make_element(name, attrs);
    b.stack.assign(1, &b.current);
  } else {
    Element& child = b.stack.back()->add(self->make_element(name, attrs));
    b.stack.push_back(&child);
  }
}

void StreamParser::on_end(void* p, const char*) {
  StreamParser* self = self_of(p);
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

void StreamParser::on_ns_decl(void* p, const char* prefix, const char* uri) {
  StreamParser* self = self_of(p);
  if (self->depth_ != 0 || self->synthetic_root_) return;
  self->root_ns_decls_.emplace_back(prefix ? prefix : "", uri ? uri : "");
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
