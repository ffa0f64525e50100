// XEP-0191 v1.3 Blocking Command: blocklist retrieval, block, unblock and unblock-all (§§3.2-3.5), pushes
// to the resources that asked for the blocklist, and the blocks themselves, as stanza hooks that run
// before every other module's (priority 1000):
//   kToAccount    a stanza from a blocked JID to the user: dropped or answered (§3.3)
//   kFromClient   a stanza the user's client sends to a blocked JID: not routed, the client told (§3.3)
//   kFromAccount  what the server sends on the user's behalf (presence broadcasts, probes): only errors,
//                 and the unavailable presence that blocking itself sends, reach a blocked JID
//   a delivery filter  the same two rules for what modules deliver to sessions themselves (PEP)
// XEP-0377 reports: a <report/> in a <block/> item is read with the item; once the block is stored, each
// report goes to the admins of the reporter's host (`admins` of its [[host]]) as a message, and to the log.
// The user's own account and own server are never blocked (§5: "MUST NOT block communications from one
// of a user's resources to another"; the server answers the user's own requests).
#include "modules/blocking.hpp"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/spam_report.hpp"
#include "storage/blocking_store.hpp"
#include "storage/roster_store.hpp"

namespace causerie::modules {

namespace blocking {

bool matches(const JidSet& items, const Jid& jid) {
  if (items.empty() || jid.empty()) return false;
  if (items.count(jid.str())) return true;
  if (jid.has_resource() && items.count(jid.bare_view())) return true;
  if (jid.has_localpart() && jid.has_resource()) {
    std::string domain_resource(jid.domainpart());
    domain_resource += '/';
    domain_resource += jid.resourcepart();
    if (items.count(domain_resource)) return true;
  }
  return items.count(jid.domainpart()) != 0;
}

Inbound inbound_action(StanzaKind kind, std::string_view type) {
  switch (kind) {
    case StanzaKind::kMessage:
      return type == "error" ? Inbound::kDrop : Inbound::kServiceUnavailable;
    case StanzaKind::kIq:
      return type == "get" || type == "set" ? Inbound::kServiceUnavailable : Inbound::kDrop;
    default:
      return Inbound::kDrop;
  }
}

Outbound client_outbound_action(StanzaKind kind, std::string_view type) {
  if (kind == StanzaKind::kOther || type == "error") return Outbound::kDrop;
  if (kind == StanzaKind::kIq && type != "get" && type != "set") return Outbound::kDrop;
  return Outbound::kNotAcceptable;
}

bool server_may_send(StanzaKind kind, std::string_view type) {
  return kind != StanzaKind::kOther && type == "error";
}

bool BlockLists::blocks(std::string_view owner, const Jid& other) const {
  if (owners_.load(std::memory_order_relaxed) == 0) return false;
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  return it != s.lists.end() && matches(it->second, other);
}

JidSet BlockLists::list(std::string_view owner) const {
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  return it == s.lists.end() ? JidSet{} : it->second;
}

size_t BlockLists::size(std::string_view owner) const {
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  return it == s.lists.end() ? 0 : it->second.size();
}

void BlockLists::add(std::string_view owner, const std::vector<std::string>& jids) {
  if (jids.empty()) return;
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  if (it == s.lists.end()) {
    it = s.lists.emplace(std::string(owner), JidSet{}).first;
    owners_.fetch_add(1, std::memory_order_relaxed);
  }
  it->second.insert(jids.begin(), jids.end());
}

void BlockLists::remove(std::string_view owner, const std::vector<std::string>& jids) {
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  if (it == s.lists.end()) return;
  for (const auto& j : jids) it->second.erase(j);
  if (it->second.empty()) {
    s.lists.erase(it);
    owners_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void BlockLists::clear(std::string_view owner) {
  Shard& s = shard(owner);
  std::lock_guard lock(s.mutex);
  auto it = s.lists.find(owner);
  if (it == s.lists.end()) return;
  s.lists.erase(it);
  owners_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace blocking

namespace {

using blocking::BlockLists;
using blocking::JidSet;

// Bounds on what is kept in memory (DESIGN §9): JIDs in one blocklist, directed presences one session
// remembers (beyond it, a recipient blocked later gets no unavailable presence from that session).
constexpr size_t kMaxItems = 1000;
constexpr size_t kMaxDirected = 1000;

// Set while this thread routes the unavailable presence §3.3 sends to a JID being blocked: the one
// presence the kFromAccount filter lets through to a blocked JID.
thread_local bool tl_farewell = false;

struct Farewell {
  Farewell() { tl_farewell = true; }
  ~Farewell() { tl_farewell = false; }
};

// The full JIDs a session sent directed available presence to (RFC 6121 §4.6): they may see its
// presence, so §3.3 sends them unavailable presence when they are blocked. Kept on the session's thread.
struct DirectedPresence final : SessionExtension {
  std::set<std::string> to;
};

bool has_from(storage::Subscription s) {
  return s == storage::Subscription::kFrom || s == storage::Subscription::kBoth;
}
bool has_to(storage::Subscription s) {
  return s == storage::Subscription::kTo || s == storage::Subscription::kBoth;
}

// Whether the blocklist item `item` covers the roster contact `contact` (a bare JID) or one of its
// resources; `target` is then where presence for the item goes: the item itself when it names one
// resource, else the contact.
bool covers(const Jid& item, const Jid& contact, Jid& target) {
  if (item.has_resource()) {
    if (item.bare() != contact) return false;
    target = item;
    return true;
  }
  if (item == contact || (item.is_domain() && contact.domainpart() == item.domainpart())) {
    target = contact;
    return true;
  }
  return false;
}

class BlockingModule final : public Module {
 public:
  explicit BlockingModule(ModuleContext& ctx)
      : ctx_(ctx), requested_flag_(ctx.allocate_session_flag()), slot_(ctx.allocate_session_slot()) {
    load();
    ctx.disco().add_server_feature(ns::kBlocking);  // §3.1
    ctx.disco().add_account_feature(ns::kBlocking);
    for (const char* f : spam_report::kFeatures) {  // XEP-0377 §2
      ctx.disco().add_server_feature(f);
      ctx.disco().add_account_feature(f);
    }
    IqHandler get = [this](IqRequest& r) { get_list(r); };
    IqHandler block = [this](IqRequest& r) { change(r, true); };
    IqHandler unblock = [this](IqRequest& r) { change(r, false); };
    ctx.on_iq(IqScope::kAccount, false, ns::kBlocking, std::move(get), "blocklist");
    ctx.on_iq(IqScope::kAccount, true, ns::kBlocking, std::move(block), "block");
    ctx.on_iq(IqScope::kAccount, true, ns::kBlocking, std::move(unblock), "unblock");
    ctx.hook(StanzaHook::kToAccount, 1000, [this](StanzaEvent& ev) { return to_account(ev); });
    ctx.hook(StanzaHook::kFromClient, 1000, [this](StanzaEvent& ev) { return from_client(ev); });
    ctx.hook(StanzaHook::kFromAccount, 1000, [this](StanzaEvent& ev) { return from_account(ev); });
    ctx.filter_delivery(
        [this](const Jid& from, std::string_view to_bare) { return may_deliver(from, to_bare); });
    ctx.on_account_removed([this](const std::string& bare) { lists_.clear(bare); });
  }

 private:
  // Every blocklist, read once before the listeners open.
  void load() {
    auto loaded = std::make_shared<std::promise<size_t>>();
    auto done = loaded->get_future();
    ctx_.storage().read([this, loaded](storage::Storage& db) {
      try {
        size_t n = 0;
        std::string owner;
        std::vector<std::string> jids;
        db.blocking().for_each([&](std::string_view o, std::string_view jid) {
          if (o != owner) {
            lists_.add(owner, jids);
            owner = o;
            jids.clear();
          }
          jids.emplace_back(jid);
          ++n;
        });
        lists_.add(owner, jids);
        loaded->set_value(n);
      } catch (...) {
        loaded->set_exception(std::current_exception());
      }
    });
    loaded.reset();  // a job the lane refuses breaks the promise instead of hanging here
    spdlog::debug("blocking: {} blocked JIDs loaded", done.get());
  }

  // The user's own account, and the user's own server answering the user's requests, are never blocked.
  bool exempt(std::string_view owner, const Jid& other) const {
    return other.bare_view() == owner ||
           (other.is_domain() && !other.has_resource() && ctx_.router().is_local_host(other.domainpart()));
  }

  HookResult to_account(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    std::string_view owner = st.to().bare_view();
    if (lists_.empty() || st.from().empty() || exempt(owner, st.from()) || !lists_.blocks(owner, st.from()))
      return HookResult::kContinue;
    if (blocking::inbound_action(st.kind(), st.type()) == blocking::Inbound::kServiceUnavailable)
      ctx_.router().bounce(st, StanzaError(StanzaErrorCondition::kServiceUnavailable));
    return HookResult::kHandled;
  }

  HookResult from_client(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    std::string_view owner = st.from().bare_view();
    if (!ev.origin || st.to().empty() || exempt(owner, st.to())) return HookResult::kContinue;
    if (!lists_.blocks(owner, st.to())) {
      if (st.is_presence()) note_directed(*ev.origin, st);
      return HookResult::kContinue;
    }
    if (blocking::client_outbound_action(st.kind(), st.type()) == blocking::Outbound::kNotAcceptable) {
      // Sent straight to the client: routed, it would come from the blocked JID and be dropped as such.
      StanzaError err(StanzaErrorCondition::kNotAcceptable, "you have blocked this JID");
      err.with_app(xml::Element("blocked", ns::kBlockingErrors));
      if (auto reply = make_error_reply(st.element(), err)) ev.origin->send(*reply);
    }
    return HookResult::kHandled;
  }

  HookResult from_account(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    std::string_view owner = st.from().bare_view();
    if (lists_.empty() || tl_farewell || exempt(owner, st.to()) ||
        blocking::server_may_send(st.kind(), st.type()) || !lists_.blocks(owner, st.to()))
      return HookResult::kContinue;
    return HookResult::kHandled;
  }

  void note_directed(ClientSession& session, const Stanza& st) {
    std::string_view type = st.type();
    auto* d = session.extension_as<DirectedPresence>(slot_);
    if (type == "unavailable" && d) {
      d->to.erase(st.to().str());
    } else if (type.empty()) {
      if (!d) {
        session.set_extension(slot_, std::make_unique<DirectedPresence>());
        d = session.extension_as<DirectedPresence>(slot_);
      }
      if (d->to.size() < kMaxDirected) d->to.insert(st.to().str());
    }
  }

  // §3.3 for directed presence: each session of the user that sent some to a JID now blocked sends it
  // unavailable presence (on the session's own thread, where its DirectedPresence lives), unless the
  // JID, or its bare JID, already got it as a contact (`sent`).
  void farewell_directed(const std::string& owner, JidSet blocked,
                         std::shared_ptr<const std::set<Jid>> sent) {
    if (blocked.empty()) return;
    auto shared = std::make_shared<const JidSet>(std::move(blocked));
    for (const auto& r : ctx_.sessions().resources(owner)) {
      ctx_.dispatcher().with_session(r.ref, [this, shared, sent](ClientSession& s) {
        auto* d = s.extension_as<DirectedPresence>(slot_);
        if (!d) return;
        Farewell farewell;
        for (auto it = d->to.begin(); it != d->to.end();) {
          auto to = Jid::parse(*it);
          if (!to || !blocking::matches(*shared, *to)) {
            ++it;
            continue;
          }
          if (!sent->count(*to) && !sent->count(to->bare())) {
            xml::Element p("presence", ns::kClient);
            p.set_attr("type", "unavailable");
            ctx_.router().route(Stanza(std::move(p), s.jid(), *to));
          }
          it = d->to.erase(it);
        }
      });
    }
  }

  // For what other modules deliver past the hooks (PEP notifications): the two rules of the hooks, the
  // recipient blocking the sender (kToAccount) and the sender, a local account, blocking the recipient
  // (kFromAccount: a notification is sent on the publisher's behalf).
  bool may_deliver(const Jid& from, std::string_view to_bare) const {
    if (lists_.empty()) return true;
    if (!exempt(to_bare, from) && lists_.blocks(to_bare, from)) return false;
    if (!from.has_localpart() || !ctx_.router().is_local_host(from.domainpart())) return true;
    auto to = Jid::parse(to_bare);
    return !to || exempt(from.bare_view(), *to) || !lists_.blocks(from.bare_view(), *to);
  }

  // §3.2: answered from memory, the same lists the hooks apply.
  void get_list(IqRequest& req) {
    Jid account = req.account();
    if (req.from().bare() != account) {
      req.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
      return;
    }
    // §3.3: this resource now gets the pushes.
    if (req.origin && req.origin->bound()) ctx_.sessions().set_flag(req.origin->jid(), requested_flag_, true);
    // The lists change in write completions: a get pipelined after a block or unblock waits for it.
    ctx_.storage().after_marked([this, owner = account.str(), reply = req.reply] {
      xml::Element list("blocklist", ns::kBlocking);
      for (const auto& jid : lists_.list(owner)) list.add_child("item").set_attr("jid", jid);
      reply.result(std::move(list));
    });
  }

  void change(IqRequest& req, bool block) {
    Jid account = req.account();
    if (req.from().bare() != account) {
      req.reply.error(StanzaError(StanzaErrorCondition::kForbidden));
      return;
    }
    std::vector<std::string> jids;
    std::vector<spam_report::SpamReport> reports;
    for (const xml::Element* item : req.payload().children("item", ns::kBlocking)) {
      if (!item->has_attr("jid")) {
        req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "an item needs a 'jid'"));
        return;
      }
      auto jid = Jid::parse(item->attr("jid"));
      if (!jid) {
        req.reply.error(StanzaError(StanzaErrorCondition::kJidMalformed, "invalid item jid"));
        return;
      }
      if (block && jid->bare() == account) {
        req.reply.error(StanzaError(StanzaErrorCondition::kNotAcceptable, "an account cannot block itself"));
        return;
      }
      if (std::find(jids.begin(), jids.end(), jid->str()) == jids.end()) jids.push_back(jid->str());
      if (block) {
        auto parsed = spam_report::parse(*item, account.str(), jid->str());
        if (!parsed.error.empty()) {
          req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, parsed.error));
          return;
        }
        if (parsed.report) reports.push_back(std::move(*parsed.report));
      }
    }
    if (block && jids.empty()) {
      // §3.3: a block without an item is a bad request (an empty unblock is "unblock all", §3.5).
      req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "a block carries at least one item"));
      return;
    }
    if (block) {
      do_block(std::move(req.reply), account.str(), std::move(jids), std::move(reports));
    } else {
      do_unblock(std::move(req.reply), account.str(), std::move(jids));
    }
  }

