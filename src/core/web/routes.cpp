#include "core/web/routes.hpp"

#include <cctype>

namespace causerie::web {

namespace {
bool prefix_matches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}
}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return {};
}

std::string Request::param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    size_t eq = part.find('=');
    if (percent_decode(part.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q = q.substr(amp + 1);
  }
  return {};
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::html(std::string body) {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

void Routes::add(std::string method, std::string prefix, Handler handler, size_t max_body) {
  routes_.push_back(Route{std::move(method), std::move(prefix), std::move(handler), max_body});
}

const Routes::Route* Routes::match(std::string_view method, std::string_view path) const {
  const Route* best = nullptr;
  for (const auto& r : routes_)
    if (r.method == method && prefix_matches(r.prefix, path) && (!best || r.prefix.size() > best->prefix.size()))
      best = &r;
  return best;
}

const Handler* Routes::find(std::string_view method, std::string_view path) const {
  const Route* r = match(method, path);
  return r ? &r->handler : nullptr;
}

size_t Routes::body_limit(std::string_view method, std::string_view path) const {
  const Route* r = match(method, path);
  return r ? r->max_body : 0;
}

bool Routes::has_path(std::string_view path) const {
  for (const auto& r : routes_)
    if (prefix_matches(r.prefix, path)) return true;
  return false;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace causerie::web
