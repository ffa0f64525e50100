#include "cli/lua_data.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

namespace causerie::prosody {

namespace {

constexpr int kMaxNesting = 100;

class LuaParser {
 public:
  explicit LuaParser(std::string_view text) : s_(text) {}

  tl::expected<LuaValue, std::string> parse_return() {
    skip_space();
    if (!keyword("return")) return fail("expected 'return'");
    auto v = value(0);
    if (!v) return v;
    skip_space();
    if (peek() == ';') ++pos_;
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected text after the value");
    return v;
  }

  tl::expected<std::vector<LuaValue>, std::string> parse_items() {
    std::vector<LuaValue> out;
    for (;;) {
      skip_space();
      if (pos_ == s_.size()) return out;
      if (!keyword("item")) return tl::unexpected(error("expected 'item('"));
      skip_space();
      if (peek() != '(') return tl::unexpected(error("expected '('"));
      ++pos_;
      auto v = value(0);
      if (!v) return tl::unexpected(v.error());
      skip_space();
      if (peek() != ')') return tl::unexpected(error("expected ')'"));
      ++pos_;
      skip_space();
      if (peek() == ';') ++pos_;
      out.push_back(std::move(*v));
    }
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  std::string error(const std::string& what) const {
    size_t line = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) line += s_[i] == '\n';
    return "line " + std::to_string(line) + ": " + what;
  }
  tl::unexpected<std::string> fail(const std::string& what) const { return tl::unexpected(error(what)); }

  void skip_space() {
    for (;;) {
      while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
        ++pos_;
      if (s_.substr(pos_, 2) != "--") return;
      // A comment: long (--[[ ]]) or to the end of the line.
      pos_ += 2;
      if (peek() == '[') {
        size_t save = pos_;
        if (long_bracket()) continue;
        pos_ = save;
      }
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    }
  }

  static bool ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  bool keyword(std::string_view k) {
    if (s_.substr(pos_, k.size()) != k) return false;
    if (pos_ + k.size() < s_.size() && ident_char(s_[pos_ + k.size()])) return false;
    pos_ += k.size();
    return true;
  }

  // [[...]], [==[...]==]: the text, or nullopt when this is not a long bracket.
  std::optional<std::string> long_bracket() {
    if (peek() != '[') return std::nullopt;
    size_t p = pos_ + 1, level = 0;
    while (p < s_.size() && s_[p] == '=') ++p, ++level;
    if (p >= s_.size() || s_[p] != '[') return std::nullopt;
    std::string close = "]" + std::string(level, '=') + "]";
    size_t start = p + 1;
    if (start < s_.size() && s_[start] == '\r') ++start;
    if (start < s_.size() && s_[start] == '\n') ++start;  // a first newline is skipped
    size_t end = s_.find(close, start);
    if (end == std::string_view::npos) return std::nullopt;
    pos_ = end + close.size();
    return std::string(s_.substr(start, end - start));
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  tl::expected<std::string, std::string> quoted() {
    char q = s_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) return fail("unfinished string");
      char c = s_[pos_++];
      if (c == q) return out;
      if (c == '\n') return fail("newline in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return fail("unfinished escape");
      char e = s_[pos_++];
      switch (e) {
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case '\\': out.push_back('\\'); break;
        case '"': out.push_back('"'); break;
        case '\'': out.push_back('\''); break;
        case '\n': out.push_back('\n'); break;  // %q writes a newline as a backslash and a newline
        case '\r':
          out.push_back('\n');
          if (peek() == '\n') ++pos_;
          break;
        case 'z':
          while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
          break;
        case 'x': {
          int h1 = pos_ < s_.size() ? hex(s_[pos_]) : -1, h2 = pos_ + 1 < s_.size() ? hex(s_[pos_ + 1]) : -1;
          if (h1 < 0 || h2 < 0) return fail("bad \\x escape");
          out.push_back(static_cast<char>(h1 * 16 + h2));
          pos_ += 2;
          break;
        }
        case 'u': {
          if (peek() != '{') return fail("bad \\u escape");
          ++pos_;
          uint32_t cp = 0;
          int digits = 0;
          while (pos_ < s_.size() && hex(s_[pos_]) >= 0 && digits < 8) cp = cp * 16 + hex(s_[pos_++]), ++digits;
          if (peek() != '}' || digits == 0 || cp > 0x10FFFF) return fail("bad \\u escape");
          ++pos_;
          append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '9') {
            int v = e - '0';
            for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; ++i)
              v = v * 10 + (s_[pos_++] - '0');
            if (v > 255) return fail("bad decimal escape");
            out.push_back(static_cast<char>(v));
          } else {
            return fail(std::string("unknown escape \\") + e);
          }
      }
    }
  }