  void do_block(IqResponder reply, std::string owner, std::vector<std::string> jids,
                std::vector<spam_report::SpamReport> reports) {
    ctx_.storage().write([this, reply = std::move(reply), owner, jids,
                          reports = std::move(reports)](storage::Storage& db) -> storage::StorageService::Completion {
      auto existing = db.blocking().blocked(owner);
      std::vector<std::string> added;
      for (const auto& j : jids)
        if (!std::binary_search(existing.begin(), existing.end(), j)) added.push_back(j);
      if (existing.size() + added.size() > kMaxItems) {
        reply.error(StanzaError(StanzaErrorCondition::kNotAllowed,
                                "a blocklist holds at most " + std::to_string(kMaxItems) + " JIDs"));
        return nullptr;
      }
      for (const auto& j : added) db.blocking().block(owner, j);
      auto roster = db.roster().items(owner);
      JidSet added_set(added.begin(), added.end());
      for (auto& it : roster) {
        // A subscription request from a JID now blocked would be shown again at each login (RFC 6121
        // §3.1.3): it is discarded, silently, as one arriving now would be.
        auto contact = Jid::parse(it.jid);
        if (!it.pending_in || !contact || !blocking::matches(added_set, *contact)) continue;
        it.pending_in = false;
        it.pending_in_stanza.clear();
        if (it.hidden && it.subscription == storage::Subscription::kNone && !it.ask && !it.approved) {
          db.roster().remove(owner, it.jid);
        } else {
          db.roster().put(owner, it);
        }
      }
      return [this, reply, owner, jids, added, roster = std::move(roster), reports] {
        lists_.add(owner, added);
        reply.result();
        for (const auto& r : reports) send_report(r);
        push(owner, "block", jids);
        // §3.3: unavailable presence to each newly blocked JID allowed to see the user's presence.
        auto sent = std::make_shared<const std::set<Jid>>(presence_targets(roster, added, has_from));
        {
          Farewell farewell;
          for (const Jid& to : *sent) send_presence(owner, to, true);
        }
        farewell_directed(owner, JidSet(added.begin(), added.end()), sent);
      };
    });
  }

