// StreamTransport and StreamHandler: the seam between what carries an XML stream (a TCP socket with or
// without TLS, a WebSocket, a series of BOSH requests) and the protocol spoken on it (client, incoming or
// outgoing server, component). DESIGN §8 "one transport, many stream protocols": nothing about SASL or
// routing lives in a transport; nothing about sockets lives in a protocol.
//
// A transport owns its connection, the XML parser, the bounded output queue, timeouts and idle memory
// (hibernation); it feeds a StreamHandler (the protocol) with parsed input and offers the protocol the
// primitives below. Both live on one worker thread and call each other only there.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/router/out_stanza.hpp"
#include "core/stanza/errors.hpp"
#include "core/stream/certificate_identities.hpp"
#include "core/util/metrics.hpp"
#include "core/xml/element.hpp"
#include "core/xml/stream_parser.hpp"

namespace causerie {

// What our stream header says (RFC 6120 §4.7). Framings write it their own way (<stream:stream>, the
// WebSocket <open/>, BOSH <body/> attributes).
struct StreamHeader {
  std::string content_ns;  // jabber:client, jabber:server, jabber:component:accept
  std::string from, to, id;
  bool dialback = false;    // declare xmlns:db='jabber:server:dialback' (XEP-0220 §2.1)
  bool version = true;      // version='1.0' (a component's header has none, XEP-0114)
};

class StreamTransport {
 public:
  virtual ~StreamTransport() = default;

  // Writes our stream header.
  virtual void open(const StreamHeader& header) = 0;
  // Queues a stanza or nonza (written when the worker flushes).
  virtual void send(OutStanza out) = 0;
  // Ends our stream (after a stream error when given) and closes once output is flushed.
  virtual void close(const std::string& stream_error) = 0;
  // STARTTLS: can this connection still switch to TLS? starttls() flushes, then negotiates (as server or
  // client, by how the connection was made) and calls the handler's on_tls_established() or on_disconnect().
  // The receiving side calls it after sending <proceed/>; the initiating side after receiving it.
  virtual bool can_starttls() const = 0;
  virtual void starttls() = 0;
  // After the current element a new stream begins (RFC 6120 §4.3.3); framings that restart by an
  // explicit request of the client (WebSocket <open/>, BOSH xmpp:restart) ignore it.
  virtual void restart() = 0;
  virtual bool secure() const = 0;
  // Channel bindings of an established TLS connection (RFC 5929, RFC 9266), name → data, and the binding
  // types accepted beyond those advertised (see COMPAT in c2s_sasl.cpp).
  virtual std::vector<std::pair<std::string, std::string>> channel_bindings() const { return {}; }
  virtual std::vector<std::pair<std::string, std::string>> compat_channel_bindings() const { return {}; }
  // The peer's certificate and the server name it asked for (SNI), once TLS is up.
  virtual PeerCertificate peer_certificate() const { return {}; }
  virtual std::string tls_server_name() const { return {}; }
  virtual std::string tls_version() const { return {}; }
  // Runs fn on this thread after `delay`, unless the connection is gone by then.
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual const std::string& peer_address() const = 0;
  // The stream carries stanzas now (a client bound a resource, a server authenticated): the deadline for
  // authentication no longer applies, and an idle parser may give its memory back.
  virtual void set_established() = 0;
  // What carries the stream (client sessions are counted by it).
  virtual metrics::Transport kind() const { return metrics::Transport::kTcp; }
};

// The protocol side: what a transport feeds.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // The connection can carry the stream: at once for a plain connection, after the handshake for direct
  // TLS. An initiating stream (outgoing s2s) sends its header now.
  virtual void on_ready() {}
  virtual void on_stream_open(const xml::Element& header, std::string_view content_ns) = 0;
  virtual void on_element(xml::Element&& el) = 0;
  virtual void on_stream_close() = 0;
  virtual void on_parse_error(xml::StreamParser::Error error, const std::string& text) = 0;
  // TLS is up after STARTTLS (not after direct TLS: that is on_ready()).
  virtual void on_tls_established() = 0;
  // The stream was not established within limits.unauthenticated_timeout: end it (connection-timeout).
  virtual void on_timeout() = 0;
  // The connection is gone (closed by either side, or failed). Called once.
  virtual void on_disconnect() = 0;
  // Server shutdown: end the stream with <system-shutdown/>.
  virtual void on_shutdown() = 0;
  // A stanza the router or a module queued for this stream (from any thread, through the worker).
  virtual void deliver(OutStanza out) = 0;
  // Who is on this stream, for logs (a client's JID, a server's domain).
  virtual std::string name() const = 0;
  // Something else ends this stream with a stream error (a session elsewhere, an admin).
  virtual void on_end(StreamErrorCondition condition, std::string_view text) { on_shutdown(); }
};

}  // namespace causerie