  tl::expected<LuaValue, std::string> number() {
    size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
                                ((s_[pos_] == '-' || s_[pos_] == '+') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))))
      ++pos_;
    std::string text(s_.substr(start, pos_ - start));
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);  // decimal, exponent and 0x forms
    if (text.empty() || end != text.c_str() + text.size() || std::isnan(v)) return fail("bad number '" + text + "'");
    LuaValue out;
    out.type = LuaValue::Type::kNumber;
    out.number = v;
    return out;
  }

  tl::expected<LuaValue, std::string> value(int depth) {
    if (depth > kMaxNesting) return fail("tables nested too deep");
    skip_space();
    char c = peek();
    LuaValue v;
    if (c == '{') return table(depth);
    if (c == '"' || c == '\'') {
      auto s = quoted();
      if (!s) return tl::unexpected(s.error());
      v.type = LuaValue::Type::kString;
      v.string = std::move(*s);
      return v;
    }
    if (c == '[') {
      auto s = long_bracket();
      if (!s) return fail("bad long string");
      v.type = LuaValue::Type::kString;
      v.string = std::move(*s);
      return v;
    }
    if (c == '-' || c == '.' || (c >= '0' && c <= '9')) return number();
    if (keyword("true")) {
      v.type = LuaValue::Type::kBool;
      v.boolean = true;
      return v;
    }
    if (keyword("false")) {
      v.type = LuaValue::Type::kBool;
      return v;
    }
    if (keyword("nil")) return v;
    return fail("unexpected input (only data is accepted)");
  }

  tl::expected<LuaValue, std::string> table(int depth) {
    ++pos_;  // '{'
    LuaValue t;
    t.type = LuaValue::Type::kTable;
    double next_index = 1;
    for (;;) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        return t;
      }
      LuaValue key;
      if (peek() == '[' && s_.substr(pos_, 2) != "[[" && s_.substr(pos_, 2) != "[=") {
        ++pos_;
        auto k = value(depth + 1);
        if (!k) return k;
        skip_space();
        if (peek() != ']') return fail("expected ']'");
        ++pos_;
        skip_space();
        if (peek() != '=') return fail("expected '='");
        ++pos_;
        key = std::move(*k);
      } else if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_') {
        size_t start = pos_;
        while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
        size_t after = pos_;
        skip_space();
        if (peek() == '=' && s_.substr(pos_, 2) != "==") {
          ++pos_;
          key.type = LuaValue::Type::kString;
          key.string = std::string(s_.substr(start, after - start));
        } else {
          pos_ = start;  // a positional true/false/nil
          key.type = LuaValue::Type::kNumber;
          key.number = next_index++;
        }
      } else {
        key.type = LuaValue::Type::kNumber;
        key.number = next_index++;
      }
      auto v = value(depth + 1);
      if (!v) return v;
      if (key.type == LuaValue::Type::kNil) return fail("nil table key");
      t.entries.emplace_back(std::move(key), std::move(*v));
      skip_space();
      if (peek() == ',' || peek() == ';') {
        ++pos_;
      } else if (peek() != '}') {
        return fail("expected ',', ';' or '}'");
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

const LuaValue* LuaValue::get(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k.type == Type::kString && k.string == key) return &v;
  return nullptr;
}

std::string LuaValue::str(std::string_view key) const {
  const LuaValue* v = get(key);
  if (!v) return {};
  if (v->type == Type::kString) return v->string;
  if (v->type == Type::kNumber) {
    if (v->number == std::floor(v->number) && std::abs(v->number) < 9e15)
      return std::to_string(static_cast<int64_t>(v->number));
    return std::to_string(v->number);
  }
  if (v->type == Type::kBool) return v->boolean ? "true" : "false";
  return {};
}

std::vector<const LuaValue*> LuaValue::array() const {
  std::map<double, const LuaValue*> positional;
  for (const auto& [k, v] : entries)
    if (k.type == Type::kNumber) positional.emplace(k.number, &v);
  std::vector<const LuaValue*> out;
  for (double i = 1;; ++i) {
    auto it = positional.find(i);
    if (it == positional.end()) return out;
    out.push_back(it->second);
  }
}

tl::expected<LuaValue, std::string> parse_lua_return(std::string_view text) { return LuaParser(text).parse_return(); }

tl::expected<std::vector<LuaValue>, std::string> parse_lua_items(std::string_view text) {
  return LuaParser(text).parse_items();
}

}  // namespace causerie::prosody
