// RFC 6121 §4: initial, subsequent and unavailable presence broadcast, probes, and directed presence.
#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/im/im_module.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::im {

namespace {

// §4.7.2.3: an integer from -128 to +127; anything else counts as 0.
int parse_priority(const xml::Element& presence) {
  std::string p = presence.child_text("priority", presence.ns());
  if (p.empty()) return 0;
  try {
    size_t used = 0;
    int v = std::stoi(p, &used);
    if (used != p.size() || v < -128 || v > 127) return 0;
    return v;
  } catch (...) {
    return 0;
  }
}

}  // namespace

PresenceState& ImModule::presence_state(ClientSession& s) {
  auto* st = s.extension_as<PresenceState>(slot_);
  if (!st) {
    s.set_extension(slot_, std::make_unique<PresenceState>());
    st = s.extension_as<PresenceState>(slot_);
  }
  return *st;
}

void ImModule::deliver_to_available(const std::string& bare, const xml::Element& stanza) {
  OutStanza out = serialize_out(stanza);
  for (const auto& r : ctx_.sessions().resources(bare))
    if (r.available) ctx_.dispatcher().deliver(r.ref, out);
}

HookResult ImModule::outbound_presence(StanzaEvent& ev) {
  Stanza& st = ev.stanza;
  std::string_view type = st.type();
  if (!ev.origin || (!type.empty() && type != "unavailable")) return HookResult::kContinue;  // probes, errors
  ClientSession& session = *ev.origin;
  PresenceState& state = presence_state(session);
  if (!st.to().empty()) {
    // §4.6: directed presence; remembered so that our unavailable reaches it too.
    if (st.to().bare() != session.jid().bare()) {
      if (type.empty()) state.directed.insert(st.to().str());
      else state.directed.erase(st.to().str());
    }
    return HookResult::kContinue;
  }
  bool unavailable = type == "unavailable";
  bool initial = !unavailable && !state.available;
  if (unavailable && !state.available) return HookResult::kHandled;  // nothing to withdraw
  xml::Element presence = std::move(st).release();
  presence.remove_attr("to");
  if (unavailable) {
    ctx_.sessions().set_presence(session.jid(), false, 0, nullptr);
    state.available = false;
  } else {
    // A bare <presence/> says nothing beyond "available": keep no copy of it (memory per idle session).
    bool plain = presence.element_count() == 0;
    ctx_.sessions().set_presence(session.jid(), true, parse_priority(presence),
                                 plain ? nullptr : std::make_shared<const xml::Element>(presence));
    state.available = true;
  }
  std::set<std::string> directed;
  if (unavailable) directed.swap(state.directed);
  broadcast(session.jid(), std::move(presence), initial, std::move(directed), session.ref());
  if (initial) ctx_.router().run_session_hooks(SessionHook::kAvailable, session);
  return HookResult::kHandled;
}

void ImModule::broadcast(Jid from, xml::Element presence, bool initial, std::set<std::string> directed,
                         SessionRef origin) {
  ctx_.storage().read([this, from, presence = std::move(presence), initial, directed = std::move(directed),
                       origin](storage::Storage& db) {
    std::string owner(from.bare_view());
    auto items = db.roster().items(owner);
    Router& router = ctx_.router();
    // §4.2.2 / §4.4.2 / §4.5.2: to every contact subscribed to us ("from" or "both")...
    for (const auto& it : items) {
      if (!has_from(it.subscription)) continue;
      auto to = Jid::parse(it.jid);
      if (!to) continue;
      router.route(Stanza(presence, from, *to));
    }
    // ...to every entity that got directed presence (on unavailable)...
    for (const auto& d : directed) {
      if (auto to = Jid::parse(d)) router.route(Stanza(presence, from, *to));
    }
    // ...and to all of our own available resources, the sender included (§4.2.2).
    auto mine = ctx_.sessions().resources(owner);
    {
      xml::Element self = presence;
      self.set_attr("from", from.str());
      self.set_attr("to", owner);
      OutStanza out = serialize_out(self);
      for (const auto& r : mine)
        if (r.available || r.ref == origin) ctx_.dispatcher().deliver(r.ref, out);
    }
    if (!initial) return;
    // §4.2.2: the user is implicitly subscribed to their own presence, so a resource that becomes available
    // learns the current presence of the account's other available resources ("your other devices").
    for (const auto& r : mine) {
      if (!r.available || r.ref == origin) continue;
      xml::Element other = r.presence ? *r.presence : xml::Element("presence", ns::kClient);
      other.set_attr("from", owner + "/" + r.resource);
      other.set_attr("to", from.str());
      ctx_.dispatcher().deliver(origin, serialize_out(other));
    }
    // §4.2.2 / §4.3.1: probe the contacts we are subscribed to, on the user's behalf (bare JID).
    Jid bare = from.bare();
    for (const auto& it : items) {
      if (!has_to(it.subscription)) continue;
      auto to = Jid::parse(it.jid);
      if (!to) continue;
      xml::Element probe("presence", ns::kClient);
      probe.set_attr("type", "probe");
      router.route(Stanza(std::move(probe), bare, *to));
    }
    // §3.1.3: subscription requests that arrived while we were away.
    for (const auto& it : items) {
      if (!it.pending_in || it.pending_in_stanza.empty()) continue;
      std::string bytes = it.pending_in_stanza;
      ctx_.dispatcher().deliver(origin, OutStanza{std::make_shared<const std::string>(std::move(bytes)), {},
                                                  StanzaKind::kPresence});
    }
  });
}

