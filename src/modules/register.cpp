// XEP-0077 v2.4: in-band registration (per host `open`, `invite` or `closed`, XEP-0479 advising closed),
// password change, and account removal; XEP-0445 v0.2 pre-authenticated registration: a client presents an
// invitation token (<preauth xmlns='urn:xmpp:pars:0'/>) before registering, and the account is created
// with one use of that invitation (XEP-0401: the inviter and invitee then become contacts).
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/accounts/accounts.hpp"
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/account_actions.hpp"
#include "modules/all_modules.hpp"
#include "modules/registration_limit.hpp"
#include "modules/invites/invites.hpp"
#include "storage/account_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

// The invitation a stream presented and the server accepted (XEP-0445 §4), on the session's thread.
struct PresentedToken final : SessionExtension {
  std::string token;
};

class RegisterModule final : public Module {
 public:
  explicit RegisterModule(ModuleContext& ctx) : ctx_(ctx), slot_(ctx.allocate_session_slot()) {
    const Config& config = ctx.config();
    // Offered only where it can be used: the stream's host takes registrations (by invitation at least),
    // and over TLS when the server requires it. XEP-0445 §3: the ibr-token feature tells clients that tokens are accepted.
    ctx.add_stream_feature(FeatureStage::kPreAuth, [this, &config](const ClientSession& s) -> std::optional<xml::Element> {
      if (policy(s.stream_host()) < RegistrationPolicy::kInvite || (config.require_encryption && !s.secure()))
        return std::nullopt;
      return xml::Element("register", ns::kIbrToken);
    });
    ctx.add_stream_feature(FeatureStage::kPreAuth, [this, &config](const ClientSession& s) -> std::optional<xml::Element> {
      if (policy(s.stream_host()) < RegistrationPolicy::kInvite || (config.require_encryption && !s.secure()))
        return std::nullopt;
      return xml::Element("register", ns::kRegisterFeature);
    });
    ctx.on_preauth_iq(false, ns::kRegister, [this](IqRequest& r) { form(r); });
    ctx.on_preauth_iq(true, ns::kRegister, [this](IqRequest& r) { create(r); });
    ctx.on_preauth_iq(true, ns::kPars, [this](IqRequest& r) { preauth(r); });
    for (auto scope : {IqScope::kServer, IqScope::kAccount}) {
      ctx.on_iq(scope, false, ns::kRegister, [this](IqRequest& r) { registered(r); });
      ctx.on_iq(scope, true, ns::kRegister, [this](IqRequest& r) { change(r); });
    }
    ctx.disco().add_server_feature(ns::kRegister);
  }

 private:
  // Whether some host's policy is at least `p` (closed < invite < open).
  bool any_host(RegistrationPolicy p) const {
    for (const auto& h : ctx_.config().hosts)
      if (h.registration >= p) return true;
    return false;
  }

  RegistrationPolicy policy(std::string_view host) const {
    const HostConfig* h = ctx_.config().find_host(host);
    return h ? h->registration : RegistrationPolicy::kClosed;
  }

  std::string presented_token(const IqRequest& r) const {
    auto* t = r.origin ? r.origin->extension_as<PresentedToken>(slot_) : nullptr;
    return t ? t->token : std::string();
  }

