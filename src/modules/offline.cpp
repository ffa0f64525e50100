// XEP-0160 v1.0.1: messages for an account with no available resource are stored, stamped with
// XEP-0203 <delay/>, and delivered at the account's next initial presence.
#include <spdlog/spdlog.h>

#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/all_modules.hpp"
#include "storage/account_store.hpp"
#include "storage/offline_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

constexpr const char* kHints = "urn:xmpp:hints";
constexpr const char* kChatStates = "http://jabber.org/protocol/chatstates";

// XEP-0160 §3 and XEP-0334: store messages with content; not those marked no-store, nor bare chat states.
bool worth_storing(const xml::Element& msg) {
  bool content = false;
  for (const auto& c : msg.nodes()) {
    if (c.is_text()) continue;
    if (c.ns() == kHints && (c.name() == "no-store" || c.name() == "no-permanent-store")) return false;
    if (c.ns() == kHints || c.ns() == kChatStates || c.name() == "thread") continue;
    content = true;
  }
  return content;
}

class OfflineModule final : public Module {
 public:
  explicit OfflineModule(ModuleContext& ctx) : ctx_(ctx) {
    ctx.hook(StanzaHook::kOffline, 0, [this](StanzaEvent& ev) { return store(ev.stanza); });
    ctx.on_session(SessionHook::kAvailable, [this](ClientSession& s) { deliver(s); });
    ctx.disco().add_server_feature("msgoffline");
  }

 private:
  HookResult store(Stanza& st) {
    if (!worth_storing(st.element())) return HookResult::kHandled;  // dropped silently
    xml::Element msg = st.element();
    msg.remove_children("delay", ns::kDelay);
    xml::Element& delay = msg.add_child("delay", ns::kDelay);
    delay.set_attr("from", std::string(st.to().domainpart()));
    delay.set_attr("stamp", util::format_datetime(ctx_.clock().wall()));
    delay.add_text("Offline storage");
    std::string owner(st.to().bare_view());
    std::string xml = xml::to_string(msg);
    size_t limit = ctx_.config().limits.max_offline_messages;
    auto original = std::make_shared<Stanza>(std::move(st));
    ctx_.storage().write([this, owner, xml, limit, original](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.accounts().exists(owner)) {
        // RFC 6121 §8.5.1: no such user.
        return [this, original] { ctx_.router().bounce(*original, StanzaError(StanzaErrorCondition::kServiceUnavailable)); };
      }
      if (!db.offline().push(owner, xml, limit)) {
        return [this, original] {
          ctx_.router().bounce(*original, StanzaError(StanzaErrorCondition::kServiceUnavailable,
                                                      "the recipient's offline storage is full"));
        };
      }
      return nullptr;
    });
    return HookResult::kHandled;
  }

  void deliver(ClientSession& session) {
    std::string owner(session.jid().bare_view());
    SessionRef ref = session.ref();
    ctx_.storage().read([this, owner, ref](storage::Storage& db) {
      auto pending = db.offline().pending(owner);
      for (const auto& m : pending) {
        // Issue 13: a message leaves storage once the client has it — its XEP-0198 acknowledgement, or
        // its write to the connection without stream management (then a crash right after the write
        // can still lose it: docs/FEATURES.md).
        OutStanza out{std::make_shared<const std::string>(m.xml), {}, StanzaKind::kMessage};
        int64_t id = m.id;
        out.on_acknowledged = std::make_shared<const std::function<void()>>([this, owner, id] {
          ctx_.storage().write([owner, id](storage::Storage& w) -> storage::StorageService::Completion {
            w.offline().remove_up_to(owner, id);
            return nullptr;
          });
        });
        ctx_.dispatcher().deliver(ref, std::move(out));
      }
    });
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_offline(ModuleContext& ctx) { return std::make_unique<OfflineModule>(ctx); }

}  // namespace causerie::modules
