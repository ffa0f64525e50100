// XmlReader: the load generator's incremental XML stream reader (expat, no namespace processing).
//
// It turns the bytes of one server-to-client stream, split anywhere, into flat top-level elements
// (`Stanza`): a list of nodes in document order with local names, attributes and text. The generator
// trusts the servers it measures, so names are compared by local part only (prefixes are dropped) and
// no tree is built; node storage is reused from stanza to stanza, so a steady message flow allocates
// nothing. One reader per connection, used by that connection's worker thread only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct XML_ParserStruct;

namespace causerie::bench {

struct XNode {
  unsigned depth = 0;  // 0 = the top-level element itself
  std::string name;    // local name
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;    // character data directly inside this node
  size_t n_attrs = 0;  // attrs beyond this index are stale storage

  std::string_view attr(std::string_view key) const;
};

class Stanza {
 public:
  const XNode& top() const { return nodes_[0]; }
  std::string_view name() const { return nodes_[0].name; }
  std::string_view attr(std::string_view key) const { return nodes_[0].attr(key); }
  // The first descendant with this local name (any depth), or nullptr.
  const XNode* find(std::string_view name) const;
  size_t size() const { return used_; }
  const XNode& node(size_t i) const { return nodes_[i]; }

 private:
  friend class XmlReader;
  std::vector<XNode> nodes_;
  size_t used_ = 0;
  std::vector<size_t> open_;  // indexes of the currently open nodes
};

class XmlReader {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_stream_open(const XNode& header) = 0;
    // Return false to stop reading this buffer (stream restart after STARTTLS/SASL, or closing).
    virtual bool on_stanza(const Stanza& stanza) = 0;
    virtual void on_stream_close() = 0;
  };

  explicit XmlReader(Handler& handler);
  ~XmlReader();
  XmlReader(const XmlReader&) = delete;
  XmlReader& operator=(const XmlReader&) = delete;

  enum class Result { kOk, kStopped, kError };
  Result feed(std::string_view data);
  void reset();  // a new stream (RFC 6120 §4.3.3 restart)
  std::string error() const;

 private:
  static void on_start(void* self, const char* name, const char** attrs);
  static void on_end(void* self, const char* name);
  static void on_chars(void* self, const char* s, int len);
  void install();

  Handler& handler_;
  XML_ParserStruct* parser_ = nullptr;
  unsigned depth_ = 0;  // 0 = before the stream root
  bool stopped_ = false;
  Stanza stanza_;
  XNode header_;
};

}  // namespace causerie::bench
