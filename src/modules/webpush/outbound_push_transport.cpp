#include "modules/webpush/outbound_push_transport.hpp"

#include <charconv>

namespace causerie::modules::webpush {

namespace {

constexpr size_t kMaxAnswer = 64 * 1024;  // a push service's answer has no use for a body
constexpr std::chrono::seconds kTimeout{30};

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v < 0) return std::nullopt;
  return std::chrono::seconds(v);
}

void OutboundPushTransport::post(PushPost request, std::function<void(PushAnswer)> done) {
  web::OutboundRequest r;
  r.method = "POST";
  r.url = request.endpoint.url;
  r.headers = std::move(request.headers);
  r.body = std::move(request.body);
  r.max_response_bytes = kMaxAnswer;
  r.timeout = kTimeout;
  r.max_redirects = 0;
  http_.fetch(std::move(r), [done = std::move(done)](web::OutboundResponse resp) {
    PushAnswer a;
    if (resp.ok()) {
      a.status = static_cast<int>(resp.status);
      a.retry_after = parse_retry_after(resp.header("retry-after"));
    } else {
      a.error = std::string(web::to_string(resp.failure)) + ": " + resp.error;
      // What retrying cannot change: a destination the address policy refuses, a URL the client does not
      // take, a redirect instead of an answer.
      a.retryable = resp.failure != web::OutboundFailure::kRefused && resp.failure != web::OutboundFailure::kBadUrl &&
                    resp.failure != web::OutboundFailure::kTooManyRedirects;
    }
    done(std::move(a));
  });
}

}  // namespace causerie::modules::webpush