void ImModule::send_current_presence(const std::string& user_bare, const Jid& to, bool unavailable) {
  for (const auto& r : ctx_.sessions().resources(user_bare)) {
    if (!r.available) continue;
    auto from = Jid::parse(user_bare + "/" + r.resource);
    if (!from) continue;
    xml::Element p = unavailable || !r.presence ? xml::Element("presence", ns::kClient) : *r.presence;
    if (unavailable) p.set_attr("type", "unavailable");
    ctx_.router().route(Stanza(std::move(p), *from, to));
  }
}

HookResult ImModule::inbound_probe(Stanza& st) {
  if (st.from().empty()) return HookResult::kHandled;
  std::string owner(st.to().bare_view());
  Jid prober = st.from();
  Jid target = st.to();
  ctx_.storage().read([this, owner, prober, target](storage::Storage& db) {
    auto item = db.roster().item(owner, prober.bare().str());
    Jid user_bare = target.bare();
    if (!item || !has_from(item->subscription)) {
      // §4.3.2 rule 1: not subscribed (or no such account): "unsubscribed", from the bare JID.
      xml::Element p("presence", ns::kClient);
      p.set_attr("type", "unsubscribed");
      ctx_.router().route(Stanza(std::move(p), user_bare, prober));
      return;
    }
    bool any = false;
    for (const auto& r : ctx_.sessions().resources(owner)) {
      if (!r.available) continue;
      if (target.has_resource() && r.resource != target.resourcepart()) continue;
      auto from = Jid::parse(owner + "/" + r.resource);
      if (!from) continue;
      any = true;
      ctx_.router().route(Stanza(r.presence ? *r.presence : xml::Element("presence", ns::kClient), *from, prober));
    }
    if (!any) {
      // §4.3.2 rule 3: no available resource: say so, from the bare JID.
      xml::Element p("presence", ns::kClient);
      p.set_attr("type", "unavailable");
      ctx_.router().route(Stanza(std::move(p), user_bare, prober));
    }
  });
  return HookResult::kHandled;
}

void ImModule::session_closed(ClientSession& session) {
  auto* state = session.extension_as<PresenceState>(slot_);
  if (!state || !state->available) return;
  // §4.5.2: a session that ends without unavailable presence gets one generated for it.
  state->available = false;
  xml::Element p("presence", ns::kClient);
  p.set_attr("type", "unavailable");
  std::set<std::string> directed;
  directed.swap(state->directed);
  // RFC 6120 §7.7.2.2 ("override"): a replaced session may end after the new session with the same full
  // JID (the web app's XEP-0386 Bind 2 resource) announced itself available. Contacts and our own
  // resources must not then see that live resource go offline; only the entities this session alone
  // sent directed presence to (§4.6.3) are told.
  std::string_view res = session.jid().resourcepart();
  bool replaced_by_available = false;
  ctx_.sessions().inspect(session.jid().bare_view(), [&](const std::vector<BoundResource>& resources) {
    for (const auto& r : resources)
      if (r.resource == res && !(r.ref == session.ref()) && r.available) replaced_by_available = true;
  });
  if (replaced_by_available) {
    for (const auto& d : directed)
      if (auto to = Jid::parse(d)) ctx_.router().route(Stanza(p, session.jid(), *to));
    return;
  }
  broadcast(session.jid(), std::move(p), false, std::move(directed), SessionRef{});
}

}  // namespace causerie::modules::im
