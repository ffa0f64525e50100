// XEP-0077 v2.4: in-band registration (open or closed per host, XEP-0479 advising closed), password
// change, and account removal.
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/accounts/accounts.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/account_actions.hpp"
#include "modules/all_modules.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

class RegisterModule final : public Module {
 public:
  explicit RegisterModule(ModuleContext& ctx) : ctx_(ctx) {
    const Config& config = ctx.config();
    ctx.add_stream_feature(FeatureStage::kPreAuth, [this, &config](const ClientSession& s) -> std::optional<xml::Element> {
      // Offered only where it can be used: open host, and over TLS when the server requires it.
      if (!any_open() || (config.require_encryption && !s.secure())) return std::nullopt;
      return xml::Element("register", ns::kRegisterFeature);
    });
    ctx.on_preauth_iq(false, ns::kRegister, [this](IqRequest& r) { form(r); });
    ctx.on_preauth_iq(true, ns::kRegister, [this](IqRequest& r) { create(r); });
    for (auto scope : {IqScope::kServer, IqScope::kAccount}) {
      ctx.on_iq(scope, false, ns::kRegister, [this](IqRequest& r) { registered(r); });
      ctx.on_iq(scope, true, ns::kRegister, [this](IqRequest& r) { change(r); });
    }
    ctx.disco().add_server_feature(ns::kRegister);
  }

 private:
  bool any_open() const {
    for (const auto& h : ctx_.config().hosts)
      if (h.registration_open) return true;
    return false;
  }

  bool open_for(std::string_view host) const {
    const HostConfig* h = ctx_.config().find_host(host);
    return h && h->registration_open;
  }

  void form(IqRequest& r) {
    if (!open_for(r.to().domainpart())) {
      r.reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable, "registration is closed on this server"));
      return;
    }
    xml::Element q("query", ns::kRegister);
    q.add_text_child("instructions", "Choose a username and password for use with this service.");
    q.add_child("username");
    q.add_child("password");
    r.reply.result(std::move(q));
  }

  // Bounds in-band registrations per address (XEP-0077 §11: abuse).
  bool allow_from(const std::string& address) {
    unsigned limit = ctx_.config().limits.registrations_per_hour;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& v = recent_[address];
    std::erase_if(v, [&](auto t) { return now - t > std::chrono::hours(1); });
    if (v.size() >= limit) return false;
    v.push_back(now);
    return true;
  }

  void create(IqRequest& r) {
    std::string host(r.to().domainpart());
    if (!open_for(host)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "registration is closed on this server"));
      return;
    }
    if (ctx_.config().require_encryption && r.origin && !r.origin->secure()) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAuthorized, "use TLS first"));
      return;
    }
    const xml::Element& q = r.payload();
    if (q.child("remove", ns::kRegister)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kRegistrationRequired));
      return;
    }
    const xml::Element* u = q.child("username", ns::kRegister);
    const xml::Element* p = q.child("password", ns::kRegister);
    if (!u || !p) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "username and password are required"));
      return;
    }
    auto local = prep_localpart(u->text());
    if (!local) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "that username is not valid"));
      return;
    }
    std::string password = p->text();
    if (auto problem = password_problem(password)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, *problem));
      return;
    }
    std::string address = r.origin ? r.origin->peer_address() : "";
    if (!allow_from(address)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many registrations; try later"));
      return;
    }
    std::string bare = *local + "@" + host;
    storage::Account account = make_account(bare, password, ctx_.config().scram_iterations);
    ctx_.storage().write([reply = r.reply, account, bare, address](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.accounts().create(account)) {
        reply.error(StanzaError(StanzaErrorCondition::kConflict, "that username is taken"));
        return nullptr;
      }
      return [reply, bare, address] {
        spdlog::info("register: {} created from {}", bare, address);
        reply.result();
      };
    });
  }

  void registered(IqRequest& r) {
    Jid account = r.from().bare();
    if (!r.to().empty() && r.to() != account.domain() && r.to() != account) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
      return;
    }
    xml::Element q("query", ns::kRegister);
    q.add_child("registered");
    q.add_text_child("username", account.localpart());
    q.add_child("password");
    r.reply.result(std::move(q));
  }

  void change(IqRequest& r) {
    Jid account = r.from().bare();
    if (!r.to().empty() && r.to() != account.domain() && r.to() != account) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
      return;
    }
    const xml::Element& q = r.payload();
    std::string owner = account.str();
    if (q.child("remove", ns::kRegister)) {
      if (q.element_count() != 1) {
        r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "<remove/> must be alone"));
        return;
      }
      ctx_.storage().write([this, reply = r.reply, owner](storage::Storage& db) -> storage::StorageService::Completion {
        auto roster = db.roster().items(owner);
        if (!db.accounts().remove(owner)) {
          reply.error(StanzaError(StanzaErrorCondition::kRegistrationRequired));
          return nullptr;
        }
        return [this, reply, owner, roster] {
          ctx_.credentials().invalidate(owner);
          spdlog::info("register: {} removed", owner);
          reply.result();
          after_account_removed(ctx_, owner, roster);
        };
      });
      return;
    }
    const xml::Element* u = q.child("username", ns::kRegister);
    const xml::Element* p = q.child("password", ns::kRegister);
    if (!u || !p || prep_localpart(u->text()).value_or("") != std::string(account.localpart())) {
      r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "username (this account) and password are required"));
      return;
    }
    std::string password = p->text();
    if (auto problem = password_problem(password)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, *problem));
      return;
    }
    storage::Account creds = make_account(owner, password, ctx_.config().scram_iterations);
    ctx_.storage().write([this, reply = r.reply, owner, creds](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.accounts().set_credentials(owner, creds.sha1, creds.sha256)) {
        reply.error(StanzaError(StanzaErrorCondition::kRegistrationRequired));
        return nullptr;
      }
      return [this, reply, owner] {
        ctx_.credentials().invalidate(owner);
        spdlog::info("register: password changed for {}", owner);
        reply.result();
      };
    });
  }

  ModuleContext& ctx_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::chrono::steady_clock::time_point>> recent_;
};

}  // namespace

std::unique_ptr<Module> make_register(ModuleContext& ctx) { return std::make_unique<RegisterModule>(ctx); }

}  // namespace causerie::modules
