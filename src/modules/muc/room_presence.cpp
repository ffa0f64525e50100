// XEP-0045 v1.35 §7.2 entering a room, §7.6 changing nickname, §7.7 changing availability, §7.14 exiting,
// and the removals of §8.2 (kick), §9.1 (ban), §9.4 (membership), §17.4 rule 2 (ghosts, 333).
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

namespace {

// The nickname as the client wrote it, before stringprep (§7.2.3: 210 when the service changed it).
std::string_view raw_nick(const xml::Element& stanza) {
  std::string_view to = stanza.attr("to");
  size_t slash = to.find('/');
  return slash == std::string_view::npos ? std::string_view() : to.substr(slash + 1);
}

}  // namespace

void Room::on_presence(const Stanza& st, SessionRef origin, RoomOutput& out) {
  std::string_view type = st.type();
  const Jid& from = st.from();
  Session* session = nullptr;
  Occupant* o = occupant_by_real(from, &session);
  if (type == "unavailable") {
    if (o) leave(from, &st.element(), {}, out);  // §7.14; §17.3 rule 5: ignored from non-occupants
    return;
  }
  if (type == "error") {
    // §17.4 rule 2 "ghosts": a delivery error from an occupant removes it, with 333 (§12.1).
    if (o) leave(from, nullptr, {333}, out);
    return;
  }
  if (!type.empty()) return;  // probes and subscriptions are not joins (§17.3 rule 1)
  if (!st.to().has_resource()) {
    error(st, StanzaError(StanzaErrorCondition::kJidMalformed, "a nickname is required"), origin, out);
    return;
  }
  if (!o) {
    join(st, origin, false, out);
    return;
  }
  if (origin.valid()) session->ref = origin;  // the same full JID may now be a newer session
  if (st.to().resourcepart() != o->nick) {
    change_nick(*o, *session, st, origin, out);
    return;
  }
  if (const xml::Element* x = st.element().child("x", ns::kMuc)) {
    // §7.2.1 / §17.3 rule 3: a join from an occupant is a resynchronisation: everything again.
    session->presence = st.element();
    send_room_state(*o, *session, HistoryRequest::parse(x->child("history", ns::kMuc)),
                    entry_codes(config_, false, false), false, out);
    return;
  }
  update_presence(*o, *session, st, out);
}

void Room::join(const Stanza& st, SessionRef origin, bool created, RoomOutput& out) {
  const Jid& from = st.from();
  const xml::Element* x = st.element().child("x", ns::kMuc);
  if (!x) {
    // §7.2.20: groupchat 1.0 join (or a lost occupant's update): an explicit kick, 110 307 333.
    PresenceSpec spec;
    spec.unavailable = true;
    spec.item.reason = "You are not in the room.";
    spec.codes = {110, 307, 333};
    out.send(make_occupant_presence(st.to(), spec), from, origin);
    return;
  }
  std::string nick(st.to().resourcepart());
  if (auto bad = check_nick(nick, s_.max_nick_chars)) {
    error(st, *bad, origin, out);
    return;
  }
  std::string bare(from.bare_view());
  Affiliation aff = affiliation_of(bare);
  Occupant* existing = occupant_by_nick(nick);
  bool same_user = existing && existing->bare == from.bare();

  EntryRequest req;
  req.affiliation = aff;
  req.locked = locked_;
  req.members_only = config_.members_only;
  req.password_protected = config_.password_protected;
  req.password_ok = x->child_text("password", ns::kMuc) == config_.password;
  req.occupants = same_user ? 0 : occupants_.size();  // another session of an occupant adds nobody
  req.max_users = config_.max_users ? config_.max_users : s_.limits.max_users;
  req.hard_max = s_.limits.max_users;
  if (auto denied = check_entry(req)) {
    error(st, StanzaError(*denied), origin, out);
    return;
  }
  // §7.2.9: a nickname in use, or reserved by another member, is a conflict — unless it is the same
  // user joining from another resource (multi-session nicks).
  if (existing && !same_user) {
    error(st, StanzaError(StanzaErrorCondition::kConflict, "that nickname is in use"), origin, out);
    return;
  }
  for (const auto& [jid, e] : affiliations_) {
    if (e.nick == nick && jid != bare) {
      error(st, StanzaError(StanzaErrorCondition::kConflict, "that nickname is reserved"), origin, out);
      return;
    }
  }

  Occupant* o = existing;
  if (same_user) {
    o->sessions.push_back(Session{from, origin, st.element()});
    o->shown = o->sessions.size() - 1;
  } else {
    Occupant fresh;
    fresh.nick = nick;
    fresh.jid = *jid_.with_resource(nick);
    fresh.bare = from.bare();
    fresh.role = default_role(aff, config_.moderated);
    fresh.occupant_id = occupant_id_for(bare);
    fresh.sessions.push_back(Session{from, origin, st.element()});
    o = &occupants_.emplace(nick, std::move(fresh)).first->second;
  }
  nick_of_[from.str()] = nick;
  bool modified = raw_nick(st.element()) != nick;
  send_room_state(*o, o->sessions.back(), HistoryRequest::parse(x->child("history", ns::kMuc)),
                  entry_codes(config_, created, modified), true, out);
}

