// HttpConnection and WsSession over plain TCP (http://, ws://): Beast's HTTP and WebSocket code for this
// stream is compiled here only.
#include "http/http_connection.hpp"

namespace causerie::http::detail {

void start_http_connection(HttpContext& ctx, net::Worker& worker, asio::ip::tcp::socket socket, std::string peer,
                           bool loopback, uint16_t port) {
  start_connection(ctx, worker, PlainStream(std::move(socket)), std::move(peer), loopback, port);
}

}  // namespace causerie::http::detail
