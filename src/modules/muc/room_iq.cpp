// XEP-0045 v1.35 §6.4 room disco#info (XEP-0128 muc#roominfo), §6.5 items, §7.12 reserved nickname,
// §8–§10 muc#admin lists and changes, §10.1–§10.2 muc#owner configuration, §10.9 destruction,
// §17.5 IQs to occupants, XEP-0410 v1.1 self-ping; §7.10 registration is in room_register.cpp.
#include <algorithm>

#include "core/module/disco_registry.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

namespace {

constexpr size_t kMaxAdminItems = 100;
constexpr size_t kMaxPendingIqs = 256;

const xml::Element* first_child(const xml::Element& el) {
  for (const auto& n : el.nodes())
    if (!n.is_text()) return &n;
  return nullptr;
}

}  // namespace

void Room::on_iq(const Stanza& st, SessionRef origin, RoomOutput& out) {
  if (st.to().has_resource()) {
    on_occupant_iq(st, origin, out);
    return;
  }
  std::string_view type = st.type();
  if (type != "get" && type != "set") return;  // answers to the room itself: nothing is waiting for them
  // §10.1.1: until configured the room exists only for its owner.
  if (locked_ && affiliation_of(st.from().bare_view()) != Affiliation::kOwner) {
    error(st, StanzaError(StanzaErrorCondition::kItemNotFound), origin, out);
    return;
  }
  const xml::Element* q = first_child(st.element());
  bool set = type == "set";
  if (!q) {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest), origin, out);
  } else if (!set && q->is("query", ns::kDiscoInfo)) {
    disco_info(st, origin, out);
  } else if (!set && q->is("query", ns::kDiscoItems)) {
    // §6.5: occupants are not listed (the room's occupant list is private by default).
    xml::Element items("query", ns::kDiscoItems);
    if (!q->attr("node").empty()) items.set_attr("node", q->attr("node"));
    reply(st, std::move(items), origin, out);
  } else if (q->is("query", ns::kMucAdmin)) {
    set ? admin_set(st, *q, origin, out) : admin_get(st, *q, origin, out);
  } else if (q->is("query", ns::kMucOwner)) {
    set ? owner_set(st, *q, origin, out) : owner_get(st, origin, out);
  } else if (q->is("query", ns::kRegister)) {
    on_register(st, *q, origin, out);  // §7.10
  } else if (!set && q->is("ping", ns::kPing)) {
    reply(st, std::nullopt, origin, out);
  } else if (q->is("query", ns::kMam)) {
    on_mam(st, *q, set, origin, out);  // XEP-0313: the room's archive, whether or not it still archives
  } else if (set && q->is("moderate", ns::kModerate)) {
    on_moderate(st, *q, origin, out);  // XEP-0425
  } else {
    error(st, StanzaError(StanzaErrorCondition::kServiceUnavailable), origin, out);
  }
}

