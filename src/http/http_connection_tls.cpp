// HttpConnection and WsSession over TLS (https://, wss://): Beast's HTTP, WebSocket and TLS stream code for
// this stream is compiled here only.
#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "http/http_connection.hpp"

namespace causerie::http::detail {

std::shared_ptr<asio::ssl::context> make_https_context(SSL_CTX* ctx) {
  SSL_CTX_up_ref(ctx);  // asio::ssl::context frees its handle; the TlsContext keeps its own reference
  return std::make_shared<asio::ssl::context>(ctx);
}

void start_https_connection(HttpContext& ctx, net::Worker& worker, asio::ip::tcp::socket socket, std::string peer,
                            bool loopback, uint16_t port) {
  start_connection(ctx, worker, TlsStream(PlainStream(std::move(socket)), *ctx.ssl), std::move(peer), loopback, port);
}

}  // namespace causerie::http::detail
