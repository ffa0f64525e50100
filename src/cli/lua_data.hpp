// LuaValue and parse_lua_data: a reader for the data files Prosody's "internal" storage writes
// (util.serialization): `return <value>;` in *.dat files, and `item(<value>);` repeated in *.list files.
// Only the subset those files use is accepted — table constructors with [key] = value, name = value and
// positional entries; strings (quoted, with Lua 5.1–5.4 escapes, or long brackets); numbers; true, false
// and nil — nothing is ever executed, and nesting and size are bounded. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace causerie::prosody {

struct LuaValue {
  enum class Type { kNil, kBool, kNumber, kString, kTable };
  Type type = Type::kNil;
  bool boolean = false;
  double number = 0;
  std::string string;
  // A table's entries in file order; positional entries get the keys 1, 2, … as Lua gives them.
  std::vector<std::pair<LuaValue, LuaValue>> entries;

  bool is_table() const { return type == Type::kTable; }
  bool is_string() const { return type == Type::kString; }
  // The value under a string key, or nullptr.
  const LuaValue* get(std::string_view key) const;
  // A string value under a key, or "" (numbers are written in their integer form when they are integral).
  std::string str(std::string_view key) const;
  // The positional entries 1..n, in order.
  std::vector<const LuaValue*> array() const;
};

// `return <value>` (an optional trailing ';'). Errors name the line.
tl::expected<LuaValue, std::string> parse_lua_return(std::string_view text);
// Every `item(<value>);` call of a *.list file, in order.
tl::expected<std::vector<LuaValue>, std::string> parse_lua_items(std::string_view text);

}  // namespace causerie::prosody
