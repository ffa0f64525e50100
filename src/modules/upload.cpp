// XEP-0363 v1.1 HTTP File Upload (urn:xmpp:http:upload:0), served by Causerie's own HTTP listener: the
// service `upload.<host>` hands out slots (§4) whose PUT URL is signed (upload.hpp), the files and their
// metadata live under data_dir/upload/ (<id>.data and an <id>.meta sidecar), GET serves them with a safe
// Content-Type and byte ranges, and files older than `expire_after` are removed by the server's clock.
// Pictures (JPEG, PNG, WebP, GIF by their magic bytes) lose their location metadata before they are
// stored (media/location_strip.hpp, unless the owner's host is in `keep_location`), then the media
// thread makes a thumbnail, a web-sized copy and a BlurHash (media/image_processor.hpp), served at
// /upload/<id>/thumb/<name> and /upload/<id>/web/<name> and described by urn:causerie:media:0
// (docs/protocol/media.md).
//
// Threads: slot requests arrive on workers, HTTP requests on the listener's workers, ticks on worker 0;
// the shared tables (pending slots, stored files) are under one mutex. File contents are read and written
// by the module's own I/O thread, so a large upload never holds a worker on the disk. Pictures are
// decoded on a second thread of the module's own, one at a time, from a bounded queue: a burst of
// uploads waits (or is refused processing) instead of taking the machine's cores and memory.
#include "modules/upload.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/router/iq.hpp"
#include "core/util/encoding.hpp"
#include "core/util/secret_file.hpp"
#include "core/util/time.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/media/image_processor.hpp"
#include "modules/media/location_strip.hpp"

