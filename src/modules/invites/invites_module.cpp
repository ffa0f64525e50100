// XEP-0401 v0.6.0: the invitation landing page on Causerie's HTTP listener (invite_page.hpp renders it).
//   GET  /invite/<token>   the page: what XMPP is, the xmpp: URI and its QR code, the sign-up form
//   POST /invite/<token>   the form: creates the account with one use of the invitation
// The form is CSRF-safe: it carries an HMAC of the token under a key the server draws at start, and a
// cross-site POST (Origin or Sec-Fetch-Site say so) is refused. Invitations are created by
// `causerie invite create` (cli.cpp) and by the XEP-0401 ad-hoc commands (XEP-0050) registered here:
// `urn:xmpp:invite#invite` and `urn:xmpp:invite#create-account`, for a host's admins and, where
// `allow_user_invites` is set, its users.
//
// XEP-0379 (pre-authenticated roster subscription) for someone who has an account already: a presence
// subscription request to the inviter carrying <preauth xmlns='urn:xmpp:pars:0' token='T'/>, where T is a
// valid invitation the inviter made to become contacts (`xmpp:inviter?roster;preauth=T`), is approved
// by the server on the inviter's behalf (XEP-0401 §4.1 leaves approval to the server that issued the
// token): one use of the invitation is taken and the inviter's roster pre-approves the contact and asks
// for their presence in turn (RFC 6121 §3.4, §3.1.2), so the roster's own handling of the request approves
// it and the two become contacts both ways. A token the server does not know, or one used up, leaves the
// request to the inviter's clients (XEP-0379 §3.4: tokens may be made by a client, and are then its to check).
//
// Threads: requests arrive on the HTTP listener's workers; invitations are read and redeemed on the
// storage lanes, whose completions answer. The per-address rate limit is under a mutex.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_map>

#include "core/accounts/accounts.hpp"
#include "core/jid/jid.hpp"
#include "core/module/command_registry.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/registration_limit.hpp"
#include "modules/invites/invite_page.hpp"
#include "modules/invites/invites.hpp"
#include "storage/account_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

using invites::FormProblem;
using invites::InviteState;

constexpr std::string_view kPrefix = "/invite/";

