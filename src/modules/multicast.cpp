// XEP-0033 v1.2.1 extended stanza addressing: the host as a multicast service (see multicast.hpp).
//
// Remote recipients get one copy each, addressed to them (§4 step 10, the path for a target server that
// does not support address headers): the service never asks remote servers whether they multicast, so a
// remote server never learns a bcc address it should not, and a remote multicast service never relays
// for us. Only this server's accounts may use the service (§2.2: relaying for other servers' users is
// refused with <forbidden/>). Available presence multicast to JIDs is remembered per sender, and those
// JIDs get the sender's unavailable presence when it goes offline or sends it (§5 "Directed Presence").
#include "modules/multicast.hpp"

#include <map>
#include <mutex>
#include <set>
#include <unordered_set>

#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace multicast {

tl::expected<std::vector<Copy>, StanzaError> plan_multicast(const xml::Element& addresses, size_t max_recipients) {
  xml::Element shared(addresses.name(), addresses.ns());  // what every recipient sees
  struct Target {
    Jid jid;
    const xml::Element* bcc;  // its own bcc address, or nullptr
  };
  std::vector<Target> targets;
  std::unordered_set<std::string> seen;
  for (const auto& node : addresses.nodes()) {
    if (node.is_text()) continue;
    if (!node.is("address", ns::kAddress)) {
      shared.add(node);  // XEP-0033 §4.9: extensions are kept, not understood
      continue;
    }
    std::string_view type = node.attr("type");
    bool has_jid = node.has_attr("jid"), has_uri = node.has_attr("uri");
    if (type.empty()) return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "an address needs a type"));
    if (has_jid && has_uri)
      return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "an address has a jid or a uri, not both"));
    bool deliverable = type == "to" || type == "cc" || type == "bcc";
    if (deliverable && !has_jid && !has_uri)
      return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "an address to deliver to needs a jid"));
    if (has_uri && deliverable)
      return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "uri addresses are not supported"));
    std::optional<Jid> jid;
    if (has_jid) {
      auto parsed = Jid::parse(node.attr("jid"));
      if (!parsed) return tl::unexpected(StanzaError(StanzaErrorCondition::kJidMalformed, "'" + std::string(node.attr("jid")) + "' is not a JID"));
      jid = std::move(*parsed);
    }
    bool already = node.attr("delivered") == "true";
    if (!deliverable || already) {
      // Not for us to deliver (replyto, noreply, ...), or delivered by an earlier service: kept as it is,
      // except a bcc, which nobody else may see.
      if (type != "bcc") shared.add(node);
      continue;
    }
    if (!seen.insert(jid->str()).second) {
      if (type != "bcc") shared.add(node).set_attr("delivered", "true");
      continue;
    }
    if (seen.size() > max_recipients)
      return tl::unexpected(StanzaError(StanzaErrorCondition::kNotAcceptable,
                                        "at most " + std::to_string(max_recipients) + " addresses"));
    if (type == "bcc") {
      targets.push_back({std::move(*jid), &node});
    } else {
      shared.add(node).set_attr("delivered", "true");
      targets.push_back({std::move(*jid), nullptr});
    }
  }
  if (targets.empty()) return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "no address to deliver to"));
  std::vector<Copy> copies;
  copies.reserve(targets.size());
  for (auto& t : targets) {
    Copy c{std::move(t.jid), shared};
    if (t.bcc) c.addresses.add(*t.bcc).set_attr("delivered", "true");
    copies.push_back(std::move(c));
  }
  return copies;
}

namespace {

class MulticastModule final : public Module {
 public:
  explicit MulticastModule(ModuleContext& ctx) : ctx_(ctx) {
    int64_t max = ctx.raw_config().get_int("modules.multicast.max_addresses").value_or(50);
    // §8: "more than 20 and less than 100" is the advice; allow a little room either side.
    if (max < 1 || max > 1000) throw ConfigError("config key 'modules.multicast.max_addresses': expected 1 to 1000");
    max_ = static_cast<size_t>(max);
    ctx.disco().add_server_feature(ns::kAddress);
    ctx.hook(StanzaHook::kToServer, 100, [this](StanzaEvent& ev) { return to_server(ev); });
    // §5: the unavailable presence of a sender whose available presence went through the service.
    ctx.hook(StanzaHook::kFromClient, 50, [this](StanzaEvent& ev) {
      Stanza& st = ev.stanza;
      if (st.is_presence() && st.to().empty() && st.type() == "unavailable") farewell(st.from(), ev.origin);
      return HookResult::kContinue;
    });
    ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) { farewell(s.jid(), nullptr); });
  }

 private:
  HookResult to_server(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    const xml::Element* header = st.element().child("addresses", ns::kAddress);
    if (!header || st.is_iq()) return HookResult::kContinue;
    if (st.type() == "error") return HookResult::kHandled;  // never multicast an error, never answer one
    const Jid& from = st.from();
    if (!from.has_localpart() || !ctx_.router().is_local_host(from.domainpart())) {
      ctx_.router().bounce(st, StanzaError(StanzaErrorCondition::kForbidden, "this service multicasts for its own users only"));
      return HookResult::kHandled;
    }
    auto copies = plan_multicast(*header, max_);
    if (!copies) {
      ctx_.router().bounce(st, copies.error());
      return HookResult::kHandled;
    }
    bool available = st.is_presence() && st.type().empty();
    bool unavailable = st.is_presence() && st.type() == "unavailable";
    for (auto& c : *copies) {
      xml::Element el = st.element();
      el.remove_children("addresses", ns::kAddress);
      el.add(std::move(c.addresses));
      if (available) remember(from, c.to);
      if (unavailable) forget(from, c.to);
      ctx_.router().route(Stanza(std::move(el), from, c.to), ev.origin);
    }
    return HookResult::kHandled;
  }

  void remember(const Jid& from, const Jid& to) {
    std::lock_guard lock(mutex_);
    auto& set = directed_[from.str()];
    if (set.size() < 10 * max_) set.insert(to.str());
  }
  void forget(const Jid& from, const Jid& to) {
    std::lock_guard lock(mutex_);
    auto it = directed_.find(from.str());
    if (it == directed_.end()) return;
    it->second.erase(to.str());
    if (it->second.empty()) directed_.erase(it);
  }

  void farewell(const Jid& from, ClientSession* origin) {
    std::set<std::string> to;
    {
      std::lock_guard lock(mutex_);
      auto it = directed_.find(from.str());
      if (it == directed_.end()) return;
      to = std::move(it->second);
      directed_.erase(it);
    }
    for (const auto& t : to) {
      xml::Element p("presence", ns::kClient);
      p.set_attr("type", "unavailable");
      ctx_.router().route(Stanza(std::move(p), from, *Jid::parse(t)), origin);
    }
  }

  ModuleContext& ctx_;
  size_t max_ = 50;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> directed_;  // sender (full JID) → JIDs it sent presence to
};

}  // namespace

}  // namespace multicast

std::unique_ptr<Module> make_multicast(ModuleContext& ctx) { return std::make_unique<multicast::MulticastModule>(ctx); }

}  // namespace causerie::modules
