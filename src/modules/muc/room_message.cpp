// XEP-0045 v1.35 §7.4 messages to all occupants, §8.1 subject, §7.5 private messages, §7.8.2 mediated
// invitations and declines, §7.13/§8.6 voice requests and their approval, §17.4 rule 2 ghosts.
#include <algorithm>

#include "core/util/encoding.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/mam/archive_rules.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

namespace {

constexpr size_t kMaxRememberedInvites = 128;
constexpr auto kVoiceRequestInterval = std::chrono::seconds(30);

// XEP-0334: a message marked so is not kept in the history.
bool no_store(const xml::Element& m) {
  return m.child("no-store", ns::kHints) || m.child("no-permanent-store", ns::kHints);
}

// §17.4 rule 2: the errors that say a recipient is not there. (Not service-unavailable: a client may
// answer a private message it does not want with it, and that is no reason to remove its user.)
bool delivery_error(const xml::Element& stanza) {
  const xml::Element* e = stanza.child("error");
  if (!e) return false;
  for (const char* c : {"gone", "item-not-found", "recipient-unavailable", "redirect", "remote-server-not-found",
                        "remote-server-timeout"})
    if (e->child(c, ns::kStanzas)) return true;
  return false;
}

}  // namespace

void Room::on_message(const Stanza& st, SessionRef origin, RoomOutput& out) {
  std::string_view type = st.type();
  if (type == "error") {
    on_error_from(st, out);
    return;
  }
  if (st.to().has_resource()) {
    on_private_message(st, origin, out);
    return;
  }
  if (type == "groupchat") {
    on_groupchat(st, origin, out);
    return;
  }
  const xml::Element& m = st.element();
  if (const xml::Element* x = m.child("x", ns::kMucUser)) {
    if (x->child("invite", ns::kMucUser)) {
      on_invites(st, *x, origin, out);
      return;
    }
    if (x->child("decline", ns::kMucUser)) {
      on_decline(st, *x, out);
      return;
    }
  }
  if (const xml::Element* fx = m.child("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*fx);
    if (form && form->form_type() == ns::kMucRequest) {
      on_voice_request(st, *form, origin, out);
      return;
    }
    if (form && form->form_type() == ns::kMucRegister) {
      on_registration_answer(st, *form, origin, out);  // §9.9
      return;
    }
  }
  // §17.2 rule 1: messages to the room itself must be of type groupchat.
  error(st, StanzaError(StanzaErrorCondition::kBadRequest, "messages to the room are of type groupchat"), origin, out);
}

namespace {

bool word_char(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80; }

// Whether `name` occurs in `text` as a whole word, ASCII letters compared without case.
bool names(std::string_view text, std::string_view name) {
  if (name.empty() || name.size() > text.size()) return false;
  auto lower = [](unsigned char c) { return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  for (size_t i = 0; i + name.size() <= text.size(); ++i) {
    size_t k = 0;
    while (k < name.size() && lower(text[i + k]) == lower(name[k])) ++k;
    if (k != name.size()) continue;
    bool start = i == 0 || !word_char(lower(text[i - 1]));
    bool end = i + k == text.size() || !word_char(lower(text[i + k]));
    if (start && end) return true;
  }
  return false;
}

}  // namespace

// Mentions for accounts that are away from the room (issue 15.3, docs/protocol/webpush.md "Mentions"):
// a member, admin or owner of the room who has no occupant in it, named in the body as a whole word by
// the nickname it reserved (§7.10) or, without one, by its JID's localpart. Occupants see the message
// themselves; anyone else with no affiliation has no standing nickname to be called by.
void Room::mention_absent_members(std::string_view body, const Occupant& from, RoomOutput& out) const {
  static constexpr size_t kMaxMentioned = 20;  // bounded work per message (DESIGN §9)
  size_t found = 0;
  for (const auto& [bare, entry] : affiliations_) {
    if (entry.affiliation < Affiliation::kMember || bare == from.bare.str()) continue;
    size_t at = bare.find('@');
    if (at == std::string::npos) continue;  // a domain affiliation names no account
    std::string_view name = entry.nick.empty() ? std::string_view(bare).substr(0, at) : std::string_view(entry.nick);
    if (!names(body, name)) continue;
    bool present = std::any_of(occupants_.begin(), occupants_.end(),
                               [&](const auto& o) { return o.second.bare.str() == bare; });
    if (present) continue;
    out.events.push_back(AccountEvent{AccountEvent::Kind::kRoomMention, bare, from.jid.str(), jid_.str(), {}, {},
                                      std::string(body)});
    if (++found == kMaxMentioned) break;
  }
}

void Room::on_groupchat(const Stanza& st, SessionRef origin, RoomOutput& out) {
  Session* s = nullptr;
  Occupant* o = occupant_by_real(st.from(), &s);
  if (!o) {
    error(st, StanzaError(StanzaErrorCondition::kNotAcceptable, "you are not in the room"), origin, out);  // §7.4
    return;
  }
  const xml::Element& m = st.element();
  bool body = m.child("body", ns::kClient) != nullptr;
  bool subject = m.child("subject", ns::kClient) != nullptr;
  bool thread = m.child("thread", ns::kClient) != nullptr;
  bool subject_change = subject && !body && !thread;  // §8.1: only such a message changes the subject
  if (subject_change ? !can_change_subject(o->role, config_.change_subject) : !can_send_groupchat(o->role)) {
    error(st, StanzaError(StanzaErrorCondition::kForbidden, subject_change ? "you may not change the subject"
                                                                           : "you have no voice in this room"),
          origin, out);
    return;
  }
  // §7.4: reflected from the occupant JID, with the sender's id (muc#stable_id) and our occupant id.
  xml::Element r = m;
  r.remove_attr("to");
  r.set_attr("from", o->jid.str());
  if (r.attr("id").empty()) r.set_attr("id", util::random_id());
  strip_client_muc_elements(r);
  set_occupant_id(r, o->occupant_id);
  // XEP-0359 §4 rule 2: a stanza id in the room's name is the room's to give, never the sender's.
  mam::strip_stanza_ids(r, [this](std::string_view by) { return by == jid_.str(); });
  // XEP-0313 §"MUC Archives": messages with a body and subject changes, each once, before the broadcast
  // so that every occupant gets the archive's <stanza-id/>.
  if (config_.archiving && (body || subject_change) && !no_store(m)) archive_message(r, *o, out);
  if (subject_change) {
    subject_ = Subject{m.child_text("subject", ns::kClient), o->nick, now_, true};
    send_to_occupants(r, out);
    persist_header(out);
    return;
  }
  out.local.reserve(out.local.size() + occupants_.size());
  RoomOutput::Fanout f(out, r);
  for (const auto& [nick, p] : occupants_)
    for (const auto& sess : p.sessions) f.to(sess.jid, sess.ref);
  if (body) mention_absent_members(m.child_text("body", ns::kClient), *o, out);
  if (!body || no_store(m)) return;
  size_t chars = f.bytes() + 64 + jid_.str().size();  // with the <delay/> it will carry
  if (config_.persistent) {
    storage::MucHistoryItem item{
        std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count(), xml::to_string(r)};
    out.store([room = jid_.str(), item = std::move(item), keep = s_.limits.max_history](storage::MucStore& st) {
      st.append_history(room, item, keep);
    });
  }
  history_.add(HistoryEntry{now_, std::move(r), chars});
}

void Room::on_private_message(const Stanza& st, SessionRef origin, RoomOutput& out) {
  if (st.type() == "groupchat") {  // §7.5
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "private messages are not of type groupchat"), origin,
          out);
    return;
  }
  Occupant* o = occupant_by_real(st.from());
  if (!o) {
    error(st, StanzaError(StanzaErrorCondition::kNotAcceptable, "you are not in the room"), origin, out);
    return;
  }
  Occupant* target = occupant_by_nick(st.to().resourcepart());
  if (!target) {
    error(st, StanzaError(StanzaErrorCondition::kItemNotFound, "no such occupant"), origin, out);
    return;
  }
  if (!can_send_private(o->role, config_.allow_pm)) {
    error(st, StanzaError(StanzaErrorCondition::kForbidden, "private messages are not allowed here"), origin, out);
    return;
  }
  xml::Element r = st.element();
  r.remove_attr("to");
  r.set_attr("from", o->jid.str());
  r.remove_children("occupant-id", ns::kOccupantId);
  if (!r.child("x", ns::kMucUser)) r.add_child("x", ns::kMucUser);  // §7.5, for XEP-0280 carbons
  set_occupant_id(r, o->occupant_id);
  // §7.2.9: to every session of a multi-session nick.
  RoomOutput::Fanout f(out, r);
  for (const auto& s : target->sessions) f.to(s.jid, s.ref);
}

