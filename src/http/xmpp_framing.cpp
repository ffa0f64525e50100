#include "http/xmpp_framing.hpp"

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::http {

namespace {
constexpr std::string_view kClientDecl = " xmlns='jabber:client'";
constexpr std::string_view kStreamDecl = " xmlns:stream='http://etherx.jabber.org/streams'";

// Whether the start tag beginning `first` (and, when `first` is only a head, going on in `second`)
// declares a default namespace already.
bool declares_default_ns(std::string_view first, std::string_view second) {
  for (std::string_view part : {first, second}) {
    std::string_view tag = part.substr(0, part.find('>'));
    if (tag.find(" xmlns='") != std::string_view::npos || tag.find(" xmlns=\"") != std::string_view::npos) return true;
    if (tag.size() < part.size()) return false;  // the start tag ended in this part
  }
  return false;
}

// Length of "<name" at the start of bytes.
size_t start_tag_name_end(std::string_view bytes) {
  size_t i = 1;
  while (i < bytes.size() && bytes[i] != ' ' && bytes[i] != '/' && bytes[i] != '>') ++i;
  return i;
}
}  // namespace

size_t FramedPieces::size() const {
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) n += parts[i].size();
  return n;
}

FramedPieces framed_pieces(const OutStanza& out) {
  FramedPieces p;
  static const std::string kNone;
  const std::string& body = out.body ? *out.body : kNone;
  std::string_view first = out.head.empty() ? std::string_view(body) : std::string_view(out.head);
  std::string_view second = out.head.empty() ? std::string_view() : std::string_view(body);
  std::string_view decl;
  if (out.kind != StanzaKind::kOther && !declares_default_ns(first, second)) decl = kClientDecl;  // implied on TCP
  else if (first.starts_with("<stream:")) decl = kStreamDecl;         // features, errors: prefix is unbound
  if (decl.empty() || first.size() < 2) {
    if (!first.empty()) p.parts[p.count++] = first;
    if (!second.empty()) p.parts[p.count++] = second;
    return p;
  }
  size_t cut = start_tag_name_end(first);
  p.parts[p.count++] = first.substr(0, cut);
  p.parts[p.count++] = decl;
  if (cut < first.size()) p.parts[p.count++] = first.substr(cut);
  if (!second.empty()) p.parts[p.count++] = second;
  return p;
}

void append_framed(std::string& dst, const OutStanza& out) {
  FramedPieces p = framed_pieces(out);
  for (size_t i = 0; i < p.count; ++i) dst.append(p.parts[i]);
}

size_t ws_frame_header(unsigned opcode, uint64_t len, unsigned char (&out)[kWsMaxFrameHeader]) {
  out[0] = static_cast<unsigned char>(0x80 | (opcode & 0x0f));  // FIN: every message is one frame
  if (len < 126) {
    out[1] = static_cast<unsigned char>(len);
    return 2;
  }
  size_t bytes = len <= 0xffff ? 2 : 8;  // §5.2: the shortest encoding is required
  out[1] = bytes == 2 ? 126 : 127;
  for (size_t i = 0; i < bytes; ++i) out[1 + bytes - i] = static_cast<unsigned char>(len >> (8 * i));
  return 2 + bytes;
}

void append_ws_text_frame(std::string& dst, const FramedPieces& p) {
  unsigned char h[kWsMaxFrameHeader];
  size_t n = ws_frame_header(0x1, p.size(), h);
  dst.append(reinterpret_cast<const char*>(h), n);
  for (size_t i = 0; i < p.count; ++i) dst.append(p.parts[i]);
}

std::string framing_open(std::string_view from, std::string_view id, std::string_view to) {
  std::string h = "<open xmlns='";
  h += ns::kFraming;
  h += "' id='";
  xml::append_escaped(h, id, true);
  h += "' from='";
  xml::append_escaped(h, from, true);
  if (!to.empty()) {
    h += "' to='";
    xml::append_escaped(h, to, true);
  }
  h += "' version='1.0' xml:lang='en'/>";
  return h;
}

std::string framing_close(std::string_view see_other_uri) {
  std::string c = "<close xmlns='";
  c += ns::kFraming;
  c += '\'';
  if (!see_other_uri.empty()) {
    c += " see-other-uri='";
    xml::append_escaped(c, see_other_uri, true);
    c += '\'';
  }
  c += "/>";
  return c;
}

}  // namespace causerie::http
