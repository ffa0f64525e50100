// HttpService: the HTTP listeners. Each accepted connection is started on its worker by
// http_connection_plain.cpp or http_connection_tls.cpp (http_context.hpp); this unit compiles no Beast.
#include "http/http_server.hpp"

#include "http/http_context.hpp"
#include "net/listener.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::http {

struct HttpService::Impl {
  detail::HttpContext ctx;
  detail::HttpContext admin_ctx;
  std::vector<std::unique_ptr<net::Listener>> listeners;
};

HttpService::HttpService(net::WorkerPool& pool, ServerServices& services, AuthThrottle& throttle,
                         const net::TlsContext& tls, BoshRegistry& bosh) {
  auto https = std::make_shared<detail::HttpsContext>(tls);
  detail::HttpContext ctx{pool, services, throttle, services.config().http, bosh, https};
  detail::HttpContext admin = ctx;
  admin.admin = true;
  impl_ = std::make_unique<Impl>(Impl{std::move(ctx), std::move(admin), {}});
}

void HttpService::set_metrics(std::function<std::string()> render) { impl_->admin_ctx.metrics = std::move(render); }

HttpService::~HttpService() = default;

void HttpService::add_listener(const ListenerConfig& config) {
  bool tls = config.tls == TlsMode::kDirect;
  uint16_t port = config.port;
  detail::HttpContext* ctx = config.type == "admin" ? &impl_->admin_ctx : &impl_->ctx;
  impl_->listeners.push_back(std::make_unique<net::Listener>(
      impl_->ctx.pool, config,
      [ctx, tls, port](net::Worker& worker, boost::asio::ip::tcp::socket socket, std::string peer) {
        boost::system::error_code ec;
        socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
        auto remote = socket.remote_endpoint(ec);
        bool loopback = !ec && remote.address().is_loopback();
        if (tls)
          detail::start_https_connection(*ctx, worker, std::move(socket), std::move(peer), loopback, port);
        else
          detail::start_http_connection(*ctx, worker, std::move(socket), std::move(peer), loopback, port);
      }));
}

void HttpService::start() {
  for (auto& l : impl_->listeners) l->start();
}

void HttpService::stop() {
  for (auto& l : impl_->listeners) l->stop();
}

std::vector<uint16_t> HttpService::ports() const {
  std::vector<uint16_t> out;
  for (const auto& l : impl_->listeners) out.push_back(l->port());
  return out;
}

}  // namespace causerie::http