void Room::disco_info(const Stanza& st, SessionRef origin, RoomOutput& out) const {
  const xml::Element* q = st.element().child("query", ns::kDiscoInfo);
  std::string node(q->attr("node"));
  if (node == "x-roomuser-item") {
    // §7.12: the user's reserved nickname, if any.
    xml::Element r("query", ns::kDiscoInfo);
    r.set_attr("node", node);
    if (auto it = affiliations_.find(st.from().bare_view()); it != affiliations_.end() && !it->second.nick.empty()) {
      xml::Element& id = r.add_child("identity");
      id.set_attr("category", "conference").set_attr("name", it->second.nick).set_attr("type", "text");
    }
    reply(st, std::move(r), origin, out);
    return;
  }
  if (node == "http://jabber.org/protocol/muc#traffic") {
    // §17.1.1: a room that discards no extension namespaces says service-unavailable.
    error(st, StanzaError(StanzaErrorCondition::kServiceUnavailable), origin, out);
    return;
  }
  if (!node.empty()) {
    error(st, StanzaError(StanzaErrorCondition::kItemNotFound), origin, out);
    return;
  }
  const RoomConfig& c = config_;
  std::vector<std::string> features = {
      ns::kMuc, ns::kMucStableId, ns::kMucSelfPing, ns::kOccupantId, ns::kDiscoInfo, ns::kDiscoItems, ns::kPing,
      c.is_public ? "muc_public" : "muc_hidden",
      c.persistent ? "muc_persistent" : "muc_temporary",
      c.members_only ? "muc_membersonly" : "muc_open",
      c.moderated ? "muc_moderated" : "muc_unmoderated",
      c.whois == Whois::kAnyone ? "muc_nonanonymous" : "muc_semianonymous",
      c.password_protected ? "muc_passwordprotected" : "muc_unsecured"};
  if (c.registration != Registration::kNone) features.emplace_back(ns::kRegister);  // §7.10
  if (c.archiving) {  // XEP-0313 §6, XEP-0359 §5, XEP-0425 §"Discovering support"
    for (const char* f : {ns::kMam, ns::kStanzaId, ns::kModerate}) features.emplace_back(f);
  }
  std::string name = c.name.empty() ? std::string(jid_.localpart()) : c.name;
  xml::Element r = DiscoRegistry::info_query({DiscoIdentity{"conference", "text", name}}, std::move(features));
  // XEP-0128: the muc#roominfo form (§6.4 and §16.5.4).
  xml::DataForm info;
  info.type = "result";
  info.add("FORM_TYPE", "hidden", {ns::kMucRoomInfo});
  info.add("muc#roomconfig_roomname", "text-single", {name}, "Natural-Language Room Name");
  info.add("muc#roominfo_description", "text-single", {c.description}, "Description");
  info.add("muc#roominfo_subject", "text-single", {subject_.text}, "Current Discussion Topic");
  info.add("muc#roominfo_subjectmod", "boolean", {c.change_subject ? "1" : "0"},
           "The room subject can be modified by participants");
  info.add("muc#roomconfig_changesubject", "boolean", {c.change_subject ? "1" : "0"}, "Subject can be modified");
  info.add("muc#roominfo_occupants", "text-single", {std::to_string(occupants_.size())}, "Number of occupants");
  info.add("muc#maxhistoryfetch", "text-single", {std::to_string(c.history_fetch)},
           "Maximum Number of History Messages Returned by Room");
  if (!c.lang.empty()) info.add("muc#roominfo_lang", "text-single", {c.lang}, "Language of discussion");
  if (c.whois == Whois::kAnyone) info.add("muc#roominfo_contactjid", "jid-multi", list_of(Affiliation::kOwner),
                                          "Contact Addresses");
  r.add(info.to_element());
  reply(st, std::move(r), origin, out);
}

// ------------------------------------------------------------------------------------------ muc#admin

void Room::admin_get(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out) {
  const xml::Element* item = q.child("item", ns::kMucAdmin);
  std::optional<Affiliation> aff_list;
  std::optional<Role> role_list;
  if (item && item->has_attr("affiliation")) aff_list = parse_affiliation(item->attr("affiliation"));
  else if (item && item->has_attr("role")) role_list = parse_role(item->attr("role"));
  if ((!aff_list && !role_list) || aff_list == Affiliation::kNone || role_list == Role::kNone) {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "ask for one affiliation or role"), origin, out);
    return;
  }
  Occupant* me = occupant_by_real(st.from());
  Actor actor{me ? me->role : Role::kNone, affiliation_of(st.from().bare_view())};
  if (auto denied = check_list_access(actor, me != nullptr, config_, aff_list, role_list)) {
    error(st, StanzaError(*denied), origin, out);
    return;
  }
  xml::Element r("query", ns::kMucAdmin);
  if (aff_list) {
    // §17.5 rule 6: affiliation, bare JID, reserved nick; never the role.
    for (const auto& [jid, e] : affiliations_) {
      if (e.affiliation != *aff_list) continue;
      xml::Element& i = r.add_child("item");
      i.set_attr("affiliation", to_string(e.affiliation)).set_attr("jid", jid);
      if (!e.nick.empty() && e.affiliation != Affiliation::kOutcast) i.set_attr("nick", e.nick);
      if (!e.reason.empty()) i.add_text_child("reason", e.reason);
    }
  } else {
    // §17.5 rule 5: nick, role, affiliation and the full JID.
    for (const auto& [nick, o] : occupants_) {
      if (o.role != *role_list) continue;
      xml::Element& i = r.add_child("item");
      i.set_attr("affiliation", to_string(affiliation_of(o.bare.str())));
      i.set_attr("jid", o.sessions[o.shown].jid.str()).set_attr("nick", nick).set_attr("role", to_string(o.role));
    }
  }
  reply(st, std::move(r), origin, out);
}

