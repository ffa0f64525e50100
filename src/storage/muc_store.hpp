// MucStore: persistent multi-user chat rooms (XEP-0045 §10.1.3 "persistent" rooms): one row per room
// (its configuration, its subject), its affiliations, and a bounded tail of its discussion history.
// Temporary rooms are never stored. Rooms are read one at a time (lazy loading), so a service with
// 100 000 idle rooms keeps none of them in memory.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

struct MucAffiliation {
  std::string jid;          // bare JID (or a domain, for a domain-wide ban)
  std::string affiliation;  // owner | admin | member | outcast
  std::string nick;         // reserved nickname, may be empty
  std::string reason;
};

struct MucHistoryItem {
  int64_t stamp_ms = 0;  // unix milliseconds
  std::string xml;       // the reflected message, as stored by the module
};

struct MucRoom {
  std::string jid;      // the room's bare JID
  std::string service;  // the MUC service domain
  bool is_public = false;
  std::string name;
  std::string config;  // the module's serialized configuration (opaque here)
  std::string subject;
  std::string subject_nick;
  int64_t subject_stamp_ms = 0;  // 0: never set
  // Filled by load_room only:
  std::vector<MucAffiliation> affiliations;
  std::vector<MucHistoryItem> history;  // oldest first
};

struct MucListing {
  std::string jid;
  std::string name;
  std::string config;  // as in MucRoom
};

class MucStore {
 public:
  virtual ~MucStore() = default;
  // The room with its affiliations and its newest `history` messages; nullopt when it is not stored.
  virtual std::optional<MucRoom> load_room(std::string_view jid, size_t history) = 0;
  // Inserts or replaces the room's own row (affiliations and history are kept).
  virtual void save_room(const MucRoom& room) = 0;
  // Removes the room, its affiliations and its history.
  virtual void remove_room(std::string_view jid) = 0;
  virtual void set_affiliation(std::string_view room, const MucAffiliation& a) = 0;
  virtual void remove_affiliation(std::string_view room, std::string_view jid) = 0;
  // Appends a message, keeping only the newest `keep` of the room.
  virtual void append_history(std::string_view room, const MucHistoryItem& item, size_t keep) = 0;
  virtual void clear_history(std::string_view room) = 0;
  // Public rooms of a service ordered by JID, strictly after `after`, at most `limit`.
  virtual std::vector<MucListing> public_rooms(std::string_view service, std::string_view after, size_t limit) = 0;
  virtual size_t count_public_rooms(std::string_view service) = 0;
  // Every stored room of a service (public or not), ordered by JID; every service with stored rooms.
  virtual std::vector<std::string> rooms(std::string_view service) = 0;
  virtual std::vector<std::string> services() = 0;
  // A random secret of the service (XEP-0421 occupant ids), created on first use and stable afterwards.
  virtual std::string service_secret(std::string_view service) = 0;
};

}  // namespace causerie::storage
