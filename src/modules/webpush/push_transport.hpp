// PushTransport: how an RFC 8030 §5 push message request leaves the server — one HTTP POST to a push
// resource, answered with the status and Retry-After the push service gave, or a failure to get an
// answer (status 0). The queue (push_queue.hpp) decides what to do with the answer; the transport only
// carries requests, with the outbound client's address policy, timeouts and size limits.
//
// Thread rules: post() may be called from any thread; `done` runs exactly once, on any thread.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modules/webpush/endpoint.hpp"

namespace causerie::modules::webpush {

struct PushPost {
  PushEndpoint endpoint;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct PushAnswer {
  int status = 0;                                 // 0: no answer (refused address, timeout, connection)
  std::optional<std::chrono::seconds> retry_after;
  std::string error;                              // why there was no answer, for the log
  bool retryable = true;                          // with no answer: whether trying again may help
};

class PushTransport {
 public:
  virtual ~PushTransport() = default;
  virtual void post(PushPost request, std::function<void(PushAnswer)> done) = 0;
};

}  // namespace causerie::modules::webpush
