// web::OutboundHttp: how a module asks the server to make an HTTP request to the outside world (link
// previews, the image proxy, Web Push), and the request and response values it sees. The core only names
// the interface; the implementation is net::HttpFetcher (src/net/http_fetcher.hpp), which resolves names
// itself, refuses private, loopback and link-local destinations unless allow-listed ([http_client]),
// limits time, size, redirects and concurrency. Modules reach it through ModuleContext::outbound_http().
//
// Thread rules: fetch may be called from any thread. The callback runs exactly once, on one of the
// server's worker threads, never from inside the fetch call; it may take its time (it is a worker's
// time), but should not block.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causerie::web {

struct OutboundRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE, HEAD
  std::string url;             // http:// or https:// (no user info); the fragment is ignored
  // Extra request headers. Host, Content-Length, Connection and Accept-Encoding are the client's own.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  size_t max_response_bytes = 1024 * 1024;  // a larger body fails the request (kTooLarge)
  std::chrono::milliseconds timeout{10000};  // the whole request, redirects included
  unsigned max_redirects = 3;  // 301/302/303/307/308 followed; each hop is checked like the first
};

enum class OutboundFailure {
  kNone,
  kBadUrl,            // not an http(s) URL this client accepts
  kRefused,           // the destination's addresses are not allowed (SSRF protection); nothing was sent
  kDns,               // the name did not resolve
  kConnect,           // no address accepted a connection
  kTls,               // handshake or certificate verification failed
  kTimeout,           // the request's time ran out
  kTooLarge,          // the response passed max_response_bytes (or its header the header limit)
  kProtocol,          // not a valid HTTP/1.1 response, or the connection broke
  kTooManyRedirects,  // more than max_redirects hops
  kBusy,              // too many requests queued; try later
};
const char* to_string(OutboundFailure f);

struct OutboundResponse {
  OutboundFailure failure = OutboundFailure::kNone;
  std::string error;  // empty when the request completed (whatever its status), else what went wrong
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string final_url;  // after redirects

  bool ok() const { return failure == OutboundFailure::kNone; }
  // The first header of that name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
};

using OutboundCallback = std::function<void(OutboundResponse)>;

class OutboundHttp {
 public:
  virtual ~OutboundHttp() = default;
  virtual void fetch(OutboundRequest request, OutboundCallback done) = 0;
};

}  // namespace causerie::web
