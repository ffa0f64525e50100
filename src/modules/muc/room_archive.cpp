// The room's XEP-0313 v1.1 archive (§3 "MUC archives", §"Business rules — MUC archives") and XEP-0425
// v0.3 moderated retraction. The archive is the account archive's store (ArchiveStore) under the room's
// bare JID, and its query form and paging are the mam module's pure rules (archive_rules.hpp); the
// storage work leaves the room as RoomOutput archive jobs (room.hpp), run by the RoomRegistry.
#include <chrono>
#include <memory>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/mam/archive_rules.hpp"
#include "modules/muc/room.hpp"

namespace causerie::modules::muc {

namespace {

constexpr size_t kDefaultPage = 50;
constexpr size_t kMaxPage = 250;

int64_t ms_of(util::SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

void Room::archive_message(xml::Element& reflected, const Occupant& from, RoomOutput& out) {
  storage::ArchivedMessage m;
  m.id = mam::new_archive_id(ms_of(now_));  // XEP-0313 §3: unpredictable, unique in the archive
  // XEP-0359 §4: 'by' is the archive, the room's bare JID; the broadcast and the archived copy carry it.
  mam::add_stanza_id(reflected, jid_.str(), m.id);
  m.with = from.jid.str();  // §4.1.1: a room archive's 'with' matches the publisher, room@service/nick
  m.message_id = std::string(reflected.attr("id"));
  m.xml = xml::to_string(reflected);
  m.body = mam::body_text(reflected);
  out.archive(true, [owner = jid_.str(), m = std::move(m), now = ms_of(now_)](storage::ArchiveStore& a,
                                                                             RoomOutput&) mutable {
    a.append(owner, m, now);
  });
}

// §"MUC Archives": a members-only room's archive is for its members, admins and owners; an outcast
// never reads it. Beyond the XEP's minimum (its "MAY further limit"), an open room's archive is for its
// occupants and its affiliated users, not for any passer-by.
bool Room::may_read_archive(const Jid& who) const {
  Affiliation a = affiliation_of(who.bare_view());
  if (a == Affiliation::kOutcast) return false;
  if (a == Affiliation::kMember || a == Affiliation::kAdmin || a == Affiliation::kOwner) return true;
  if (config_.members_only) return false;
  auto it = nick_of_.find(who.str());
  return it != nick_of_.end();
}

void Room::on_mam(const Stanza& st, const xml::Element& q, bool set, SessionRef origin, RoomOutput& out) {
  if (!may_read_archive(st.from())) {
    error(st, StanzaError(StanzaErrorCondition::kForbidden, "only occupants and members may read the room's archive"),
          origin, out);
    return;
  }
  if (!set) {  // §4.1.6: the form a client may fill
    xml::Element r("query", ns::kMam);
    r.add(mam::query_form().to_element());
    reply(st, std::move(r), origin, out);
    return;
  }
  auto parsed = mam::parse_query(q, kDefaultPage, kMaxPage);
  if (!parsed) {
    error(st, parsed.error(), origin, out);
    return;
  }
  auto request = std::make_shared<Stanza>(st);
  Jid to = st.from();
  out.archive(false, [owner = jid_.str(), p = std::move(*parsed), request, to, origin](storage::ArchiveStore& a,
                                                                                       RoomOutput& o) {
    auto page = a.query(owner, p.query);
    if (!page) {  // §4.1.3
      if (auto e = make_error_reply(request->element(),
                                    StanzaError(StanzaErrorCondition::kItemNotFound, "no such message in the archive")))
        o.send(*e, to, origin);
      return;
    }
    const auto& msgs = page->messages;
    for (size_t i = 0; i < msgs.size(); ++i) {
      // §4.2: results come from the archive, the room's bare JID; the forwarded message keeps the
      // occupant's 'from' (room@service/nick).
      if (auto r = mam::result_message(owner, p.queryid, msgs[p.flip ? msgs.size() - 1 - i : i])) o.send(*r, to, origin);
    }
    xml::Element iq("iq", ns::kClient);
    iq.set_attr("type", "result");
    iq.set_attr("id", request->id());
    iq.set_attr("from", owner);
    iq.add(mam::fin_element(*page));
    o.send(iq, to, origin);
  });
}

// XEP-0425 §"Use Case": a moderator asks the room to retract a message it archived. The archived message
// becomes a tombstone (§"Tombstones": id, time and place kept) and every occupant gets the retraction
// (XEP-0424 <retract/> with <moderated/>); the announcement is archived too, so that a client catching up
// from the archive learns of it. Both happen only when the message is found; the request is answered
// after the archive is changed.
void Room::on_moderate(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out) {
  Occupant* o = occupant_by_real(st.from());
  if (!o || o->role != Role::kModerator) {
    error(st, StanzaError(StanzaErrorCondition::kForbidden, "only moderators may retract other occupants' messages"),
          origin, out);
    return;
  }
  std::string target(q.attr("id"));
  if (target.empty() || !q.child("retract", ns::kRetract)) {
    error(st, StanzaError(StanzaErrorCondition::kBadRequest, "expected <moderate id><retract/></moderate>"), origin,
          out);
    return;
  }
  // §"Business Rules": no further distribution — the message leaves the join history (§7.2.15) at once.
  // Only archived messages carry the room's stanza id, so one found here is in the archive as well.
  size_t dropped = history_.remove_if([&](const HistoryEntry& e) {
    for (const xml::Element* sid : e.message.children("stanza-id", ns::kStanzaId))
      if (sid->attr("by") == jid_.str() && sid->attr("id") == target) return true;
    return false;
  });
  if (dropped && config_.persistent) {
    out.store([room = jid_.str(), hist = stored_history(), keep = s_.limits.max_history](storage::MucStore& m) {
      m.clear_history(room);
      for (const auto& i : hist) m.append_history(room, i, keep);
    });
  }
  std::string reason = q.child_text("reason", ns::kModerate);
  xml::Element moderated("moderated", ns::kModerate);
  moderated.set_attr("by", o->jid.str());
  moderated.add_child("occupant-id", ns::kOccupantId).set_attr("id", o->occupant_id);

  xml::Element m("message", ns::kClient);
  m.set_attr("from", jid_.str());
  m.set_attr("type", "groupchat");
  m.set_attr("id", util::random_id());
  xml::Element& retract = m.add_child("retract", ns::kRetract);
  retract.set_attr("id", target);
  retract.add(moderated);
  if (!reason.empty()) retract.add_text_child("reason", reason);
  std::optional<storage::ArchivedMessage> announcement;
  if (config_.archiving) {
    announcement.emplace();
    announcement->id = util::random_id(12);
    mam::add_stanza_id(m, jid_.str(), announcement->id);
    announcement->with = jid_.str();
    announcement->message_id = std::string(m.attr("id"));
    announcement->xml = xml::to_string(m);
  }
  // Prepared now, with the occupants of now; sent only if the message is found.
  auto found = std::make_shared<RoomOutput>();
  send_to_occupants(m, *found);
  reply(st, std::nullopt, origin, *found);
  auto missing = std::make_shared<RoomOutput>();
  error(st, StanzaError(StanzaErrorCondition::kItemNotFound, "no such message in the room's archive"), origin,
        *missing);

  std::string stamp = util::format_datetime(now_);
  out.archive(true, [owner = jid_.str(), target, moderated = std::move(moderated), reason, stamp, now = ms_of(now_),
                     announcement = std::move(announcement), found, missing](storage::ArchiveStore& a,
                                                                             RoomOutput& o) mutable {
    storage::ArchiveQuery lookup;
    lookup.ids = {target};
    lookup.limit = 1;
    auto page = a.query(owner, lookup);
    std::optional<xml::Element> original;
    if (page && !page->messages.empty()) original = xml::parse_fragment(page->messages.front().xml);
    if (!original) {
      o = std::move(*missing);
      return;
    }
    // A message retracted before stays retracted; its first tombstone is kept.
    if (!original->child("retracted", ns::kRetract)) {
      xml::Element t = mam::moderated_tombstone(*original, moderated, reason, stamp);
      a.replace_content(owner, page->messages.front().seq, xml::to_string(t), "");
    }
    if (announcement) a.append(owner, *announcement, now);
    o = std::move(*found);
  });
}

}  // namespace causerie::modules::muc
