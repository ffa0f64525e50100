#include "net/s2s_network.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/jid/jid.hpp"
#include "core/s2s/s2s_in_stream.hpp"
#include "net/dns_resolver.hpp"
#include "net/s2s_targets.hpp"
#include "net/tcp_transport.hpp"

namespace causerie::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using s2s::LinkFailure;

struct S2sNetwork::Attempt {
  uint32_t worker = 0;
  s2s::ConnectTarget target;
  std::string local, remote;
  HandlerFactory make;
  std::function<void(LinkFailure)> failed;
  std::vector<std::string> addresses;
  size_t next = 0;
  bool any_timeout = false;
  bool timed_out = false;
  std::unique_ptr<tcp::socket> socket;
  std::unique_ptr<asio::steady_timer> timer;
};

S2sNetwork::S2sNetwork(WorkerPool& pool, const Config& config, const TlsContext& tls)
    : pool_(pool), config_(config), tls_(tls), limits_(config.limits) {
  limits_.max_stanza_bytes = config.s2s.max_stanza_bytes;
  for (uint32_t i = 0; i < pool.worker_count(); ++i)
    resolvers_.push_back(std::make_unique<DnsResolver>(pool.worker(i).io(), config.dns));
}

S2sNetwork::~S2sNetwork() = default;

void S2sNetwork::accept(Worker& worker, tcp::socket socket, std::string peer, TlsMode mode,
                        s2s::S2sManager& manager) {
  TlsSetup tls;
  tls.direct = mode == TlsMode::kDirect;
  tls.verifier = &tls_;
  if (mode != TlsMode::kNone) tls.make_ssl = [ctx = &tls_] { return ctx->new_s2s_server_ssl(); };
  auto conn = std::make_shared<TcpTransport>(worker, limits_, std::move(socket), std::move(peer), std::move(tls));
  conn->set_handler(std::make_unique<s2s::S2sInStream>(manager, *conn, worker.index()));
  conn->start();
}

void S2sNetwork::resolve(uint32_t worker, const std::string& remote,
                         std::function<void(std::vector<s2s::ConnectTarget>, LinkFailure)> done) {
  pool_.post(worker, [this, worker, remote, done = std::move(done)]() mutable {
    auto ascii = domain_to_ascii(remote);
    if (!ascii) {
      done({}, LinkFailure::kNotFound);
      return;
    }
    resolvers_[worker]->resolve_s2s_srv(*ascii, [name = *ascii, done = std::move(done)](SrvResult xmpps, SrvResult xmpp) {
      S2sTargets t = select_s2s_targets(name, xmpps, xmpp);
      std::vector<s2s::ConnectTarget> out;
      for (const auto& target : t.targets) out.push_back(s2s::ConnectTarget{target.host, target.port, target.direct_tls});
      bool timeouts = !xmpps && !xmpp && xmpps.error() == DnsError::kTimeout && xmpp.error() == DnsError::kTimeout;
      done(std::move(out), timeouts ? LinkFailure::kTimeout : LinkFailure::kNotFound);
    });
  });
}

void S2sNetwork::connect(uint32_t worker, const s2s::ConnectTarget& target, const std::string& local,
                         const std::string& remote, HandlerFactory make_handler,
                         std::function<void(LinkFailure)> failed) {
  auto a = std::make_shared<Attempt>();
  a->worker = worker;
  a->target = target;
  a->local = local;
  a->remote = remote;
  a->make = std::move(make_handler);
  a->failed = std::move(failed);
  pool_.post(worker, [this, a] {
    resolvers_[a->worker]->resolve_addresses(a->target.host, [this, a](AddressResult r) {
      if (!r || r->empty()) {
        spdlog::info("s2s {} -> {}: no address for {}: {}", a->local, a->remote, a->target.host,
                     r ? "none" : to_string(r.error()));
        a->failed(!r && r.error() == DnsError::kTimeout ? LinkFailure::kTimeout : LinkFailure::kNotFound);
        return;
      }
      a->addresses = std::move(*r);
      try_address(a);
    });
  });
}

void S2sNetwork::try_address(std::shared_ptr<Attempt> a) {
  Worker& w = pool_.worker(a->worker);
  while (a->next < a->addresses.size()) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(a->addresses[a->next++], ec);
    if (ec) continue;
    tcp::endpoint ep(address, a->target.port);
    a->socket = std::make_unique<tcp::socket>(w.io());
    a->timer = std::make_unique<asio::steady_timer>(w.io(), config_.s2s.connect_timeout);
    a->timed_out = false;
    a->timer->async_wait([a](const boost::system::error_code& e) {
      if (e) return;
      a->timed_out = true;
      boost::system::error_code ignored;
      if (a->socket) a->socket->cancel(ignored);
    });
    a->socket->async_connect(ep, [this, a, ep](const boost::system::error_code& e) {
      a->timer->cancel();
      if (e) {
        if (a->timed_out) a->any_timeout = true;
        spdlog::info("s2s {} -> {}: connecting to {}:{} failed: {}", a->local, a->remote, ep.address().to_string(),
                     ep.port(), a->timed_out ? "timed out" : e.message());
        try_address(a);
        return;
      }
      TlsSetup tls;
      tls.direct = a->target.direct_tls;
      tls.verifier = &tls_;
      tls.make_ssl = [ctx = &tls_, local = a->local, remote = a->remote, direct = a->target.direct_tls] {
        return ctx->new_s2s_client_ssl(local, remote, direct);
      };
      Worker& worker = pool_.worker(a->worker);
      auto conn = std::make_shared<TcpTransport>(worker, limits_, std::move(*a->socket), ep.address().to_string(),
                                                 std::move(tls));
      conn->set_handler(a->make(*conn));
      conn->start();
    });
    return;
  }
  a->failed(a->any_timeout ? LinkFailure::kTimeout : LinkFailure::kNotFound);
}

void S2sNetwork::after(uint32_t worker, std::chrono::milliseconds delay, std::function<void()> fn) {
  pool_.post(worker, [this, worker, delay, fn = std::move(fn)]() mutable {
    auto timer = std::make_shared<asio::steady_timer>(pool_.worker(worker).io(), delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  });
}

}  // namespace causerie::net
