// XEP-0352 v1.0 Client State Indication: what the server holds back from an inactive client, as pure
// parts the module (csi.cpp) puts on each session's output.
//
// While a client says it is inactive, presence updates and standalone chat states (XEP-0085 without a
// body) wait in a HeldQueue; a presence replaces the one held from the same full JID. Anything else
// that goes out (a message with content, an iq, a subscription request) first sends what is held, in
// order, as does <active/>. A queue lives in one session's extension slot: one thread.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/router/out_stanza.hpp"
#include "core/xml/element.hpp"

namespace causerie::modules::csi {

struct Classification {
  enum Kind {
    kUrgent,     // goes out now, after what is held
    kPresence,   // available or unavailable presence: the latest per sender is enough
    kChatState,  // a message carrying only a chat state (also inside a carbon, XEP-0280)
  } kind = kUrgent;
  std::string sender;  // for kPresence: the 'from' it is kept under
};

Classification classify(const xml::Element& stanza);

class HeldQueue {
 public:
  // DESIGN §9: bounded in stanzas and bytes; past either bound, hold() refuses and the caller flushes.
  static constexpr size_t kMaxStanzas = 256;
  static constexpr size_t kMaxBytes = 256 * 1024;

  // Keeps `out` (classified as `c`, not kUrgent) at the end of the queue, moving from it, and drops an
  // earlier presence of the same sender. False (`out` left as it was) when the queue is full.
  bool hold(const Classification& c, OutStanza& out);
  // Everything held, in order; the queue is empty afterwards.
  std::vector<OutStanza> take();
  size_t size() const { return items_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Item {
    std::string presence_of;  // empty for a chat state
    OutStanza out;
  };
  std::list<Item> items_;
  std::unordered_map<std::string, std::list<Item>::iterator> presence_;
  size_t bytes_ = 0;
};

}  // namespace causerie::modules::csi
