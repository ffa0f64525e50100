// XEP-0030 v2.5: service discovery for the server and for accounts (answered on their behalf), with
// XEP-0128 extensions, among them the XEP-0157 contact addresses from the config.
#include "core/xml/data_form.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "storage/account_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

std::optional<xml::Element> server_info_form(const Config& config, const std::string& host) {
  const HostConfig* h = config.find_host(host);
  if (!h || h->contacts.empty()) return std::nullopt;
  xml::DataForm form;
  form.type = "result";
  form.add("FORM_TYPE", "hidden", {ns::kServerInfo});
  const ContactAddresses& c = h->contacts;
  auto add = [&](const char* var, const std::vector<std::string>& v) {
    if (!v.empty()) form.add(var, "list-multi", v);
  };
  add("abuse-addresses", c.abuse);
  add("admin-addresses", c.admin);
  add("feedback-addresses", c.feedback);
  add("sales-addresses", c.sales);
  add("security-addresses", c.security);
  add("status-addresses", c.status);
  add("support-addresses", c.support);
  return form.to_element();
}

class DiscoModule final : public Module {
 public:
  explicit DiscoModule(ModuleContext& ctx) : ctx_(ctx) {
    DiscoRegistry& d = ctx.disco();
    d.add_server_identity({"server", "im", "Causerie"});
    d.add_server_feature(ns::kDiscoInfo);
    d.add_server_feature(ns::kDiscoItems);
    d.add_account_identity({"account", "registered", ""});
    d.add_account_feature(ns::kDiscoInfo);
    d.add_account_feature(ns::kDiscoItems);
    const Config& config = ctx.config();
    d.add_server_extension([&config](const std::string& host) { return server_info_form(config, host); });

    ctx.on_iq(IqScope::kServer, false, ns::kDiscoInfo, [this](IqRequest& r) { server_info(r); });
    ctx.on_iq(IqScope::kServer, false, ns::kDiscoItems, [this](IqRequest& r) { server_items(r); });
    ctx.on_iq(IqScope::kAccount, false, ns::kDiscoInfo, [this](IqRequest& r) { account_info(r); });
    ctx.on_iq(IqScope::kAccount, false, ns::kDiscoItems, [this](IqRequest& r) { account_items(r); });
  }

 private:
  std::string host_of(const IqRequest& r) {
    return std::string(r.to().empty() ? r.from().domainpart() : r.to().domainpart());
  }

  void server_info(IqRequest& r) {
    std::string node(r.payload().attr("node"));
    if (!node.empty()) {
      if (!delegate_server(AccountDiscoQuery::kInfo, r)) r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      return;
    }
    DiscoRegistry& d = ctx_.disco();
    xml::Element q = DiscoRegistry::info_query(d.server_identities(), d.server_features());
    for (auto& form : d.server_extensions(host_of(r))) q.add(std::move(form));
    r.reply.result(std::move(q));
  }

  void server_items(IqRequest& r) {
    xml::Element q("query", ns::kDiscoItems);
    if (!r.payload().attr("node").empty()) {
      if (!delegate_server(AccountDiscoQuery::kItems, r)) r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      return;
    }
    for (const auto& item : ctx_.disco().server_items(host_of(r))) {
      xml::Element& i = q.add_child("item");
      i.set_attr("jid", item.jid);
      if (!item.name.empty()) i.set_attr("name", item.name);
    }
    r.reply.result(std::move(q));
  }

  bool delegate_server(AccountDiscoQuery kind, IqRequest& r) {
    for (const auto& h : ctx_.disco().server_node_handlers())
      if (h(kind, r)) return true;
    return false;
  }

  bool delegate(AccountDiscoQuery kind, IqRequest& r) {
    for (const auto& h : ctx_.disco().account_handlers())
      if (h(kind, r)) return true;
    return false;
  }

  void account_info(IqRequest& r) {
    if (!r.payload().attr("node").empty()) {
      if (!delegate(AccountDiscoQuery::kInfo, r)) r.reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
      return;
    }
    std::string account = r.account().str();
    DiscoRegistry& d = ctx_.disco();
    xml::Element q = DiscoRegistry::info_query(d.account_identities(), d.account_features());
    ctx_.storage().read([reply = r.reply, account, q = std::move(q)](storage::Storage& db) mutable {
      if (!db.accounts().exists(account)) {
        reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));  // RFC 6121 §8.5.1
        return;
      }
      reply.result(std::move(q));
    });
  }

  void account_items(IqRequest& r) {
    if (delegate(AccountDiscoQuery::kItems, r)) return;
    std::string account = r.account().str();
    ctx_.storage().read([reply = r.reply, account](storage::Storage& db) {
      if (!db.accounts().exists(account)) {
        reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));
        return;
      }
      reply.result(xml::Element("query", ns::kDiscoItems));
    });
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_disco(ModuleContext& ctx) { return std::make_unique<DiscoModule>(ctx); }

}  // namespace causerie::modules