  void do_unblock(IqResponder reply, std::string owner, std::vector<std::string> jids) {
    ctx_.storage().write([this, reply = std::move(reply), owner,
                          jids](storage::Storage& db) -> storage::StorageService::Completion {
      std::vector<std::string> removed;
      if (jids.empty()) {
        removed = db.blocking().blocked(owner);
        db.blocking().unblock_all(owner);
      } else {
        for (const auto& j : jids)
          if (db.blocking().unblock(owner, j)) removed.push_back(j);
      }
      std::vector<storage::RosterItem> roster;
      if (!removed.empty()) roster = db.roster().items(owner);
      return [this, reply, owner, jids, removed, roster = std::move(roster)] {
        if (jids.empty()) {
          lists_.clear(owner);
        } else {
          lists_.remove(owner, removed);
        }
        reply.result();
        push(owner, "unblock", jids);
        // §3.4: the user's current presence to each unblocked JID allowed to see it; and, a step further
        // than the XEP, a probe to the contacts the user is subscribed to, whose presence was dropped
        // while they were blocked, so that the user's resources see them again.
        for (const Jid& to : presence_targets(roster, removed, has_from)) send_presence(owner, to, false);
        Jid user = *Jid::parse(owner);
        for (const Jid& to : presence_targets(roster, removed, has_to)) {
          xml::Element probe("presence", ns::kClient);
          probe.set_attr("type", "probe");
          ctx_.router().route(Stanza(std::move(probe), user, to.bare()));
        }
      };
    });
  }

