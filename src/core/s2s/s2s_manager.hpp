// S2sManager: federation. The router hands it every stanza for a domain that is not ours; it keeps one
// link per (our domain, remote domain) pair, which queues stanzas (bounded) while it resolves, connects,
// secures and authenticates an outgoing stream, then writes them in order — or, when the remote domain
// cannot be reached, bounces each queued stanza to its sender with remote-server-not-found or
// remote-server-timeout (RFC 6120 §8.3.3) within s2s.queue_timeout. It is also the S2sHub the stream
// protocols ask for dialback verification, incoming-stream accounting and XEP-0288 senders.
//
// Thread rules: route() from any thread. Each link lives on one worker (hash of its pair), where all its
// state is touched; the link table itself is under a mutex held only to find or create a link.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/s2s/s2s_hub.hpp"

namespace causerie::s2s {

class S2sManager final : public S2sHub {
 public:
  // `secret` keys our dialback (XEP-0220 §2.1.1); the same on every node of the server.
  S2sManager(const Config& config, Router& router, S2sConnector& connector, std::string secret);
  ~S2sManager() override;

  // Takes a stanza for a remote domain (the router's remote handler). Any thread.
  bool route(Stanza& stanza);
  // Closes every outgoing stream cleanly (server shutdown), after what is queued has been written.
  void shutdown();

  // S2sHub
  const Config& config() const override { return config_; }
  Router& router() override { return router_; }
  bool is_local_domain(std::string_view domain) const override;
  std::string dialback_key(std::string_view receiving, std::string_view originating,
                           std::string_view stream_id) const override;
  void verify_dialback(const std::string& local, const std::string& remote, const std::string& stream_id,
                       const std::string& key, uint32_t worker, std::function<void(bool valid)> done) override;
  bool incoming_authenticated(const std::string& remote, const std::string& local) override;
  void incoming_closed(const std::string& remote, const std::string& local) override;
  void incoming_bidi(const std::string& local, const std::string& remote, std::shared_ptr<BidiHandle> h) override;
  void incoming_bidi_gone(const std::string& local, const std::string& remote,
                          const std::shared_ptr<BidiHandle>& h) override;

  struct Link;  // s2s_manager.cpp

 private:
  std::shared_ptr<Link> link(const std::string& local, const std::string& remote);

  const Config& config_;
  Router& router_;
  S2sConnector& connector_;
  std::string secret_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Link>> links_;   // "local remote"
  std::unordered_map<std::string, unsigned> incoming_;             // authenticated incoming streams per "remote local"
};

}  // namespace causerie::s2s