void Room::send_room_state(const Occupant& o, const Session& s, const HistoryRequest& h, std::vector<int> self_codes,
                           bool broadcast, RoomOutput& out) {
  // §7.1 order: presence of the others, self-presence (after the whole roster), history, subject.
  bool see = can_see_real_jids(o.role, config_.whois);
  for (const auto& [nick, p] : occupants_) {
    if (&p == &o || !presence_broadcast(p.role, config_.presence_broadcast)) continue;
    presence_to_session(p, s, see, out);
  }
  if (broadcast) {
    broadcast_presence(o, spec_for(o, false), self_codes, out);
  } else {
    PresenceSpec self = spec_for(o, false);
    self.base = &s.presence;
    self.item.jid = s.jid.str();
    self.codes = std::move(self_codes);
    self.codes.push_back(110);
    out.send(make_occupant_presence(o.jid, self), s.jid, s.ref);
  }
  // §7.2.14: history, stamped with <delay/> from the room.
  const auto& entries = history_.entries();
  for (size_t i = select_history(entries, h, config_.history_fetch, now_); i < entries.size(); ++i) {
    xml::Element m = entries[i].message;
    xml::Element& d = m.add_child("delay", ns::kDelay);
    d.set_attr("from", jid_.str());
    d.set_attr("stamp", util::format_datetime(entries[i].stamp));
    out.send(m, s.jid, s.ref);
  }
  // §7.2.16: the subject, always (empty when none), from whoever set it.
  xml::Element m("message", ns::kClient);
  Jid from = jid_;
  if (!subject_.nick.empty())
    if (auto j = jid_.with_resource(subject_.nick)) from = *j;
  m.set_attr("from", from.str());
  m.set_attr("type", "groupchat");
  m.set_attr("id", util::random_id());
  m.add_text_child("subject", subject_.text);
  if (subject_.set) {
    xml::Element& d = m.add_child("delay", ns::kDelay);
    d.set_attr("from", jid_.str());
    d.set_attr("stamp", util::format_datetime(subject_.stamp));
  }
  out.send(m, s.jid, s.ref);
}

void Room::update_presence(Occupant& o, Session& s, const Stanza& st, RoomOutput& out) {
  // §7.7: a new availability status, reflected to everyone who may see the occupant's presence.
  s.presence = st.element();
  for (size_t i = 0; i < o.sessions.size(); ++i)
    if (&o.sessions[i] == &s) o.shown = i;
  broadcast_presence(o, spec_for(o, false), {}, out);
}

