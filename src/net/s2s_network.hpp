// S2sNetwork: the network side of federation (the S2sConnector the core's S2sManager uses): SRV and
// address lookups with c-ares on each worker's loop (never a blocking call), outgoing TCP connections to
// each address of a target in turn, each within s2s.connect_timeout, with TLS as a client (SNI, our
// certificate, the peer's checked), and the s2s listeners' set-up of incoming streams.
//
// Thread rules: resolve/connect/after run their work and callbacks on the worker they name; post from
// any thread. One DnsResolver per worker, built before the workers run.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "core/s2s/s2s_manager.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

class DnsResolver;

class S2sNetwork final : public s2s::S2sConnector {
 public:
  S2sNetwork(WorkerPool& pool, const Config& config, const TlsContext& tls);
  ~S2sNetwork() override;

  // The limits of server-to-server streams: the client ones with s2s.max_stanza_size.
  const LimitsConfig& limits() const { return limits_; }
  // Sets up an accepted connection of an s2s listener as an incoming stream of `manager`, with the
  // listener's TLS mode (kNone: STARTTLS is not offered, for peers on a private network that allow it).
  void accept(Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer, TlsMode mode,
              s2s::S2sManager& manager);

  // s2s::S2sConnector
  void resolve(uint32_t worker, const std::string& remote,
               std::function<void(std::vector<s2s::ConnectTarget>, s2s::LinkFailure)> done) override;
  void connect(uint32_t worker, const s2s::ConnectTarget& target, const std::string& local, const std::string& remote,
               HandlerFactory make_handler, std::function<void(s2s::LinkFailure)> failed) override;
  void after(uint32_t worker, std::chrono::milliseconds delay, std::function<void()> fn) override;
  void post(uint32_t worker, std::function<void()> fn) override { pool_.post(worker, std::move(fn)); }
  uint32_t worker_count() const override { return pool_.worker_count(); }

 private:
  struct Attempt;
  void try_address(std::shared_ptr<Attempt> a);

  WorkerPool& pool_;
  const Config& config_;
  const TlsContext& tls_;
  LimitsConfig limits_;
  std::vector<std::unique_ptr<DnsResolver>> resolvers_;  // one per worker
};

}  // namespace causerie::net
