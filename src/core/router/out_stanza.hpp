// OutStanza: a stanza already serialized for sending, shared between recipients.
//
// A stanza is serialized once; every recipient's queue holds a reference to the same bytes. When each
// recipient needs its own 'to' (presence broadcast, MUC fan-out), `head` carries the recipient-specific
// start ("<presence to='…'") and `body` the shared rest. Immutable once built; safe to pass between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/stanza/stanza.hpp"

namespace causerie {

using SharedBytes = std::shared_ptr<const std::string>;

struct OutStanza {
  SharedBytes body;
  std::string head;  // written before body when not empty
  StanzaKind kind = StanzaKind::kOther;
  // Runs on the session's worker once the client has the stanza: when it acknowledges it (XEP-0198), or
  // when it is written to the connection of a client without stream management. A stanza that has one
  // is still stored where it came from (offline storage) until then, so a session that ends without
  // that acknowledgement does not route it again.
  std::shared_ptr<const std::function<void()>> on_acknowledged;

  size_t size() const { return head.size() + (body ? body->size() : 0); }
};

// Serializes a stanza for any client or server stream.
OutStanza serialize_out(const xml::Element& stanza);

// Serializes `stanza` without its 'to' attribute into a body that can be shared between recipients;
// out_for() then makes each recipient's OutStanza with its own 'to'.
class SharedStanza {
 public:
  explicit SharedStanza(const xml::Element& stanza);
  OutStanza out_for(std::string_view to) const;
  OutStanza out_without_to() const;

 private:
  std::string name_;
  SharedBytes rest_;  // everything after "<name"
  StanzaKind kind_;
};

}  // namespace causerie
