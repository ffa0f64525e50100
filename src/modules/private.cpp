// XEP-0049 v1.2: private XML storage, one fragment per namespace, readable only by its account.
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/all_modules.hpp"
#include "core/xml/fragment.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

bool reserved(const std::string& ns) {
  // XEP-0049 §3: the storage namespaces themselves, and none, cannot be stored.
  return ns.empty() || ns == ns::kPrivate || ns == ns::kClient || ns == ns::kServer;
}

class PrivateModule final : public Module {
 public:
  explicit PrivateModule(ModuleContext& ctx) : ctx_(ctx) {
    ctx.on_iq(IqScope::kAccount, false, ns::kPrivate, [this](IqRequest& r) { get(r); });
    ctx.on_iq(IqScope::kAccount, true, ns::kPrivate, [this](IqRequest& r) { set(r); });
  }

 private:
  bool own(IqRequest& r) {
    if (r.from().bare() == r.account()) return true;
    r.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
    return false;
  }

  void get(IqRequest& r) {
    if (!own(r)) return;
    auto children = r.payload().children();
    if (children.size() != 1 || reserved(children.front()->ns())) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "ask for exactly one namespace"));
      return;
    }
    xml::Element asked = *children.front();
    std::string owner = r.account().str();
    ctx_.storage().read([reply = r.reply, owner, asked](storage::Storage& db) {
      xml::Element q("query", ns::kPrivate);
      auto stored = db.kv().get(owner, "private", asked.ns());
      std::optional<xml::Element> el = stored ? xml::parse_fragment(*stored) : std::nullopt;
      q.add(el ? std::move(*el) : asked);  // §3.3: nothing stored returns the empty element asked for
      reply.result(std::move(q));
    });
  }

  void set(IqRequest& r) {
    if (!own(r)) return;
    auto children = r.payload().children();
    if (children.empty()) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable));
      return;
    }
    std::vector<std::pair<std::string, std::string>> docs;
    for (const xml::Element* c : children) {
      if (reserved(c->ns())) {
        r.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "that namespace cannot be stored"));
        return;
      }
      docs.emplace_back(c->ns(), xml::to_string(*c));
    }
    std::string owner = r.account().str();
    ctx_.storage().write([reply = r.reply, owner, docs](storage::Storage& db) -> storage::StorageService::Completion {
      for (const auto& [ns, xml] : docs) db.kv().put(owner, "private", ns, xml);
      return [reply] { reply.result(); };
    });
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_private(ModuleContext& ctx) { return std::make_unique<PrivateModule>(ctx); }

}  // namespace causerie::modules
