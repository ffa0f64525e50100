#include "http/bosh_rules.hpp"

#include <algorithm>
#include <charconv>


namespace causerie::http {

namespace {

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "major.minor", minor compared as an integer (§7.1).
std::optional<std::pair<int64_t, int64_t>> parse_ver(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto major = parse_int(s.substr(0, dot));
  auto minor = parse_int(s.substr(dot + 1));
  if (!major || !minor || *major < 0 || *minor < 0) return std::nullopt;
  return std::make_pair(*major, *minor);
}

bool plain_header_value(std::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

BoshGrant negotiate_bosh(const xml::Element& body, const HttpConfig& config) {
  BoshGrant g;
  BoshParams& p = g.params;
  auto wait = parse_int(body.attr("wait"));
  auto hold = parse_int(body.attr("hold"));
  if (!wait || !hold || *wait < 0 || *hold < 0) {
    g.condition = "bad-request";  // §7.1: both are required
    return g;
  }
  p.wait = std::min(std::chrono::seconds(*wait), config.bosh_max_wait);
  p.hold = static_cast<unsigned>(std::min<int64_t>(*hold, config.bosh_max_hold));
  p.requests = p.hold + 1;
  p.polling = config.bosh_polling;
  p.inactivity = config.bosh_inactivity;
  // §11: a polling session gets more inactivity than its polling interval.
  if (p.hold == 0 || p.wait.count() == 0) p.inactivity = std::max(p.inactivity, p.polling + p.polling + std::chrono::seconds(1));
  p.maxpause = config.bosh_max_pause;
  if (auto v = parse_ver(body.attr("ver")); v && (v->first < 1 || (v->first == 1 && v->second < 11)))
    p.ver = std::string(body.attr("ver"));
  std::string_view content = body.attr("content");
  if (!content.empty()) {
    if (!plain_header_value(content)) {
      g.condition = "bad-request";
      return g;
    }
    p.content_type = std::string(content);
  }
  p.acks = body.attr("ack") == "1";
  return g;
}

namespace {
struct BodyCollector final : xml::StreamParser::Handler {
  std::optional<xml::Element> body;
  bool closed = false;
  void on_stream_open(const xml::Element& header, std::string_view) override { body = header; }
  void on_element(xml::Element&& el) override { body->add(std::move(el)); }
  void on_stream_close() override { closed = true; }
};
}  // namespace

BoshBody parse_bosh_body(std::string_view text, const xml::StreamLimits& limits) {
  BodyCollector c;
  xml::StreamParser parser(c, limits);
  auto status = parser.feed(text);
  BoshBody out;
  if (c.body) out.sid = std::string(c.body->attr("sid"));
  using E = xml::StreamParser::Error;
  if (status == xml::StreamParser::Status::kError && (parser.error() == E::kTooLarge || parser.error() == E::kTooDeep)) {
    out.condition = "policy-violation";
  } else if (status != xml::StreamParser::Status::kOk || !c.closed || !c.body->is("body", "http://jabber.org/protocol/httpbind")) {
    out.condition = "bad-request";  // §17.2: malformed wrapper, text in it, or a partial document
  } else {
    out.body = std::move(c.body);
  }
  return out;
}

std::optional<uint64_t> parse_rid(std::string_view text) {
  auto v = parse_int(text);
  if (!v || *v <= 0 || *v > 9007199254740991LL) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

RidPlace place_rid(uint64_t rid, uint64_t last, unsigned window) {
  if (rid <= last) return RidPlace::kRepeat;
  if (rid == last + 1) return RidPlace::kNext;
  if (rid - last <= window) return RidPlace::kAhead;
  return RidPlace::kOutside;
}

std::string bosh_terminate_body(std::string_view condition) {
  std::string b = "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate'";
  if (!condition.empty()) {
    b += " condition='";
    b += condition;  // one of the §17.2 names: no escaping needed
    b += '\'';
  }
  b += "/>";
  return b;
}

std::string bosh_recoverable_error_body() { return "<body xmlns='http://jabber.org/protocol/httpbind' type='error'/>"; }

std::string bosh_empty_body() { return "<body xmlns='http://jabber.org/protocol/httpbind'/>"; }

}  // namespace causerie::http
