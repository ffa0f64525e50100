// The two byte streams an HTTP connection runs on — PlainStream (TCP) and TlsStream (TLS over TCP) — and
// the Beast and Asio names src/http uses. Internal to src/http: the templates that do I/O on a stream
// (HttpConnection, WsSession) are instantiated for one stream per unit, http_connection_plain.cpp and
// http_connection_tls.cpp, so the two compile in parallel and no other unit pays for them.
//
// Thread rules: names only.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace causerie::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

using HttpRequest = bhttp::request<bhttp::string_body>;

inline constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
inline const auto kToken = asio::use_awaitable;

inline std::string_view sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace causerie::http::detail