void Room::on_error_from(const Stanza& st, RoomOutput& out) {
  if (occupant_by_real(st.from()) && delivery_error(st.element())) leave(st.from(), nullptr, {333}, out);
}

void Room::on_invites(const Stanza& st, const xml::Element& x, SessionRef origin, RoomOutput& out) {
  Occupant* o = occupant_by_real(st.from());
  Actor actor{o ? o->role : Role::kNone, affiliation_of(st.from().bare_view())};
  if (auto denied = check_invite(actor, config_)) {
    error(st, StanzaError(*denied), origin, out);
    return;
  }
  auto invites = x.children("invite", ns::kMucUser);
  if (invites.size() > s_.max_invites_per_message) {
    error(st, StanzaError(StanzaErrorCondition::kPolicyViolation, "too many invitations at once"), origin, out);
    return;
  }
  std::vector<Jid> invitees;
  for (const xml::Element* inv : invites) {
    auto to = Jid::parse(inv->attr("to"));
    if (!to) {
      error(st, StanzaError(StanzaErrorCondition::kJidMalformed, "invalid invitee"), origin, out);
      return;
    }
    invitees.push_back(*to);
  }
  std::string inviter(st.from().bare_view());
  for (size_t i = 0; i < invites.size(); ++i) {
    const Jid& to = invitees[i];
    std::string invitee(to.bare_view());
    // §9.5: in a members-only room the invitee becomes a member, so the invitation can be used.
    if (config_.members_only && affiliation_of(invitee) == Affiliation::kNone &&
        affiliations_.size() < s_.max_affiliations) {
      set_affiliation(invitee, Affiliation::kMember, {}, {});
      persist_affiliation(invitee, out);
    }
    xml::Element m("message", ns::kClient);
    m.set_attr("from", jid_.str());
    m.set_attr("id", st.id().empty() ? util::random_id() : std::string(st.id()));
    xml::Element& ux = m.add_child("x", ns::kMucUser);
    xml::Element& inv = ux.add_child("invite");
    inv.set_attr("from", inviter);
    if (const xml::Element* reason = invites[i]->child("reason", ns::kMucUser)) inv.add(*reason);
    if (const xml::Element* cont = invites[i]->child("continue", ns::kMucUser)) inv.add(*cont);
    if (config_.password_protected) ux.add_text_child("password", config_.password);  // §7.8.2
    out.send(m, to, SessionRef{});
    invitations_.emplace_back(invitee, st.from());
    if (invitations_.size() > kMaxRememberedInvites) invitations_.pop_front();
  }
}

