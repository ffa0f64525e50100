// IQ requests and their responders (RFC 6120 §8.2.3: every get/set gets exactly one result or error).
//
// An IqResponder answers exactly once. Copies share one state (so a responder can travel in a
// std::function into a storage job); the first answer wins, later ones are ignored, and if every copy
// is dropped unanswered (a bug, or an exception in a storage job that captured it) the last one
// answers internal-server-error. Any thread may answer.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/stanza/stanza.hpp"

namespace causerie {

class ClientSession;

class IqResponder {
 public:
  using Sink = std::function<void(Stanza&&)>;
  IqResponder() = default;
  IqResponder(const Stanza& request, Sink sink);

  void result() const;
  void result(xml::Element payload) const;
  void error(const StanzaError& error) const;
  bool answered() const;

 private:
  struct State {
    Sink sink;
    std::string id;
    Jid requester;  // the request's 'from' (empty for a pre-auth stream)
    Jid responder;  // the request's 'to'
    std::atomic<bool> answered{false};
    ~State();
    void send(xml::Element reply);
  };
  std::shared_ptr<State> state_;
};

struct IqRequest {
  Stanza stanza;
  IqResponder reply;
  ClientSession* origin = nullptr;  // the local client that sent it, when handled on its thread

  const xml::Element& payload() const;
  bool is_set() const { return stanza.type() == "set"; }
  const Jid& from() const { return stanza.from(); }
  const Jid& to() const { return stanza.to(); }
  // The account the request is about: its 'to', or the sender's own account when there is no 'to'.
  Jid account() const { return stanza.to().empty() ? stanza.from().bare() : stanza.to().bare(); }
};

using IqHandler = std::function<void(IqRequest&)>;

// A table of IQ handlers keyed by type (get/set) and the payload's namespace (and, optionally, its
// element name). Filled at startup, read-only afterwards.
class IqTable {
 public:
  void add(bool set, std::string ns, IqHandler handler, std::string element = {});
  // The handler for this request's payload, or nullptr.
  const IqHandler* find(const Stanza& iq) const;
  bool handles_namespace(std::string_view ns) const;
  // Dispatches a get/set: the handler, or service-unavailable (RFC 6120 §8.4). Results and errors are
  // not requests: returns false and does nothing for them.
  bool dispatch(IqRequest& req) const;

 private:
  struct Entry {
    bool set;
    std::string ns, element;
    IqHandler handler;
  };
  std::vector<Entry> entries_;
};

}  // namespace causerie
