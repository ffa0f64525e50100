// RFC 6121 §2: roster get, set, push and versioning (§2.6).
#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/im/im_module.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules::im {

namespace {
constexpr size_t kMaxNameBytes = 1024;   // §2.3.3: server-configured limits
constexpr size_t kMaxGroupBytes = 1024;
constexpr size_t kMaxGroups = 64;
constexpr size_t kMaxRosterItems = 5000;
}  // namespace

ImModule::ImModule(ModuleContext& ctx)
    : ctx_(ctx), slot_(ctx.allocate_session_slot()), interested_flag_(ctx.allocate_session_flag()) {
  ctx.on_iq(IqScope::kAccount, false, ns::kRoster, [this](IqRequest& r) { roster_get(r); });
  ctx.on_iq(IqScope::kAccount, true, ns::kRoster, [this](IqRequest& r) { roster_set(r); });
  // §2.6.1 roster versioning and §3.4 pre-approval are advertised as stream features.
  ctx.add_stream_feature(FeatureStage::kPostAuth, [](const ClientSession&) {
    return std::optional<xml::Element>(xml::Element("ver", ns::kRosterVer));
  });
  ctx.add_stream_feature(FeatureStage::kPostAuth, [](const ClientSession&) {
    return std::optional<xml::Element>(xml::Element("sub", ns::kPreApproval));
  });
  ctx.hook(StanzaHook::kFromClient, 100, [this](StanzaEvent& ev) -> HookResult {
    if (!ev.stanza.is_presence()) return HookResult::kContinue;
    if (auto t = parse_sub_type(ev.stanza.type())) return outbound_subscription(ev, *t);
    return outbound_presence(ev);
  });
  ctx.hook(StanzaHook::kToAccount, 100, [this](StanzaEvent& ev) -> HookResult {
    if (!ev.stanza.is_presence()) return HookResult::kContinue;
    if (auto t = parse_sub_type(ev.stanza.type())) return inbound_subscription(ev.stanza, *t);
    if (ev.stanza.type() == "probe") return inbound_probe(ev.stanza);
    return HookResult::kContinue;
  });
  ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) { session_closed(s); });
  ctx.on_roster_changed([this](const std::string& owner, const storage::RosterItem& item, int64_t version) {
    push(owner, item, false, version);
  });
}

xml::Element ImModule::item_element(const storage::RosterItem& it, bool removed) {
  xml::Element item("item", ns::kRoster);
  item.set_attr("jid", it.jid);
  if (removed) {
    item.set_attr("subscription", "remove");
    return item;
  }
  if (!it.name.empty()) item.set_attr("name", it.name);
  item.set_attr("subscription", storage::to_string(it.subscription));
  if (it.ask) item.set_attr("ask", "subscribe");
  if (it.approved) item.set_attr("approved", "true");
  for (const auto& g : it.groups) item.add_text_child("group", g);
  return item;
}

void ImModule::push(const std::string& owner, const storage::RosterItem& item, bool removed, int64_t version) {
  for (const auto& r : ctx_.sessions().resources(owner)) {
    if (!(r.flags & interested_flag_)) continue;
    xml::Element iq("iq", ns::kClient);
    iq.set_attr("type", "set").set_attr("id", "push-" + std::to_string(version) + "-" + r.resource);
    iq.set_attr("to", owner + "/" + r.resource);
    xml::Element& q = iq.add_child("query", ns::kRoster);
    q.set_attr("ver", std::to_string(version));
    q.add(item_element(item, removed));
    ctx_.router().deliver_to_session(r.ref, iq);
  }
}

void ImModule::roster_get(IqRequest& req) {
  Jid account = req.account();
  // §2.3.3: only the account itself reads or changes its roster.
  if (req.from().bare() != account) {
    req.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
    return;
  }
  if (req.origin && req.origin->bound()) ctx_.sessions().set_flag(req.origin->jid(), interested_flag_, true);
  std::string known_ver(req.payload().attr("ver"));
  bool versioned = req.payload().has_attr("ver");
  ctx_.storage().read([reply = std::move(req.reply), owner = account.str(), known_ver, versioned](storage::Storage& db) mutable {
    int64_t version = db.roster().version(owner);
    std::string ver = std::to_string(version);
    // §2.6.3: an unchanged roster is answered with an empty result; changes then come as pushes.
    if (versioned && known_ver == ver) {
      reply.result();
      return;
    }
    xml::Element q("query", ns::kRoster);
    q.set_attr("ver", ver);
    for (const auto& it : db.roster().items(owner))
      if (!it.hidden) q.add(item_element(it, false));
    reply.result(std::move(q));
  });
}

