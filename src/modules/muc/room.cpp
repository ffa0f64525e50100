// XEP-0045 v1.35: room state, fan-out and persistence (see room.hpp for the file map).
#include "modules/muc/room.hpp"

#include <algorithm>

#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::modules::muc {

bool ServiceSettings::is_local(std::string_view d) const {
  return std::find(local_hosts.begin(), local_hosts.end(), d) != local_hosts.end();
}

bool ServiceSettings::may_create(const Jid& who) const {
  switch (creators) {
    case Creators::kAnyone: return true;
    case Creators::kLocal: return who.has_localpart() && is_local(who.domainpart());
    case Creators::kAdmins: return service_admins.count(std::string(who.bare_view())) != 0;
  }
  return false;
}

// ------------------------------------------------------------------------------------------ output

void RoomOutput::Fanout::to(const Jid& jid, SessionRef ref) {
  if (ref.valid()) {
    (out_.after_ ? out_.local_after : out_.local).push_back(Delivery{ref, shared_.out_for(jid.str())});
    return;
  }
  auto from = Jid::parse(el_.attr("from"));
  (out_.after_ ? out_.routed_after : out_.routed).emplace_back(el_, from ? *from : Jid(), jid);
}

void RoomOutput::send(const xml::Element& stanza, const Jid& to, SessionRef ref) {
  if (ref.valid()) {
    xml::Element copy = stanza;
    copy.set_attr("to", to.str());
    (after_ ? local_after : local).push_back(Delivery{ref, serialize_out(copy)});
    return;
  }
  auto from = Jid::parse(stanza.attr("from"));
  (after_ ? routed_after : routed).emplace_back(stanza, from ? *from : Jid(), to);
}

// ------------------------------------------------------------------------------------------ life

Room::Room(Jid jid, const ServiceSettings& s)
    : s_(s), jid_(std::move(jid)), config_(s.defaults), locked_(true),
      history_(s.limits.max_history, s.history_bytes) {}

Room::Room(Jid jid, const storage::MucRoom& stored, const ServiceSettings& s)
    : s_(s), jid_(std::move(jid)), config_(deserialize_config(stored.config, s.limits)),
      history_(s.limits.max_history, s.history_bytes) {
  config_.persistent = true;
  for (const auto& a : stored.affiliations) {
    auto aff = parse_affiliation(a.affiliation);
    if (!aff || *aff == Affiliation::kNone) continue;
    affiliations_[a.jid] = AffiliationEntry{*aff, a.nick, a.reason};
  }
  if (stored.subject_stamp_ms) {
    subject_.set = true;
    subject_.text = stored.subject;
    subject_.nick = stored.subject_nick;
    subject_.stamp = util::SystemTime(std::chrono::milliseconds(stored.subject_stamp_ms));
  }
  for (const auto& h : stored.history) {
    auto el = xml::parse_fragment(h.xml);
    if (!el || el->name() != "message") continue;
    std::string bytes;
    xml::serialize_stanza(*el, bytes);
    history_.add(HistoryEntry{util::SystemTime(std::chrono::milliseconds(h.stamp_ms)), std::move(*el),
                              bytes.size() + 64 + jid_.str().size()});
  }
}

RoomSummary Room::summary() const {
  RoomSummary s;
  s.exists = !destroyed_;
  s.is_public = config_.is_public && !locked_;
  s.persistent = config_.persistent;
  s.name = config_.name;
  s.occupants = occupants_.size();
  s.description = config_.description;
  s.lang = config_.lang;
  s.open = !config_.members_only && !config_.password_protected;
  s.non_anonymous = config_.whois == Whois::kAnyone;
  return s;
}

