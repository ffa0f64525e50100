// XEP-0050 v1.3 ad-hoc commands on the server's hosts: the iq <command/> handler, the disco answers for
// the command list and the command nodes, and the periodic sweep of idle sessions. The commands
// themselves are registered by other modules in the CommandRegistry (core/module/command_registry.hpp),
// which runs the protocol.
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace {

class AdhocModule final : public Module {
 public:
  explicit AdhocModule(ModuleContext& ctx) : ctx_(ctx) {
    ctx.disco().add_server_feature(adhoc::kNs);
    ctx.on_iq(IqScope::kServer, true, adhoc::kNs, [this](IqRequest& r) { ctx_.commands().handle_iq(r); });
    ctx.disco().add_server_node_handler([this](AccountDiscoQuery kind, IqRequest& r) { return disco(kind, r); });
    ctx.on_tick([this] { ctx_.commands().sweep(); });
  }

 private:
  bool disco(AccountDiscoQuery kind, IqRequest& r) {
    std::string host(r.to().domainpart());
    std::string node(r.payload().attr("node"));
    CommandRegistry& reg = ctx_.commands();
    if (!reg.answers_node(host, node)) return false;
    CommandCaller caller{r.from()};
    if (kind == AccountDiscoQuery::kItems) {
      // Items under a command node: none (XEP-0030 §4.1: an empty result).
      if (node != adhoc::kNs) {
        auto info = reg.disco_info(caller, host, node);
        if (!info) r.reply.error(info.error());
        else r.reply.result(xml::Element("query", ns::kDiscoItems).set_attr("node", node));
        return true;
      }
      r.reply.result(reg.disco_items(caller, host));
      return true;
    }
    auto info = reg.disco_info(caller, host, node);
    if (info) r.reply.result(std::move(*info));
    else r.reply.error(info.error());
    return true;
  }

  ModuleContext& ctx_;
};

}  // namespace

std::unique_ptr<Module> make_adhoc(ModuleContext& ctx) { return std::make_unique<AdhocModule>(ctx); }

}  // namespace causerie::modules
