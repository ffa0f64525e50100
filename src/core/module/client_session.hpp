// ClientSession: what modules see of one client's session (core/session/session.hpp), whatever connection
// (c2s over TCP, WebSocket or BOSH) carries it now.
//
// Thread rules: a session lives on one worker thread; call these methods only there (hooks and
// handlers that receive a ClientSession& run there). From elsewhere, go through the SessionDispatcher.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/jid/jid.hpp"
#include "core/router/out_stanza.hpp"
#include "core/router/session_registry.hpp"
#include "core/stanza/errors.hpp"

namespace causerie {

// Per-session state a module keeps (carbons enabled, CSI state, …); see ModuleContext::allocate_session_slot.
class SessionExtension {
 public:
  virtual ~SessionExtension() = default;
};

class ClientSession {
 public:
  virtual ~ClientSession() = default;

  // Empty before authentication, the bare JID after it, the full JID once a resource is bound.
  virtual const Jid& jid() const = 0;
  virtual SessionRef ref() const = 0;
  virtual bool authenticated() const = 0;
  virtual bool bound() const = 0;
  virtual bool secure() const = 0;
  virtual const std::string& peer_address() const = 0;

  // Queues a stanza or nonza for this client (written when the worker flushes).
  virtual void send(const xml::Element& element) = 0;
  virtual void send(OutStanza out) = 0;
  // Sends a stanza an output filter held back (StreamExtensions::add_output_filter), past the filters.
  virtual void release(OutStanza out) = 0;
  // Ends the stream with a stream error (RFC 6120 §4.9) and closes the connection.
  virtual void close(StreamErrorCondition condition, std::string_view text = {}) = 0;

  // The local host the client's stream is for (its header's 'to'), known from the stream header on, so
  // before authentication too: what pre-authentication features depend on (XEP-0077 per host).
  const std::string& stream_host() const { return stream_host_; }
  void set_stream_host(std::string host) { stream_host_ = std::move(host); }

  SessionExtension* extension(size_t slot) const { return slot < extensions_.size() ? extensions_[slot].get() : nullptr; }
  void set_extension(size_t slot, std::unique_ptr<SessionExtension> ext) {
    if (slot >= extensions_.size()) extensions_.resize(slot + 1);
    extensions_[slot] = std::move(ext);
  }
  template <typename T>
  T* extension_as(size_t slot) const {
    return static_cast<T*>(extension(slot));
  }

 private:
  std::vector<std::unique_ptr<SessionExtension>> extensions_;
  std::string stream_host_;
};

// One stanza for one session, for SessionDispatcher::deliver_many.
struct Delivery {
  SessionRef ref;
  OutStanza out;
};

// Reaches sessions on any worker thread. Implemented by the network layer.
class SessionDispatcher {
 public:
  virtual ~SessionDispatcher() = default;
  // Queues bytes for a session; dropped if the session has gone. Any thread.
  virtual void deliver(SessionRef ref, OutStanza out) = 0;
  // Queues many stanzas at once (a fan-out): each worker's inbox is locked once for the whole batch
  // rather than once per stanza. Order is kept per session. Leaves `items` empty. Any thread.
  virtual void deliver_many(std::vector<Delivery>& items) {
    for (auto& d : items) deliver(d.ref, std::move(d.out));
    items.clear();
  }
  // Runs fn on the session's thread with the session, unless it has gone. Any thread.
  virtual void with_session(SessionRef ref, std::function<void(ClientSession&)> fn) = 0;
  // Runs fn on worker `worker`'s thread. Any thread.
  virtual void post(uint32_t worker, std::function<void()> fn) = 0;
  // Ends the stream of a connection (not a session) with a stream error. Any thread.
  virtual void end_stream(SessionRef connection, StreamErrorCondition condition, std::string text) = 0;
  virtual uint32_t worker_count() const = 0;
};

}  // namespace causerie