std::unique_ptr<Room> Room::handle_absent(const Jid& room, const Stanza& st, SessionRef origin, util::SystemTime now,
                                          const ServiceSettings& s, RoomOutput& out) {
  const Jid& from = st.from();
  auto fail = [&](StanzaError e) {
    if (auto r = make_error_reply(st.element(), e)) out.send(*r, from, origin);
  };
  switch (st.kind()) {
    case StanzaKind::kPresence: {
      if (!st.type().empty() || from.empty()) return nullptr;  // §17.3 rules 1, 2, 5
      if (!st.to().has_resource()) {
        fail(StanzaError(StanzaErrorCondition::kJidMalformed, "a nickname is required"));  // §7.2.1
        return nullptr;
      }
      if (!st.element().child("x", ns::kMuc)) {
        // §7.2.20: presence without <x/> from a non-occupant is answered with a kick (110 307 333).
        PresenceSpec spec;
        spec.unavailable = true;
        spec.item.reason = "You are not in the room.";
        spec.codes = {110, 307, 333};
        out.send(make_occupant_presence(st.to(), spec), from, origin);
        return nullptr;
      }
      if (!s.may_create(from)) {
        fail(StanzaError(StanzaErrorCondition::kNotAllowed, "room creation is restricted"));  // §10.1.1
        return nullptr;
      }
      if (auto bad = check_nick(st.to().resourcepart(), s.max_nick_chars)) {
        fail(*bad);
        return nullptr;
      }
      auto r = std::make_unique<Room>(room, s);
      r->now_ = now;
      r->set_affiliation(std::string(from.bare_view()), Affiliation::kOwner, {}, {});
      r->join(st, origin, true, out);
      if (r->empty()) return nullptr;
      return r;
    }
    case StanzaKind::kMessage:
      if (st.type() != "error") fail(StanzaError(StanzaErrorCondition::kItemNotFound));  // §17.2 rule 3
      return nullptr;
    case StanzaKind::kIq:
      if (st.type() == "get" || st.type() == "set") fail(StanzaError(StanzaErrorCondition::kItemNotFound));
      return nullptr;
    default:
      return nullptr;
  }
}

void Room::handle(const Stanza& st, SessionRef origin, util::SystemTime now, RoomOutput& out) {
  now_ = now;
  if (st.from().empty() || destroyed_) return;
  switch (st.kind()) {
    case StanzaKind::kPresence: on_presence(st, origin, out); return;
    case StanzaKind::kMessage: on_message(st, origin, out); return;
    case StanzaKind::kIq: on_iq(st, origin, out); return;
    default: return;
  }
}

void Room::session_gone(const Jid& full, SessionRef ref, RoomOutput& out) {
  Session* s = nullptr;
  if (!occupant_by_real(full, &s) || (ref.valid() && s->ref.valid() && s->ref != ref)) return;
  leave(full, nullptr, {}, out);
}

void Room::shutdown(RoomOutput& out) {
  // §12.2: one unavailable presence per occupant session, with 110 and 332; no broadcast.
  for (const auto& [nick, o] : occupants_) {
    PresenceSpec spec = spec_for(o, true);
    spec.item.role = Role::kNone;
    spec.codes = {110, 332};
    xml::Element p = make_occupant_presence(o.jid, spec);
    for (const auto& s : o.sessions) out.send(p, s.jid, s.ref);
  }
  occupants_.clear();
  nick_of_.clear();
  if (!config_.persistent) destroyed_ = true;
}

void Room::destroy(const DestroyNotice& notice, RoomOutput& out) {
  // §10.9: each occupant gets one unavailable presence with <destroy/>; no broadcast.
  for (const auto& [nick, o] : occupants_) {
    PresenceSpec spec;
    spec.unavailable = true;
    spec.destroy = notice;
    spec.occupant_id = o.occupant_id;
    xml::Element p = make_occupant_presence(o.jid, spec);
    for (const auto& s : o.sessions) out.send(p, s.jid, s.ref);
  }
  occupants_.clear();
  nick_of_.clear();
  if (config_.persistent) out.store([jid = jid_.str()](storage::MucStore& m) { m.remove_room(jid); });
  destroyed_ = true;
}

// ------------------------------------------------------------------------------------------ helpers

void Room::error(const Stanza& st, StanzaError e, SessionRef origin, RoomOutput& out) const {
  if (auto r = make_error_reply(st.element(), e)) out.send(*r, st.from(), origin);
}