  void form(IqRequest& r) {
    RegistrationPolicy p = policy(r.to().domainpart());
    if (p == RegistrationPolicy::kClosed) {
      r.reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable, "registration is closed on this server"));
      return;
    }
    xml::Element q("query", ns::kRegister);
    q.add_text_child("instructions", p == RegistrationPolicy::kInvite && presented_token(r).empty()
                                         ? "Registration on this server needs an invitation."
                                         : "Choose a username and password for use with this service.");
    q.add_child("username");
    q.add_child("password");
    r.reply.result(std::move(q));
  }

  // XEP-0445 §4: the token is checked now, expiry included; a use is taken only by the registration.
  void preauth(IqRequest& r) {
    std::string host(r.to().domainpart());
    std::string token(r.payload().attr("token"));
    StanzaError invalid(StanzaErrorCondition::kItemNotFound, "The provided token is invalid or expired");
    if (r.payload().name() != "preauth" || policy(host) == RegistrationPolicy::kClosed || !r.origin) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "registration is closed on this server"));
      return;
    }
    if (!invites::plausible_token(token)) {
      r.reply.error(invalid);
      return;
    }
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    ctx_.storage().read([this, reply = r.reply, ref = r.origin->ref(), token, host, now, invalid](storage::Storage& db) {
      auto invite = db.invites().invite(token);
      if (invites::invite_state(invite, now) != invites::InviteState::kValid || invite->host != host) {
        spdlog::info("register: {} token refused ({})", host, invites::describe(invites::invite_state(invite, now)));
        reply.error(invalid);
        return;
      }
      ctx_.dispatcher().with_session(ref, [this, reply, token](ClientSession& s) {
        auto t = std::make_unique<PresentedToken>();
        t->token = token;
        s.set_extension(slot_, std::move(t));
        reply.result();
      });
    });
  }

  void create(IqRequest& r) {
    std::string host(r.to().domainpart());
    RegistrationPolicy p = policy(host);
    std::string token = presented_token(r);
    if (p == RegistrationPolicy::kClosed) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "registration is closed on this server"));
      return;
    }
    if (p == RegistrationPolicy::kInvite && token.empty()) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "registration on this server needs an invitation"));
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
    const xml::Element* pw = q.child("password", ns::kRegister);
    if (!u || !pw) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "username and password are required"));
      return;
    }
    auto local = prep_localpart(u->text());
    if (!local) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "that username is not valid"));
      return;
    }
    std::string password = pw->text();
    if (auto problem = password_problem(password)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, *problem));
      return;
    }
    std::string address = r.origin ? r.origin->peer_address() : "";
    if (!limit_.allow(address, ctx_.config().limits.registrations_per_hour)) {
      r.reply.error(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many registrations; try later"));
      return;
    }
    std::string bare = *local + "@" + host;
    storage::Account account = make_account(bare, password, ctx_.config().scram_iterations);
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    ctx_.storage().write([this, reply = r.reply, account, bare, address, token, host, local = *local,
                          now](storage::Storage& db) -> storage::StorageService::Completion {
      if (token.empty()) {
        // Open registration: a name an invitation reserves is not free (XEP-0445 §5).
        if (invites::reserved_for_another(db, host, local, "", now) || !db.accounts().create(account)) {
          reply.error(StanzaError(StanzaErrorCondition::kConflict, "that username is taken"));
          return nullptr;
        }
        return [reply, bare, address] {
          spdlog::info("register: {} created from {}", bare, address);
          reply.result();
        };
      }
      invites::Redeemed done = invites::redeem(db, token, account, now);
      switch (done.result) {
        case invites::Redeemed::Result::kCreated: break;
        case invites::Redeemed::Result::kTaken:
          reply.error(StanzaError(StanzaErrorCondition::kConflict, "that username is taken"));
          return nullptr;
        case invites::Redeemed::Result::kWrongName:
          reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "this invitation is for another username"));
          return nullptr;
        case invites::Redeemed::Result::kInvalid:
          reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "the invitation has been used up"));
          return nullptr;
      }
      return [this, reply, bare, address, done] {
        spdlog::info("register: {} created from {} with an invitation", bare, address);
        if (done.contacts()) {
          ctx_.router().roster_changed(done.creator, done.creator_item, done.creator_version);
          ctx_.router().roster_changed(bare, done.invitee_item, done.invitee_version);
        }
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
  size_t slot_;
  RegistrationLimit limit_;
};

}  // namespace

std::unique_ptr<Module> make_register(ModuleContext& ctx) { return std::make_unique<RegisterModule>(ctx); }

}  // namespace causerie::modules
