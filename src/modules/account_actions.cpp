#include "modules/account_actions.hpp"

#include "core/xml/namespaces.hpp"

namespace causerie::modules {

void after_account_removed(ModuleContext& ctx, const std::string& owner, const std::vector<storage::RosterItem>& roster) {
  ctx.credentials().invalidate(owner);
  ctx.router().account_removed(owner);
  Jid from = *Jid::parse(owner);
  for (const auto& it : roster) {
    auto contact = Jid::parse(it.jid);
    if (!contact) continue;
    for (const char* type : {"unsubscribe", "unsubscribed"}) {
      xml::Element p("presence", ns::kClient);
      p.set_attr("type", type);
      ctx.router().route(Stanza(std::move(p), from, *contact));
    }
  }
  end_sessions(ctx, from, StreamErrorCondition::kNotAuthorized, "the account was removed");
}

size_t end_sessions(ModuleContext& ctx, const Jid& who, StreamErrorCondition condition, const std::string& text) {
  size_t n = 0;
  for (const auto& r : ctx.sessions().resources(who.bare_view())) {
    if (who.has_resource() && r.resource != who.resourcepart()) continue;
    ++n;
    ctx.dispatcher().with_session(r.ref, [condition, text](ClientSession& s) { s.close(condition, text); });
  }
  return n;
}

}  // namespace causerie::modules
