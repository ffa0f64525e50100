// S2sHub: what the server-to-server stream protocols (S2sInStream, S2sOutStream) ask of the federation
// layer, and S2sConnector: what that layer asks of the network (name resolution, connections, timers).
// The core implements the first (S2sManager), src/net the second, so the protocols and the link logic
// are tested without sockets.
//
// Thread rules: every call names the worker it is made on or answers on; callbacks run on that worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/router/out_stanza.hpp"
#include "core/stanza/stanza.hpp"

namespace causerie {
class Router;
class StreamHandler;
class StreamTransport;
}  // namespace causerie

namespace causerie::s2s {

// Why a connection attempt or an established outgoing stream failed, for the bounce condition
// (RFC 6120 §8.3.3.15 remote-server-not-found, §8.3.3.16 remote-server-timeout).
enum class LinkFailure { kNotFound, kTimeout, kRefused };

// Something outgoing stanzas can be written to: an authenticated outgoing stream, or an incoming stream
// the peer made bidirectional (XEP-0288). Lives on the link's worker.
class S2sSender {
 public:
  virtual ~S2sSender() = default;
  virtual void send_stanza(OutStanza out) = 0;
};

// An incoming stream the peer made bidirectional (XEP-0288), as the link that may write to it sees it:
// `sender` is valid on `worker` until the stream clears it there (when it goes away).
struct BidiHandle {
  S2sSender* sender = nullptr;
  uint32_t worker = 0;
};

class S2sHub {
 public:
  virtual ~S2sHub() = default;
  virtual const Config& config() const = 0;
  virtual Router& router() = 0;
  // Whether `domain` is one this server answers for over s2s: a host, or a subdomain service of one.
  virtual bool is_local_domain(std::string_view domain) const = 0;
  // XEP-0220 §2.1.1: our key for a stream with id `stream_id` opened by `receiving` for our `originating`.
  virtual std::string dialback_key(std::string_view receiving, std::string_view originating,
                                   std::string_view stream_id) const = 0;
  // XEP-0220 §2.1.2, as Receiving Server: asks `remote`'s Authoritative Server (over our outgoing link
  // local → remote) whether `key` is its key for stream `stream_id`. `done(valid)` runs on `worker`.
  virtual void verify_dialback(const std::string& local, const std::string& remote, const std::string& stream_id,
                               const std::string& key, uint32_t worker, std::function<void(bool valid)> done) = 0;
  // An incoming stream to `local` authenticated `remote`; false when that pair of domains already has the
  // most incoming streams allowed (s2s.max_incoming_per_domain). Counted per pair, not per remote domain:
  // RFC 6120 §4.2 has one stream per pair of domains, so a peer whose users talk to several of our hosts
  // and services (conference., pubsub., …) needs one each. incoming_closed() gives the place back.
  virtual bool incoming_authenticated(const std::string& remote, const std::string& local) = 0;
  virtual void incoming_closed(const std::string& remote, const std::string& local) = 0;
  // XEP-0288: an incoming stream from `remote`, authenticated and bidirectional, may carry our stanzas
  // from `local` to it until incoming_bidi_gone().
  virtual void incoming_bidi(const std::string& local, const std::string& remote, std::shared_ptr<BidiHandle> h) = 0;
  virtual void incoming_bidi_gone(const std::string& local, const std::string& remote,
                                  const std::shared_ptr<BidiHandle>& h) = 0;
};

// One address to try for a remote domain, in order (RFC 6120 §3.2, XEP-0368).
struct ConnectTarget {
  std::string host;
  uint16_t port = 5269;
  bool direct_tls = false;
};

class S2sConnector {
 public:
  virtual ~S2sConnector() = default;
  // The targets to try for `remote`, in order; an empty list with a failure when there are none.
  // `done` runs on `worker`.
  virtual void resolve(uint32_t worker, const std::string& remote,
                       std::function<void(std::vector<ConnectTarget>, LinkFailure)> done) = 0;
  // Connects to one target (every address of its host in turn, each within s2s.connect_timeout), with
  // TLS as a client for `local` → `remote` (SNI, our certificate), and starts on it the stream protocol
  // `make_handler` gives for the new transport. `failed` runs on `worker` when no address accepted.
  using HandlerFactory = std::function<std::unique_ptr<StreamHandler>(StreamTransport& transport)>;
  virtual void connect(uint32_t worker, const ConnectTarget& target, const std::string& local,
                       const std::string& remote, HandlerFactory make_handler,
                       std::function<void(LinkFailure)> failed) = 0;
  // Runs fn on `worker` after `delay`.
  virtual void after(uint32_t worker, std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual void post(uint32_t worker, std::function<void()> fn) = 0;
  virtual uint32_t worker_count() const = 0;
};

}  // namespace causerie::s2s