void Room::change_nick(Occupant& o, Session& s, const Stanza& st, SessionRef origin, RoomOutput& out) {
  std::string nick(st.to().resourcepart());
  if (auto bad = check_nick(nick, s_.max_nick_chars)) {
    error(st, *bad, origin, out);
    return;
  }
  // §7.6: in use by anyone else, or reserved by another member: conflict.
  if (occupant_by_nick(nick)) {
    error(st, StanzaError(StanzaErrorCondition::kConflict, "that nickname is in use"), origin, out);
    return;
  }
  for (const auto& [jid, e] : affiliations_) {
    if (e.nick == nick && jid != o.bare.str()) {
      error(st, StanzaError(StanzaErrorCondition::kConflict, "that nickname is reserved"), origin, out);
      return;
    }
  }
  // Unavailable from the old nick with the new one and 303; with multi-session nicks every session of
  // the occupant moves, as they are one person in the room.
  PresenceSpec gone = spec_for(o, true);
  gone.base = nullptr;
  gone.item.role = o.role;
  gone.item.nick = nick;
  gone.codes = {303};
  broadcast_presence(o, gone, {}, out);

  std::string old = o.nick;
  auto node = occupants_.extract(old);
  node.key() = nick;
  Occupant& moved = occupants_.insert(std::move(node)).position->second;
  moved.nick = nick;
  moved.jid = *jid_.with_resource(nick);
  for (const auto& sess : moved.sessions) nick_of_[sess.jid.str()] = nick;
  s.presence = st.element();
  for (size_t i = 0; i < moved.sessions.size(); ++i)
    if (&moved.sessions[i] == &s) moved.shown = i;
  std::vector<int> codes;
  if (raw_nick(st.element()) != nick) codes.push_back(210);
  broadcast_presence(moved, spec_for(moved, false), codes, out);
}

void Room::leave(const Jid& real, const xml::Element* exit_presence, std::vector<int> codes, RoomOutput& out) {
  Session* s = nullptr;
  Occupant* o = occupant_by_real(real, &s);
  if (!o || !s) return;
  nick_of_.erase(real.str());
  if (o->sessions.size() > 1) {
    // One session of a multi-session nick leaves: it alone is told; the occupant stays (§7.2.9).
    PresenceSpec self = spec_for(*o, true);
    self.base = exit_presence;
    self.item.jid = real.str();
    self.codes = codes;
    self.codes.push_back(110);
    out.send(make_occupant_presence(o->jid, self), s->jid, s->ref);
    bool was_shown = &o->sessions[o->shown] == s;
    o->sessions.erase(o->sessions.begin() + (s - o->sessions.data()));
    o->shown = o->sessions.size() - 1;
    if (was_shown) broadcast_presence(*o, spec_for(*o, false), {}, out);
    return;
  }
  Occupant gone = std::move(*o);
  occupants_.erase(gone.nick);
  PresenceSpec spec = spec_for(gone, true);
  spec.base = exit_presence;
  spec.codes = std::move(codes);
  // §10.1.3: the creator leaving before configuring the room destroys it, and is told so.
  if (locked_ && occupants_.empty()) spec.destroy = DestroyNotice{};
  broadcast_presence(gone, spec, {}, out);
  after_departure(out);
}

void Room::remove_occupant(const std::string& nick, Affiliation shown, std::vector<int> codes, std::string actor,
                           std::string reason, RoomOutput& out) {
  Occupant* o = occupant_by_nick(nick);
  if (!o) return;
  Occupant gone = std::move(*o);
  occupants_.erase(nick);
  for (const auto& s : gone.sessions) nick_of_.erase(s.jid.str());
  PresenceSpec spec = spec_for(gone, true);
  spec.base = nullptr;
  spec.item.affiliation = shown;
  spec.item.actor = std::move(actor);
  spec.item.reason = std::move(reason);
  spec.codes = std::move(codes);
  // §8.2 / §9.1: the removed occupant first, then everyone else.
  broadcast_presence(gone, spec, {}, out, true);
  after_departure(out);
}

void Room::after_departure(RoomOutput& out) {
  if (!occupants_.empty()) return;
  // §10.1.1: a room whose creator leaves before configuring it is destroyed; §7.14: so is an empty
  // temporary room. An empty persistent room stays (and may be unloaded from memory).
  if (locked_ || !config_.persistent) destroyed_ = true;
}

}  // namespace causerie::modules::muc
