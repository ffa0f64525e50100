// Link previews and the image proxy (issue 15 item 4; docs/protocol/previews.md).
//
// <iq type='get' to='<host>'><preview xmlns='urn:causerie:preview:0' url='…'/></iq> from an account of
// the host (not a guest) is answered with the page's title, description, site name, type and image, the
// image URL rewritten through the server's image proxy. The page is fetched by the server's outbound
// client (ModuleContext::outbound_http: SSRF-checked, size- and time-limited), its <head> read by
// html_meta, and the answer cached in storage (PreviewStore) for [modules.previews] cache_ttl, by the
// injected clock. Fetches are rate-limited per account (token bucket, requests_per_minute).
//
// GET /proxy/image?u=…&s=… serves an image the server signed (image_proxy.hpp): 403 for a bad signature,
// else the image fetched the same way, checked (declared type and magic bytes), with cache headers and a
// Content-Security-Policy that lets nothing run. No cookie, referrer or client header is passed on.
//
// Threads: IQ handlers run on the requester's worker; cache reads on the storage read lane; fetch
// callbacks on a worker; HTTP answers from any thread. Shared state: the rate buckets, under a mutex.
#include <cctype>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/web/http_url.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"
#include "modules/all_modules.hpp"
#include "modules/previews/html_meta.hpp"
#include "modules/previews/image_proxy.hpp"
#include "storage/preview_store.hpp"
#include "storage/storage_service.hpp"

#include <filesystem>
#include <fstream>

#include "core/util/encoding.hpp"
#include "core/util/secret_file.hpp"

namespace causerie::modules {

namespace {

constexpr const char* kNsPreview = "urn:causerie:preview:0";

int64_t setting(const RawConfig& raw, const char* key, int64_t def, int64_t min, int64_t max) {
  std::string path = std::string("modules.previews.") + key;
  int64_t v = raw.get_int(path).value_or(def);
  if (v < min || v > max)
    throw ConfigError("config key '" + path + "': expected " + std::to_string(min) + " to " + std::to_string(max));
  return v;
}

// The HMAC key of proxy URLs: configured, or random and kept in the data directory so that URLs handed
// out before a restart still work after it.
std::string load_secret(const std::string& configured, const std::string& path) {
  return configured.empty() ? util::load_or_create_secret(path) : configured;
}

// The media type of a Content-Type without parameters, lower case; and its charset parameter.
std::string media_type(std::string_view ct) {
  std::string t;
  for (char c : ct.substr(0, ct.find(';')))
    if (c != ' ' && c != '\t') t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}
std::string charset_of(std::string_view ct) {
  std::string lower;
  for (char c : ct) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower.find("charset=");
  if (at == std::string::npos) return {};
  std::string cs;
  for (size_t i = at + 8; i < ct.size(); ++i) {
    char c = ct[i];
    if (c == '"' || c == '\'') continue;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != ':') break;
    cs += c;
  }
  return cs;
}

StanzaError fetch_error(const web::OutboundResponse& r) {
  using web::OutboundFailure;
  switch (r.failure) {
    case OutboundFailure::kBadUrl: return StanzaError(StanzaErrorCondition::kBadRequest, r.error);
    case OutboundFailure::kRefused:
      // Which address a name has inside the server's network is not the asker's business: the log says.
      return StanzaError(StanzaErrorCondition::kForbidden, "the address of this link is not public");
    case OutboundFailure::kTimeout: return StanzaError(StanzaErrorCondition::kRemoteServerTimeout, r.error);
    case OutboundFailure::kTooLarge: return StanzaError(StanzaErrorCondition::kNotAcceptable, r.error);
    case OutboundFailure::kBusy:
      return StanzaError(StanzaErrorCondition::kResourceConstraint, StanzaErrorType::kWait, r.error);
    default: return StanzaError(StanzaErrorCondition::kRemoteServerNotFound, r.error);
  }
}

class PreviewsModule final : public Module {
 public:
  explicit PreviewsModule(ModuleContext& ctx) : ctx_(ctx) {
    const RawConfig& raw = ctx.raw_config();
    if (!raw.get_bool("modules.previews.enabled").value_or(true)) return;
    cache_ttl_ = std::chrono::seconds(setting(raw, "cache_ttl", 86400, 0, 30 * 86400));
    per_minute_ = static_cast<double>(setting(raw, "requests_per_minute", 20, 1, 10000));
    max_page_ = static_cast<size_t>(setting(raw, "max_page_size", kMaxHtmlBytesDefault, 1024, 8 << 20));
    max_image_ = static_cast<size_t>(setting(raw, "max_image_size", 5 << 20, 1024, 64 << 20));
    timeout_ = std::chrono::seconds(setting(raw, "timeout", 10, 1, 120));
    base_url_ = raw.get_string("modules.previews.url").value_or("");
    if (base_url_.empty()) base_url_ = ctx.config().http_base_url();
    while (base_url_.ends_with('/')) base_url_.pop_back();
    secret_ = load_secret(raw.get_string("modules.previews.proxy_secret").value_or(""),
                          ctx.config().data_dir + "/preview_secret");
    previews::init_html_parser();
    ctx.on_iq(IqScope::kServer, false, kNsPreview, [this](IqRequest& r) { preview(r); }, "preview");
    ctx.disco().add_server_feature(kNsPreview);
    ctx.on_http("GET", previews::kProxyPath, [this](const web::Request& q, web::Respond respond) {
      proxy(q, std::move(respond));
    });
    ctx.on_tick([this] { purge(); });
    if (base_url_.empty())
      spdlog::info("previews: no HTTP listener and no modules.previews.url: previews come without images");
  }

