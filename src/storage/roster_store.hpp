// RosterStore: each account's roster (RFC 6121 §2), one item per contact with its subscription state
// (Appendix A), groups and the pending inbound request, and a version per roster (§2.6 versioning).
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::storage {

// RFC 6121 Appendix A subscription state, stored per roster item.
enum class Subscription : uint8_t { kNone, kTo, kFrom, kBoth };
const char* to_string(Subscription s);
std::optional<Subscription> parse_subscription(std::string_view s);

struct RosterItem {
  std::string jid;  // contact's bare JID
  std::string name;
  Subscription subscription = Subscription::kNone;
  bool ask = false;        // outbound subscription request pending ("Pending Out")
  bool pending_in = false; // inbound subscription request pending ("Pending In")
  bool approved = false;   // pre-approved (RFC 6121 §3.4)
  bool hidden = false;     // exists only to hold state (pending-in or pre-approval), not shown in roster results
  std::vector<std::string> groups;
  std::string pending_in_stanza;  // the subscribe request as received, redelivered at login (§3.1.3)
};

class RosterStore {
 public:
  virtual ~RosterStore() = default;
  virtual std::vector<RosterItem> items(std::string_view owner) = 0;
  virtual std::optional<RosterItem> item(std::string_view owner, std::string_view contact) = 0;
  // Insert or replace; returns the new roster version.
  virtual int64_t put(std::string_view owner, const RosterItem& item) = 0;
  // Returns the new roster version (unchanged when there was no such item).
  virtual int64_t remove(std::string_view owner, std::string_view contact) = 0;
  virtual int64_t version(std::string_view owner) = 0;
};

}  // namespace causerie::storage