namespace causerie::modules {
namespace upload {

std::string slot_signature(std::string_view secret, std::string_view path, uint64_t size, int64_t expiry) {
  std::string msg(path);
  msg += '\n' + std::to_string(size) + '\n' + std::to_string(expiry);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  return util::hex_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

bool signature_matches(std::string_view secret, std::string_view path, uint64_t size, int64_t expiry,
                       std::string_view received) {
  std::string want = slot_signature(secret, path, size, expiry);
  return received.size() == want.size() && CRYPTO_memcmp(received.data(), want.data(), want.size()) == 0;
}

namespace {
std::optional<uint64_t> number(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<ByteRange> parse_range(std::string_view header, uint64_t size) {
  if (!header.starts_with("bytes=")) return std::nullopt;
  std::string_view spec = header.substr(6);
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  ByteRange unsatisfiable{1, 0};
  if (a.empty()) {  // suffix: the last N bytes
    auto n = number(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return unsatisfiable;
    return ByteRange{size - std::min(*n, size), size - 1};
  }
  auto first = number(a);
  if (!first) return std::nullopt;
  std::optional<uint64_t> last = b.empty() ? std::optional<uint64_t>(UINT64_MAX) : number(b);
  if (!last || *last < *first) return std::nullopt;  // an invalid range is ignored (RFC 9110 §14.2)
  if (*first >= size) return unsatisfiable;
  return ByteRange{*first, std::min(*last, size - 1)};
}

bool inline_type(std::string_view t) {
  std::string type(t.substr(0, t.find(';')));
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type == "image/svg+xml") return false;
  return (type.starts_with("image/") || type.starts_with("audio/") || type.starts_with("video/") ||
          type == "application/pdf" || type == "text/plain") &&
         type.find_first_of(" \t\r\n\"") == std::string::npos;
}

std::string served_type(std::string_view content_type) {
  if (!inline_type(content_type)) return "application/octet-stream";
  std::string t(content_type.substr(0, content_type.find(';')));
  // Plain text is served as UTF-8 whatever was declared: a charset is never sniffed.
  return t == "text/plain" ? "text/plain; charset=utf-8" : t;
}

std::string url_file_name(std::string_view filename) {
  std::string out;
  for (char c : filename) {
    if (out.size() >= 100) break;
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (c == '.' && out.empty()) ok = false;
    out.push_back(ok && static_cast<unsigned char>(c) < 0x80 ? c : '_');
  }
  return out.empty() ? "file" : out;
}

}  // namespace upload

namespace {

constexpr const char* kNsUpload = "urn:xmpp:http:upload:0";
constexpr const char* kNsMedia = "urn:causerie:media:0";
constexpr const char* kNsThumbs = "urn:xmpp:thumbs:1";  // XEP-0264
constexpr std::chrono::seconds kSlotLifetime{300};

int64_t setting(const RawConfig& raw, const std::string& key, int64_t def, int64_t min, int64_t max) {
  auto v = raw.get_int("modules.upload." + key);
  if (!v) return def;
  if (*v < min || *v > max)
    throw ConfigError("config key 'modules.upload." + key + "': expected " + std::to_string(min) + " to " +
                      std::to_string(max));
  return *v;
}

// Loaded like the s2s dialback secret: made once, kept in the data directory, so URLs handed out before
// a restart still verify after it.
std::string load_secret(const std::string& path) { return util::load_or_create_secret(path); }

// What the media thread made of a picture. `failure` names the reason as the iq's error condition does:
// not-image, too-many-pixels, undecodable, busy.
enum class MediaState { kNone, kPending, kReady, kFailed };
struct MediaInfo {
  MediaState state = MediaState::kNone;
  media::ImageKind kind = media::ImageKind::kNone;
  media::Size size;  // as displayed (after the EXIF orientation)
  std::string blurhash;
  std::string thumb_type, web_type;
  media::Size thumb_size, web_size;
  std::string failure, detail;
};

struct FileMeta {
  std::string owner;     // bare JID
  uint64_t size = 0;
  std::string type;      // as declared in the slot request
  std::string filename;  // as it appears in the URL
  int64_t created = 0;   // Unix seconds, by the server's clock
  bool ready = false;    // false while being written
  MediaInfo media;
};

struct Slot {
  std::string owner, type, filename;
  uint64_t size = 0;
  int64_t expiry = 0;
};

// One thread for the files' contents, jobs in order.
class IoThread {
 public:
  // `on_exit` runs on the thread after its last job (libvips' per-thread buffers are freed there).
  explicit IoThread(std::function<void()> on_exit = {}) : on_exit_(std::move(on_exit)), thread_([this] { run(); }) {}
  ~IoThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) {
          lock.unlock();
          if (on_exit_) on_exit_();
          return;
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      try {
        job();
      } catch (const std::exception& e) {
        spdlog::error("upload: file job failed: {}", e.what());
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::function<void()> on_exit_;
  std::thread thread_;
};

class UploadModule final : public Module {
 public:
  explicit UploadModule(ModuleContext& ctx) : ctx_(ctx) {
    const RawConfig& raw = ctx.raw_config();
    if (!raw.get_bool("modules.upload.enabled").value_or(true)) return;
    max_file_size_ = static_cast<uint64_t>(setting(raw, "max_file_size", 10 << 20, 1, int64_t{1} << 30));
    quota_ = static_cast<uint64_t>(setting(raw, "quota", 100 << 20, 0, int64_t{1} << 40));
    expire_after_ = setting(raw, "expire_after", 7 * 86400, 0, int64_t{10} * 365 * 86400);
    base_url_ = raw.get_string("modules.upload.url").value_or("");
    if (base_url_.empty()) base_url_ = ctx.config().http_base_url();
    while (base_url_.ends_with('/')) base_url_.pop_back();
    if (base_url_.empty()) {
      spdlog::info("upload: no HTTP listener and no modules.upload.url: HTTP File Upload is off");
      return;
    }
    images_ = raw.get_bool("modules.upload.images").value_or(true);
    limits_.max_pixels = setting(raw, "max_image_pixels", 50'000'000, 1, int64_t{1} << 32);
    limits_.thumb_box = static_cast<int>(setting(raw, "thumbnail_size", 320, 16, 1024));
    limits_.web_box = static_cast<int>(setting(raw, "web_size", 1280, 64, 8192));
    max_pending_ = static_cast<size_t>(setting(raw, "image_queue", 16, 1, 10000));
    for (const auto& host : raw.get_strings("modules.upload.keep_location").value_or(std::vector<std::string>{})) {
      if (!ctx.router().is_local_host(host))
        throw ConfigError("config key 'modules.upload.keep_location': '" + host + "' is not a host of this server");
      keep_location_.insert(host);
    }
    dir_ = ctx.config().data_dir + "/upload";
    std::filesystem::create_directories(dir_);
    secret_ = load_secret(ctx.config().data_dir + "/upload_secret");
    std::vector<std::string> unprocessed = load_index();
    io_ = std::make_unique<IoThread>();
    if (images_) {
      media_ = std::make_unique<IoThread>([] { media::release_image_thread(); });
      for (const auto& id : unprocessed) enqueue_media(id);
    }

    service_iq_.add(false, ns::kDiscoInfo, [this](IqRequest& r) { disco_info(r); });
    service_iq_.add(false, ns::kDiscoItems, [](IqRequest& r) { r.reply.result(xml::Element("query", ns::kDiscoItems)); });
    service_iq_.add(false, kNsUpload, [this](IqRequest& r) { request_slot(r); }, "request");
    if (images_) service_iq_.add(false, kNsMedia, [this](IqRequest& r) { media_query(r); }, "media");
    auto serve_host = [this, &ctx](const std::string& host) {
      std::string domain = "upload." + host;
      ctx.add_service(domain, [this](Stanza&& st, ClientSession* origin) { on_stanza(std::move(st), origin); });
      ctx.disco().add_server_item({host, domain, "HTTP File Upload"});
    };
    for (const auto& host : ctx.router().local_hosts()) serve_host(host);
    ctx.on_host_added([serve_host](const HostConfig& h) { serve_host(h.name); });
    ctx.on_http("PUT", "/upload", [this](const web::Request& req, web::Respond respond) { put(req, std::move(respond)); },
                static_cast<size_t>(max_file_size_));
    ctx.on_http("GET", "/upload", [this](const web::Request& req, web::Respond respond) { get(req, std::move(respond)); });
    if (expire_after_ > 0) ctx.on_tick([this] { expire(); });
  }

 private:
  std::string data_path(const std::string& id) const { return dir_ + "/" + id + ".data"; }
  std::string meta_path(const std::string& id) const { return dir_ + "/" + id + ".meta"; }
  // The media sidecar and the copies: <id>.media, <id>.thumb, <id>.web.
  std::string media_path(const std::string& id, std::string_view what = "media") const {
    return dir_ + "/" + id + "." + std::string(what);
  }

  // Startup: what earlier runs stored (the server waits for this before it listens). Returns the
  // pictures whose processing had not finished, to be queued again.
  std::vector<std::string> load_index() {
    std::vector<std::string> unprocessed;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::string name = entry.path().filename().string();
      if (name.ends_with(".tmp")) {
        std::filesystem::remove(entry.path());  // an upload cut short by a stop
        continue;
      }
      if (!name.ends_with(".meta")) continue;
      std::string id = name.substr(0, name.size() - 5);
      std::ifstream in(entry.path());
      FileMeta m;
      std::string size, created;
      if (!std::getline(in, m.owner) || !std::getline(in, size) || !std::getline(in, m.type) ||
          !std::getline(in, m.filename) || !std::getline(in, created) || !std::filesystem::exists(data_path(id))) {
        spdlog::warn("upload: {} is incomplete, removed", entry.path().string());
        std::filesystem::remove(entry.path());
        std::filesystem::remove(data_path(id));
        continue;
      }
      m.size = std::stoull(size);
      m.created = std::stoll(created);
      m.ready = true;
      if (images_) {
        std::string head(12, '\0');
        std::ifstream data(data_path(id), std::ios::binary);
        data.read(head.data(), 12);
        head.resize(static_cast<size_t>(data.gcount()));
        m.media.kind = media::sniff_image(head);
        if (m.media.kind != media::ImageKind::kNone && !read_media(id, m.media)) {
          m.media.state = MediaState::kPending;
          unprocessed.push_back(id);
        }
      }
      files_.emplace(id, std::move(m));
    }
    spdlog::info("upload: {} stored files, base URL {}", files_.size(), base_url_);
    return unprocessed;
  }

  // The <id>.media sidecar: "ready", then the size, the hash and each copy's type and size; or "failed"
  // and the reason.
  bool read_media(const std::string& id, MediaInfo& info) const {
    std::ifstream in(media_path(id));
    std::string state;
    if (!(in >> state)) return false;
    if (state == "failed") {
      in >> info.failure;
      std::getline(in >> std::ws, info.detail);
      info.state = MediaState::kFailed;
      return !info.failure.empty();
    }
    if (state != "ready") return false;
    if (!(in >> info.size.width >> info.size.height >> info.blurhash >> info.thumb_type >> info.thumb_size.width >>
          info.thumb_size.height >> info.web_type >> info.web_size.width >> info.web_size.height))
      return false;
    info.state = MediaState::kReady;
    return true;
  }

  static void write_media(const std::string& path, const MediaInfo& info) {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    if (info.state == MediaState::kReady) {
      out << "ready\n"
          << info.size.width << ' ' << info.size.height << '\n'
          << info.blurhash << '\n'
          << info.thumb_type << ' ' << info.thumb_size.width << ' ' << info.thumb_size.height << '\n'
          << info.web_type << ' ' << info.web_size.width << ' ' << info.web_size.height << '\n';
    } else {
      out << "failed " << info.failure << ' ' << info.detail << '\n';
    }
    out.close();
    std::error_code ec;
    if (out) std::filesystem::rename(path + ".tmp", path, ec);
  }

  void on_stanza(Stanza&& st, ClientSession* origin) {
    if (!st.is_iq()) return;
    std::string_view type = st.type();
    if (type == "result" || type == "error") return;
    if (st.to().has_localpart() || st.to().has_resource()) {
      ctx_.router().bounce(st, StanzaError(StanzaErrorCondition::kServiceUnavailable));
      return;
    }
    IqRequest req{std::move(st), IqResponder(), origin};
    req.reply = ctx_.router().responder_for(req.stanza);
    service_iq_.dispatch(req);
  }

  void disco_info(IqRequest& r) {
    if (!r.payload().attr("node").empty()) {
      r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      return;
    }
    std::vector<std::string> features{kNsUpload};
    if (images_) features.emplace_back(kNsMedia);
    xml::Element q = DiscoRegistry::info_query({{"store", "file", "HTTP File Upload"}}, features);
    // §3: the largest file accepted, in an XEP-0128 form.
    xml::DataForm form;
    form.type = "result";
    form.add("FORM_TYPE", "hidden", {kNsUpload});
    form.add("max-file-size", "", {std::to_string(max_file_size_)});
    q.add(form.to_element());
    r.reply.result(std::move(q));
  }

  uint64_t usage(const std::string& owner) const {
    uint64_t used = 0;
    for (const auto& [id, m] : files_)
      if (m.owner == owner) used += m.size;
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    for (const auto& [id, s] : slots_)
      if (s.owner == owner && s.expiry >= now) used += s.size;  // slots not yet used count too
    return used;
  }

  void request_slot(IqRequest& r) {
    std::string_view host = r.to().domainpart().substr(7);  // after "upload."
    if (!r.from().has_localpart() || r.from().domainpart() != host) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden, StanzaErrorType::kAuth,
                                "uploads are for this host's accounts"));
      return;
    }
    const xml::Element& p = r.payload();
    std::string filename(p.attr("filename")), type(p.attr("content-type"));
    std::optional<uint64_t> size;
    {
      uint64_t v = 0;
      std::string_view s = p.attr("size");
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) size = v;
    }
    if (filename.empty() || !size || *size == 0) {
      r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "a filename and a positive size are required"));
      return;
    }
    if (*size > max_file_size_) {
      // §4 example 4: too large, with the limit.
      xml::Element app("file-too-large", kNsUpload);
      app.add_text_child("max-file-size", std::to_string(max_file_size_), kNsUpload);
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify,
                                "file too large; the maximum is " + std::to_string(max_file_size_) + " bytes")
                        .with_app(std::move(app)));
      return;
    }
    if (type.empty() || type.size() > 200 || type.find_first_of("\r\n") != std::string::npos)
      type = "application/octet-stream";
    std::string owner(r.from().bare_view());
    std::string id = util::hex_encode(util::random_bytes(16));
    std::string name = upload::url_file_name(filename);
    std::string path = "/upload/" + id + "/" + name;
    int64_t expiry = util::unix_seconds(ctx_.clock().wall()) + kSlotLifetime.count();
    {
      std::lock_guard lock(mu_);
      if (quota_ > 0 && usage(owner) + *size > quota_) {
        // §4 example 6: a user over quota.
        r.reply.error(StanzaError(StanzaErrorCondition::kResourceConstraint, StanzaErrorType::kWait,
                                  "upload quota of " + std::to_string(quota_) + " bytes reached"));
        return;
      }
      slots_.emplace(id, Slot{owner, type, name, *size, expiry});
    }
    std::string put_url = base_url_ + path + "?e=" + std::to_string(expiry) + "&s=" + std::to_string(*size) +
                          "&sig=" + upload::slot_signature(secret_, path, *size, expiry);
    xml::Element slot("slot", kNsUpload);
    slot.add_child("put", kNsUpload).set_attr("url", put_url);
    slot.add_child("get", kNsUpload).set_attr("url", base_url_ + path);
    spdlog::debug("upload: slot {} for {} ({} bytes)", id, owner, *size);
    r.reply.result(std::move(slot));
  }

  // "/upload/<id>/<name>" → id and name, or false. "/upload/<id>/thumb/<name>" and ".../web/<name>" name
  // the copies of a picture (`variant`, when given; the PUT path has none).
  static bool split_path(std::string_view path, std::string& id, std::string& name,
                         media::Variant* variant = nullptr) {
    if (!path.starts_with("/upload/")) return false;
    path.remove_prefix(8);
    size_t slash = path.find('/');
    if (slash == std::string_view::npos) return false;
    id = std::string(path.substr(0, slash));
    name = std::string(path.substr(slash + 1));
    if (variant) *variant = media::Variant::kOriginal;
    if (size_t second = name.find('/'); second != std::string::npos) {
      auto v = media::parse_variant(std::string_view(name).substr(0, second));
      if (!variant || !v) return false;
      *variant = *v;
      name.erase(0, second + 1);
    }
    return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos && !name.empty() &&
           name.find('/') == std::string::npos;
  }

  void put(const web::Request& req, web::Respond respond) {
    std::string id, name;
    if (!split_path(req.path, id, name)) return respond(web::Response::text(404, "not found\n"));
    std::optional<uint64_t> size;
    int64_t expiry = 0;
    try {
      size = std::stoull(req.param("s"));
      expiry = std::stoll(req.param("e"));
    } catch (const std::exception&) {
      return respond(web::Response::text(403, "not a signed upload URL\n"));
    }
    if (!upload::signature_matches(secret_, req.path, *size, expiry, req.param("sig")))
      return respond(web::Response::text(403, "bad signature\n"));
    if (expiry < util::unix_seconds(ctx_.clock().wall()))
      return respond(web::Response::text(403, "this upload slot has expired\n"));
    if (req.body.size() > *size) return respond(web::Response::text(413, "larger than the slot's size\n"));
    if (req.body.size() != *size) return respond(web::Response::text(400, "the body is not the slot's size\n"));
    FileMeta meta;
    {
      std::lock_guard lock(mu_);
      if (files_.count(id)) return respond(web::Response::text(409, "already uploaded\n"));
      auto it = slots_.find(id);
      if (it == slots_.end() || it->second.size != *size || it->second.filename != name)
        return respond(web::Response::text(403, "no such upload slot\n"));
      meta = FileMeta{it->second.owner, *size, it->second.type, name, util::unix_seconds(ctx_.clock().wall()), false};
      slots_.erase(it);
      files_.emplace(id, meta);
    }
    io_->post([this, id, meta, body = req.body, respond = std::move(respond)]() mutable {
      // The kind from the bytes, never from the declared type; a picture's location goes before it is
      // ever written (lossless: only metadata blocks change, see media/location_strip.hpp).
      media::ImageKind kind = images_ ? media::sniff_image(body) : media::ImageKind::kNone;
      std::string_view host = std::string_view(meta.owner).substr(meta.owner.find('@') + 1);
      if (kind != media::ImageKind::kNone && !keep_location_.count(std::string(host))) {
        if (auto stripped = media::strip_location(kind, body)) {
          if (stripped->gps_removed || stripped->xmp_removed)
            spdlog::info("upload: {} had location metadata removed (GPS {}, XMP {})", id, stripped->gps_removed,
                         stripped->xmp_removed);
          body = std::move(stripped->bytes);
        }
        // Malformed where metadata would be: stored as it came, no decoder finds metadata in it either;
        // the media thread reports it undecodable.
      }
      meta.size = body.size();
      bool ok = write_file(id, meta, body);
      bool queue = false;
      {
        std::lock_guard lock(mu_);
        auto it = files_.find(id);
        if (it != files_.end()) {
          if (ok) {
            it->second.ready = true;
            it->second.size = meta.size;
            it->second.media.kind = kind;
            if (kind != media::ImageKind::kNone) {
              it->second.media.state = MediaState::kPending;
              queue = true;
            }
          } else {
            files_.erase(it);
          }
        }
      }
      if (!ok) return respond(web::Response::text(500, "cannot store the file\n"));
      spdlog::info("upload: {} stored {} ({} bytes)", meta.owner, id, meta.size);
      respond(web::Response::text(201, "created\n"));
      if (queue) enqueue_media(id);
    });
  }

  // On the I/O thread: the content, then the sidecar that makes it visible after a restart.
  bool write_file(const std::string& id, const FileMeta& m, const std::string& body) {
    std::string tmp = data_path(id) + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
      if (!out) {
        spdlog::error("upload: cannot write {}", tmp);
        return false;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, data_path(id), ec);
    std::ofstream meta(meta_path(id) + ".tmp", std::ios::trunc);
    meta << m.owner << '\n' << m.size << '\n' << m.type << '\n' << m.filename << '\n' << m.created << '\n';
    meta.close();
    if (!ec) std::filesystem::rename(meta_path(id) + ".tmp", meta_path(id), ec);
    if (ec || !meta) {
      spdlog::error("upload: cannot store {}: {}", id, ec ? ec.message() : "write failed");
      std::filesystem::remove(data_path(id), ec);
      return false;
    }
    return true;
  }

  bool expired(const FileMeta& m, int64_t now) const { return expire_after_ > 0 && m.created + expire_after_ <= now; }

  void get(const web::Request& req, web::Respond respond) {
    std::string id, name;
    media::Variant variant = media::Variant::kOriginal;
    if (!split_path(req.path, id, name, &variant)) return respond(web::Response::text(404, "not found\n"));
    FileMeta meta;
    {
      std::lock_guard lock(mu_);
      auto it = files_.find(id);
      if (it == files_.end() || !it->second.ready || it->second.filename != name ||
          expired(it->second, util::unix_seconds(ctx_.clock().wall())))
        return respond(web::Response::text(404, "not found\n"));
      meta = it->second;
    }
    std::string path = data_path(id), type = meta.type, cache = "private, max-age=3600";
    // A picture is served as what its bytes are, whatever type its uploader declared.
    if (meta.media.kind != media::ImageKind::kNone) type = std::string(media::image_media_type(meta.media.kind));
    if (variant != media::Variant::kOriginal) {
      if (meta.media.state == MediaState::kPending) {
        // Still being made: the client asks again (or waits on the urn:causerie:media:0 iq).
        web::Response res = web::Response::text(202, "being processed\n");
        res.headers.emplace_back("Retry-After", "1");
        res.headers.emplace_back("Cache-Control", "no-store");
        return respond(std::move(res));
      }
      if (meta.media.state != MediaState::kReady) return respond(web::Response::text(404, "no such copy\n"));
      path = media_path(id, media::variant_name(variant));
      type = variant == media::Variant::kThumb ? meta.media.thumb_type : meta.media.web_type;
      // A copy never changes under its URL (a new upload gets a new id).
      cache = "private, max-age=86400, immutable";
    }
    std::string range_header = req.header("range");
    io_->post([path, type, cache, range_header, respond = std::move(respond)] {
      std::error_code ec;
      uint64_t size = std::filesystem::file_size(path, ec);
      if (ec) return respond(web::Response::text(404, "not found\n"));  // removed meanwhile
      web::Response res;
      res.content_type = upload::served_type(type);
      res.headers.emplace_back("Accept-Ranges", "bytes");
      res.headers.emplace_back("Content-Disposition", upload::inline_type(type) ? "inline" : "attachment");
      // Nothing served here may run as a page of this origin.
      res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
      res.headers.emplace_back("Cache-Control", cache);
      auto range = upload::parse_range(range_header, size);
      if (range && range->first > range->last) {
        res.status = 416;
        res.content_type = "text/plain; charset=utf-8";
        res.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        res.body = "range not satisfiable\n";
        return respond(std::move(res));
      }
      uint64_t first = range ? range->first : 0, count = range ? range->last - range->first + 1 : size;
      std::ifstream in(path, std::ios::binary);
      res.body.resize(count);
      in.seekg(static_cast<std::streamoff>(first));
      in.read(res.body.data(), static_cast<std::streamsize>(count));
      if (!in) return respond(web::Response::text(404, "not found\n"));  // removed meanwhile
      if (range) {
        res.status = 206;
        res.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                      std::to_string(range->last) + "/" + std::to_string(size));
      }
      respond(std::move(res));
    });
  }

  // Any thread: a stored picture joins the media thread's queue, unless image_queue pictures already
  // wait there (then it is marked busy: the original is served, without copies).
  void enqueue_media(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      if (pending_ >= max_pending_) {
        MediaInfo busy;
        busy.state = MediaState::kFailed;
        busy.failure = "busy";
        busy.detail = "the picture queue is full";
        finish_media(id, busy);
        return;
      }
      ++pending_;
    }
    media_->post([this, id] { process_media(id); });
  }

  // On the media thread: decode, scale, encode, record, then answer whoever waits for the result.
  void process_media(const std::string& id) {
    MediaInfo info;
    std::string file;
    {
      std::ifstream in(data_path(id), std::ios::binary);
      file.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto result = media::process_image(file, limits_);
    if (result) {
      info.state = MediaState::kReady;
      info.kind = media::sniff_image(file);
      info.size = result->original;
      info.blurhash = result->blurhash;
      info.thumb_type = result->thumb.media_type;
      info.thumb_size = result->thumb.size;
      info.web_type = result->web.media_type;
      info.web_size = result->web.size;
      for (const auto* copy : {&result->thumb, &result->web}) {
        std::string path = media_path(id, copy == &result->thumb ? "thumb" : "web");
        std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
        out.write(copy->bytes.data(), static_cast<std::streamsize>(copy->bytes.size()));
        out.close();
        std::error_code ec;
        if (out) std::filesystem::rename(path + ".tmp", path, ec);
        if (!out || ec) {
          MediaInfo failed;
          failed.state = MediaState::kFailed;
          failed.kind = info.kind;
          failed.failure = "undecodable";
          failed.detail = "cannot write " + path;
          info = std::move(failed);
          break;
        }
      }
    } else {
      info.state = MediaState::kFailed;
      switch (result.error().failure) {
        case media::ImageFailure::kNotImage: info.failure = "not-image"; break;
        case media::ImageFailure::kTooManyPixels: info.failure = "too-many-pixels"; break;
        case media::ImageFailure::kUndecodable: info.failure = "undecodable"; break;
      }
      info.detail = result.error().detail;
      std::replace(info.detail.begin(), info.detail.end(), '\n', ' ');
    }
    write_media(media_path(id), info);
    if (info.state == MediaState::kReady)
      spdlog::info("upload: {} processed ({}×{}, thumbnail {}×{}, web {}×{})", id, info.size.width, info.size.height,
                   info.thumb_size.width, info.thumb_size.height, info.web_size.width, info.web_size.height);
    else
      spdlog::warn("upload: {} not processed: {} ({})", id, info.failure, info.detail);
    std::lock_guard lock(mu_);
    --pending_;
    finish_media(id, info);
    if (!files_.count(id)) {  // expired while it was processed: nothing of it stays
      std::error_code ec;
      for (const char* what : {"media", "thumb", "web"}) std::filesystem::remove(media_path(id, what), ec);
    }
  }

  // Under mu_: the result recorded, the waiting iqs answered (IqResponder sends from any thread).
  void finish_media(const std::string& id, const MediaInfo& info) {
    auto it = files_.find(id);
    if (it != files_.end()) it->second.media = info;
    auto w = waiters_.find(id);
    if (w == waiters_.end()) return;
    for (auto& [responder, url] : w->second) {
      if (it == files_.end()) responder.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      else answer_media(responder, url, it->second);
    }
    waiters_.erase(w);
  }

  // urn:causerie:media:0 (docs/protocol/media.md): what the server made of an uploaded file, given its
  // GET URL. The URL is the capability (whoever has it can download the file), so any requester may ask.
  // While the picture is being processed the answer waits for the result.
  void media_query(IqRequest& r) {
    if (r.is_set()) return r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest));
    std::string url(r.payload().attr("url"));
    std::string id, name;
    if (!url.starts_with(base_url_ + "/upload/") || !split_path(url.substr(base_url_.size()), id, name))
      return r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound, "not a file of this upload service"));
    std::lock_guard lock(mu_);
    auto it = files_.find(id);
    if (it == files_.end() || it->second.filename != name || expired(it->second, util::unix_seconds(ctx_.clock().wall())))
      return r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
    if (!it->second.ready || it->second.media.state == MediaState::kPending) {
      waiters_[id].emplace_back(r.reply, url);
      return;
    }
    answer_media(r.reply, url, it->second);
  }

  void answer_media(const IqResponder& reply, const std::string& url, const FileMeta& m) const {
    const MediaInfo& info = m.media;
    if (info.state == MediaState::kNone)
      return reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify, "not a picture")
                             .with_app(xml::Element("not-image", kNsMedia)));
    if (info.state == MediaState::kFailed)
      return reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, StanzaErrorType::kModify,
                                     "the picture was not processed: " + info.detail)
                             .with_app(xml::Element(info.failure, kNsMedia)));
    xml::Element el("media", kNsMedia);
    el.set_attr("url", url);
    el.set_attr("media-type", std::string(media::image_media_type(info.kind)));
    el.set_attr("width", std::to_string(info.size.width));
    el.set_attr("height", std::to_string(info.size.height));
    el.set_attr("size", std::to_string(m.size));
    el.set_attr("blurhash", info.blurhash);
    std::string base = url.substr(0, url.size() - m.filename.size());
    auto copy = [&](const char* what, const std::string& type, media::Size size) {
      xml::Element& wrap = el.add_child(what, kNsMedia);
      xml::Element& t = wrap.add_child("thumbnail", kNsThumbs);
      t.set_attr("uri", base + what + "/" + m.filename);
      t.set_attr("media-type", type);
      t.set_attr("width", std::to_string(size.width));
      t.set_attr("height", std::to_string(size.height));
    };
    copy("thumb", info.thumb_type, info.thumb_size);
    copy("web", info.web_type, info.web_size);
    reply.result(std::move(el));
  }

  // On worker 0's tick: files older than expire_after go, and slots nobody used.
  void expire() {
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    std::vector<std::string> gone;
    {
      std::lock_guard lock(mu_);
      for (auto it = files_.begin(); it != files_.end();) {
        if (it->second.ready && expired(it->second, now)) {
          gone.push_back(it->first);
          it = files_.erase(it);
        } else {
          ++it;
        }
      }
      std::erase_if(slots_, [now](const auto& e) { return e.second.expiry < now; });
    }
    if (gone.empty()) return;
    io_->post([this, gone] {
      std::error_code ec;
      for (const auto& id : gone) {
        std::filesystem::remove(data_path(id), ec);
        std::filesystem::remove(meta_path(id), ec);
        for (const char* what : {"media", "thumb", "web"}) std::filesystem::remove(media_path(id, what), ec);
      }
      spdlog::info("upload: {} expired files removed", gone.size());
    });
  }

  ModuleContext& ctx_;
  uint64_t max_file_size_ = 0, quota_ = 0;
  int64_t expire_after_ = 0;
  std::string base_url_, dir_, secret_;
  IqTable service_iq_;
  std::mutex mu_;
  std::map<std::string, Slot> slots_;       // by id: handed out, not yet uploaded
  std::map<std::string, FileMeta> files_;   // by id: uploaded (or being written)
  bool images_ = true;
  media::ImageLimits limits_;
  size_t max_pending_ = 16, pending_ = 0;  // pictures queued or being processed
  std::set<std::string> keep_location_;     // hosts whose users' pictures keep their location
  // By id: media iqs waiting for the picture's processing, with the URL they asked about.
  std::map<std::string, std::vector<std::pair<IqResponder, std::string>>> waiters_;
  // Last: joined first, while what their jobs use still exists; io_ before media_, since io_'s jobs
  // queue pictures on media_ (and media_'s post nothing to io_).
  std::unique_ptr<IoThread> media_;
  std::unique_ptr<IoThread> io_;
};

}  // namespace

std::unique_ptr<Module> make_upload(ModuleContext& ctx) { return std::make_unique<UploadModule>(ctx); }

}  // namespace causerie::modules