void Room::admin_set(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out) {
  auto items = q.children("item", ns::kMucAdmin);
  if (items.empty() || items.size() > kMaxAdminItems) {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "between 1 and 100 items"), origin, out);
    return;
  }
  Occupant* me = occupant_by_real(st.from());
  std::string my_bare(st.from().bare_view());
  Actor actor{me ? me->role : Role::kNone, affiliation_of(my_bare)};
  struct Change {
    bool role_change = false;
    std::string nick;  // role changes: the occupant; affiliation changes: the reserved nick
    Role role = Role::kNone;
    std::string bare;
    Affiliation affiliation = Affiliation::kNone;
    std::string reason;
  };
  std::vector<Change> changes;
  size_t owners = owner_count();
  size_t new_entries = 0;
  auto fail = [&](StanzaErrorCondition c, std::string text = {}) { error(st, StanzaError(c, std::move(text)), origin, out); };
  // Every item is checked before any is applied (§9.2: "SHOULD NOT apply any of the requested changes").
  for (const xml::Element* item : items) {
    Change c;
    c.reason = item->child_text("reason", ns::kMucAdmin);
    bool has_role = item->has_attr("role"), has_aff = item->has_attr("affiliation");
    if (has_role == has_aff) return fail(StanzaErrorCondition::kBadRequest, "one of role or affiliation per item");
    if (has_role) {
      auto role = parse_role(item->attr("role"));
      auto nick = prep_resourcepart(item->attr("nick"));
      if (!role || !item->has_attr("nick") || !nick) return fail(StanzaErrorCondition::kBadRequest);
      Occupant* target = occupant_by_nick(*nick);
      if (!target) return fail(StanzaErrorCondition::kItemNotFound, "no such occupant");
      if (auto denied = check_role_change(actor, target->role, affiliation_of(target->bare.str()), *role))
        return fail(*denied);
      c.role_change = true;
      c.nick = target->nick;
      c.role = *role;
    } else {
      auto aff = parse_affiliation(item->attr("affiliation"));
      if (!aff) return fail(StanzaErrorCondition::kBadRequest);
      std::string who(item->attr("jid"));
      if (who.empty()) {
        // A nick may name an occupant (§9.3 allows either); affiliations still apply to its bare JID.
        auto nick = prep_resourcepart(item->attr("nick"));
        Occupant* target = item->has_attr("nick") && nick ? occupant_by_nick(*nick) : nullptr;
        if (!target) return fail(StanzaErrorCondition::kBadRequest, "an affiliation change needs a jid");
        c.bare = target->bare.str();
      } else {
        auto j = Jid::parse(who);
        if (!j) return fail(StanzaErrorCondition::kJidMalformed);
        c.bare = std::string(j->bare_view());  // §10.3: full JIDs count as their bare JID
        if (!item->attr("nick").empty()) {
          auto nick = prep_resourcepart(item->attr("nick"));
          if (!nick) return fail(StanzaErrorCondition::kJidMalformed, "invalid nickname");
          c.nick = *nick;
        }
      }
      Affiliation current = affiliation_of(c.bare);
      if (auto denied = check_affiliation_change(actor.affiliation, current, *aff, c.bare == my_bare, owners))
        return fail(*denied);
      if (current == Affiliation::kOwner && *aff != Affiliation::kOwner) --owners;
      if (current != Affiliation::kOwner && *aff == Affiliation::kOwner) ++owners;
      if (*aff != Affiliation::kNone && !affiliations_.count(c.bare) &&
          affiliations_.size() + ++new_entries > s_.max_affiliations)
        return fail(StanzaErrorCondition::kResourceConstraint, "too many affiliations in this room");
      if (!c.nick.empty()) {
        if (auto bad = check_nick(c.nick, s_.max_nick_chars)) return fail(bad->condition, bad->text);
        for (const auto& [jid, e] : affiliations_)
          if (e.nick == c.nick && jid != c.bare) return fail(StanzaErrorCondition::kConflict, "nickname reserved");
      }
      c.affiliation = *aff;
    }
    changes.push_back(std::move(c));
  }
  std::string actor_nick = me ? me->nick : std::string();
  for (auto& c : changes) {
    if (!c.role_change) {
      apply_affiliation(c.bare, c.affiliation, c.nick, c.reason, st.from(), out);
      continue;
    }
    Occupant* target = occupant_by_nick(c.nick);
    if (!target) continue;  // removed by an earlier item
    if (c.role == Role::kNone) {
      remove_occupant(c.nick, affiliation_of(target->bare.str()), {307}, actor_nick, c.reason, out);  // §8.2
      continue;
    }
    if (target->role == c.role) continue;
    target->role = c.role;
    PresenceSpec spec = spec_for(*target, false);
    spec.item.reason = c.reason;
    broadcast_presence(*target, spec, {}, out);
  }
  out.begin_after_store();
  reply(st, std::nullopt, origin, out);
}

