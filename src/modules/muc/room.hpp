// Room: one XEP-0045 v1.35 room — configuration, affiliations, occupants (with their sessions), subject
// and history — and everything it does with a stanza addressed to it or to one of its occupants.
//
// A Room never talks to the network or the disk itself: handling a stanza fills a RoomOutput with
// stanzas for local sessions (serialized once per fan-out, SharedStanza), stanzas to route, storage
// operations, and stanzas to send once those operations are durable. The permission rules are the pure
// functions of privileges.hpp; the stanza shapes those of muc_stanzas.hpp. Files: room.cpp (state,
// broadcast, persistence), room_presence.cpp (§7.2 entering, §7.6 nick change, §7.14 exit, removals),
// room_message.cpp (§7.4 groupchat, §7.5 private messages, subject, §7.8 invitations, §7.13/§8.6 voice),
// room_iq.cpp (§6 disco, §8–§10 muc#admin and muc#owner, IQs to occupants, XEP-0410 self-ping),
// room_archive.cpp (the XEP-0313 room archive and XEP-0425 moderation),
// room_register.cpp (§7.10 registration, §9.9 its approval).
//
// Thread rules: not thread-safe. The RoomRegistry hands a room to one thread at a time; a room's
// ServiceSettings are immutable and outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/module/client_session.hpp"
#include "core/router/account_event.hpp"
#include "core/router/out_stanza.hpp"
#include "core/stanza/stanza.hpp"
#include "core/util/time.hpp"
#include "modules/muc/history.hpp"
#include "modules/muc/muc_stanzas.hpp"
#include "modules/muc/muc_types.hpp"
#include "modules/muc/privileges.hpp"
#include "modules/muc/room_config.hpp"
#include "storage/archive_store.hpp"
#include "storage/muc_store.hpp"

namespace causerie::modules::muc {

enum class Creators { kLocal, kAdmins, kAnyone };

// What the service knows that rooms need; built once from the configuration.
struct ServiceSettings {
  std::string domain;                     // e.g. conference.example.org
  std::vector<std::string> local_hosts;   // accounts on these may create rooms (Creators::kLocal)
  std::set<std::string> service_admins;   // bare JIDs treated as owners of every room
  Creators creators = Creators::kLocal;
  ConfigLimits limits;
  RoomConfig defaults;                    // configuration of a new room
  size_t max_nick_chars = 64;
  size_t history_bytes = 256 * 1024;      // per room, in memory and in storage
  size_t max_affiliations = 10000;        // per room
  size_t max_invites_per_message = 20;
  std::string secret;                     // XEP-0421 occupant ids

  bool is_local(std::string_view domain) const;
  bool may_create(const Jid& who) const;
};

// What handling a stanza produced (see the header comment). Local deliveries keep their order; they
// are handed to SessionDispatcher::deliver_many in one batch.
class RoomOutput {
 public:
  using StoreOp = std::function<void(storage::MucStore&)>;

  // One stanza serialized once for many recipients; each gets its own 'to'.
  class Fanout {
   public:
    Fanout(RoomOutput& out, const xml::Element& stanza) : out_(out), el_(stanza), shared_(stanza) {}
    void to(const Jid& jid, SessionRef ref);
    size_t bytes() const { return shared_.out_without_to().size(); }  // serialized size without 'to'

   private:
    RoomOutput& out_;
    const xml::Element& el_;
    SharedStanza shared_;
  };

  void send(const xml::Element& stanza, const Jid& to, SessionRef ref);
  void store(StoreOp op) { ops.push_back(std::move(op)); }
  // From now on, stanzas wait for the storage operations (sent at once if there are none).
  void begin_after_store() { after_ = true; }

  // Work on the room's XEP-0313 archive (owner: the room's bare JID), run on a storage thread; what it
  // puts in `reply` is sent when it is done. Writes run in order on the write lane; a read runs once
  // every earlier archive write of the room is durable, so a query sees the messages already broadcast.
  struct ArchiveJob {
    bool write = false;
    std::function<void(storage::ArchiveStore& archive, RoomOutput& reply)> run;
  };
  void archive(bool write, std::function<void(storage::ArchiveStore&, RoomOutput&)> run) {
    archive_jobs.push_back(ArchiveJob{write, std::move(run)});
  }

  std::vector<Delivery> local, local_after;
  std::vector<Stanza> routed, routed_after;
  std::vector<StoreOp> ops;
  std::vector<ArchiveJob> archive_jobs;
  std::vector<AccountEvent> events;  // for Router::account_event (mentions of absent members)

