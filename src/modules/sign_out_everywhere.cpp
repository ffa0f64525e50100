// "Sign out everywhere" for the user himself: a XEP-0050 ad-hoc command on the user's own host
// (node urn:causerie:account#sign-out-everywhere, allowed to the host's local users for their own
// account only) that revokes every XEP-0484 FAST token of the caller's account and then ends its other
// sessions with <not-authorized/>; the session that ran it stays. A client that kept a token (the web
// app keeps nothing else) can then no longer come back without the password. Single stage: it completes
// at once (XEP-0050 §3.3), with a note saying how many tokens and sessions went.
//
// Why a command and not a SASL2 <fast invalidate='true'/>: invalidate drops one client's token, at its
// own login; this drops all of them, from any running session. The tokens go first (storage write), the
// sessions only once that committed, so that none of them reconnects with a token still valid.
//
// Handlers run on the thread the iq arrived on; the completion runs on the storage thread and reaches the
// sessions through the SessionDispatcher.
#include <string>

#include "core/module/client_session.hpp"
#include "core/module/module.hpp"
#include "modules/all_modules.hpp"
#include "storage/fast_token_store.hpp"
#include "storage/storage.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

constexpr const char* kNode = "urn:causerie:account#sign-out-everywhere";

class SignOutEverywhere final : public Module {
 public:
  explicit SignOutEverywhere(ModuleContext& ctx) : ctx_(ctx) {
    ctx.commands().add({.node = kNode, .name = "Sign out everywhere", .host = "",
                        .allowed = CommandRegistry::local_users(), .handler = [this](CommandCall& call) { run(call); }});
  }

 private:
  void run(CommandCall& call) {
    Jid caller = call.caller.jid;
    std::string bare = caller.bare().str();
    ctx_.storage().write([this, caller, bare, reply = call.reply](storage::Storage& db) -> storage::StorageService::Completion {
      size_t tokens = db.fast_tokens().revoke_all(bare);
      return [this, caller, bare, tokens, reply] {
        size_t sessions = 0;
        for (const auto& r : ctx_.sessions().resources(bare)) {
          if (caller.has_resource() && r.resource == caller.resourcepart()) continue;  // the caller stays
          ++sessions;
          ctx_.dispatcher().with_session(r.ref, [](ClientSession& s) {
            s.close(StreamErrorCondition::kNotAuthorized, "signed out everywhere");
          });
        }
        reply.done({{CommandNote::kInfo, std::to_string(tokens) + " login token(s) revoked, " + std::to_string(sessions) +
                                             " other session(s) ended"}});
      };
    });
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_sign_out_everywhere(ModuleContext& ctx) { return std::make_unique<SignOutEverywhere>(ctx); }

}  // namespace causerie::modules
