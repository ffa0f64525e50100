// The outbound HTTP client (http_fetcher.hpp): URL handling, the queue, and one C++20 coroutine per
// request on its worker's io_context (resolve, vet, connect, TLS, write, read, redirect).
#include "net/http_fetcher.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "net/address_classifier.hpp"
#include "net/dns_resolver.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using Deadline = std::chrono::steady_clock::time_point;

namespace {
constexpr size_t kMaxHeaderBytes = 16 * 1024;
}  // namespace

struct HttpFetcher::Impl : std::enable_shared_from_this<Impl> {
  Impl(WorkerPool& p, const Config& config)
      : pool(p),
        cfg(config.http_client),
        policy(AddressPolicy::from_config(config.http_client.allow, "http_client.allow")),
        tls(asio::ssl::context::tls_client) {
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    if (SSL_CTX_set_default_verify_paths(tls.native_handle()) != 1)
      spdlog::warn("http_client: the system's trust store could not be loaded");
    if (!cfg.ca_file.empty() && SSL_CTX_load_verify_locations(tls.native_handle(), cfg.ca_file.c_str(), nullptr) != 1)
      throw ConfigError("config key 'http_client.ca_file': cannot load " + cfg.ca_file);
    tls.set_verify_mode(asio::ssl::verify_peer);
  }

  struct Pending {
    OutboundRequest request;
    OutboundCallback done;
  };

