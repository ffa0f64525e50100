#include "modules/pubsub/notifier.hpp"

#include <memory>
#include <unordered_set>

#include "core/router/out_stanza.hpp"
#include "core/util/encoding.hpp"

namespace causerie::modules::pubsub {

namespace {

std::string_view bare_of(std::string_view jid) { return jid.substr(0, jid.find('/')); }

std::string_view resource_of(std::string_view jid) {
  size_t slash = jid.find('/');
  return slash == std::string_view::npos ? std::string_view() : jid.substr(slash + 1);
}

std::string_view domain_of(std::string_view jid) {
  std::string_view bare = bare_of(jid);
  size_t at = bare.find('@');
  return at == std::string_view::npos ? bare : bare.substr(at + 1);
}

// RFC 6121 §4.7.2.1: the show value of a presence, "online" for plain availability.
std::string show_of(const BoundResource& r) {
  if (!r.presence) return "online";
  std::string show = r.presence->child_text("show", r.presence->ns());
  return show.empty() ? "online" : show;
}

bool show_allowed(const Target& t, const BoundResource& r) {
  if (t.show_values.empty()) return true;
  std::string show = show_of(r);
  for (const auto& v : t.show_values)
    if (v == show) return true;
  return false;
}

}  // namespace

std::string Notifier::next_id() { return "ps-" + std::to_string(++counter_) + "-" + util::random_id(4); }

void Notifier::send(FanOut plan, xml::Element message, std::optional<xml::Element> with_body) {
  message.set_attr("from", plan.from);
  if (with_body) with_body->set_attr("from", plan.from);
  struct Job {
    FanOut plan;
    xml::Element message;
    std::optional<xml::Element> with_body;
  };
  auto job = std::make_shared<Job>(Job{std::move(plan), std::move(message), std::move(with_body)});
  uint32_t workers = ctx_.dispatcher().worker_count();
  if (workers == 0) {
    deliver(job->plan, job->message, job->with_body);
    return;
  }
  // One worker per node keeps a node's events in order for every subscriber.
  size_t h = std::hash<std::string>()(job->plan.from + '\x1f' + job->plan.node);
  ctx_.dispatcher().post(static_cast<uint32_t>(h % workers), [this, job] { deliver(job->plan, job->message, job->with_body); });
}

void Notifier::send_one(const std::string& from, const std::string& to, xml::Element message) {
  FanOut plan;
  plan.from = from;
  plan.targets.push_back(Target{to});
  plan.normal_type = message.attr("type").empty() || message.attr("type") == "normal";
  send(std::move(plan), std::move(message));
}

void Notifier::deliver(const FanOut& plan, const xml::Element& message, const std::optional<xml::Element>& with_body) {
  SharedStanza plain(message);
  std::optional<SharedStanza> bodied;
  std::unordered_set<uint64_t> sent;  // sessions already served: one notification per resource
  std::optional<Jid> from;
  // Local deliveries are batched: deliver_many locks each worker's inbox once for the whole fan-out.
  std::vector<Delivery> batch;
  batch.reserve(plan.targets.size() + plan.implicit.size());
  auto queue = [&](SessionRef ref, OutStanza out) {
    if (sent.insert(ref.id).second) batch.push_back(Delivery{ref, std::move(out)});
  };

  auto pick = [&](const Target* t) -> const SharedStanza& {
    if (t && t->include_body && with_body) {
      if (!bodied) bodied.emplace(*with_body);
      return *bodied;
    }
    return plain;
  };
  auto parse_from = [&] {
    if (!from) {
      auto f = Jid::parse(plan.from);
      if (!f) return false;
      from = *f;
    }
    return true;
  };
  // Local sessions are served here, past the router's hooks: its delivery filters (XEP-0191 blocking) say
  // whether the account may get this.
  auto may_deliver = [&](std::string_view bare) {
    return parse_from() && ctx_.router().may_deliver(*from, bare);
  };
  auto route_via_router = [&](const std::string& to, const Target* t) {
    if (!parse_from()) return;
    auto j = Jid::parse(to);
    if (!j) return;
    const xml::Element& m = t && t->include_body && with_body ? *with_body : message;
    ctx_.router().route(Stanza(m, *from, *j));
  };
  // A full JID: the session bound to it, if any. Sessions are picked under the registry's shard lock
  // (no copies on this hot path) and served after it is released.
  auto to_full = [&](const std::string& full, const Target* t) {
    if (!ctx_.router().is_local_host(domain_of(full))) {
      route_via_router(full, t);
      return;
    }
    if (!may_deliver(bare_of(full))) return;
    std::string_view res = resource_of(full);
    std::optional<SessionRef> ref;
    ctx_.sessions().inspect(bare_of(full), [&](const std::vector<BoundResource>& resources) {
      for (const auto& r : resources)
        if (r.resource == res) {
          if (!t || show_allowed(*t, r)) ref = r.ref;
          return;
        }
    });
    if (ref && !sent.count(ref->id)) queue(*ref, pick(t).out_for(full));
  };
  // A bare JID: RFC 6121 §8.5.2.1.1, every available resource with a non-negative priority; with none,
  // a "normal" notification goes the way of any message (offline storage), a headline is dropped.
  std::vector<SessionRef> refs;
  auto to_bare = [&](const std::string& bare, const Target* t) {
    if (!ctx_.router().is_local_host(domain_of(bare))) {
      route_via_router(bare, t);
      return;
    }
    if (!may_deliver(bare)) return;
    bool any = false;
    refs.clear();
    ctx_.sessions().inspect(bare, [&](const std::vector<BoundResource>& resources) {
      for (const auto& r : resources) {
        if (!r.available || r.priority < 0) continue;
        any = true;
        if (!t || show_allowed(*t, r)) refs.push_back(r.ref);
      }
    });
    for (const SessionRef& ref : refs)
      if (!sent.count(ref.id)) queue(ref, pick(t).out_for(bare));
    if (!any && plan.normal_type) route_via_router(bare, t);  // the router's offline path
  };

  // XEP-0163 §4.3: the owner's and contacts' resources that asked for this node.
  for (const auto& bare : plan.implicit)
    for (const auto& full : caps_.interested(bare, plan.node)) to_full(full, nullptr);

  for (const auto& t : plan.targets) {
    if (!resource_of(t.jid).empty()) {
      to_full(t.jid, &t);
      continue;
    }
    if (plan.pep) {
      // §4.3.1: a bare subscriber's interested resources, or its bare JID when none says so.
      auto interested = caps_.interested(t.jid, plan.node);
      if (!interested.empty()) {
        for (const auto& full : interested) to_full(full, &t);
        continue;
      }
    }
    to_bare(t.jid, &t);
  }
  if (!batch.empty()) ctx_.dispatcher().deliver_many(batch);
}

}  // namespace causerie::modules::pubsub
