// web::Routes: what modules serve over HTTP (public blog pages, feeds, uploads, metrics): a handler per
// method and path prefix, with the plain request and response values they see. It lives in the core so
// that modules register pages without knowing any transport: the HTTP listener (src/http/) owns
// connections, limits and protocol upgrades (WebSocket, BOSH), and for anything else looks up this table
// and turns a Request and Response to and from the wire.
//
// Thread rules: handlers are registered at startup and the table is read-only afterwards, so any thread
// may look up a route. A handler may answer at once or later, from any thread, by calling `respond`
// exactly once.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causerie::web {

struct Request {
  std::string method;  // "GET", "POST", …
  std::string path;    // decoded, without the query
  std::string query;   // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;     // client address
  bool secure = false;  // came over TLS
  std::string host;     // the Host header without port

  std::string header(std::string_view name) const;
  // A query parameter, percent-decoded ("" when absent).
  std::string param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response text(int status, std::string body);
  static Response html(std::string body);
};

using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;

class Routes {
 public:
  // `prefix` matches the path exactly or as a directory ("/blog" matches "/blog" and "/blog/x").
  // `max_body` (bytes, 0 = the listener's [http] max_body_size) lets a route take larger bodies (uploads)
  // without raising the limit for every other path.
  void add(std::string method, std::string prefix, Handler handler, size_t max_body = 0);
  // The longest matching route, or nullptr.
  const Handler* find(std::string_view method, std::string_view path) const;
  // Whether any method is served at this path (to answer 405 rather than 404).
  bool has_path(std::string_view path) const;
  // The body limit of the route a request goes to, or 0 when it takes the listener's default.
  size_t body_limit(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method, prefix;
    Handler handler;
    size_t max_body = 0;
  };
  const Route* match(std::string_view method, std::string_view path) const;
  std::vector<Route> routes_;
};

// Decodes %XX escapes; '+' is a space in query strings (the default) but itself in paths.
std::string percent_decode(std::string_view s, bool plus_is_space = true);

}  // namespace causerie::web
