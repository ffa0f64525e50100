// XEP-0045 v1.35 §7.10 registering with a room (jabber:iq:register, XEP-0077) and §9.9 approving
// registration requests. The policy is check_registration (privileges.hpp), the forms registration.hpp.
//
// A registered user is one on the member list or above (§5.2 "Member: … registered with an open room");
// registering reserves a nickname (§7.12 discovers it, §7.2.9 keeps others from using it). Approval forms
// go to the admins' and owners' accounts; any admin or owner may answer one. The room does not keep the
// requests it forwarded (it may be unloaded before the answer comes): an approval names the user and
// the nickname, and an admin may make anyone a member anyway (§9.3).
#include <algorithm>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/muc/registration.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

namespace {

constexpr auto kRequestInterval = std::chrono::seconds(60);  // per user, between forwarded requests
constexpr size_t kMaxRememberedRequests = 256;

bool only_child_is_remove(const xml::Element& q) {
  size_t n = 0;
  bool remove = false;
  for (const auto& c : q.nodes()) {
    if (c.is_text()) continue;
    ++n;
    remove = remove || c.is("remove", ns::kRegister);
  }
  return remove && n == 1;
}

}  // namespace

bool Room::nick_taken(std::string_view nick, std::string_view bare) const {
  for (const auto& [jid, e] : affiliations_)
    if (e.nick == nick && jid != bare) return true;  // reserved by another user
  auto it = occupants_.find(nick);
  return it != occupants_.end() && it->second.bare.str() != bare;  // in use by another user
}

const std::string* Room::registered_nick(std::string_view bare) const {
  auto it = affiliations_.find(bare);
  if (it == affiliations_.end() || it->second.affiliation < Affiliation::kMember) return nullptr;
  return &it->second.nick;
}

