#include "cli/pie_reader.hpp"

#include <expat.h>

#include <fstream>
#include <vector>

#include "core/xml/namespaces.hpp"

namespace causerie {

namespace {

constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

// "uri local" (expat's namespace-processed names, separator ' ') → (local, uri).
std::pair<std::string, std::string> split(std::string_view n) {
  size_t sp = n.rfind(' ');
  if (sp == std::string_view::npos) return {std::string(n), {}};
  return {std::string(n.substr(sp + 1)), std::string(n.substr(0, sp))};
}

// A file name in the including file's directory: no path, no scheme, nothing hidden.
bool plain_file_name(std::string_view href) {
  if (href.empty() || href.size() > 255 || href.front() == '.') return false;
  for (char c : href)
    if (c == '/' || c == '\\' || c == ':' || c == '%' || c == '?' || c == '#' || static_cast<unsigned char>(c) < 0x20)
      return false;
  return true;
}

}  // namespace

// One file being parsed. Depth is counted in the whole document: an included file's root sits at the
// depth of the <include/> it replaces.
class PieDocument {
 public:
  PieDocument(PieReader& r, std::string name, std::filesystem::path base_dir, int base_depth)
      : r_(r), name_(std::move(name)), base_dir_(std::move(base_dir)), depth_(base_depth) {
    parser_ = XML_ParserCreateNS(nullptr, ' ');
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &PieDocument::on_start, &PieDocument::on_end);
    XML_SetCharacterDataHandler(parser_, &PieDocument::on_chars);
    XML_SetStartDoctypeDeclHandler(parser_, &PieDocument::on_doctype);
    XML_SetEntityDeclHandler(parser_, &PieDocument::on_entity);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
  }
  ~PieDocument() { XML_ParserFree(parser_); }
  PieDocument(const PieDocument&) = delete;
  PieDocument& operator=(const PieDocument&) = delete;