web::Response html(int status, std::string body) {
  web::Response r = web::Response::html(std::move(body));
  r.status = status;
  r.headers.emplace_back("Content-Security-Policy", invites::page_csp());
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

int status_of(InviteState s) { return s == InviteState::kUnknown ? 404 : 410; }

// "host[:port]" of an Origin header ("https://host:port"), "" when it has no such form.
std::string_view origin_authority(std::string_view origin) {
  size_t scheme = origin.find("://");
  return scheme == std::string_view::npos ? std::string_view() : origin.substr(scheme + 3);
}

class InvitesModule final : public Module {
 public:
  explicit InvitesModule(ModuleContext& ctx) : ctx_(ctx), form_key_(util::random_bytes(32)) {
    invites::default_lifetime(ctx.config());  // a bad [modules.invites] expire_after fails at startup
    // The web app (modules/webapp) is served at "/" unless turned off: the page after sign-up links to it.
    if (ctx.raw_config().get_bool("modules.webapp.enabled").value_or(true)) web_app_ = "/";
    ctx.on_http("GET", std::string(kPrefix.substr(0, kPrefix.size() - 1)),
                [this](const web::Request& req, web::Respond respond) { show(req, std::move(respond)); });
    ctx.on_http("POST", std::string(kPrefix.substr(0, kPrefix.size() - 1)),
                [this](const web::Request& req, web::Respond respond) { submit(req, std::move(respond)); });
    register_commands();
    // Before the roster's own handling of the request (priority 100), which it lets go on.
    ctx.hook(StanzaHook::kToAccount, 150, [this](StanzaEvent& ev) { return preauth_subscription(ev.stanza); });
  }

 private:
  // --- XEP-0379 pre-authenticated roster subscription ---

  HookResult preauth_subscription(const Stanza& st) {
    if (st.kind() != StanzaKind::kPresence || st.type() != "subscribe" || st.from().empty()) return HookResult::kContinue;
    const xml::Element* preauth = st.element().child("preauth", "urn:xmpp:pars:0");
    if (!preauth) return HookResult::kContinue;
    std::string token(preauth->attr("token"));
    if (!invites::plausible_token(token)) return HookResult::kContinue;  // §3.4: ignored, as if absent
    Jid inviter = st.to().bare(), contact = st.from().bare();
    if (inviter == contact) return HookResult::kContinue;
    // One use of the invitation, in a write job queued before the roster's (queue order is commit order):
    // the approval below then follows the request into the inviter's roster.
    ctx_.storage().write([this, token, inviter, contact, t = now()](storage::Storage& db)
                             -> storage::StorageService::Completion {
      auto invite = db.invites().invite(token);
      // An invitation to become the inviter's contact: made by the inviter, naming no account to create.
      if (invites::invite_state(invite, t) != InviteState::kValid || !invite->add_contact ||
          invite->creator != inviter.str() || !invite->username.empty())
        return nullptr;
      if (!db.invites().redeem_invite(token, contact.str(), t)) return nullptr;
      // On the inviter's behalf, as their client would answer (RFC 6121): a pre-approval (§3.4), which the
      // roster's handling of this very request, queued behind this job, turns into the approval (the
      // inviter's `subscribed` and current presence go out, the request is not shown), and a request of
      // their own (§3.1.2), which the contact's client or pre-approval answers.
      auto existing = db.roster().item(inviter.str(), contact.str());
      storage::RosterItem item = existing ? *existing : storage::RosterItem{};
      item.jid = contact.str();
      item.hidden = false;
      using storage::Subscription;
      bool has_from = item.subscription == Subscription::kFrom || item.subscription == Subscription::kBoth;
      bool has_to = item.subscription == Subscription::kTo || item.subscription == Subscription::kBoth;
      if (!has_from) item.approved = true;
      bool ask = !has_to && !item.ask;
      if (!has_to) item.ask = true;
      int64_t version = db.roster().put(inviter.str(), item);
      return [this, inviter, contact, token, item, version, ask] {
        spdlog::info("invitation {}…: {} approved as a contact of {} (XEP-0379)", token.substr(0, 4), contact.str(),
                     inviter.str());
        ctx_.router().roster_changed(inviter.str(), item, version);
        if (!ask) return;
        xml::Element p("presence", ns::kClient);
        p.set_attr("type", "subscribe");
        ctx_.router().route(Stanza(std::move(p), inviter, contact));
      };
    });
    return HookResult::kContinue;
  }

  // --- XEP-0401 ad-hoc commands (XEP-0050, through the CommandRegistry) ---

  // Who may create invitations on `host`: its admins, and its own users where `allow_user_invites`;
  // nobody where the host takes no registrations.
  bool may_invite(const CommandCaller& caller, const std::string& host) const {
    if (!invites::host_takes_invites(ctx_.config(), host)) return false;
    if (ctx_.commands().is_admin(caller, host)) return true;
    const HostConfig* h = ctx_.config().find_host(host);
    return h && h->allow_user_invites && caller.jid.has_localpart() && caller.jid.domainpart() == host;
  }

  void register_commands() {
    auto allowed = [this](const CommandCaller& c, const std::string& host) { return may_invite(c, host); };
    // §4.1: a user invitation, at once: the caller becomes the invitee's contact.
    ctx_.commands().add({.node = "urn:xmpp:invite#invite", .name = "Invite user", .host = "", .allowed = allowed,
                         .handler = [this](CommandCall& call) { issue(call, "", true); }});
    // §4.4: account creation, with a username chosen by the caller (or left to the invitee) and
    // whether the new account gets the caller as a contact.
    ctx_.commands().add({.node = "urn:xmpp:invite#create-account", .name = "Create account", .host = "",
                         .allowed = allowed, .handler = [this](CommandCall& call) { create_account(call); }});
  }

  void create_account(CommandCall& call) {
    if (call.stage == 0) {
      xml::DataForm form;
      form.title = "Create an account invitation";
      form.instructions = "Leave the username empty to let the invitee choose it.";
      form.add("username", "text-single", {}, "Username");
      form.add("roster-subscription", "boolean", {"0"}, "Roster subscription");
      call.reply.form(std::move(form));
      return;
    }
    std::string name = call.submitted->text("username");
    if (!name.empty()) {
      auto prepped = prep_localpart(name);
      if (!prepped) {
        call.reply.done({{CommandNote::kError, "'" + name + "' is not a valid username"}});
        return;
      }
      name = *prepped;
    }
    issue(call, name, call.submitted->boolean("roster-subscription"));
  }

  // Stores a new invitation made by the caller and completes the command with the
  // urn:xmpp:invite#invitation result (uri, landing-url, expire).
  void issue(CommandCall& call, const std::string& username, bool add_contact) {
    storage::Invite i;
    i.token = invites::new_token();
    i.host = call.host;
    i.username = username;
    i.uses_left = 1;
    i.created = now();
    auto lifetime = invites::default_lifetime(ctx_.config());
    i.expires = lifetime.count() ? i.created + lifetime.count() : 0;
    bool local_caller = call.caller.jid.has_localpart() && ctx_.router().is_local_host(call.caller.jid.domainpart());
    if (local_caller) i.creator = call.caller.jid.bare().str();
    i.add_contact = add_contact && local_caller;
    std::string base = invites::invite_base_url(ctx_.config());
    ctx_.storage().write([i, base, reply = call.reply](storage::Storage& db) -> storage::StorageService::Completion {
      std::string taken = i.username.empty() ? "" : i.username + "@" + i.host;
      if (!taken.empty() && (db.accounts().exists(taken) || invites::reserved_for_another(db, i.host, i.username, "", i.created))) {
        reply.done({{CommandNote::kError, "the account " + taken + " exists or is reserved already"}});
        return nullptr;
      }
      if (!db.invites().create_invite(i)) {
        reply.fail(StanzaError(StanzaErrorCondition::kInternalServerError));
        return nullptr;
      }
      return [i, base, reply] {
        xml::DataForm result;
        result.type = "result";
        result.add("FORM_TYPE", "hidden", {"urn:xmpp:invite#invitation"});
        result.add("uri", "text-single", {invites::invite_uri(i, true)}, "Invitation URI");
        if (!base.empty()) result.add("landing-url", "text-single", {invites::landing_url(base, i.token)}, "Invitation web page");
        if (i.expires) result.add("expire", "text-single", {util::format_datetime(util::from_unix_seconds(i.expires))}, "Valid until");
        reply.done({}, std::move(result));
      };
    });
  }


  std::string form_token(std::string_view token) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), form_key_.data(), static_cast<int>(form_key_.size()),
         reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &len);
    return util::hex_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
  }

  static std::string token_of(const web::Request& req) {
    std::string_view path = req.path;
    if (!path.starts_with(kPrefix)) return {};
    std::string token(path.substr(kPrefix.size()));
    return invites::plausible_token(token) ? token : std::string();
  }

  int64_t now() const { return util::unix_seconds(ctx_.clock().wall()); }

  invites::InvitePage model(const storage::Invite& i, invites::Lang lang) const {
    invites::InvitePage p;
    p.lang = lang;
    p.host = i.host;
    p.inviter = i.add_contact ? i.creator : std::string();
    p.uri = invites::invite_uri(i, true);
    p.action = std::string(kPrefix) + i.token;
    p.csrf = form_token(i.token);
    p.username = i.username;
    p.name_fixed = !i.username.empty();
    if (i.expires) p.expires = util::format_datetime(util::from_unix_seconds(i.expires));
    return p;
  }

  // Reads the invitation and answers with the page, or with why it cannot be used.
  void show(const web::Request& req, web::Respond respond) {
    invites::Lang lang = invites::pick_language(req.header("accept-language"));
    std::string token = token_of(req);
    if (token.empty()) return respond(html(404, invites::render_unusable(lang, InviteState::kUnknown)));
    ctx_.storage().read([this, token, lang, t = now(), respond = std::move(respond)](storage::Storage& db) {
      auto invite = db.invites().invite(token);
      InviteState state = invites::invite_state(invite, t);
      if (state == InviteState::kValid && !invites::host_takes_invites(ctx_.config(), invite->host))
        state = InviteState::kUnknown;
      if (state != InviteState::kValid) return respond(html(status_of(state), invites::render_unusable(lang, state)));
      respond(html(200, invites::render_invite(model(*invite, lang))));
    });
  }

  // Whether the request comes from this site's own page (CSRF): browsers send Sec-Fetch-Site, and Origin
  // on every POST; either naming another site refuses it. The page's `no-referrer` policy makes Chromium
  // send `Origin: null` for its own form, which names no site: Sec-Fetch-Site and the form token decide.
  static bool same_site(const web::Request& req) {
    std::string site = req.header("sec-fetch-site");
    if (!site.empty() && site != "same-origin" && site != "none") return false;
    std::string origin = req.header("origin");
    if (origin.empty() || origin == "null") return true;
    std::string host = req.header("host");
    return !host.empty() && origin_authority(origin) == host;
  }

  void submit(const web::Request& req, web::Respond respond) {
    invites::Lang lang = invites::pick_language(req.header("accept-language"));
    std::string token = token_of(req);
    if (token.empty()) return respond(html(404, invites::render_unusable(lang, InviteState::kUnknown)));
    web::Request form;  // the body is application/x-www-form-urlencoded, read like a query
    form.query = req.body;
    std::string csrf = form.param("csrf");
    std::string want = form_token(token);
    FormProblem problem = FormProblem::kNone;
    std::string typed = form.param("username");
    std::string password = form.param("password");
    auto local = prep_localpart(typed);
    if (!same_site(req) || csrf.size() != want.size() || CRYPTO_memcmp(csrf.data(), want.data(), want.size()) != 0)
      problem = FormProblem::kStaleForm;
    else if (!local) problem = FormProblem::kBadName;
    else if (password != form.param("password2")) problem = FormProblem::kPasswordsDiffer;
    else if (password_problem(password)) problem = FormProblem::kBadPassword;
    else if (!limit_.allow(req.peer, ctx_.config().limits.registrations_per_hour)) problem = FormProblem::kTooMany;
    std::string peer = req.peer;
    // The SCRAM keys are derived here, on the listener's worker, not on the storage write lane; the host is
    // the invitation's, known only in the job (a wrong one is refused there and these keys dropped).
    storage::Account account;
    if (problem == FormProblem::kNone) account = make_account(*local + "@", password, ctx_.config().scram_iterations);
    ctx_.storage().write([this, token, lang, t = now(), problem, typed, local = local.value_or(""), account,
                          peer, respond = std::move(respond)](storage::Storage& db) mutable -> storage::StorageService::Completion {
      auto invite = db.invites().invite(token);
      InviteState state = invites::invite_state(invite, t);
      if (state == InviteState::kValid && !invites::host_takes_invites(ctx_.config(), invite->host))
        state = InviteState::kUnknown;
      if (state != InviteState::kValid) {
        respond(html(status_of(state), invites::render_unusable(lang, state)));
        return nullptr;
      }
      auto again = [&](FormProblem p, int status) {
        invites::InvitePage page = model(*invite, lang);
        page.problem = p;
        if (!page.name_fixed) page.username = typed;
        respond(html(status, invites::render_invite(page)));
      };
      if (problem != FormProblem::kNone) {
        again(problem, problem == FormProblem::kTooMany ? 429 : 400);
        return nullptr;
      }
      std::string bare = local + "@" + invite->host;
      account.jid = bare;
      invites::Redeemed done = invites::redeem(db, token, account, t);
      switch (done.result) {
        case invites::Redeemed::Result::kCreated: break;
        case invites::Redeemed::Result::kTaken: again(FormProblem::kTaken, 409); return nullptr;
        case invites::Redeemed::Result::kWrongName: again(FormProblem::kWrongName, 400); return nullptr;
        case invites::Redeemed::Result::kInvalid: again(FormProblem::kUsedUp, 410); return nullptr;
      }
      return [this, lang, bare, peer, done, respond] {
        spdlog::info("invites: {} created from {} through the invitation page", bare, peer);
        if (done.contacts()) {
          ctx_.router().roster_changed(done.creator, done.creator_item, done.creator_version);
          ctx_.router().roster_changed(bare, done.invitee_item, done.invitee_version);
        }
        respond(html(201, invites::render_created(lang, bare, done.creator, web_app_)));
      };
    });
  }

  ModuleContext& ctx_;
  const std::string form_key_;
  std::string web_app_;  // path of the web app, "" when it is off
  RegistrationLimit limit_;
};

}  // namespace

std::unique_ptr<Module> make_invites(ModuleContext& ctx) { return std::make_unique<InvitesModule>(ctx); }

}  // namespace causerie::modules