  void submit(OutboundRequest request, OutboundCallback done) {
    {
      std::lock_guard lock(mutex);
      if (in_flight < cfg.max_concurrent) {
        ++in_flight;
        start({std::move(request), std::move(done)});
        return;
      }
      if (queue.size() < cfg.max_queued) {
        queue.push_back({std::move(request), std::move(done)});
        return;
      }
    }
    // Busy: answered on a worker, never from inside fetch.
    OutboundResponse r;
    r.failure = OutboundFailure::kBusy;
    r.error = "too many outbound requests";
    r.final_url = request.url;
    pool.post(next_worker(), [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  uint32_t next_worker() { return next.fetch_add(1, std::memory_order_relaxed) % pool.worker_count(); }

  void start(Pending p) {
    uint32_t w = next_worker();
    pool.post(w, [self = shared_from_this(), w, p = std::move(p)]() mutable {
      asio::co_spawn(self->pool.worker(w).io(), self->run(w, std::move(p)), asio::detached);
    });
  }

  // One request has finished: the next queued one may start.
  void finished() {
    std::lock_guard lock(mutex);
    if (queue.empty()) {
      --in_flight;
      return;
    }
    Pending p = std::move(queue.front());
    queue.pop_front();
    start(std::move(p));
  }

  awaitable<void> run(uint32_t w, Pending p) {
    auto self = shared_from_this();
    OutboundResponse r;
    try {
      r = co_await perform(w, p.request);
    } catch (const std::exception& e) {
      r = OutboundResponse{};
      r.failure = OutboundFailure::kProtocol;
      r.error = e.what();
    }
    if (r.final_url.empty()) r.final_url = p.request.url;
    if (!r.ok()) spdlog::debug("http_client: {} {}: {}", p.request.method, p.request.url, r.error);
    try {
      p.done(std::move(r));
    } catch (const std::exception& e) {
      spdlog::error("http_client: a fetch callback threw: {}", e.what());
    }
    finished();
  }

  static OutboundResponse fail(OutboundFailure f, std::string why, const HttpUrl* url = nullptr) {
    OutboundResponse r;
    r.failure = f;
    r.error = std::move(why);
    if (url) r.final_url = url->to_string();
    return r;
  }

  // The resolver's answer, or nullopt when the deadline passed first.
  awaitable<std::optional<AddressResult>> resolve(uint32_t w, const std::string& host, Deadline deadline) {
    struct Wait {
      explicit Wait(asio::io_context& io) : timer(io) {}
      asio::steady_timer timer;
      std::optional<AddressResult> result;
    };
    auto wait = std::make_shared<Wait>(pool.worker(w).io());
    wait->timer.expires_at(deadline);
    resolvers[w]->resolve_addresses(host, [wait](AddressResult r) {
      wait->result = std::move(r);
      wait->timer.cancel();
    });
    boost::system::error_code ec;
    co_await wait->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return std::move(wait->result);
  }

  awaitable<OutboundResponse> perform(uint32_t w, const OutboundRequest& req) {
    Deadline deadline = std::chrono::steady_clock::now() + req.timeout;
    auto parsed = parse_http_url(req.url);
    if (!parsed) co_return fail(OutboundFailure::kBadUrl, "not an http(s) URL this server fetches");
    HttpUrl url = std::move(*parsed);
    std::string method = req.method;
    std::string body = req.body;
    auto headers = req.headers;
    for (unsigned hop = 0;; ++hop) {
      std::vector<std::string> answer;
      if (url.host_is_ip) {
        answer.push_back(url.host);
      } else {
        auto res = co_await resolve(w, url.host, deadline);
        if (!res) co_return fail(OutboundFailure::kTimeout, "timed out resolving " + url.host, &url);
        if (!*res) co_return fail(OutboundFailure::kDns, url.host + ": " + to_string(res->error()), &url);
        answer = std::move(**res);
      }
      AddressVetting vetting = vet_addresses(policy, answer);
      if (!vetting.ok())
        co_return fail(OutboundFailure::kRefused,
                       "refused destination " + url.host + ": " + (vetting.refused.empty() ? "no address" : vetting.refused),
                       &url);
      OutboundResponse r = co_await exchange(w, url, vetting.allowed, method, headers, body, deadline,
                                             req.max_response_bytes);
      r.final_url = url.to_string();
      if (!r.ok()) co_return r;
      bool redirect = r.status == 301 || r.status == 302 || r.status == 303 || r.status == 307 || r.status == 308;
      std::string location = r.header("location");
      if (!redirect || location.empty()) co_return r;
      if (hop >= req.max_redirects)
        co_return fail(OutboundFailure::kTooManyRedirects, "more than " + std::to_string(req.max_redirects) + " redirects", &url);
      auto next = resolve_reference(url, location);
      if (!next) co_return fail(OutboundFailure::kBadUrl, "redirect to a URL this server does not fetch", &url);
      // RFC 9110 §15.4: 303 turns any method into GET; 301 and 302 turn POST into GET, as clients do.
      if (r.status == 303 || ((r.status == 301 || r.status == 302) && method == "POST")) {
        if (method != "HEAD") method = "GET";
        body.clear();
      }
      if (!next->same_origin(url)) {
        std::erase_if(headers, [](const auto& h) {
          std::string n = h.first;
          for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          return n == "authorization" || n == "cookie";
        });
      }
      url = std::move(*next);
    }
  }

  template <class Stream>
  awaitable<OutboundResponse> talk(Stream& stream, beast::tcp_stream& lowest, const HttpUrl& url,
                                   const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body, Deadline deadline, size_t max_body) {
    bhttp::request<bhttp::string_body> q;
    q.method_string(method);
    q.target(url.target);
    q.version(11);
    q.set(bhttp::field::host, url.authority());
    q.set(bhttp::field::user_agent, cfg.user_agent);
    q.set(bhttp::field::accept_encoding, "identity");
    q.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : headers) {
      std::string n = name;
      for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (n == "host" || n == "content-length" || n == "connection" || n == "accept-encoding" ||
          n == "transfer-encoding" || n.empty())
        continue;
      bool bad = false;
      for (char c : name + value) bad = bad || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
      if (bad) co_return fail(OutboundFailure::kBadUrl, "a request header holds control characters", &url);
      q.set(name, value);
    }
    q.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT") q.prepare_payload();
    boost::system::error_code ec;
    lowest.expires_at(deadline);
    co_await bhttp::async_write(stream, q, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) co_return fail(OutboundFailure::kTimeout, "timed out sending the request", &url);
    if (ec) co_return fail(OutboundFailure::kProtocol, "sending the request: " + ec.message(), &url);

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(max_body);
    if (method == "HEAD") parser.skip(true);
    lowest.expires_at(deadline);
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    // A TLS peer that closes without close_notify after a body delimited by the close itself: the body
    // is whole as far as HTTP can tell (RFC 9112 §6.3 item 8).
    if (ec == asio::ssl::error::stream_truncated && parser.is_header_done() && !parser.chunked() &&
        !parser.content_length()) {
      boost::system::error_code eof_ec;
      parser.put_eof(eof_ec);
      if (!eof_ec) ec = {};
    }
    if (ec == bhttp::error::body_limit)
      co_return fail(OutboundFailure::kTooLarge, "response larger than " + std::to_string(max_body) + " bytes", &url);
    if (ec == bhttp::error::header_limit) co_return fail(OutboundFailure::kTooLarge, "response header too large", &url);
    if (ec == beast::error::timeout) co_return fail(OutboundFailure::kTimeout, "timed out reading the response", &url);
    if (ec) co_return fail(OutboundFailure::kProtocol, "reading the response: " + ec.message(), &url);
    auto res = parser.release();
    OutboundResponse r;
    r.status = res.result_int();
    for (const auto& f : res) {
      std::string n(f.name_string());
      for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(n), std::string(f.value()));
    }
    r.body = std::move(res.body());
    co_return r;
  }

  awaitable<OutboundResponse> exchange(uint32_t w, const HttpUrl& url, const std::vector<IpAddress>& addresses,
                                       const std::string& method, const std::vector<std::pair<std::string, std::string>>& headers,
                                       const std::string& body, Deadline deadline, size_t max_body) {
    asio::io_context& io = pool.worker(w).io();
    beast::tcp_stream stream(io);
    boost::system::error_code ec = asio::error::host_unreachable;
    for (const auto& a : addresses) {
      // Only what vet_addresses let through is ever connected to.
      auto ip = asio::ip::make_address(a.to_string());
      stream.expires_at(std::min(deadline, std::chrono::steady_clock::now() + cfg.connect_timeout));
      co_await stream.async_connect(tcp::endpoint(ip, url.port), asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) break;
      if (std::chrono::steady_clock::now() >= deadline) break;
    }
    if (ec == beast::error::timeout && std::chrono::steady_clock::now() >= deadline)
      co_return fail(OutboundFailure::kTimeout, "timed out connecting to " + url.authority(), &url);
    if (ec) co_return fail(OutboundFailure::kConnect, "cannot connect to " + url.authority() + ": " + ec.message(), &url);
    if (!url.tls) co_return co_await talk(stream, stream, url, method, headers, body, deadline, max_body);

    asio::ssl::stream<beast::tcp_stream> tls_stream(std::move(stream), tls);
    SSL* ssl = tls_stream.native_handle();
    if (url.host_is_ip) {
      // RFC 6066 §3: no SNI for an address; the certificate must name the address (an iPAddress SAN).
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, url.host.c_str());
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, url.host.c_str());
    }
    beast::get_lowest_layer(tls_stream).expires_at(deadline);
    co_await tls_stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) co_return fail(OutboundFailure::kTimeout, "timed out in the TLS handshake", &url);
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
      co_return fail(OutboundFailure::kTls, "TLS with " + url.authority() + ": " + why, &url);
    }
    co_return co_await talk(tls_stream, beast::get_lowest_layer(tls_stream), url, method, headers, body, deadline,
                            max_body);
  }

  WorkerPool& pool;
  HttpClientConfig cfg;
  AddressPolicy policy;
  asio::ssl::context tls;
  std::vector<DnsResolver*> resolvers;
  std::atomic<uint32_t> next{0};
  std::mutex mutex;
  unsigned in_flight = 0;
  std::deque<Pending> queue;
};

HttpFetcher::HttpFetcher(WorkerPool& pool, const Config& config) : impl_(std::make_shared<Impl>(pool, config)) {
  for (uint32_t i = 0; i < pool.worker_count(); ++i) {
    resolvers_.push_back(std::make_unique<DnsResolver>(pool.worker(i).io(), config.dns));
    impl_->resolvers.push_back(resolvers_.back().get());
  }
}

HttpFetcher::~HttpFetcher() = default;

void HttpFetcher::fetch(OutboundRequest request, OutboundCallback done) {
  impl_->submit(std::move(request), std::move(done));
}

}  // namespace causerie::net
