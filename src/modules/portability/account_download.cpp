// The account download page (issue 14 item 7): `GET /account/export` on the HTTP listener gives the
// signed-in user their own data — posts and other PEP items, contacts, profile, private XML, offline
// messages, message archive — as the XEP-0227 document of that account (pie_export.hpp), to keep or to
// import elsewhere. The user signs in with HTTP Basic (RFC 7617: their JID, or their username on the
// Host's domain, and their password), accepted over TLS only; the password is checked against the stored
// SCRAM keys on the storage read lane. SCRAM keys themselves are left out of the download: a copy lying
// in a downloads folder must not allow offline guessing of the password (an admin's `causerie export`
// keeps them). An address that fails 5 times is refused for a minute (429), by the server's clock.
//
// Config: [modules.account_download] enabled (default true). Handlers run on HTTP workers; the export
// runs on the storage read lane, which answers through the route's callback.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "core/module/module.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/portability/pie_export.hpp"
#include "storage/account_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

constexpr unsigned kMaxFailures = 5;
constexpr std::chrono::seconds kPenalty{60};
constexpr size_t kMaxTracked = 10000;

class AccountDownload final : public Module {
 public:
  explicit AccountDownload(ModuleContext& ctx) : ctx_(ctx) {
    if (!ctx.raw_config().get_bool("modules.account_download.enabled").value_or(true)) return;
    ctx.on_http("GET", "/account/export",
                [this](const web::Request& req, web::Respond respond) { get(req, std::move(respond)); });
  }

 private:
  static web::Response challenge(int status, std::string text) {
    web::Response r = web::Response::text(status, std::move(text));
    if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Causerie account\", charset=\"UTF-8\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  bool penalised(const std::string& peer) {
    std::lock_guard lock(mu_);
    auto it = failures_.find(peer);
    if (it == failures_.end()) return false;
    if (ctx_.clock().now() - it->second.last > kPenalty) {
      failures_.erase(it);
      return false;
    }
    return it->second.count >= kMaxFailures;
  }

  void failed(const std::string& peer) {
    std::lock_guard lock(mu_);
    if (failures_.size() >= kMaxTracked) failures_.clear();  // bounded; a flood only resets counting
    auto& f = failures_[peer];
    ++f.count;
    f.last = ctx_.clock().now();
  }

  void get(const web::Request& req, web::Respond respond) {
    if (!req.secure) return respond(challenge(403, "The account download is served over HTTPS only.\n"));
    if (penalised(req.peer)) return respond(challenge(429, "Too many failed sign-ins; try again in a minute.\n"));
    std::string auth = req.header("authorization");
    if (auth.size() < 6 || (auth.compare(0, 6, "Basic ") != 0 && auth.compare(0, 6, "basic ") != 0))
      return respond(challenge(401, "Sign in with your address and password.\n"));
    auto decoded = util::base64_decode(std::string_view(auth).substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return respond(challenge(400, "Malformed credentials.\n"));
    std::string name = decoded->substr(0, colon), password = decoded->substr(colon + 1);
    if (name.find('@') == std::string::npos) name += "@" + req.host;
    auto jid = Jid::parse(name);
    if (!jid || !jid->has_localpart() || jid->has_resource() || !ctx_.config().find_host(jid->domainpart())) {
      failed(req.peer);
      return respond(challenge(401, "Unknown address or wrong password.\n"));
    }
    std::string bare = jid->str(), host(jid->domainpart()), peer = req.peer;
    ctx_.storage().read([this, bare, host, password, peer, respond](storage::Storage& db) {
      auto account = db.accounts().get(bare);
      bool ok = false;
      if (account) {
        // Accounts imported from Prosody have SCRAM-SHA-1 keys only.
        ok = account->sha256.iterations
                 ? sasl::verify_password(sasl::ScramHash::kSha256, account->sha256, password)
                 : account->sha1.iterations && sasl::verify_password(sasl::ScramHash::kSha1, account->sha1, password);
      }
      if (!ok) {
        failed(peer);
        respond(challenge(401, "Unknown address or wrong password.\n"));
        return;
      }
      try {
        xml::Element user = portability::export_user(db, bare);
        user.remove_children("scram-credentials", ns::kPieScram);
        web::Response r;
        r.content_type = "application/xml; charset=utf-8";
        r.body = portability::pie_document(host, user);
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + bare + ".xml\"");
        r.headers.emplace_back("Cache-Control", "no-store");
        respond(std::move(r));
      } catch (const std::exception& e) {
        spdlog::error("account download of {}: {}", bare, e.what());
        respond(web::Response::text(500, "The export failed; the server's log says why.\n"));
      }
    });
  }

  struct Failures {
    unsigned count = 0;
    std::chrono::steady_clock::time_point last;
  };

  ModuleContext& ctx_;
  std::mutex mu_;
  std::map<std::string, Failures> failures_;
};

}  // namespace

std::unique_ptr<Module> make_account_download(ModuleContext& ctx) { return std::make_unique<AccountDownload>(ctx); }

}  // namespace causerie::modules