void Room::apply_affiliation(const std::string& bare, Affiliation a, const std::string& nick, const std::string& reason,
                             const Jid& actor, RoomOutput& out) {
  Affiliation before = affiliation_of(bare);
  std::string reserved = nick;
  if (reserved.empty() && a != Affiliation::kOutcast)
    if (auto it = affiliations_.find(bare); it != affiliations_.end()) reserved = it->second.nick;
  // §9.1: an outcast loses its reserved nickname.
  set_affiliation(bare, a, a == Affiliation::kOutcast ? std::string() : reserved,
                  a == Affiliation::kOutcast ? reason : std::string());
  persist_affiliation(bare, out);
  Occupant* by = occupant_by_real(actor);
  std::string actor_nick = by ? by->nick : std::string();
  bool domain = bare.find('@') == std::string::npos;
  std::vector<std::string> nicks;
  for (const auto& [n, o] : occupants_)
    if (o.bare.str() == bare || (domain && o.bare.domainpart() == bare)) nicks.push_back(n);
  for (const auto& n : nicks) {
    Occupant* o = occupant_by_nick(n);
    Affiliation now = affiliation_of(o->bare.str());
    if (now == Affiliation::kOutcast) {
      remove_occupant(n, now, {301}, actor_nick, reason, out);  // §9.1
    } else if (config_.members_only && now < Affiliation::kMember) {
      remove_occupant(n, now, {321}, actor_nick, reason, out);  // §9.4
    } else {
      o->role = role_after_affiliation(*o, before, now);
      PresenceSpec spec = spec_for(*o, false);
      spec.item.reason = reason;
      broadcast_presence(*o, spec, {}, out);
    }
  }
  // §9.5: a new member of a members-only room who is not here is invited.
  if (nicks.empty() && config_.members_only && before == Affiliation::kNone && a == Affiliation::kMember && !domain) {
    if (auto to = Jid::parse(bare)) {
      xml::Element m("message", ns::kClient);
      m.set_attr("from", jid_.str());
      m.set_attr("id", util::random_id());
      xml::Element& x = m.add_child("x", ns::kMucUser);
      x.add_child("invite").set_attr("from", actor.bare().str());
      if (config_.password_protected) x.add_text_child("password", config_.password);
      out.send(m, *to, SessionRef{});
    }
  }
}