void Room::reply(const Stanza& iq, std::optional<xml::Element> payload, SessionRef origin, RoomOutput& out) const {
  xml::Element r("iq", ns::kClient);
  r.set_attr("type", "result");
  r.set_attr("id", iq.id());
  r.set_attr("from", iq.to().str());
  if (payload) r.add(std::move(*payload));
  out.send(r, iq.from(), origin);
}

Affiliation Room::affiliation_of(std::string_view bare) const {
  if (s_.service_admins.count(std::string(bare))) return Affiliation::kOwner;
  if (auto it = affiliations_.find(bare); it != affiliations_.end()) return it->second.affiliation;
  // §9.2: a ban may name a whole domain.
  size_t at = bare.find('@');
  if (at != std::string_view::npos) {
    if (auto it = affiliations_.find(bare.substr(at + 1));
        it != affiliations_.end() && it->second.affiliation == Affiliation::kOutcast)
      return Affiliation::kOutcast;
  }
  return Affiliation::kNone;
}

size_t Room::owner_count() const {
  size_t n = 0;
  for (const auto& [jid, e] : affiliations_) n += e.affiliation == Affiliation::kOwner;
  return n;
}

Room::Occupant* Room::occupant_by_nick(std::string_view nick) {
  auto it = occupants_.find(nick);
  return it == occupants_.end() ? nullptr : &it->second;
}

Room::Occupant* Room::occupant_by_real(const Jid& full, Session** session) {
  auto it = nick_of_.find(full.str());
  if (it == nick_of_.end()) return nullptr;
  Occupant* o = occupant_by_nick(it->second);
  if (o && session) {
    *session = nullptr;
    for (auto& s : o->sessions)
      if (s.jid == full) *session = &s;
  }
  return o;
}

std::vector<std::string> Room::list_of(Affiliation a) const {
  std::vector<std::string> out;
  for (const auto& [jid, e] : affiliations_)
    if (e.affiliation == a) out.push_back(jid);
  return out;
}

std::string Room::occupant_id_for(std::string_view bare) const { return make_occupant_id(s_.secret, jid_.str(), bare); }

void Room::set_affiliation(const std::string& bare, Affiliation a, std::string nick, std::string reason) {
  if (a == Affiliation::kNone) {
    affiliations_.erase(bare);
    return;
  }
  affiliations_[bare] = AffiliationEntry{a, std::move(nick), std::move(reason)};
}

PresenceSpec Room::spec_for(const Occupant& o, bool unavailable) const {
  PresenceSpec spec;
  spec.base = &o.presence();
  spec.unavailable = unavailable;
  spec.item.affiliation = affiliation_of(o.bare.str());
  spec.item.role = unavailable ? Role::kNone : o.role;
  spec.occupant_id = o.occupant_id;
  return spec;
}

Role Room::role_after_affiliation(const Occupant& o, Affiliation before, Affiliation after) const {
  // §5.1.3 note: the role gained with an affiliation is fixed; the one left after losing it is ours to
  // choose: the default role of the new affiliation.
  if (after >= Affiliation::kAdmin) return Role::kModerator;
  if (after == Affiliation::kOutcast) return Role::kNone;
  if (before >= Affiliation::kAdmin) return default_role(after, config_.moderated);
  if (after == Affiliation::kMember) return std::max(o.role, Role::kParticipant);
  return o.role;
}