 private:
  static constexpr size_t kMaxHtmlBytesDefault = previews::kMaxHtmlBytes;

  // --- the XMPP side ---

  void preview(IqRequest& r) {
    const Jid& from = r.from();
    const HostConfig* host = ctx_.config().find_host(from.domainpart());
    if (!from.has_localpart() || !host || host->anonymous || !ctx_.router().is_local_host(from.domainpart())) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "link previews are for this server's accounts"));
      return;
    }
    auto url = web::parse_http_url(r.payload().attr("url"));
    if (!url) {
      r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "url='…' must be an http or https URL"));
      return;
    }
    if (!take_token(from.bare().str())) {
      r.reply.error(StanzaError(StanzaErrorCondition::kPolicyViolation, StanzaErrorType::kWait,
                                "too many link previews; try again later"));
      return;
    }
    std::string key = url->to_string();
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().wall().time_since_epoch()).count();
    ctx_.storage().read([this, reply = r.reply, key, now](storage::Storage& db) {
      auto cached = db.previews().get(key);
      if (cached && cached->expires > now) {
        if (auto el = xml::parse_fragment(cached->xml)) {
          reply.result(std::move(*el));
          return;
        }
      }
      fetch_page(reply, key);
    });
  }

  bool take_token(const std::string& account) {
    auto now = ctx_.clock().now();
    std::lock_guard lock(mutex_);
    if (buckets_.size() > 10000) {
      // Forget accounts whose bucket has refilled: they lose nothing.
      for (auto it = buckets_.begin(); it != buckets_.end();)
        it = refill(it->second, now) >= per_minute_ ? buckets_.erase(it) : std::next(it);
    }
    auto [it, fresh] = buckets_.try_emplace(account, Bucket{per_minute_, now});
    double tokens = refill(it->second, now);
    if (tokens < 1.0) return false;
    it->second.tokens = tokens - 1.0;
    return true;
  }

  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
    double minutes = std::chrono::duration<double>(now - b.last).count() / 60.0;
    if (minutes > 0) {
      b.tokens = std::min(per_minute_, b.tokens + minutes * per_minute_);
      b.last = now;
    }
    return b.tokens;
  }

  // A GET with only an Accept header of ours: nothing of the client's (cookies, referrer) goes out.
  web::OutboundRequest get(std::string url, const char* accept, size_t max_bytes) const {
    web::OutboundRequest q;
    q.url = std::move(url);
    q.headers = {{"Accept", accept}};
    q.max_response_bytes = max_bytes;
    q.timeout = timeout_;
    q.max_redirects = 5;
    return q;
  }

  void fetch_page(IqResponder reply, std::string url) {
    auto q = get(url, "text/html,application/xhtml+xml;q=0.9,image/*;q=0.5", max_page_);
    ctx_.outbound_http().fetch(std::move(q), [this, reply, url](web::OutboundResponse r) {
      if (!r.ok()) {
        if (r.failure == web::OutboundFailure::kRefused) spdlog::info("previews: {}", r.error);
        reply.error(fetch_error(r));
        return;
      }
      if (r.status < 200 || r.status > 299) {
        reply.error(StanzaError(StanzaErrorCondition::kRemoteServerNotFound,
                                "the page answered HTTP " + std::to_string(r.status)));
        return;
      }
      auto final_url = web::parse_http_url(r.final_url);
      std::string type = media_type(r.header("content-type"));
      xml::Element el("preview", kNsPreview);
      el.set_attr("url", url);
      if (r.final_url != url) el.set_attr("final-url", r.final_url);
      if (type == "text/html" || type == "application/xhtml+xml") {
        previews::PageMeta meta = previews::read_page_meta(r.body, charset_of(r.header("content-type")));
        if (!meta.title.empty()) el.add_text_child("title", meta.title);
        if (!meta.description.empty()) el.add_text_child("description", meta.description);
        if (!meta.site_name.empty()) el.add_text_child("site-name", meta.site_name);
        if (!meta.type.empty()) el.add_text_child("type", meta.type);
        if (!meta.image.empty() && final_url) {
          if (auto image = web::resolve_reference(*final_url, meta.image); image && !base_url_.empty())
            el.add_child("image").set_attr("url", previews::proxy_url(base_url_, secret_, image->to_string()));
        }
      } else if (previews::declared_image(type) && !base_url_.empty()) {
        // A link to an image: its preview is the image.
        el.add_text_child("type", "image");
        el.add_child("image").set_attr("url", previews::proxy_url(base_url_, secret_, r.final_url));
      } else {
        reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "not an HTML page (" + type + ")"));
        return;
      }
      if (cache_ttl_.count() == 0) {
        reply.result(std::move(el));
        return;
      }
      // Answered once cached, so that the same URL asked right after this answer is a cache hit.
      std::string stored = xml::to_string(el);
      int64_t expires =
          std::chrono::duration_cast<std::chrono::seconds>((ctx_.clock().wall() + cache_ttl_).time_since_epoch()).count();
      ctx_.storage().write([reply, url, el = std::move(el), stored = std::move(stored),
                            expires](storage::Storage& db) -> storage::StorageService::Completion {
        db.previews().put(url, storage::CachedPreview{stored, expires});
        return [reply, el] { reply.result(el); };
      });
    });
  }

  // Once an hour (by the server's clock), expired previews leave the cache.
  void purge() {
    auto now = ctx_.clock().now();
    {
      std::lock_guard lock(mutex_);
      if (last_purge_ != std::chrono::steady_clock::time_point{} && now - last_purge_ < std::chrono::hours(1)) return;
      last_purge_ = now;
    }
    int64_t wall = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().wall().time_since_epoch()).count();
    ctx_.storage().write([wall](storage::Storage& db) -> storage::StorageService::Completion {
      size_t n = db.previews().purge(wall);
      if (n > 0) spdlog::debug("previews: {} expired previews purged", n);
      return {};
    });
  }

  // --- the image proxy ---

  static web::Response failure(int status, std::string text) {
    web::Response r = web::Response::text(status, std::move(text));
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  void proxy(const web::Request& q, web::Respond respond) {
    std::string url = q.param("u");
    if (url.empty() || !previews::signature_valid(secret_, url, q.param("s"))) {
      respond(failure(403, "not a URL this server signed\n"));
      return;
    }
    auto out = get(url, "image/avif,image/webp,image/png,image/jpeg,image/gif", max_image_);
    ctx_.outbound_http().fetch(std::move(out), [respond = std::move(respond)](web::OutboundResponse r) {
      if (!r.ok()) {
        respond(failure(r.failure == web::OutboundFailure::kRefused ? 403 : 502, "cannot fetch the image\n"));
        return;
      }
      if (r.status != 200) {
        respond(failure(502, "the image's server answered HTTP " + std::to_string(r.status) + "\n"));
        return;
      }
      auto sniffed = previews::sniff_image(r.body);
      if (!previews::declared_image(r.header("content-type")) || !sniffed) {
        respond(failure(502, "not an image\n"));
        return;
      }
      web::Response res;
      res.status = 200;
      res.content_type = *sniffed;
      res.body = std::move(r.body);
      res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
      res.headers.emplace_back("Cache-Control", "public, max-age=86400");
      res.headers.emplace_back("Content-Disposition", "inline");
      res.headers.emplace_back("Cross-Origin-Resource-Policy", "cross-origin");
      respond(std::move(res));
    });
  }

  ModuleContext& ctx_;
  std::chrono::seconds cache_ttl_{86400};
  double per_minute_ = 20;
  size_t max_page_ = previews::kMaxHtmlBytes;
  size_t max_image_ = 5 << 20;
  std::chrono::seconds timeout_{10};
  std::string base_url_;
  std::string secret_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::chrono::steady_clock::time_point last_purge_{};
};

}  // namespace

std::unique_ptr<Module> make_previews(ModuleContext& ctx) { return std::make_unique<PreviewsModule>(ctx); }

}  // namespace causerie::modules