  std::optional<std::string> run(std::istream& in) {
    std::vector<char> buf(1 << 20);
    bool final = false;
    while (!final) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      size_t n = static_cast<size_t>(in.gcount());
      final = !in;
      r_.total_bytes_ += n;
      if (r_.total_bytes_ > r_.limits_.max_total_bytes) {
        return name_ + ": the input is larger than the import limit of " +
               std::to_string(r_.limits_.max_total_bytes) + " bytes";
      }
      if (XML_Parse(parser_, buf.data(), static_cast<int>(n), final) != XML_STATUS_OK) {
        if (error_) return error_;
        return where() + XML_ErrorString(XML_GetErrorCode(parser_));
      }
      if (error_) return error_;
    }
    if (!saw_root_) return name_ + ": empty document";
    return std::nullopt;
  }

 private:
  std::string where() const {
    return name_ + ":" + std::to_string(XML_GetCurrentLineNumber(parser_)) + ": ";
  }

  void fail(std::string what) {
    if (!error_) error_ = where() + what;
    XML_StopParser(parser_, XML_FALSE);
  }

  static PieDocument* self(void* p) { return static_cast<PieDocument*>(p); }

  static void on_doctype(void* p, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    self(p)->fail("a DOCTYPE is not allowed in an import file (no DTD, no entities)");
  }
  static void on_entity(void* p, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                        const XML_Char*, const XML_Char*) {
    self(p)->fail("entity declarations are not allowed in an import file");
  }

  bool over_element_limit() {
    if (capture_start_ < 0) return false;
    auto at = XML_GetCurrentByteIndex(parser_);
    if (static_cast<uint64_t>(at - capture_start_) <= r_.limits_.max_element_bytes) return false;
    fail("one element is larger than the import limit of " + std::to_string(r_.limits_.max_element_bytes) +
         " bytes");
    return true;
  }

  static void on_start(void* p, const char* name, const char** attrs) {
    PieDocument* d = self(p);
    if (d->error_) return;
    ++d->depth_;
    d->saw_root_ = true;
    if (d->depth_ > d->r_.limits_.max_depth) return d->fail("elements nested too deep");
    if (d->over_element_limit()) return;
    auto [local, uri] = split(name);
    if (d->skip_depth_ > 0) return;
    if (!d->stack_.empty()) {
      d->stack_.push_back(&d->stack_.back()->add(element(local, uri, attrs)));
      return;
    }
    if (d->depth_ == 1) {
      if (local != "server-data" || uri != ns::kPie)
        return d->fail("the root element is not <server-data xmlns='urn:xmpp:pie:0'/>");
      return;
    }
    if (local == "include" && uri == ns::kXInclude && d->depth_ <= 3) return d->include(attrs);
    if (d->depth_ == 2) {
      if (local == "host" && uri == ns::kPie) {
        d->r_.host_.clear();
        for (size_t i = 0; attrs[i]; i += 2)
          if (std::string_view(attrs[i]) == "jid") d->r_.host_ = attrs[i + 1];
        if (d->r_.host_.empty()) return d->fail("<host/> without a 'jid'");
        return;
      }
    } else if (d->depth_ == 3) {
      if ((local == "user" && uri == ns::kPie) || (local == "service" && uri == ns::kCauseriePie)) {
        d->captured_ = element(local, uri, attrs);
        d->stack_.assign(1, &d->captured_);
        d->capture_start_ = XML_GetCurrentByteIndex(d->parser_);
        return;
      }
    }
    ++d->r_.skipped_;  // XEP-0227 §4: unknown data is ignored (and counted, to tell the operator)
    d->skip_depth_ = d->depth_;
  }

  static void on_end(void* p, const char*) {
    PieDocument* d = self(p);
    if (d->error_) return;
    if (d->skip_depth_ > 0) {
      if (d->depth_ == d->skip_depth_) d->skip_depth_ = 0;
    } else if (!d->stack_.empty()) {
      // Text arrives in large runs: the size is known for sure only at an end tag.
      if (d->over_element_limit()) return;
      d->stack_.pop_back();
      if (d->stack_.empty()) {
        d->capture_start_ = -1;
        if (auto err = d->r_.on_element_(d->r_.host_, std::move(d->captured_))) {
          --d->depth_;
          return d->fail(*err);
        }
      }
    } else if (d->depth_ == 2) {
      d->r_.host_.clear();
    }
    --d->depth_;
  }

  static void on_chars(void* p, const char* s, int len) {
    PieDocument* d = self(p);
    if (d->error_ || d->stack_.empty() || d->skip_depth_ > 0) return;
    if (d->over_element_limit()) return;
    d->stack_.back()->add_text(std::string_view(s, static_cast<size_t>(len)));
  }

  static xml::Element element(const std::string& local, const std::string& uri, const char** attrs) {
    xml::Element el(local, uri);
    for (size_t i = 0; attrs[i]; i += 2) {
      auto [an, auri] = split(attrs[i]);
      if (auri.empty()) el.set_attr(an, attrs[i + 1]);
      else if (auri == kXmlNs) el.set_attr("xml:" + an, attrs[i + 1]);
      else el.set_attr("{" + auri + "}" + an, attrs[i + 1]);
    }
    return el;
  }

  void include(const char** attrs) {
    std::string href;
    for (size_t i = 0; attrs[i]; i += 2) {
      std::string_view a(attrs[i]);
      if (a == "href") href = attrs[i + 1];
      else if (a == "parse" || a == "xpointer") return fail("only plain XIncludes (href alone) are supported");
    }
    if (!plain_file_name(href)) return fail("XInclude href '" + href + "' is not a file name in the same directory");
    if (r_.nesting_ >= r_.limits_.max_include_nesting) return fail("XIncludes nested too deep");
    std::filesystem::path path = base_dir_ / href;
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot read included file " + path.string());
    ++r_.nesting_;
    std::string saved_host = r_.host_;
    PieDocument inner(r_, path.string(), base_dir_, depth_ - 1);
    auto err = inner.run(in);
    r_.host_ = saved_host;
    --r_.nesting_;
    if (err) {
      error_ = *err;
      XML_StopParser(parser_, XML_FALSE);
      return;
    }
    skip_depth_ = depth_;  // the <include/> element itself (its fallback children are not used)
  }

  PieReader& r_;
  std::string name_;
  std::filesystem::path base_dir_;
  XML_ParserStruct* parser_;
  int depth_;
  bool saw_root_ = false;
  int skip_depth_ = 0;
  long long capture_start_ = -1;
  xml::Element captured_;
  std::vector<xml::Element*> stack_;
  std::optional<std::string> error_;
};

std::optional<std::string> PieReader::read(std::istream& in, const std::string& name,
                                           const std::filesystem::path& base_dir) {
  PieDocument doc(*this, name, base_dir, 0);
  return doc.run(in);
}

std::optional<std::string> PieReader::read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path.string();
  return read(in, path.string(), path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

}  // namespace causerie
