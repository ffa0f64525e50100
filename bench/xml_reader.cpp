#include "xml_reader.hpp"

#include <expat.h>

#include <cstring>

namespace causerie::bench {

namespace {
std::string_view local_name(const char* name) {
  const char* colon = std::strrchr(name, ':');
  return colon ? std::string_view(colon + 1) : std::string_view(name);
}

void fill(XNode& n, unsigned depth, const char* name, const char** attrs) {
  n.depth = depth;
  n.name.assign(local_name(name));
  n.text.clear();
  n.n_attrs = 0;
  for (size_t i = 0; attrs[i]; i += 2) {
    if (n.n_attrs == n.attrs.size()) n.attrs.emplace_back();
    auto& [k, v] = n.attrs[n.n_attrs++];
    k.assign(attrs[i]);  // keep prefixes on attributes (xmlns:stream, xml:lang) but compare by full name
    v.assign(attrs[i + 1]);
  }
}
}  // namespace

std::string_view XNode::attr(std::string_view key) const {
  for (size_t i = 0; i < n_attrs; ++i)
    if (attrs[i].first == key) return attrs[i].second;
  return {};
}

const XNode* Stanza::find(std::string_view name) const {
  for (size_t i = 1; i < used_; ++i)
    if (nodes_[i].name == name) return &nodes_[i];
  return nullptr;
}

XmlReader::XmlReader(Handler& handler) : handler_(handler) {
  parser_ = XML_ParserCreate("UTF-8");
  install();
}

XmlReader::~XmlReader() { XML_ParserFree(parser_); }

void XmlReader::install() {
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, &XmlReader::on_start, &XmlReader::on_end);
  XML_SetCharacterDataHandler(parser_, &XmlReader::on_chars);
  depth_ = 0;
  stopped_ = false;
  stanza_.used_ = 0;
  stanza_.open_.clear();
}

void XmlReader::reset() {
  XML_ParserReset(parser_, "UTF-8");
  install();
}

XmlReader::Result XmlReader::feed(std::string_view data) {
  if (XML_Parse(parser_, data.data(), static_cast<int>(data.size()), XML_FALSE) == XML_STATUS_OK)
    return Result::kOk;
  if (stopped_) return Result::kStopped;
  return Result::kError;
}

std::string XmlReader::error() const { return XML_ErrorString(XML_GetErrorCode(parser_)); }

void XmlReader::on_start(void* p, const char* name, const char** attrs) {
  auto* self = static_cast<XmlReader*>(p);
  if (self->depth_ == 0) {
    fill(self->header_, 0, name, attrs);
    self->depth_ = 1;
    self->handler_.on_stream_open(self->header_);
    return;
  }
  Stanza& s = self->stanza_;
  if (self->depth_ == 1) s.used_ = 0;
  if (s.used_ == s.nodes_.size()) s.nodes_.emplace_back();
  fill(s.nodes_[s.used_], self->depth_ - 1, name, attrs);
  s.open_.push_back(s.used_++);
  ++self->depth_;
}

void XmlReader::on_end(void* p, const char*) {
  auto* self = static_cast<XmlReader*>(p);
  --self->depth_;
  if (self->depth_ == 0) {
    self->handler_.on_stream_close();
    return;
  }
  self->stanza_.open_.pop_back();
  if (self->depth_ == 1 && !self->handler_.on_stanza(self->stanza_)) {
    self->stopped_ = true;
    XML_StopParser(self->parser_, XML_FALSE);
  }
}

void XmlReader::on_chars(void* p, const char* s, int len) {
  auto* self = static_cast<XmlReader*>(p);
  if (self->depth_ < 2 || self->stanza_.open_.empty()) return;
  self->stanza_.nodes_[self->stanza_.open_.back()].text.append(s, static_cast<size_t>(len));
}

}  // namespace causerie::bench
