// RFC 6121 §3 and Appendix A: presence subscription stanzas, outbound (from our user) and inbound (to
// our user). Each is one read-modify-write of the roster item on the storage write lane; the stanzas it
// causes are sent from the job's completion, once the new state is on disk.
#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/im/im_module.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::im {

namespace {

SubState state_of(const storage::RosterItem& it) {
  return SubState{it.subscription, it.ask, it.pending_in, it.approved};
}

void apply(storage::RosterItem& it, const SubState& s) {
  it.subscription = s.sub;
  it.ask = s.pending_out;
  it.pending_in = s.pending_in;
  it.approved = s.approved;
  if (!s.pending_in) it.pending_in_stanza.clear();
}

xml::Element presence_of_type(const char* type) {
  xml::Element p("presence", ns::kClient);
  p.set_attr("type", type);
  return p;
}

}  // namespace

HookResult ImModule::outbound_subscription(StanzaEvent& ev, SubType type) {
  Stanza& st = ev.stanza;
  if (st.to().empty()) return HookResult::kContinue;
  // A domain JID is a contact like any other (RFC 6121 §2.1.2.3: an item is any JID): a gateway
  // (XEP-0100 §4.1.1) subscribes to its user's presence and the user to the gateway's, and both states
  // must be in the roster for the user's presence to reach it.
  // §3.1.2: the server stamps the bare JID, and subscriptions are between bare JIDs.
  Jid user = st.from().bare();
  Jid contact = st.to().bare();
  if (user == contact) return HookResult::kHandled;  // one's own presence needs no subscription
  st.set_from(user);
  st.set_to(contact);
  std::string owner = user.str();
  auto stanza = std::make_shared<Stanza>(std::move(st));
  ctx_.storage().write([this, owner, contact, type, stanza](storage::Storage& db) -> storage::StorageService::Completion {
    auto existing = db.roster().item(owner, contact.str());
    storage::RosterItem item = existing ? *existing : storage::RosterItem{};
    item.jid = contact.str();
    SubState before = state_of(item);
    OutboundResult r = outbound(before, type);
    bool was_visible = existing && !existing->hidden;
    // An outbound action is the user's choice: the contact is in the roster from now on (§3.1.2, §3.4.2).
    bool changed = r.next != before || !was_visible;
    int64_t ver = 0;
    if (changed) {
      apply(item, r.next);
      item.hidden = false;
      ver = db.roster().put(owner, item);
    }
    return [this, owner, contact, type, stanza, r, changed, item, ver, before]() {
      if (changed) push(owner, item, false, ver);
      if (!r.route) return;
      ctx_.router().route(std::move(*stanza));
      bool gave_from = !has_from(before.sub) && has_from(r.next.sub);
      bool took_from = has_from(before.sub) && !has_from(r.next.sub);
      // §3.1.5: an approved contact gets our current presence; §3.2.2: a cancelled one gets unavailable.
      if (type == SubType::kSubscribed && gave_from) send_current_presence(owner, contact, false);
      if (type == SubType::kUnsubscribed && took_from) send_current_presence(owner, contact, true);
    };
  });
  return HookResult::kHandled;
}

HookResult ImModule::inbound_subscription(Stanza& st, SubType type) {
  if (st.from().empty()) return HookResult::kHandled;
  Jid user = st.to().bare();
  Jid contact = st.from().bare();
  if (user == contact) return HookResult::kHandled;
  // Delivered to the user from the contact's bare JID (§3.1.3).
  st.set_from(contact);
  st.set_to(user);
  std::string owner = user.str();
  auto stanza = std::make_shared<Stanza>(std::move(st));
  ctx_.storage().write([this, owner, user, contact, type, stanza](storage::Storage& db) -> storage::StorageService::Completion {
    // §8.5.1: no such user: subscription stanzas are silently ignored.
    if (!db.accounts().exists(owner)) return nullptr;
    auto existing = db.roster().item(owner, contact.str());
    storage::RosterItem item = existing ? *existing : storage::RosterItem{};
    item.jid = contact.str();
    if (!existing) item.hidden = true;  // A.1 state 3: pending-in alone creates no visible item
    SubState before = state_of(item);
    InboundResult r = inbound(before, type);
    bool changed = r.next != before;
    int64_t ver = 0;
    bool removed = false;
    if (changed) {
      apply(item, r.next);
      if (type == SubType::kSubscribe && r.next.pending_in) {
        // Kept so that the request (with its <status/> and <nick/>) reaches the user at next login.
        item.pending_in_stanza = xml::to_string(stanza->element());
      }
      if (item.hidden && r.next == SubState{}) {
        ver = db.roster().remove(owner, item.jid);
        removed = true;
      } else {
        ver = db.roster().put(owner, item);
      }
    }
    return [this, owner, user, contact, type, stanza, r, changed, item, ver, removed, before]() {
      if (changed && !item.hidden && !removed) push(owner, item, false, ver);
      if (r.deliver) deliver_to_available(owner, stanza->element());
      if (r.auto_reply) {
        ctx_.router().route(Stanza(presence_of_type(to_string(*r.auto_reply)), user, contact));
        if (*r.auto_reply == SubType::kSubscribed && !has_from(before.sub)) send_current_presence(owner, contact, false);
      }
      // §3.3.3: a contact who unsubscribes from our user's presence gets unavailable from each resource.
      if (type == SubType::kUnsubscribe && has_from(before.sub) && !has_from(r.next.sub))
        send_current_presence(owner, contact, true);
    };
  });
  return HookResult::kHandled;
}

}  // namespace causerie::modules::im
