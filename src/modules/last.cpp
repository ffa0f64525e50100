// XEP-0012 v2.0: last activity. To the server: its uptime. To an account: 0 while it has an available
// resource, otherwise the seconds since its last session ended and the status it left with; only
// for the account itself and contacts allowed to see its presence (subscription "from" or "both").
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "storage/key_value_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

class LastModule final : public Module {
 public:
  explicit LastModule(ModuleContext& ctx)
      : ctx_(ctx), started_(ctx.clock().now()), slot_(ctx.allocate_session_slot()) {
    ctx.on_iq(IqScope::kServer, false, ns::kLast, [this](IqRequest& r) {
      auto up = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().now() - started_);
      xml::Element q("query", ns::kLast);
      q.set_attr("seconds", std::to_string(up.count()));
      r.reply.result(std::move(q));
    });
    ctx.on_iq(IqScope::kAccount, false, ns::kLast, [this](IqRequest& r) { account(r); });
    ctx.disco().add_server_feature(ns::kLast);
    // Remember how the last session left: its unavailable status, or a plain disconnect.
    // Only a session that was online (sent available presence) ends an activity worth recording: a
    // client that logs in for one request and leaves does not cost a disk write.
    ctx.hook(StanzaHook::kFromClient, 200, [this](StanzaEvent& ev) {
      if (!ev.origin || !ev.stanza.is_presence() || !ev.stanza.to().empty()) return HookResult::kContinue;
      std::string_view type = ev.stanza.type();
      if (type.empty()) {
        ev.origin->set_extension(slot_, std::make_unique<WasOnline>());
      } else if (type == "unavailable" && ev.origin->extension(slot_)) {
        ev.origin->set_extension(slot_, nullptr);
        record(std::string(ev.stanza.from().bare_view()),
               ev.stanza.element().child_text("status", ev.stanza.element().ns()));
      }
      return HookResult::kContinue;
    });
    ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) {
      if (!s.extension(slot_)) return;
      std::string bare(s.jid().bare_view());
      if (!ctx_.sessions().has_sessions(bare)) record(bare, {});
    });
  }

 private:
  void record(std::string owner, std::string status) {
    // The server's clock (injected, so that tests move it instead of waiting).
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    ctx_.storage().write([owner, status, now](storage::Storage& db) -> storage::StorageService::Completion {
      // A plain disconnect keeps the status of an earlier explicit unavailable.
      std::string keep = status;
      if (keep.empty()) {
        if (auto old = db.kv().get(owner, "last", "")) {
          size_t nl = old->find('\n');
          if (nl != std::string::npos) keep = old->substr(nl + 1);
        }
      }
      db.kv().put(owner, "last", "", std::to_string(now) + "\n" + keep);
      return nullptr;
    });
  }

  void account(IqRequest& r) {
    std::string owner = r.account().str();
    std::string asker(r.from().bare_view());
    bool online = false;
    for (const auto& res : ctx_.sessions().resources(owner)) online = online || res.available;
    int64_t now = util::unix_seconds(ctx_.clock().wall());
    ctx_.storage().read([reply = r.reply, owner, asker, online, now](storage::Storage& db) {
      if (asker != owner) {
        auto item = db.roster().item(owner, asker);
        bool allowed = item && (item->subscription == storage::Subscription::kFrom ||
                                item->subscription == storage::Subscription::kBoth);
        if (!allowed) {
          reply.error(StanzaError(StanzaErrorCondition::kForbidden));
          return;
        }
      }
      xml::Element q("query", ns::kLast);
      if (online) {
        q.set_attr("seconds", "0");
      } else if (auto last = db.kv().get(owner, "last", "")) {
        size_t nl = last->find('\n');
        int64_t when = std::stoll(last->substr(0, nl));
        q.set_attr("seconds", std::to_string(std::max<int64_t>(0, now - when)));
        if (nl != std::string::npos && nl + 1 < last->size()) q.add_text(last->substr(nl + 1));
      } else {
        reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
        return;
      }
      reply.result(std::move(q));
    });
  }

  struct WasOnline final : SessionExtension {};

  ModuleContext& ctx_;
  std::chrono::steady_clock::time_point started_;
  size_t slot_;  // set while the session is online
};

}  // namespace

std::unique_ptr<Module> make_last(ModuleContext& ctx) { return std::make_unique<LastModule>(ctx); }

}  // namespace causerie::modules
