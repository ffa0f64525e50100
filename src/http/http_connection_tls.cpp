// HttpConnection and WsSession over TLS (https://, wss://): Beast's HTTP, WebSocket and TLS stream code for
// this stream is compiled here only.
#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "http/http_connection.hpp"
#include "net/tls_context.hpp"

namespace causerie::http::detail {

std::shared_ptr<asio::ssl::context> https_context(HttpsContext& https) {
  SSL_CTX* now = https.tls.default_ctx();
  std::lock_guard l(https.mutex);
  if (https.built_from != now) {
    SSL_CTX_up_ref(now);  // asio::ssl::context frees its handle; the TlsContext keeps its own reference
    https.current = std::make_shared<asio::ssl::context>(now);
    https.built_from = now;
  }
  return https.current;
}

void start_https_connection(HttpContext& ctx, net::Worker& worker, asio::ip::tcp::socket socket, std::string peer,
                            bool loopback, uint16_t port) {
  // The stream makes its SSL from the context at once (SSL_new holds the SSL_CTX): the Asio context
  // may be replaced by a reload while this connection lives.
  auto ssl = https_context(*ctx.https);
  start_connection(ctx, worker, TlsStream(PlainStream(std::move(socket)), *ssl), std::move(peer), loopback, port);
}

}  // namespace causerie::http::detail