// ------------------------------------------------------------------------------------------ muc#owner

void Room::owner_get(const Stanza& st, SessionRef origin, RoomOutput& out) {
  if (affiliation_of(st.from().bare_view()) != Affiliation::kOwner) {  // §10.2
    error(st, StanzaError(StanzaErrorCondition::kForbidden), origin, out);
    return;
  }
  xml::Element q("query", ns::kMucOwner);
  q.add(config_form(config_, list_of(Affiliation::kOwner), list_of(Affiliation::kAdmin), s_.limits, jid_.str())
            .to_element());
  reply(st, std::move(q), origin, out);
}

void Room::owner_set(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out) {
  if (affiliation_of(st.from().bare_view()) != Affiliation::kOwner) {
    error(st, StanzaError(StanzaErrorCondition::kForbidden), origin, out);
    return;
  }
  if (const xml::Element* d = q.child("destroy", ns::kMucOwner)) {
    // §10.9: everyone out, with the reason and the alternate venue; then the owner is answered.
    DestroyNotice notice{std::string(d->attr("jid")), d->child_text("reason", ns::kMucOwner),
                         d->child_text("password", ns::kMucOwner)};
    if (!notice.jid.empty() && !Jid::parse(notice.jid)) {
      error(st, StanzaError(StanzaErrorCondition::kJidMalformed, "invalid alternate venue"), origin, out);
      return;
    }
    destroy(notice, out);
    out.begin_after_store();
    reply(st, std::nullopt, origin, out);
    return;
  }
  const xml::Element* x = q.child("x", ns::kDataForms);
  auto form = x ? xml::DataForm::parse(*x) : std::nullopt;
  if (!form) {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "a data form or <destroy/> is expected"), origin, out);
    return;
  }
  if (form->type == "cancel") {
    // §10.1.3: cancelling the initial configuration destroys the room; later it changes nothing.
    if (locked_) destroy(DestroyNotice{}, out);
    reply(st, std::nullopt, origin, out);
    return;
  }
  if (form->type != "submit") {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "the form must be submitted"), origin, out);
    return;
  }
  auto sub = apply_config_form(*form, config_, s_.limits);
  if (!sub) {
    error(st, sub.error(), origin, out);
    return;
  }
  apply_config(st, *sub, origin, out);
}

void Room::apply_config(const Stanza& st, const ConfigSubmission& sub, SessionRef origin, RoomOutput& out) {
  // The full owner and admin lists of the form become deltas (§10.5 note, §10.8 note).
  std::vector<std::pair<std::string, Affiliation>> deltas;
  auto diff = [&](const std::optional<std::vector<std::string>>& wanted, Affiliation a) {
    if (!wanted) return;
    for (const auto& j : list_of(a))
      if (std::find(wanted->begin(), wanted->end(), j) == wanted->end()) deltas.emplace_back(j, Affiliation::kNone);
    for (const auto& j : *wanted)
      if (affiliation_of(j) != a || !affiliations_.count(j)) deltas.emplace_back(j, a);
  };
  diff(sub.owners, Affiliation::kOwner);
  diff(sub.admins, Affiliation::kAdmin);
  // A JID leaving one list and entering the other ends in the other (its "none" is dropped).
  std::erase_if(deltas, [&](const auto& d) {
    if (d.second != Affiliation::kNone) return false;
    return std::any_of(deltas.begin(), deltas.end(),
                       [&](const auto& e) { return e.first == d.first && e.second != Affiliation::kNone; });
  });
  if (affiliations_.size() + deltas.size() > s_.max_affiliations) {
    error(st, StanzaError(StanzaErrorCondition::kResourceConstraint, "too many affiliations"), origin, out);
    return;
  }
  RoomConfig before = config_;
  bool was_locked = locked_;
  config_ = sub.config;
  locked_ = false;
  if (config_.persistent && !before.persistent) {
    persist_everything(out);
  } else if (!config_.persistent && before.persistent) {
    out.store([jid = jid_.str()](storage::MucStore& m) { m.remove_room(jid); });
  } else {
    persist_header(out);
  }
  for (const auto& [j, a] : deltas) apply_affiliation(j, a, {}, {}, st.from(), out);
  // §10.2: only owners may leave this room's members-only list… and non-members leave, with 322.
  if (config_.members_only && !before.members_only) {
    std::vector<std::string> out_nicks;
    for (const auto& [nick, o] : occupants_)
      if (affiliation_of(o.bare.str()) < Affiliation::kMember) out_nicks.push_back(nick);
    for (const auto& n : out_nicks) remove_occupant(n, Affiliation::kNone, {322}, {}, {}, out);
  }
  // §10.2.1: privacy-relevant changes get their own code, any other change 104.
  if (!was_locked) status_message(config_change_codes(before, config_), out);
  if (occupants_.empty() && !config_.persistent) destroyed_ = true;
  out.begin_after_store();
  reply(st, std::nullopt, origin, out);
}