  // XEP-0377: the report to the reporter's host admins, and the log. What admins do with it is theirs.
  void send_report(const spam_report::SpamReport& r) {
    auto reporter = Jid::parse(r.reporter);
    if (!reporter) return;
    std::string host(reporter->domainpart());
    const HostConfig* hc = ctx_.config().find_host(host);
    size_t sent = 0;
    if (hc) {
      for (const auto& admin : hc->admins) {
        auto to = Jid::parse(admin);
        if (!to) continue;
        xml::Element m = spam_report::admin_message(r, host, to->str());
        ctx_.router().route(Stanza(std::move(m), *Jid::parse(host), *to));
        ++sent;
      }
    }
    std::string line = spam_report::describe(r);
    std::replace(line.begin(), line.end(), '\n', ';');
    spdlog::warn("report: {} (reason {}; sent to {} admins)", line, r.reason, sent);
  }

  // The addresses, among the roster contacts whose subscription passes `allowed`, that `items` cover.
  static std::set<Jid> presence_targets(const std::vector<storage::RosterItem>& roster,
                                        const std::vector<std::string>& items,
                                        bool (*allowed)(storage::Subscription)) {
    std::set<Jid> out;
    for (const auto& i : items) {
      auto item = Jid::parse(i);
      if (!item) continue;
      for (const auto& r : roster) {
        if (!allowed(r.subscription)) continue;
        auto contact = Jid::parse(r.jid);
        Jid target;
        if (contact && covers(*item, *contact, target)) out.insert(target);
      }
    }
    return out;
  }

