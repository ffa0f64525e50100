// XEP-0433 v0.1 extended channel search: form, query, order and pages (see channel_search.hpp).
#include "modules/channel_search.hpp"

#include <algorithm>
#include <cctype>

#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::modules::channel_search {

namespace {

StanzaError app_error(StanzaErrorCondition c, StanzaErrorType t, const char* app, std::string text = {}) {
  StanzaError e(c, t, std::move(text));
  e.with_app(xml::Element(app, kErrors));
  return e;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool contains(const std::string& haystack_lower, const std::string& needle_lower) {
  return haystack_lower.find(needle_lower) != std::string::npos;
}

}  // namespace

xml::DataForm search_form() {
  xml::DataForm f;
  f.type = "form";
  f.add("FORM_TYPE", "hidden", {kParams});
  f.add("q", "text-single", {}, "Search for");
  f.add("all", "boolean", {"false"}, "Return all entries (ignore search terms)");
  f.add("sinname", "boolean", {"true"}, "Search in name");
  f.add("sindescription", "boolean", {"true"}, "Search in description");
  f.add("sinaddress", "boolean", {"true"}, "Search in address");
  f.add("min_users", "text-single", {"0"}, "Minimum number of users");
  auto& types = f.add("types", "list-multi", {"xep-0045"}, "Service types");
  types.options = {{"XEP-0045 Multi User Chats", "xep-0045"}, {"Communities (open publish-subscribe nodes)", kPubsubType}};
  auto& key = f.add("key", "list-single", {kOrderUsers}, "Sort results by");
  key.options = {{"Number of online users", kOrderUsers}, {"Address", kOrderAddress}, {"Recent activity", kOrderActivity}};
  return f;
}

tl::expected<ChannelQuery, StanzaError> parse_query(const xml::DataForm& form) {
  if (form.form_type() != kParams)
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, std::string("FORM_TYPE must be ") + kParams));
  ChannelQuery q;
  auto flag = [&](std::string_view var, bool& out) -> bool {
    const xml::FormField* f = form.field(var);
    if (!f || f->values.empty()) return true;
    auto b = xml::parse_form_bool(f->value());
    if (!b) return false;
    out = *b;
    return true;
  };
  // The example of §4.2.1 names the address switch 'sinaddr', the table of §7.1 'sinaddress': both are read.
  if (!flag("all", q.all) || !flag("sinname", q.in_name) || !flag("sindescription", q.in_description) ||
      !flag("sinaddr", q.in_address) || !flag("sinaddress", q.in_address))
    return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "a boolean field has a value that is not one"));
  const xml::FormField* qf = form.field("q");
  bool has_q = qf && !qf->values.empty();
  if (has_q && q.all) {
    StanzaError e = app_error(StanzaErrorCondition::kBadRequest, StanzaErrorType::kModify, "conflicting-fields",
                              "Cannot both return all results and search by keywords.");
    e.app_condition->add_text_child("var", "all", kErrors);
    e.app_condition->add_text_child("var", "q", kErrors);
    return tl::unexpected(std::move(e));
  }
  if (!has_q && !q.all)
    return tl::unexpected(app_error(StanzaErrorCondition::kBadRequest, StanzaErrorType::kModify, "no-search-conditions",
                                    "Give keywords (q) or ask for all channels (all)."));
  if (has_q) {
    std::string text = lower(qf->value());
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      if (j - i >= 2) q.terms.push_back(text.substr(i, j - i));
      i = j;
    }
    if (q.terms.empty() || q.terms.size() > 10 || (!q.in_name && !q.in_description && !q.in_address))
      return tl::unexpected(app_error(StanzaErrorCondition::kBadRequest, StanzaErrorType::kModify, "invalid-search-terms",
                                      "Search terms must have at least two characters (ten terms at most), and be "
                                      "looked for in the name, the description or the address."));
  }
  if (const xml::FormField* m = form.field("min_users"); m && !m->value().empty()) {
    try {
      size_t used = 0;
      long long v = std::stoll(m->value(), &used);
      if (used != m->value().size() || v < 0) throw std::invalid_argument("min_users");
      q.min_users = static_cast<size_t>(v);
    } catch (const std::exception&) {
      return tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "min_users is a non-negative number"));
    }
  }
  if (const xml::FormField* t = form.field("types"); t && !t->values.empty())
    q.types = std::set<std::string>(t->values.begin(), t->values.end());
  if (const xml::FormField* k = form.field("key"); k && !k->values.empty()) {
    if (k->value() == kOrderAddress) q.by_address = true;
    else if (k->value() == kOrderActivity) q.by_activity = true;
    else if (k->value() != kOrderUsers)
      return tl::unexpected(app_error(StanzaErrorCondition::kFeatureNotImplemented, StanzaErrorType::kModify,
                                      "invalid-sort-key"));
  }
  return q;
}

