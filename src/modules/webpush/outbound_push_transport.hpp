// OutboundPushTransport: the PushTransport (push_transport.hpp) over the server's outbound HTTP client
// (core/web/outbound_http.hpp, net::HttpFetcher): its address policy ([http_client] allow), timeouts and
// size limits apply to pushes as to any request the server makes. A push is never redirected (RFC 8030
// §5 names a push resource; a redirect is not an answer to a push).
//
// Thread rules: any thread (the client's own); `done` runs on a worker.
#pragma once

#include "core/web/outbound_http.hpp"
#include "modules/webpush/push_transport.hpp"

namespace causerie::modules::webpush {

class OutboundPushTransport final : public PushTransport {
 public:
  explicit OutboundPushTransport(web::OutboundHttp& http) : http_(http) {}
  void post(PushPost request, std::function<void(PushAnswer)> done) override;

 private:
  web::OutboundHttp& http_;
};

// A Retry-After header's delay-seconds (RFC 9110 §10.2.3); an HTTP-date or junk gives nullopt.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace causerie::modules::webpush