void Room::broadcast_presence(const Occupant& o, PresenceSpec spec, const std::vector<int>& self_codes,
                              RoomOutput& out, bool self_first) {
  const std::string& real = o.sessions.empty() ? std::string() : o.sessions[o.shown].jid.str();
  PresenceSpec with = spec;
  with.item.jid = real;
  xml::Element el_with = make_occupant_presence(o.jid, with);
  spec.item.jid.clear();
  xml::Element el_without = make_occupant_presence(o.jid, spec);
  PresenceSpec self = with;
  self.codes.insert(self.codes.end(), self_codes.begin(), self_codes.end());
  self.codes.push_back(110);
  xml::Element el_self = make_occupant_presence(o.jid, self);

  auto to_self = [&] {
    if (o.sessions.empty()) return;
    RoomOutput::Fanout f_self(out, el_self);
    for (const auto& s : o.sessions) f_self.to(s.jid, s.ref);
  };
  if (self_first) to_self();
  std::optional<RoomOutput::Fanout> f_with, f_without;
  // Others only see the presence of roles the room broadcasts (muc#roomconfig_presencebroadcast).
  if (presence_broadcast(o.role, config_.presence_broadcast)) {
    for (const auto& [nick, p] : occupants_) {
      if (&p == &o || nick == o.nick) continue;
      bool see = can_see_real_jids(p.role, config_.whois);
      auto& f = see ? f_with : f_without;
      if (!f) f.emplace(out, see ? el_with : el_without);
      for (const auto& s : p.sessions) f->to(s.jid, s.ref);
    }
  }
  if (!self_first) to_self();
}

void Room::presence_to_session(const Occupant& o, const Session& to, bool with_jid, RoomOutput& out) const {
  PresenceSpec spec = spec_for(o, false);
  if (with_jid) spec.item.jid = o.sessions[o.shown].jid.str();
  out.send(make_occupant_presence(o.jid, spec), to.jid, to.ref);
}

void Room::send_to_occupants(const xml::Element& stanza, RoomOutput& out) {
  RoomOutput::Fanout f(out, stanza);
  for (const auto& [nick, o] : occupants_)
    for (const auto& s : o.sessions) f.to(s.jid, s.ref);
}

void Room::status_message(const std::vector<int>& codes, RoomOutput& out) {
  if (codes.empty()) return;
  xml::Element m("message", ns::kClient);
  m.set_attr("from", jid_.str());
  m.set_attr("type", "groupchat");
  m.set_attr("id", util::random_id());
  m.add(make_status_x(codes));
  send_to_occupants(m, out);
}

// ------------------------------------------------------------------------------------------ storage

storage::MucRoom Room::stored_header() const {
  storage::MucRoom r;
  r.jid = jid_.str();
  r.service = s_.domain;
  r.is_public = config_.is_public;
  r.name = config_.name;
  r.config = serialize_config(config_);
  if (subject_.set) {
    r.subject = subject_.text;
    r.subject_nick = subject_.nick;
    r.subject_stamp_ms = std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(subject_.stamp.time_since_epoch()).count());
  }
  return r;
}

void Room::persist_header(RoomOutput& out) const {
  if (!config_.persistent) return;
  out.store([h = stored_header()](storage::MucStore& m) { m.save_room(h); });
}

void Room::persist_affiliation(const std::string& bare, RoomOutput& out) const {
  if (!config_.persistent) return;
  auto it = affiliations_.find(bare);
  if (it == affiliations_.end()) {
    out.store([room = jid_.str(), bare](storage::MucStore& m) { m.remove_affiliation(room, bare); });
    return;
  }
  storage::MucAffiliation a{bare, to_string(it->second.affiliation), it->second.nick, it->second.reason};
  out.store([room = jid_.str(), a](storage::MucStore& m) { m.set_affiliation(room, a); });
}

std::vector<storage::MucHistoryItem> Room::stored_history() const {
  std::vector<storage::MucHistoryItem> hist;
  for (const auto& e : history_.entries())
    hist.push_back({std::chrono::duration_cast<std::chrono::milliseconds>(e.stamp.time_since_epoch()).count(),
                    xml::to_string(e.message)});
  return hist;
}

void Room::persist_everything(RoomOutput& out) const {
  std::vector<storage::MucAffiliation> affs;
  for (const auto& [jid, e] : affiliations_) affs.push_back({jid, to_string(e.affiliation), e.nick, e.reason});
  size_t keep = s_.limits.max_history;
  out.store([h = stored_header(), affs = std::move(affs), hist = stored_history(), keep](storage::MucStore& m) {
    m.save_room(h);
    for (const auto& a : affs) m.set_affiliation(h.jid, a);
    m.clear_history(h.jid);
    for (const auto& i : hist) m.append_history(h.jid, i, keep);
  });
}

}  // namespace causerie::modules::muc