void ImModule::roster_set(IqRequest& req) {
  Jid account = req.account();
  if (req.from().bare() != account) {
    req.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
    return;
  }
  auto items = req.payload().children("item", ns::kRoster);
  if (items.size() != 1) {
    req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "a roster set carries exactly one item"));
    return;
  }
  const xml::Element& in = *items.front();
  auto contact = Jid::parse(in.attr("jid"));
  if (!contact) {
    req.reply.error(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid item jid"));
    return;
  }
  if (contact->has_resource()) {
    // Roster items are bare JIDs; a full JID cannot be subscribed to (§2.1.2.3 allows but we normalise).
    *contact = contact->bare();
  }
  bool remove = in.attr("subscription") == "remove";
  storage::RosterItem wanted;
  wanted.jid = contact->str();
  wanted.name = std::string(in.attr("name"));
  if (wanted.name.size() > kMaxNameBytes) {
    req.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "name too long"));
    return;
  }
  for (const xml::Element* g : in.children("group", ns::kRoster)) {
    std::string name = g->text();
    if (name.empty() || name.size() > kMaxGroupBytes) {
      req.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "group names are 1 to 1024 bytes"));
      return;
    }
    if (std::find(wanted.groups.begin(), wanted.groups.end(), name) != wanted.groups.end()) {
      req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "duplicate group"));
      return;
    }
    wanted.groups.push_back(std::move(name));
  }
  if (wanted.groups.size() > kMaxGroups) {
    req.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "too many groups"));
    return;
  }
  std::string owner = account.str();
  ctx_.storage().write([this, reply = std::move(req.reply), owner, wanted, remove](storage::Storage& db) mutable
                       -> storage::StorageService::Completion {
    auto existing = db.roster().item(owner, wanted.jid);
    if (remove) {
      if (!existing) {
        // §2.5.3: removing an item that is not there.
        reply.error(StanzaError(StanzaErrorCondition::kItemNotFound));
        return nullptr;
      }
      int64_t ver = db.roster().remove(owner, wanted.jid);
      storage::RosterItem old = *existing;
      return [this, reply = std::move(reply), owner, old, ver]() mutable {
        reply.result();
        if (!old.hidden) push(owner, old, true, ver);
        // §2.5.2: end the subscriptions (and decline or withdraw pending requests) both ways.
        Jid from = *Jid::parse(owner);
        Jid to = *Jid::parse(old.jid);
        auto send = [&](const char* type) {
          xml::Element p("presence", ns::kClient);
          p.set_attr("type", type);
          ctx_.router().route(Stanza(std::move(p), from, to));
        };
        if (has_to(old.subscription) || old.ask) send("unsubscribe");
        // §3.2.2 (as for an explicit "unsubscribed"): a contact who could see us gets unavailable from each
        // available resource first, while its server still accepts our presence.
        if (has_from(old.subscription)) send_current_presence(owner, to, true);
        if (has_from(old.subscription) || old.pending_in) send("unsubscribed");
      };
    }
    storage::RosterItem item = existing ? *existing : storage::RosterItem{};
    if (!existing && db.roster().items(owner).size() >= kMaxRosterItems) {
      reply.error(StanzaError(StanzaErrorCondition::kNotAllowed, "the roster is full"));
      return nullptr;
    }
    // §2.1.2.5: the client cannot set subscription state; only name and groups are its to change.
    item.jid = wanted.jid;
    item.name = wanted.name;
    item.groups = wanted.groups;
    item.hidden = false;
    int64_t ver = db.roster().put(owner, item);
    return [this, reply = std::move(reply), owner, item, ver]() mutable {
      reply.result();
      push(owner, item, false, ver);
    };
  });
}

}  // namespace causerie::modules::im