  // The presence of each of the user's available resources (or unavailable from each) to `to`.
  void send_presence(const std::string& owner, const Jid& to, bool unavailable) {
    for (const auto& r : ctx_.sessions().resources(owner)) {
      if (!r.available) continue;
      auto from = Jid::parse(owner + "/" + r.resource);
      if (!from) continue;
      xml::Element p = unavailable || !r.presence ? xml::Element("presence", ns::kClient) : *r.presence;
      if (unavailable) p.set_attr("type", "unavailable");
      ctx_.router().route(Stanza(std::move(p), *from, to));
    }
  }

  // §3.3, §3.4, §3.5: the change, to every resource of the user that asked for the blocklist.
  void push(const std::string& owner, const char* what, const std::vector<std::string>& jids) {
    xml::Element payload(what, ns::kBlocking);
    for (const auto& j : jids) payload.add_child("item").set_attr("jid", j);
    for (const auto& r : ctx_.sessions().resources(owner)) {
      if (!(r.flags & requested_flag_)) continue;
      xml::Element iq("iq", ns::kClient);
      iq.set_attr("type", "set").set_attr("id", "blocking-push-" + std::to_string(++pushes_));
      iq.set_attr("to", owner + "/" + r.resource);
      iq.add(payload);
      ctx_.router().deliver_to_session(r.ref, iq);
    }
  }

  ModuleContext& ctx_;
  uint32_t requested_flag_;  // the resource asked for the blocklist (§3.2: it gets the pushes)
  size_t slot_;              // DirectedPresence
  BlockLists lists_;
  std::atomic<uint64_t> pushes_{0};
};

}  // namespace

std::unique_ptr<Module> make_blocking(ModuleContext& ctx) {
  return std::make_unique<BlockingModule>(ctx);
}

}  // namespace causerie::modules
