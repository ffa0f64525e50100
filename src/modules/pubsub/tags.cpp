#include "modules/pubsub/tags.hpp"

#include <stringprep.h>

#include <cctype>
#include <cstring>

#include "core/xml/namespaces.hpp"
#include "modules/pubsub/blog_pages.hpp"

namespace causerie::modules::pubsub {

namespace {

size_t table_size(const Stringprep_table_element* t) {
  size_t n = 0;
  while (t[n].start || t[n].end) ++n;
  return n;
}

// The "tagprep" profile (tags.hpp): RFC 3454 B.1 and B.2 mapping, NFKC, and every prohibition table.
const Stringprep_profile* tagprep() {
  static const Stringprep_profile* profile = [] {
    static Stringprep_profile steps[] = {
        {STRINGPREP_MAP_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_B_1, 0},
        {STRINGPREP_MAP_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_B_2, 0},
        {STRINGPREP_NFKC, static_cast<Stringprep_profile_flags>(0), nullptr, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_1_1, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_1_2, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_2_1, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_2_2, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_3, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_4, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_5, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_6, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_7, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_8, 0},
        {STRINGPREP_PROHIBIT_TABLE, static_cast<Stringprep_profile_flags>(0), stringprep_rfc3454_C_9, 0},
        {static_cast<Stringprep_profile_steps>(0), static_cast<Stringprep_profile_flags>(0), nullptr, 0},
    };
    // libidn searches tables by their size when it is given: count the zero-terminated tables once.
    for (auto& s : steps)
      if (s.table) s.table_size = table_size(s.table);
    return steps;
  }();
  return profile;
}

bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// Cuts at most `max` bytes without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, size_t max) {
  if (s.size() <= max) return;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
}

}  // namespace

std::optional<std::string> normalize_tag(std::string_view raw) {
  std::string_view s = trim(raw);
  if (!s.empty() && s.front() == '#') s.remove_prefix(1);
  s = trim(s);
  // Anything longer cannot shrink below the limit by much: refused before any work.
  if (s.empty() || s.size() > kMaxTagBytes * 4) return std::nullopt;
  std::string buf(s);
  buf.resize(s.size() * 4 + 16, '\0');  // mapping and NFKC may lengthen it
  if (stringprep(buf.data(), buf.size(), static_cast<Stringprep_profile_flags>(0), tagprep()) != STRINGPREP_OK)
    return std::nullopt;
  buf.resize(std::strlen(buf.c_str()));
  if (buf.empty() || buf.size() > kMaxTagBytes) return std::nullopt;
  if (buf.find('/') != std::string::npos || buf.ends_with(".atom") || buf.front() == '#') return std::nullopt;
  return buf;
}

std::vector<std::string> entry_tags(const xml::Element& entry) {
  std::vector<std::string> out;
  for (const xml::Element* c : entry.children("category", ns::kAtom)) {
    if (out.size() == kMaxTagsPerPost) break;
    auto tag = normalize_tag(c->attr("term"));
    if (!tag) continue;
    bool seen = false;
    for (const auto& t : out) seen = seen || t == *tag;
    if (!seen) out.push_back(std::move(*tag));
  }
  return out;
}

std::string entry_text(const xml::Element& entry) {
  BlogPost p = post_from_entry(entry, "-", "");
  std::string text = p.title;
  if (!p.markdown.empty() && p.markdown != p.title) {
    if (!text.empty()) text += '\n';
    text += p.markdown;
  }
  cut_utf8(text, kMaxIndexedText);
  return text;
}

std::string entry_image(const xml::Element& entry) {
  for (const xml::Element* link : entry.children("link", ns::kAtom)) {
    if (link->attr("rel") != "enclosure" || !link->attr("type").starts_with("image/")) continue;
    std::string_view href = link->attr("href");
    if (href.starts_with("https://") || href.starts_with("http://")) return std::string(href);
  }
  return {};
}

std::optional<std::string> fts_query(std::string_view words, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<std::string> {
    if (why) *why = reason;
    return std::nullopt;
  };
  if (words.size() > kMaxSearchText) return fail("the text to search for is too long");
  std::string out;
  size_t terms = 0;
  size_t pos = 0;
  while (pos < words.size()) {
    while (pos < words.size() && ascii_space(words[pos])) ++pos;
    size_t end = pos;
    while (end < words.size() && !ascii_space(words[end])) ++end;
    std::string_view w = words.substr(pos, end - pos);
    pos = end;
    // A word the tokenizer would find nothing in (only ASCII punctuation) would match nothing.
    bool has_token = false;
    for (unsigned char c : w) has_token = has_token || c >= 0x80 || std::isalnum(c);
    if (w.empty() || !has_token) continue;
    if (++terms > kMaxSearchTerms) return fail("too many words to search for");
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : w) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  if (out.empty()) return fail("no word to search for");
  return out;
}

}  // namespace causerie::modules::pubsub
