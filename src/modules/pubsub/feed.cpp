// The news feed (feed.hpp, docs/protocol/feed.md).
#include "modules/pubsub/feed.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <unordered_map>

#include "core/xml/data_form.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/pubsub/attachments.hpp"
#include "modules/pubsub/microblog.hpp"
#include "modules/pubsub/pubsub_errors.hpp"
#include "storage/account_store.hpp"

namespace causerie::modules::pubsub {

namespace {

constexpr size_t kMaxMentions = 20;

struct KindName {
  const char* name;
  uint32_t bits;
};
constexpr KindName kKindNames[] = {
    {"people", storage::kFeedPeople},   {"communities", storage::kFeedCommunity}, {"mentions", storage::kFeedMention},
    {"comments", storage::kFeedComment}, {"likes", storage::kFeedLike},
};

std::optional<int64_t> parse_seq(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

bool jid_char(char c) {
  // Stops at what ends a JID inside text or a URI: spaces, quotes, brackets, and the URI query.
  return c > ' ' && c != '?' && c != '"' && c != '\'' && c != '<' && c != '>' && c != ')' && c != '(' &&
         c != ',' && c != ';' && c != '#';
}

void scan_text(std::string_view text, std::vector<std::string>& out, size_t max) {
  size_t pos = 0;
  while (out.size() < max && (pos = text.find("xmpp:", pos)) != std::string_view::npos) {
    pos += 5;
    size_t end = pos;
    while (end < text.size() && jid_char(text[end])) ++end;
    std::string_view cand = text.substr(pos, end - pos);
    while (!cand.empty() && (cand.back() == '.' || cand.back() == '!' || cand.back() == ':')) cand.remove_suffix(1);
    auto j = Jid::parse(cand);
    if (j && j->has_localpart() && !j->has_resource()) {
      std::string bare = j->bare().str();
      if (std::find(out.begin(), out.end(), bare) == out.end()) out.push_back(std::move(bare));
    }
    pos = end;
  }
}

void scan(const xml::Element& el, std::vector<std::string>& out, size_t max) {
  if (el.is_text()) return scan_text(el.text(), out, max);
  for (const auto& a : el.attrs()) scan_text(a.value, out, max);
  for (const auto& n : el.nodes()) {
    if (out.size() >= max) return;
    scan(n, out, max);
  }
}

}  // namespace

std::optional<uint32_t> parse_feed_filter(const std::vector<std::string>& names) {
  uint32_t bits = 0;
  for (const auto& n : names) {
    auto it = std::find_if(std::begin(kKindNames), std::end(kKindNames), [&](const KindName& k) { return n == k.name; });
    if (it == std::end(kKindNames)) return std::nullopt;
    bits |= it->bits;
  }
  return bits;
}

std::string feed_kind_names(uint32_t kinds) {
  std::string out;
  for (const auto& k : kKindNames)
    if (kinds & k.bits) {
      if (!out.empty()) out += ' ';
      out += k.name;
    }
  return out;
}

std::vector<std::string> mentioned_jids(const xml::Element& entry, size_t max) {
  std::vector<std::string> out;
  scan(entry, out, max);
  return out;
}

Feed::Feed(ModuleContext& ctx, Engine& engine, FeedSettings settings)
    : ctx_(ctx), engine_(engine), settings_(settings) {
  engine_.add_publish_observer([this](storage::Storage& db, const Service& svc, const Engine::Published& p) {
    auto rows = rows_for(db, svc, p);
    if (!rows.empty()) db.feed().add(rows);
    return std::function<void()>();
  });
  engine_.add_subscribe_observer([this](storage::Storage& db, const Service& svc, const NodeState& n, const std::string& bare) {
    backfill(db, svc, n, bare);
  });
  ctx.on_iq(IqScope::kAccount, false, kFeedNs, [this](IqRequest& r) { query(r); }, "query");
  ctx.disco().add_account_feature(kFeedNs);
}

bool Feed::local_account(const std::string& bare) const {
  size_t at = bare.find('@');
  return at != std::string::npos && ctx_.router().is_local_host(std::string_view(bare).substr(at + 1));
}

uint32_t Feed::post_kind(const Service& svc, const NodeState& n) const {
  const std::string& node = n.row.node;
  if (is_comments_node(node) || is_attachments_node(node) || is_summary_node(node)) return 0;
  if (svc.pep) return n.social ? uint32_t{storage::kFeedPeople} : 0u;
  return storage::kFeedCommunity;
}

std::vector<storage::FeedRow> Feed::rows_for(storage::Storage& db, const Service& svc, const Engine::Published& p) const {
  std::vector<storage::FeedRow> rows;
  if (p.item.seq <= 0) return rows;  // not kept: nothing to refer to
  std::unordered_map<std::string, uint32_t> kinds;
  const NodeState& n = p.state;
  std::optional<xml::Element> payload;
  if (!p.item.payload.empty()) payload = xml::parse_fragment(p.item.payload);
  const bool entry = payload && payload->is("entry", ns::kAtom);

  // Posts: exactly the readers the notification goes to (the fan-out plan applied the node's and the
  // post's access models), and the publisher itself.
  // Posts are Atom entries (XEP-0277, XEP-0472); other payloads on a community node are not.
  if (uint32_t kind = post_kind(svc, n); kind && entry) {
    if (p.event.fan) {
      for (const auto& t : p.event.fan->targets) kinds[t.jid.substr(0, t.jid.find('/'))] |= kind;
      for (const auto& j : p.event.fan->implicit) kinds[j] |= kind;
    }
    kinds[p.item.publisher] |= kind;
  }
  // Comments on a post: its author (the comments node's creator) hears of them; "♥" is Movim's like.
  if (is_comments_node(n.row.node) && entry && n.row.creator != p.item.publisher)
    kinds[n.row.creator] |= entry_title(*payload) == kMovimLike ? uint32_t{storage::kFeedLike} : uint32_t{storage::kFeedComment};
  // XEP-0470: an attachment (like, reaction) on a post: the post's publisher.
  if (is_attachments_node(n.row.node))
    if (auto target = engine_.attachment_target(db, svc, n.row.node); target && target->item.publisher != p.item.publisher)
      kinds[target->item.publisher] |= storage::kFeedLike;
  // Mentions: only readers who may read the entry.
  if (entry)
    for (const auto& who : mentioned_jids(*payload, kMaxMentions))
      if (who != p.item.publisher && local_account(who) && engine_.may_read(db, svc, n, p.item, who))
        kinds[who] |= storage::kFeedMention;

  rows.reserve(kinds.size());
  for (auto& [reader, bits] : kinds)
    if (local_account(reader)) rows.push_back(storage::FeedRow{reader, p.item.seq, bits});
  return rows;
}

void Feed::backfill(storage::Storage& db, const Service& svc, const NodeState& n, const std::string& reader) const {
  uint32_t kind = post_kind(svc, n);
  if (!kind || !local_account(reader) || settings_.backfill == 0) return;
  storage::PubsubItemQuery q;
  q.limit = settings_.backfill;
  std::vector<storage::FeedRow> rows;
  for (const auto& item : db.pubsub().items(n.row.id, q)) {
    if (kind == storage::kFeedCommunity && item.payload.find(ns::kAtom) == std::string::npos) continue;
    if (engine_.may_read(db, svc, n, item, reader)) rows.push_back(storage::FeedRow{reader, item.seq, kind});
  }
  if (!rows.empty()) db.feed().add(rows);
}

bool Feed::still_visible(storage::Storage& db, const storage::FeedEntry& e, const std::string& reader,
                          std::unordered_map<std::string, std::optional<Seen>>& nodes) const {
  std::string key = e.service + '\n' + e.node;
  auto it = nodes.find(key);
  if (it == nodes.end()) {
    std::optional<Seen> seen;
    auto svc = engine_.service_at(e.service);
    auto reader_jid = Jid::parse(reader);
    if (svc && reader_jid)
      if (auto n = engine_.load(db, *svc, e.node)) {
        Requester r = engine_.facts(db, *svc, *n, *reader_jid);
        seen = Seen{std::move(*n), std::move(r)};
      }
    it = nodes.emplace(std::move(key), std::move(seen)).first;
  }
  if (!it->second) return false;
  const Seen& s = *it->second;
  // Only posts carry their own visibility; rows of other nodes were decided by subscription.
  if (!s.node.social) return true;
  return may_see(engine_.visibility_of(s.node, e.item), s.node.config, s.reader);
}

Feed::VisiblePage Feed::visible_page(storage::Storage& db, const storage::FeedQuery& fq) const {
  // A row says the reader could see the post when it was published; whether it still may is asked
  // again here, on the owner's roster as it is now (docs/protocol/audiences.md): a contact moved out
  // of a post's audience, or out of the roster, stops seeing it at once. Rows it may no longer see are
  // skipped and the page is filled from further rows, a bounded number of rounds.
  constexpr int kRounds = 8;
  std::unordered_map<std::string, std::optional<Seen>> nodes;
  VisiblePage page;
  std::vector<storage::FeedEntry>& out = page.entries;
  storage::FeedQuery cur = fq;
  bool exhausted = false;
  for (int round = 0; round < kRounds && out.size() < fq.limit; ++round) {
    auto got = db.feed().page(cur);
    if (got.empty()) {
      exhausted = true;
      break;
    }
    // Pages come newest first; walking from the oldest (RSM "before"), further rows are newer.
    if (fq.oldest_first) cur.newer_than = got.front().seq;
    else cur.older_than = got.back().seq;
    bool last = got.size() < cur.limit;
    std::vector<storage::FeedEntry> kept;
    for (auto& e : got)
      if (still_visible(db, e, fq.reader, nodes)) kept.push_back(std::move(e));
    if (fq.oldest_first) out.insert(out.begin(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    else out.insert(out.end(), std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
    if (last) {
      exhausted = true;
      break;
    }
  }
  if (out.size() > fq.limit) {
    // Keep the rows nearest the anchor: the newest when walking back in time, the oldest otherwise.
    if (fq.oldest_first) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(fq.limit));
    else out.resize(fq.limit);
    page.complete = false;
  } else if (exhausted) {
    page.complete = true;
  } else {
    // Complete when no row lies beyond the last one looked at, in the direction walked.
    page.complete = fq.oldest_first ? !db.feed().has_newer(fq, cur.newer_than) : !db.feed().has_older(fq, cur.older_than);
  }
  return page;
}

void Feed::query(IqRequest& req) {
  Jid account = req.account();
  if (req.from().bare() != account) return req.reply.error(forbidden("a feed is read by its own account only"));
  const xml::Element& q = req.payload();
  storage::FeedQuery fq;
  fq.reader = account.str();
  fq.limit = settings_.default_page;
  if (const xml::Element* x = q.child("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*x);
    if (!form) return req.reply.error(bad_request("malformed data form"));
    for (const auto& f : form->fields) {
      if (f.var == "FORM_TYPE") continue;
      if (f.var != "filter") return req.reply.error(bad_request("unknown field " + f.var));
      auto bits = parse_feed_filter(f.values);
      if (!bits) return req.reply.error(bad_request("unknown filter: the filters are people, communities, mentions, comments, likes"));
      fq.kinds = *bits;
    }
  }
  auto rsm = xml::parse_rsm(q);
  if (!rsm.error.empty()) return req.reply.error(bad_request(rsm.error));
  if (rsm.request) {
    const auto& r = *rsm.request;
    if (r.index) return req.reply.error(StanzaError(StanzaErrorCondition::kFeatureNotImplemented, "paging by index is not supported"));
    if (r.max) fq.limit = std::min(*r.max, settings_.max_page);
    if (r.after && r.before) return req.reply.error(bad_request("after and before together"));
    if (r.after) {
      auto s = parse_seq(*r.after);
      if (!s) return req.reply.error(item_not_found("no such feed entry"));  // XEP-0059 §2.4
      fq.older_than = *s;
    } else if (r.before) {
      fq.oldest_first = true;
      if (!r.before->empty()) {
        auto s = parse_seq(*r.before);
        if (!s) return req.reply.error(item_not_found("no such feed entry"));
        fq.newer_than = *s;
      }
    }
  }
  ctx_.storage().read([this, fq, reply = req.reply](storage::Storage& db) {
    std::vector<storage::FeedEntry> page;
    bool complete = true;
    try {
      if (fq.limit) {
        auto visible = visible_page(db, fq);
        page = std::move(visible.entries);
        complete = visible.complete;
      }
    } catch (const std::exception&) {
      reply.error(StanzaError(StanzaErrorCondition::kInternalServerError));
      return;
    }
    xml::Element out("feed", kFeedNs);
    if (complete) out.set_attr("complete", "true");
    for (const auto& e : page) {
      xml::Element& res = out.add_child("result");
      res.set_attr("id", std::to_string(e.seq)).set_attr("kinds", feed_kind_names(e.kinds));
      res.add(forwarded_item(e.service, e.node, e.item, fq.reader));
    }
    xml::RsmResult r;
    if (!page.empty()) {
      r.first = std::to_string(page.front().seq);
      r.last = std::to_string(page.back().seq);
    }
    out.add(xml::to_element(r));
    reply.result(std::move(out));
  });
}

}  // namespace causerie::modules::pubsub