 private:
  bool after_ = false;
};

// What the registry shows without entering the room (disco#items listing).
struct RoomSummary {
  bool exists = false;
  bool is_public = false;
  bool persistent = false;
  std::string name;
  size_t occupants = 0;
  // For channel searches (XEP-0433): muc#roomconfig_roomdesc and _lang, whether anyone may enter
  // without credentials, and whether occupants' JIDs are visible to all.
  std::string description, lang;
  bool open = true;
  bool non_anonymous = false;
};

class Room {
 public:
  // A room being created by its first occupant: locked until configured (§10.1.1).
  Room(Jid jid, const ServiceSettings& s);
  // A persistent room read from storage.
  Room(Jid jid, const storage::MucRoom& stored, const ServiceSettings& s);

  // A stanza for a room that does not exist (nor is stored): a permitted join creates it (returned);
  // anything else is answered as §7.2.11 / §17.2 rule 3 say.
  static std::unique_ptr<Room> handle_absent(const Jid& room, const Stanza& st, SessionRef origin,
                                             util::SystemTime now, const ServiceSettings& s, RoomOutput& out);

  // A stanza to the room or one of its occupants. `origin` is the sender's session when it is local
  // and known (joins remember it, so later fan-outs go straight to the session).
  void handle(const Stanza& st, SessionRef origin, util::SystemTime now, RoomOutput& out);
  // A local session ended without leaving (the client is gone).
  void session_gone(const Jid& full, SessionRef ref, RoomOutput& out);
  // Service shutdown: every occupant is told (status 332); stored state stays.
  void shutdown(RoomOutput& out);

  const Jid& jid() const { return jid_; }
  bool destroyed() const { return destroyed_; }
  bool empty() const { return occupants_.empty(); }
  bool persistent() const { return config_.persistent; }
  bool locked() const { return locked_; }
  RoomSummary summary() const;
  const RoomConfig& config() const { return config_; }

 private:
  struct Session {
    Jid jid;  // the real full JID
    SessionRef ref;
    xml::Element presence;  // its last available presence as sent to the room
  };
  struct Occupant {
    std::string nick;
    Jid jid;   // room@service/nick
    Jid bare;  // the real bare JID
    Role role = Role::kNone;
    std::string occupant_id;
    std::vector<Session> sessions;  // several with multi-session nicks (§7.2.9)
    size_t shown = 0;               // the session whose presence the room shows
    util::SystemTime last_voice_request{};
    const xml::Element& presence() const { return sessions[shown].presence; }
  };
  struct AffiliationEntry {
    Affiliation affiliation = Affiliation::kNone;
    std::string nick;  // reserved nickname
    std::string reason;
  };
  struct Subject {
    std::string text, nick;
    util::SystemTime stamp{};
    bool set = false;
  };
  struct PendingIq {
    std::string id;            // the id we used towards the target
    std::string original_id;   // the requester's id
    Jid requester;             // the requester's real full JID
    std::string target_nick;
  };

  // --- room.cpp ---
  void error(const Stanza& st, StanzaError e, SessionRef origin, RoomOutput& out) const;
  void reply(const Stanza& iq, std::optional<xml::Element> payload, SessionRef origin, RoomOutput& out) const;
  Affiliation affiliation_of(std::string_view bare) const;
  size_t owner_count() const;
  Occupant* occupant_by_nick(std::string_view nick);
  Occupant* occupant_by_real(const Jid& full, Session** session = nullptr);
  std::vector<std::string> list_of(Affiliation a) const;
  // A presence of `o` for everyone: others as their role allows (with or without the real JID), the
  // occupant's own sessions with 110 and `self_codes`. The occupant may already be gone from the table.
  void broadcast_presence(const Occupant& o, PresenceSpec spec, const std::vector<int>& self_codes,
                          RoomOutput& out, bool self_first = false);
  void presence_to_session(const Occupant& o, const Session& to, bool with_jid, RoomOutput& out) const;
  void send_to_occupants(const xml::Element& stanza, RoomOutput& out);
  void status_message(const std::vector<int>& codes, RoomOutput& out);
  PresenceSpec spec_for(const Occupant& o, bool unavailable) const;
  Role role_after_affiliation(const Occupant& o, Affiliation before, Affiliation after) const;
  storage::MucRoom stored_header() const;
  void persist_header(RoomOutput& out) const;
  void persist_affiliation(const std::string& bare, RoomOutput& out) const;
  void persist_everything(RoomOutput& out) const;
  std::vector<storage::MucHistoryItem> stored_history() const;
  void destroy(const DestroyNotice& notice, RoomOutput& out);
  std::string occupant_id_for(std::string_view bare) const;
  void set_affiliation(const std::string& bare, Affiliation a, std::string nick, std::string reason);

