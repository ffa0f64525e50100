// XEP-0054 v1.2: vcard-temp. Anyone may read an account's vCard; only the account may change it.
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "core/xml/stream_parser.hpp"
#include "modules/all_modules.hpp"
#include "core/xml/fragment.hpp"
#include "storage/account_store.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

class VcardModule final : public Module {
 public:
  explicit VcardModule(ModuleContext& ctx) : ctx_(ctx) {
    ctx.on_iq(IqScope::kAccount, false, ns::kVcard, [this](IqRequest& r) { get(r); });
    ctx.on_iq(IqScope::kAccount, true, ns::kVcard, [this](IqRequest& r) { set(r); });
    ctx.disco().add_server_feature(ns::kVcard);
  }

 private:
  void get(IqRequest& r) {
    std::string owner = r.account().str();
    bool self = r.from().bare().str() == owner;
    ctx_.storage().read([reply = r.reply, owner, self](storage::Storage& db) {
      auto stored = db.kv().get(owner, "vcard", "");
      if (stored) {
        if (auto el = xml::parse_fragment(*stored)) {
          reply.result(std::move(*el));
          return;
        }
      }
      if (!self && !db.accounts().exists(owner)) {
        reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));  // RFC 6121 §8.5.1
        return;
      }
      // XEP-0054 §3.1: no vCard yet is an empty one.
      reply.result(xml::Element("vCard", ns::kVcard));
    });
  }

  void set(IqRequest& r) {
    std::string owner = r.account().str();
    if (r.from().bare().str() != owner) {
      r.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "only the account itself may set its vCard"));
      return;
    }
    if (r.payload().name() != "vCard") {
      r.reply.error(StanzaError(StanzaErrorCondition::kBadRequest));
      return;
    }
    std::string xml = xml::to_string(r.payload());
    ctx_.storage().write([reply = r.reply, owner, xml](storage::Storage& db) -> storage::StorageService::Completion {
      db.kv().put(owner, "vcard", "", xml);
      return [reply] { reply.result(); };
    });
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_vcard(ModuleContext& ctx) { return std::make_unique<VcardModule>(ctx); }

}  // namespace causerie::modules