void Room::on_decline(const Stanza& st, const xml::Element& x, RoomOutput& out) {
  // §7.8.2: the room passes a decline on to the inviter. Only declines of invitations this room sent
  // are passed on, so the room cannot be used to send messages to arbitrary addresses.
  const xml::Element* d = x.child("decline", ns::kMucUser);
  std::string decliner(st.from().bare_view());
  std::optional<Jid> named;
  if (auto to = Jid::parse(d->attr("to")); to && !d->attr("to").empty()) named = *to;
  for (auto it = invitations_.rbegin(); it != invitations_.rend(); ++it) {
    if (it->first != decliner) continue;
    if (named && named->bare() != it->second.bare()) continue;
    Jid inviter = it->second;
    invitations_.erase(std::next(it).base());
    xml::Element m("message", ns::kClient);
    m.set_attr("from", jid_.str());
    m.set_attr("id", st.id().empty() ? util::random_id() : std::string(st.id()));
    xml::Element& dec = m.add_child("x", ns::kMucUser).add_child("decline");
    dec.set_attr("from", decliner);
    if (const xml::Element* reason = d->child("reason", ns::kMucUser)) dec.add(*reason);
    out.send(m, inviter, SessionRef{});
    return;
  }
}

void Room::on_voice_request(const Stanza& st, const xml::DataForm& form, SessionRef origin, RoomOutput& out) {
  Occupant* o = occupant_by_real(st.from());
  if (!o) {
    error(st, StanzaError(StanzaErrorCondition::kNotAcceptable, "you are not in the room"), origin, out);
    return;
  }
  if (form.field("muc#request_allow")) {
    // §8.6: a moderator's answer to an approval form.
    if (o->role != Role::kModerator) {
      error(st, StanzaError(StanzaErrorCondition::kForbidden), origin, out);
      return;
    }
    if (xml::parse_form_bool(form.value("muc#request_allow")) != true) return;
    auto nick = prep_resourcepart(form.value("muc#roomnick"));
    Occupant* target = nick ? occupant_by_nick(*nick) : nullptr;
    if (!target || target->role != Role::kVisitor) return;
    Actor actor{o->role, affiliation_of(o->bare.str())};
    if (check_role_change(actor, target->role, affiliation_of(target->bare.str()), Role::kParticipant)) return;
    target->role = Role::kParticipant;
    broadcast_presence(*target, spec_for(*target, false), {}, out);
    return;
  }
  // §7.13: a visitor asks for voice; every moderator gets an approval form.
  if (o->role != Role::kVisitor || form.value("muc#role") != "participant") return;
  if (o->last_voice_request.time_since_epoch().count() && now_ - o->last_voice_request < kVoiceRequestInterval) return;
  o->last_voice_request = now_;
  xml::DataForm approval;
  approval.type = "form";
  approval.title = "Voice request";
  approval.instructions = "To grant voice to this person, select the checkbox and submit the form.";
  approval.add("FORM_TYPE", "hidden", {ns::kMucRequest});
  approval.add("muc#role", "list-single", {"participant"}, "Requested role");
  approval.add("muc#jid", "jid-single", {st.from().str()}, "User ID");
  approval.add("muc#roomnick", "text-single", {o->nick}, "Room Nickname");
  approval.add("muc#request_allow", "boolean", {"false"}, "Grant voice to this person?");
  xml::Element m("message", ns::kClient);
  m.set_attr("from", jid_.str());
  m.set_attr("id", util::random_id());
  m.add(approval.to_element());
  std::optional<RoomOutput::Fanout> f;
  for (const auto& [nick, p] : occupants_) {
    if (p.role != Role::kModerator) continue;
    if (!f) f.emplace(out, m);
    for (const auto& s : p.sessions) f->to(s.jid, s.ref);
  }
}

}  // namespace causerie::modules::muc