  // --- room_presence.cpp ---
  void on_presence(const Stanza& st, SessionRef origin, RoomOutput& out);
  void join(const Stanza& st, SessionRef origin, bool created, RoomOutput& out);
  // §7.1: everything a joining session gets; `broadcast` also tells the others (a join, not a resync).
  void send_room_state(const Occupant& o, const Session& s, const HistoryRequest& h, std::vector<int> self_codes,
                       bool broadcast, RoomOutput& out);
  void change_nick(Occupant& o, Session& s, const Stanza& st, SessionRef origin, RoomOutput& out);
  void update_presence(Occupant& o, Session& s, const Stanza& st, RoomOutput& out);
  void leave(const Jid& real, const xml::Element* exit_presence, std::vector<int> codes, RoomOutput& out);
  // Removes a whole occupant (all sessions): kick, ban, membership loss, ghost.
  void remove_occupant(const std::string& nick, Affiliation shown, std::vector<int> codes, std::string actor,
                       std::string reason, RoomOutput& out);
  void after_departure(RoomOutput& out);

  // --- room_message.cpp ---
  void on_message(const Stanza& st, SessionRef origin, RoomOutput& out);
  void on_groupchat(const Stanza& st, SessionRef origin, RoomOutput& out);
  void mention_absent_members(std::string_view body, const Occupant& from, RoomOutput& out) const;
  void on_private_message(const Stanza& st, SessionRef origin, RoomOutput& out);
  void on_invites(const Stanza& st, const xml::Element& x, SessionRef origin, RoomOutput& out);
  void on_decline(const Stanza& st, const xml::Element& x, RoomOutput& out);
  void on_voice_request(const Stanza& st, const xml::DataForm& form, SessionRef origin, RoomOutput& out);
  void on_error_from(const Stanza& st, RoomOutput& out);

  // --- room_iq.cpp ---
  void on_iq(const Stanza& st, SessionRef origin, RoomOutput& out);
  void on_occupant_iq(const Stanza& st, SessionRef origin, RoomOutput& out);
  void disco_info(const Stanza& st, SessionRef origin, RoomOutput& out) const;
  void admin_get(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out);
  void admin_set(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out);
  void owner_get(const Stanza& st, SessionRef origin, RoomOutput& out);
  void owner_set(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out);
  void apply_config(const Stanza& st, const ConfigSubmission& sub, SessionRef origin, RoomOutput& out);
  // An affiliation change with its consequences (§9, §10): presence updates or removals.
  void apply_affiliation(const std::string& bare, Affiliation a, const std::string& nick, const std::string& reason,
                         const Jid& actor, RoomOutput& out);

  // --- room_archive.cpp ---
  // A groupchat message (or subject change) as reflected: archived, with its <stanza-id/> added.
  void archive_message(xml::Element& reflected, const Occupant& from, RoomOutput& out);
  bool may_read_archive(const Jid& who) const;
  void on_mam(const Stanza& st, const xml::Element& q, bool set, SessionRef origin, RoomOutput& out);
  void on_moderate(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out);

  // --- room_register.cpp ---
  void on_register(const Stanza& st, const xml::Element& q, SessionRef origin, RoomOutput& out);
  void on_registration_answer(const Stanza& st, const xml::DataForm& form, SessionRef origin, RoomOutput& out);
  // Reserved by another user, or the nickname of another user's occupant.
  bool nick_taken(std::string_view nick, std::string_view bare) const;
  // The reserved nickname ("" for none) of a user on the member list or above; null for anyone else.
  const std::string* registered_nick(std::string_view bare) const;

  const ServiceSettings& s_;
  Jid jid_;
  RoomConfig config_;
  bool locked_ = false;
  bool destroyed_ = false;
  util::SystemTime now_{};
  std::map<std::string, AffiliationEntry, std::less<>> affiliations_;  // by bare JID (or domain)
  std::map<std::string, Occupant, std::less<>> occupants_;             // by nick
  std::unordered_map<std::string, std::string> nick_of_;               // real full JID -> nick
  Subject subject_;
  History history_;
  std::deque<std::pair<std::string, Jid>> invitations_;  // invitee bare JID -> inviter, newest last
  std::deque<PendingIq> pending_iqs_;
  uint64_t iq_counter_ = 0;
  std::map<std::string, util::SystemTime, std::less<>> registration_requests_;  // forwarded for approval (§9.9)
};

}  // namespace causerie::modules::muc
