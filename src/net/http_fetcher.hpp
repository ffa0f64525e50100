// HttpFetcher: the server's outbound HTTP/1.1 client (web::OutboundHttp), for link previews, the image
// proxy and Web Push. GET/POST/... with headers and a body, over http or https (OpenSSL: the peer's
// chain verified against the system store plus [http_client] ca_file, SNI, the host name checked against
// the certificate, TLS 1.2 or later).
//
// SSRF protection: names are resolved with the server's own c-ares DnsResolver ([dns] servers), and every
// address of the answer is vetted by AddressPolicy (vet_addresses, a pure function) BEFORE any connection:
// one refused address refuses the request, and only vetted addresses are connected to, so a name cannot
// be checked against one answer and then reached through another. Redirects are followed up to the
// request's limit, each hop parsed, resolved and vetted like the first. URLs with user info, other
// schemes, or control characters are refused.
//
// Limits: a connect timeout per address ([http_client] connect_timeout), the request's total timeout
// (redirects included), a response body limit (reading stops and the request fails past it), a 16 KiB
// header limit, and at most [http_client] max_concurrent requests in flight, max_queued waiting.
//
// Thread rules: fetch from any thread. Each request runs on one worker (round robin), where its callback
// runs too, exactly once, never inside fetch. Built before the workers run (one resolver per worker);
// destroyed after they stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"
#include "core/web/http_url.hpp"
#include "core/web/outbound_http.hpp"

namespace causerie::net {

class WorkerPool;
class DnsResolver;

using web::OutboundCallback;
using web::OutboundFailure;
using web::OutboundRequest;
using web::OutboundResponse;

using web::HttpUrl;
using web::parse_http_url;
using web::resolve_reference;

class HttpFetcher final : public web::OutboundHttp {
 public:
  // Throws ConfigError for a bad [http_client] allow block or ca_file, or when c-ares cannot start.
  HttpFetcher(WorkerPool& pool, const Config& config);
  ~HttpFetcher() override;
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  void fetch(OutboundRequest request, OutboundCallback done) override;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::vector<std::unique_ptr<DnsResolver>> resolvers_;  // one per worker
};

}  // namespace causerie::net
