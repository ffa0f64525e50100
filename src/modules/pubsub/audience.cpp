// Per-post audiences: stating and storing them (audience.hpp, docs/protocol/audiences.md).
#include "modules/pubsub/audience.hpp"

#include <algorithm>

#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/pubsub/pubsub_errors.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr const char* kAccessField = "pubsub#access_model";
constexpr const char* kGroupsField = "pubsub#roster_groups_allowed";

bool needs_escape(unsigned char c) { return c < 0x20 || c == 0x7f || c == '%' || c == ';'; }

std::string escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (!needs_escape(c)) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}


// Sorted, without duplicates: one audience has one stored form (and the node few distinct ones).
tl::expected<std::vector<std::string>, StanzaError> normalized(std::vector<std::string> groups) {
  for (const auto& g : groups) {
    if (g.empty()) return tl::unexpected(bad_request("a roster group name is not empty"));
    if (g.size() > kMaxGroupName) return tl::unexpected(bad_request("roster group name too long"));
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  if (groups.size() > kMaxAudienceGroups)
    return tl::unexpected(bad_request("an audience names at most " + std::to_string(kMaxAudienceGroups) + " roster groups"));
  return groups;
}

StanzaError disagree(const std::string& why) {
  return pubsub_error(StanzaErrorCondition::kConflict, "precondition-not-met", why);
}

}  // namespace

std::string encode_visibility(const Visibility& v) {
  if (v.model != AccessModel::kRoster || !v.groups) return to_string(v.model);
  std::string out(kAudiencePrefix);
  for (size_t i = 0; i < v.groups->size(); ++i) {
    if (i) out.push_back(';');
    out += escape((*v.groups)[i]);
  }
  return out;
}

std::optional<Visibility> parse_visibility(std::string_view stored) {
  if (stored.empty()) return std::nullopt;
  if (!stored.starts_with(kAudiencePrefix)) {
    auto m = parse_access_model(stored);
    if (!m) return std::nullopt;
    return Visibility(*m);
  }
  std::string_view rest = stored.substr(kAudiencePrefix.size());
  std::vector<std::string> groups;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    auto g = util::percent_decode_strict(rest.substr(0, semi));
    if (!g || g->empty()) return std::nullopt;
    groups.push_back(std::move(*g));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
    if (rest.empty()) return std::nullopt;  // a trailing ';'
  }
  return Visibility(AccessModel::kRoster, std::move(groups));
}

bool valid_item_access(std::string_view stored) { return stored.empty() || parse_visibility(stored).has_value(); }

Visibility item_visibility(const NodeConfig& c, std::string_view stored) {
  if (stored.empty()) return Visibility(c.access_model);
  if (auto v = parse_visibility(stored)) return *v;
  return Visibility(AccessModel::kRoster, std::vector<std::string>{});  // unreadable: the owner alone
}

Visibility with_groups(Visibility v, const NodeConfig& c) {
  if (v.model == AccessModel::kRoster && !v.groups) v.groups = c.roster_groups_allowed;
  return v;
}

tl::expected<std::optional<Visibility>, StanzaError> stated_visibility(const xml::DataForm* options,
                                                                       const xml::Element* payload) {
  using Result = tl::expected<std::optional<Visibility>, StanzaError>;
  std::optional<Visibility> from_options;
  if (options) {
    const xml::FormField* model = options->field(kAccessField);
    const xml::FormField* groups = options->field(kGroupsField);
    if (model && !model->values.empty()) {
      auto m = parse_access_model(model->value());
      if (!m) return tl::unexpected(disagree("unknown access model " + model->value()));
      from_options = Visibility(*m);
      if (*m == AccessModel::kRoster) {
        // XEP-0060 §4.5 "roster" applied to this one item: the groups listed, none = nobody but the
        // publisher (a post never falls back to the node's own list by omission).
        auto g = normalized(groups ? groups->values : std::vector<std::string>{});
        if (!g) return tl::unexpected(g.error());
        from_options->groups = std::move(*g);
      } else if (groups && !groups->values.empty()) {
        return tl::unexpected(disagree("pubsub#roster_groups_allowed goes with pubsub#access_model 'roster'"));
      }
    } else if (groups && !groups->values.empty()) {
      return tl::unexpected(disagree("pubsub#roster_groups_allowed goes with pubsub#access_model 'roster'"));
    }
  }
  std::optional<Visibility> from_element;
  if (payload && payload->is("entry", ns::kAtom)) {
    auto els = payload->children("audience", kAudienceNs);
    if (els.size() > 1) return tl::unexpected(bad_request("an entry has one <audience/>"));
    if (!els.empty()) {
      std::vector<std::string> names;
      for (const xml::Element* g : els.front()->children("group", kAudienceNs)) names.push_back(g->text());
      auto g = normalized(std::move(names));
      if (!g) return tl::unexpected(g.error());
      from_element = Visibility(AccessModel::kRoster, std::move(*g));
    }
  }
  if (from_options && from_element && !(*from_options == *from_element))
    return tl::unexpected(disagree("the entry's <audience/> and the publish-options name different audiences"));
  return Result(from_options ? from_options : from_element);
}

xml::DataForm without_visibility_fields(const xml::DataForm& options) {
  xml::DataForm out = options;
  std::erase_if(out.fields, [](const xml::FormField& f) { return f.var == kAccessField || f.var == kGroupsField; });
  return out;
}

}  // namespace causerie::modules::pubsub
