#include "storage/roster_store.hpp"

namespace causerie::storage {

const char* to_string(Subscription s) {
  switch (s) {
    case Subscription::kNone: return "none";
    case Subscription::kTo: return "to";
    case Subscription::kFrom: return "from";
    case Subscription::kBoth: return "both";
  }
  return "none";
}

std::optional<Subscription> parse_subscription(std::string_view s) {
  if (s == "none") return Subscription::kNone;
  if (s == "to") return Subscription::kTo;
  if (s == "from") return Subscription::kFrom;
  if (s == "both") return Subscription::kBoth;
  return std::nullopt;
}

}  // namespace causerie::storage