// ------------------------------------------------------------------------------------------ occupants

void Room::on_occupant_iq(const Stanza& st, SessionRef origin, RoomOutput& out) {
  std::string_view type = st.type();
  if (type == "result" || type == "error") {
    // The answer to an IQ we passed to an occupant: back to the requester, from the answerer's nick.
    auto it = std::find_if(pending_iqs_.begin(), pending_iqs_.end(), [&](const PendingIq& p) { return p.id == st.id(); });
    if (it == pending_iqs_.end()) return;
    PendingIq p = *it;
    Occupant* target = occupant_by_nick(p.target_nick);
    if (!target || target->bare != st.from().bare()) return;
    pending_iqs_.erase(it);
    xml::Element r = st.element();
    r.set_attr("from", target->jid.str());
    r.set_attr("id", p.original_id);
    Session* s = nullptr;
    occupant_by_real(p.requester, &s);
    out.send(r, p.requester, s ? s->ref : SessionRef{});
    return;
  }
  if (type != "get" && type != "set") return;
  const xml::Element* payload = first_child(st.element());
  Session* my_session = nullptr;
  Occupant* me = occupant_by_real(st.from(), &my_session);
  if (!me) {
    // XEP-0410 §3.2: not-acceptable tells a client it is no longer joined; §6.6: disco is bad-request.
    bool disco = payload && (payload->ns() == ns::kDiscoInfo || payload->ns() == ns::kDiscoItems);
    error(st, StanzaError(disco ? StanzaErrorCondition::kBadRequest : StanzaErrorCondition::kNotAcceptable), origin,
          out);
    return;
  }
  Occupant* target = occupant_by_nick(st.to().resourcepart());
  if (!target) {
    error(st, StanzaError(StanzaErrorCondition::kItemNotFound, "no such occupant"), origin, out);
    return;
  }
  if (payload && payload->is("ping", ns::kPing) && target == me) {
    reply(st, std::nullopt, origin, out);  // XEP-0410 §3.3 self-ping optimisation
    return;
  }
  // §17.5 rule 3: passed on from the requester's occupant JID; real JIDs stay hidden both ways. A
  // vCard request goes to the occupant's account, which its server answers.
  PendingIq p{"muc" + std::to_string(++iq_counter_) + "-" + util::random_id(6), std::string(st.id()), st.from(),
              target->nick};
  xml::Element fwd = st.element();
  fwd.set_attr("from", me->jid.str());
  fwd.set_attr("id", p.id);
  pending_iqs_.push_back(std::move(p));
  if (pending_iqs_.size() > kMaxPendingIqs) pending_iqs_.pop_front();
  const Session& ts = target->sessions[target->shown];
  if (payload && payload->ns() == ns::kVcard) out.send(fwd, target->bare, SessionRef{});
  else out.send(fwd, ts.jid, ts.ref);
}

}  // namespace causerie::modules::muc
