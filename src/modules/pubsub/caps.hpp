// XEP-0115 v1.6.0 entity capabilities, as PEP needs them (XEP-0163 v1.2.2 §4.3, XEP-0060 §9.2 filtered
// notifications): the verification string of a disco#info answer (§5.1, checked against the 'ver' a
// client claims so nobody poisons the cache, §5.4), and the CapsTracker: which available resources
// (local sessions, and remote contacts whose presence reached a local account) want notifications of
// which nodes ("<node>+notify" features), with features cached by verification string.
//
// Thread rules: CapsTracker is shared by every worker and storage thread; one mutex guards it, held
// only to look up or update its maps. verification_string is pure.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/xml/element.hpp"

namespace causerie::modules::pubsub {

// §5.1 for hash "sha-1": base64(SHA-1(S)). nullopt when the answer breaks §5.4 (duplicate identities,
// features or FORM_TYPEs), which makes any claimed 'ver' unverifiable.
std::optional<std::string> caps_verification_string(const xml::Element& disco_info_query);

// The node names a disco#info answer asks notifications for ("urn:xmpp:microblog:0+notify" → microblog).
std::unordered_set<std::string> notify_nodes(const xml::Element& disco_info_query);

using NodeSet = std::unordered_set<std::string>;

struct Caps {
  std::string hash, node, ver;
};
// The <c xmlns='http://jabber.org/protocol/caps'/> of a presence, if it has one with a hash (legacy
// caps without 'hash' are not supported: nothing can be verified).
std::optional<Caps> parse_caps(const xml::Element& presence);

class CapsTracker {
 public:
  // Bounds: verified caps kept, disco#info queries in flight, and resources tracked (remote presence
  // may come from anyone: past the bound, new remote resources are ignored).
  explicit CapsTracker(size_t max_cached = 10000, size_t max_pending = 2000, size_t max_resources = 200000);

  struct Seen {
    bool known = false;               // the resource's interests are known now
    std::vector<std::string> gained;  // nodes it now wants and did not before (send their last items)
    std::string query_id;             // non-empty: send a disco#info query with this id
  };
  // Available presence from `full`. For a remote contact's presence, `owner` is the local account it
  // reached: a resource is "newly available" once per owner. Local sessions pass no owner.
  Seen available(const std::string& full, const std::optional<Caps>& caps, const std::string& owner = {});
  // Unavailable presence (or a closed session). For remote presence, only `owner` forgets it.
  void unavailable(const std::string& full, const std::string& owner = {});

  struct Resolved {
    std::string full;
    std::vector<std::string> owners;  // for remote resources: the local accounts they sent presence to
    std::vector<std::string> gained;
  };
  // The answer to query `id` (nullptr: an error answer). Returns the resources that were waiting.
  std::vector<Resolved> answer(std::string_view id, const xml::Element* query);
  // The (hash, ver, node) a pending query is about, to address it; nullopt when unknown.
  bool is_pending(std::string_view id) const;

  // Available resources of `bare` that want notifications of `node`, as full JIDs.
  std::vector<std::string> interested(std::string_view bare, std::string_view node) const;
  // Whether any available resource of `bare` is known (has sent presence), interested or not.
  bool has_resources(std::string_view bare) const;

 private:
  struct Entry {
    std::string resource;
    std::string key;  // the caps it announced: "sha-1/<ver>", or "" for none
    std::shared_ptr<const NodeSet> interests;  // null while unknown
    std::vector<std::string> owners;
  };
  struct Pending {
    std::string key, hash, ver;
    std::chrono::steady_clock::time_point since;
  };
  static std::string bare_of(std::string_view full);
  static std::string resource_of(std::string_view full);
  Entry* find(const std::string& full);
  std::string start_query(const Caps& caps, const std::string& key);

  const size_t max_cached_, max_pending_, max_resources_;
  size_t resources_ = 0;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const NodeSet>> by_key_;
  std::unordered_map<std::string, Pending> pending_;          // query id → what it asks
  std::unordered_map<std::string, std::string> pending_ids_;  // key → query id (one query per key)
  std::unordered_map<std::string, std::vector<Entry>> by_bare_;
  uint64_t next_id_ = 0;
};

}  // namespace causerie::modules::pubsub
