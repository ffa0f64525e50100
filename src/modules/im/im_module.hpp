// RFC 6121: rosters (§2), presence subscriptions (§3, Appendix A) and presence (§4), as one module,
// since the three share the roster. Files: roster.cpp (jabber:iq:roster, pushes), subscriptions.cpp
// (subscription stanzas both ways), presence.cpp (broadcast, probes, directed presence).
//
// Thread rules: hooks and iq handlers run on the sending session's thread; roster reads and the
// read-modify-write of subscription state run as storage jobs (the write lane makes each one atomic);
// their completions route stanzas, which is thread-safe.
#pragma once

#include <set>
#include <string>

#include "core/module/module.hpp"
#include "modules/im/subscription.hpp"

namespace causerie::modules::im {

// What this module keeps per session, on the session's thread.
struct PresenceState final : SessionExtension {
  bool available = false;
  std::set<std::string> directed;  // full JIDs that got directed available presence (§4.6)
};

class ImModule final : public Module {
 public:
  explicit ImModule(ModuleContext& ctx);

 private:
  // roster.cpp
  void roster_get(IqRequest& req);
  void roster_set(IqRequest& req);
  // Pushes an item (or its removal) to every interested resource of `owner` (§2.1.6).
  void push(const std::string& owner, const storage::RosterItem& item, bool removed, int64_t version);
  static xml::Element item_element(const storage::RosterItem& item, bool removed);

  // subscriptions.cpp
  HookResult outbound_subscription(StanzaEvent& ev, SubType type);
  HookResult inbound_subscription(Stanza& stanza, SubType type);

  // presence.cpp
  HookResult outbound_presence(StanzaEvent& ev);
  HookResult inbound_probe(Stanza& stanza);
  void session_closed(ClientSession& session);
  void broadcast(Jid from, xml::Element presence, bool initial, std::set<std::string> directed, SessionRef origin);
  // Sends the current presence of each of `user`'s available resources (or `unavailable` from each) to `to`.
  void send_current_presence(const std::string& user_bare, const Jid& to, bool unavailable);
  // Delivers a stanza to an account's available resources, without the router's hooks.
  void deliver_to_available(const std::string& bare, const xml::Element& stanza);
  PresenceState& presence_state(ClientSession& s);

  ModuleContext& ctx_;
  size_t slot_;
  uint32_t interested_flag_;  // the resource asked for the roster (§2.1.6 "interested resource")
};

}  // namespace causerie::modules::im