void Room::on_register(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out) {
  std::string bare(st.from().bare_view());
  Affiliation a = affiliation_of(bare);
  auto fail = [&](StanzaError e) { error(st, std::move(e), origin, out); };
  if (a == Affiliation::kOutcast) return fail(StanzaError(StanzaErrorCondition::kForbidden));
  const std::string* nick = registered_nick(bare);

  if (st.type() == "get") {
    xml::Element r("query", ns::kRegister);
    if (nick) {
      // §7.10: "MUST contain an empty <registered/> element and SHOULD contain … <username/>"; the form,
      // filled in, lets the member change the reserved nickname (XEP-0077 §3.1).
      r.add_child("registered");
      if (!nick->empty()) r.add_text_child("username", *nick);
    } else if (config_.registration == Registration::kNone) {
      return fail(StanzaError(StanzaErrorCondition::kNotAllowed, "registration with this room is closed"));
    }
    if (config_.registration != Registration::kNone) {
      r.add_text_child("instructions", "Fill in the form to reserve a nickname in this room.");
      r.add(registration_form(jid_.str(), nick ? *nick : std::string()).to_element());
    }
    reply(st, std::move(r), origin, out);
    return;
  }

  if (q.child("remove", ns::kRegister)) {
    // XEP-0077 §3.2 cancellation: the member list entry goes, an admin or owner only loses the nickname.
    if (!only_child_is_remove(q)) return fail(StanzaError(StanzaErrorCondition::kBadRequest));
    if (!nick) return fail(StanzaError(StanzaErrorCondition::kRegistrationRequired));
    if (a == Affiliation::kMember) {
      apply_affiliation(bare, Affiliation::kNone, {}, {}, jid_, out);  // §9.4 if members-only (321)
    } else {
      affiliations_[bare].nick.clear();
      persist_affiliation(bare, out);
    }
    out.begin_after_store();
    reply(st, std::nullopt, origin, out);
    return;
  }

  const xml::Element* x = q.child("x", ns::kDataForms);
  auto form = x ? xml::DataForm::parse(*x) : std::nullopt;
  if (!form) return fail(StanzaError(StanzaErrorCondition::kBadRequest, "a data form is expected"));  // §7.10
  if (form->type == "cancel") {
    reply(st, std::nullopt, origin, out);
    return;
  }
  RegistrationDecision d = check_registration(a, config_);
  if (d.denial) return fail(StanzaError(*d.denial));
  auto request = parse_registration_form(*form, s_.max_nick_chars, s_.limits.max_text);
  if (!request) return fail(request.error());
  // §7.10: "If the desired room nickname is already reserved for that room … conflict".
  if (nick_taken(request->nick, bare))
    return fail(StanzaError(StanzaErrorCondition::kConflict, "that nickname is reserved or in use"));

  if (d.path == RegistrationPath::kImmediate) {
    if (a >= Affiliation::kMember) {
      affiliations_[bare].nick = request->nick;  // already on the list: a new reserved nickname only
      persist_affiliation(bare, out);
    } else {
      if (affiliations_.size() >= s_.max_affiliations)
        return fail(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many members in this room"));
      // §7.10: the user becomes a member; if present, everyone sees the new affiliation.
      apply_affiliation(bare, Affiliation::kMember, request->nick, {}, st.from(), out);
    }
    out.begin_after_store();
    reply(st, std::nullopt, origin, out);
    return;
  }

  // §9.9: ask the admins and owners. One request a minute per user reaches them.
  auto last = registration_requests_.find(bare);
  if (last != registration_requests_.end() && now_ - last->second < kRequestInterval)
    return fail(StanzaError(StanzaErrorCondition::kPolicyViolation, StanzaErrorType::kWait,
                            "your previous request is waiting for an admin"));
  registration_requests_[bare] = now_;
  if (registration_requests_.size() > kMaxRememberedRequests) {
    auto oldest = std::min_element(registration_requests_.begin(), registration_requests_.end(),
                                   [](const auto& x, const auto& y) { return x.second < y.second; });
    registration_requests_.erase(oldest);
  }
  xml::Element m("message", ns::kClient);
  m.set_attr("from", jid_.str());
  m.set_attr("id", util::random_id());
  m.add(approval_form(*request, bare, jid_.str()).to_element());
  for (Affiliation level : {Affiliation::kOwner, Affiliation::kAdmin})
    for (const auto& approver : list_of(level))
      if (auto to = Jid::parse(approver); to && to->has_localpart()) out.send(m, *to, SessionRef{});
  reply(st, std::nullopt, origin, out);  // §7.10: "the registration request was successfully received"
}

void Room::on_registration_answer(const Stanza& st, const xml::DataForm& form, SessionRef origin, RoomOutput& out) {
  if (form.type == "cancel") return;  // §9.9: "To skip this request, click the cancel button"
  auto fail = [&](StanzaError e) { error(st, std::move(e), origin, out); };
  Affiliation approver = affiliation_of(st.from().bare_view());
  if (approver < Affiliation::kAdmin) return fail(StanzaError(StanzaErrorCondition::kForbidden));
  auto answer = parse_approval_form(form, s_.max_nick_chars, s_.limits.max_text);
  if (!answer) return fail(answer.error());
  if (!answer->allow) {
    registration_requests_.erase(answer->jid);
    return;
  }
  Affiliation target = affiliation_of(answer->jid);
  if (auto denied = check_registration_approval(approver, target))
    return fail(StanzaError(*denied, "that user is banned from this room"));
  registration_requests_.erase(answer->jid);
  if (target >= Affiliation::kMember) return;  // made a member meanwhile: nothing left to approve
  if (nick_taken(answer->request.nick, answer->jid))
    return fail(StanzaError(StanzaErrorCondition::kConflict, "that nickname has been reserved meanwhile"));
  if (affiliations_.size() >= s_.max_affiliations)
    return fail(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many members in this room"));
  // "the service shall register the user with the room"; a members-only room then invites them (§9.5).
  apply_affiliation(answer->jid, Affiliation::kMember, answer->request.nick, {}, st.from(), out);
}

}  // namespace causerie::modules::muc
