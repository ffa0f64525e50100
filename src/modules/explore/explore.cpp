// urn:causerie:explore:0: post search and the people list (explore.hpp, docs/protocol/explore.md).
#include "modules/explore/explore.hpp"

#include <algorithm>
#include <charconv>

#include "core/xml/rsm.hpp"
#include "modules/directory.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/tags.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::explore {

namespace {

constexpr size_t kMaxListed = 100000;  // opted-in people read for one page (the directory's own bound)

StanzaError bad_request(std::string text) { return StanzaError(StanzaErrorCondition::kBadRequest, std::move(text)); }

std::optional<int64_t> parse_position(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

// The RSM request of a query, with the checks both lists share.
tl::expected<std::optional<xml::RsmRequest>, StanzaError> rsm_of(const xml::Element& q) {
  auto rsm = xml::parse_rsm(q);
  if (!rsm.error.empty()) return tl::unexpected(bad_request(rsm.error));
  if (!rsm.request) return std::nullopt;
  const auto& r = *rsm.request;
  if (r.index) return tl::unexpected(StanzaError(StanzaErrorCondition::kFeatureNotImplemented, "paging by index is not supported"));
  if (r.after && r.before) return tl::unexpected(bad_request("after and before together"));
  if (r.after && r.after->empty()) return tl::unexpected(bad_request("an empty <after/>"));
  return rsm.request;
}

}  // namespace

tl::expected<storage::PostQuery, StanzaError> parse_posts(const xml::Element& q, const Paging& paging) {
  storage::PostQuery out;
  out.limit = paging.default_page;
  auto tags = q.children("tag", kNs);
  auto texts = q.children("text", kNs);
  if (tags.size() > 1 || texts.size() > 1) return tl::unexpected(bad_request("one <tag/> and one <text/> at most"));
  if (tags.empty() && texts.empty()) return tl::unexpected(bad_request("search by <tag/>, by <text/>, or both"));
  if (!tags.empty()) {
    auto tag = pubsub::normalize_tag(tags.front()->text());
    if (!tag)
      return tl::unexpected(bad_request("not a usable tag: 1 to " + std::to_string(pubsub::kMaxTagBytes) +
                                        " bytes once normalised, no spaces, controls or '/'"));
    out.tag = std::move(*tag);
  }
  if (!texts.empty()) {
    std::string why;
    auto match = pubsub::fts_query(texts.front()->text(), &why);
    if (!match) return tl::unexpected(bad_request(why));
    out.match = std::move(*match);
  }
  auto rsm = rsm_of(q);
  if (!rsm) return tl::unexpected(rsm.error());
  if (*rsm) {
    const auto& r = **rsm;
    if (r.max) out.limit = std::min(*r.max, paging.max_page);
    if (r.after) {
      auto s = parse_position(*r.after);
      if (!s) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such result"));  // XEP-0059 §2.6
      out.older_than = *s;
    } else if (r.before) {
      out.oldest_first = true;
      if (!r.before->empty()) {
        auto s = parse_position(*r.before);
        if (!s) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such result"));
        out.newer_than = *s;
      }
    }
  }
  return out;
}

xml::Element posts_result(const std::vector<storage::PostHit>& page, bool complete) {
  xml::Element out("posts", kNs);
  if (complete) out.set_attr("complete", "true");
  for (const auto& h : page) {
    xml::Element& res = out.add_child("result");
    res.set_attr("id", std::to_string(h.seq));
    res.add(pubsub::forwarded_item(h.service, h.node, h.item, ""));
  }
  xml::RsmResult r;
  if (!page.empty()) {
    r.first = std::to_string(page.front().seq);
    r.last = std::to_string(page.back().seq);
  }
  out.add(xml::to_element(r));
  return out;
}

tl::expected<PeopleQuery, StanzaError> parse_people(const xml::Element& q, const Paging& paging) {
  PeopleQuery out;
  out.limit = paging.default_page;
  auto rsm = rsm_of(q);
  if (!rsm) return tl::unexpected(rsm.error());
  if (*rsm) {
    const auto& r = **rsm;
    if (r.max) out.limit = std::min(*r.max, paging.max_page);
    if (r.after) out.after = *r.after;
    if (r.before) {
      out.before = *r.before;
      out.last_page = true;
    }
  }
  return out;
}

tl::expected<xml::Element, StanzaError> people_result(const std::vector<Person>& sorted, const PeopleQuery& q) {
  auto position = [&](const std::string& jid) -> std::optional<size_t> {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), jid, [](const Person& p, const std::string& j) { return p.jid < j; });
    if (it == sorted.end() || it->jid != jid) return std::nullopt;
    return static_cast<size_t>(it - sorted.begin());
  };
  size_t begin = 0, end = std::min(sorted.size(), q.limit);
  if (!q.after.empty()) {
    auto p = position(q.after);
    if (!p) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such person in the list"));
    begin = *p + 1;
    end = std::min(sorted.size(), begin + q.limit);
  } else if (q.last_page) {
    end = sorted.size();
    if (!q.before.empty()) {
      auto p = position(q.before);
      if (!p) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no such person in the list"));
      end = *p;
    }
    begin = end > q.limit ? end - q.limit : 0;
  }
  xml::Element out("people", kNs);
  for (size_t i = begin; i < end; ++i) {
    xml::Element& p = out.add_child("person");
    p.set_attr("jid", sorted[i].jid);
    if (!sorted[i].nick.empty()) p.set_attr("nick", sorted[i].nick);
    if (!sorted[i].name.empty()) p.set_attr("name", sorted[i].name);
  }
  xml::RsmResult r;
  if (begin < end) {
    r.first = sorted[begin].jid;
    r.last = sorted[end - 1].jid;
    r.first_index = begin;
  }
  r.count = sorted.size();
  out.add(xml::to_element(r));
  return out;
}

void posts(ModuleContext& ctx, const xml::Element& request, const Paging& paging, IqResponder reply) {
  auto q = parse_posts(request, paging);
  if (!q) return reply.error(q.error());
  ctx.storage().read([q = *q, reply](storage::Storage& db) {
    std::vector<storage::PostHit> page;
    bool complete = true;
    try {
      page = q.limit ? db.post_index().search(q) : std::vector<storage::PostHit>{};
      if (!page.empty())
        complete = q.oldest_first ? !db.post_index().has_newer(q, page.front().seq) : !db.post_index().has_older(q, page.back().seq);
    } catch (const std::exception&) {
      return reply.error(StanzaError(StanzaErrorCondition::kInternalServerError));
    }
    reply.result(posts_result(page, complete));
  });
}

void people(ModuleContext& ctx, const xml::Element& request, const Paging& paging, IqResponder reply) {
  auto q = parse_people(request, paging);
  if (!q) return reply.error(q.error());
  ctx.storage().read([q = *q, reply](storage::Storage& db) {
    std::vector<Person> sorted;
    for (auto& [owner, nick] : db.kv().all(kListingStore, "", kMaxListed)) {
      auto e = directory::make_entry(owner, nick, db.kv().get(owner, "vcard", "").value_or(""));
      sorted.push_back(Person{std::move(e.jid), std::move(e.nick), std::move(e.full_name)});
    }
    // The store orders by owner already; sorting again keeps the cursors right whatever its collation.
    std::sort(sorted.begin(), sorted.end(), [](const Person& a, const Person& b) { return a.jid < b.jid; });
    auto page = people_result(sorted, q);
    if (!page) return reply.error(page.error());
    reply.result(std::move(*page));
  });
}

}  // namespace causerie::modules::explore