std::vector<ChannelInfo> select(std::vector<ChannelInfo> channels, const ChannelQuery& q) {
  std::erase_if(channels, [&](const ChannelInfo& c) {
    if (!q.types.count(c.service_type)) return true;  // §7.2: never a type that was not asked for
    if (c.nusers.value_or(0) < q.min_users) return true;
    if (q.all) return false;
    std::string name = q.in_name ? lower(c.name) : std::string();
    std::string description = q.in_description ? lower(c.description) : std::string();
    std::string address = q.in_address ? lower(c.address) : std::string();
    for (const auto& t : q.terms)
      if (!contains(name, t) && !contains(description, t) && !contains(address, t)) return true;
    return false;
  });
  std::sort(channels.begin(), channels.end(), [&](const ChannelInfo& a, const ChannelInfo& b) {
    if (q.by_activity && a.last_activity != b.last_activity) return a.last_activity > b.last_activity;
    if (!q.by_address && !q.by_activity && a.nusers.value_or(0) != b.nusers.value_or(0))
      return a.nusers.value_or(0) > b.nusers.value_or(0);
    return a.address < b.address;
  });
  return channels;
}

tl::expected<xml::Element, StanzaError> result_page(const std::vector<ChannelInfo>& sorted, const ChannelQuery& q,
                                                    const std::optional<xml::RsmRequest>& rsm, size_t max_page) {
  size_t max = max_page;
  if (rsm && rsm->max) max = std::min(max, *rsm->max);
  auto position = [&](const std::string& address) -> std::optional<size_t> {
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i].address == address) return i;
    if (q.by_address) {
      // Ordered by address, a cursor that left the set still says where it was (§7.1: no omissions).
      auto it = std::lower_bound(sorted.begin(), sorted.end(), address,
                                 [](const ChannelInfo& c, const std::string& a) { return c.address < a; });
      return static_cast<size_t>(it - sorted.begin());
    }
    return std::nullopt;
  };
  size_t begin = 0, end = sorted.size();
  if (rsm && rsm->after) {
    auto p = position(*rsm->after);
    if (!p) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such channel in the results"));
    bool exact = *p < sorted.size() && sorted[*p].address == *rsm->after;
    begin = *p + (exact ? 1 : 0);
    end = std::min(sorted.size(), begin + max);
  } else if (rsm && rsm->before) {
    if (!rsm->before->empty()) {
      auto p = position(*rsm->before);
      if (!p) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such channel in the results"));
      end = *p;
    }
    begin = end > max ? end - max : 0;
  } else {
    begin = rsm && rsm->index ? std::min(*rsm->index, sorted.size()) : 0;
    end = std::min(sorted.size(), begin + max);
  }
  xml::Element result("result", kSearch);
  for (size_t i = begin; i < end; ++i) {
    const ChannelInfo& c = sorted[i];
    xml::Element& item = result.add_child("item", kSearch);
    item.set_attr("address", c.address);
    if (!c.name.empty()) item.add_text_child("name", c.name, kSearch);
    if (!c.description.empty()) item.add_text_child("description", c.description, kSearch);
    if (!c.language.empty()) item.add_text_child("language", c.language, kSearch);
    if (c.nusers) item.add_text_child("nusers", std::to_string(*c.nusers), kSearch);
    item.add_text_child("service-type", c.service_type, kSearch);
    if (c.is_open) item.add_child("is-open", kSearch);
    if (!c.anonymity.empty()) item.add_text_child("anonymity-mode", c.anonymity, kSearch);
    // Ours: the node of a community, at the service its address names.
    if (!c.node.empty()) item.add_text_child("node", c.node, "urn:causerie:channel-search");
    // Ours (§"Result Item Format" allows custom children): what an explore list shows of a community.
    if (!c.kind.empty()) {
      xml::Element& community = item.add_child("community", kExploreNs);
      community.set_attr("type", c.kind);
      if (c.items) community.set_attr("items", std::to_string(*c.items));
      if (c.last_activity > 0)
        community.set_attr("last-activity",
                           util::format_datetime(util::SystemTime(std::chrono::milliseconds(c.last_activity))));
      if (!c.avatar.empty()) community.add_text_child("avatar", c.avatar, kExploreNs);
    }
  }
  xml::RsmResult r;
  if (begin < end) {
    r.first = sorted[begin].address;
    r.last = sorted[end - 1].address;
    r.first_index = begin;
  }
  r.count = sorted.size();
  result.add(xml::to_element(r));
  return result;
}

}  // namespace causerie::modules::channel_search
