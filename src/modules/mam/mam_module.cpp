// XEP-0313 v1.1 Message Archive Management for accounts (urn:xmpp:mam:2 and #extended), with XEP-0359
// stanza ids, XEP-0441 preferences, XEP-0424 retractions leaving tombstones, a full-text search field
// and retention per host. Decisions are in archive_rules; this file is the wiring:
//   kFromClient   stanza ids claiming our accounts are removed from what clients send (XEP-0359 §6)
//   kFromAccount  a message a local client sends goes into its account's archive (outgoing)
//   kToAccount    a message to a local account: forged stanza ids removed, then archived (incoming) with
//                 <stanza-id by='account' id='…'/> added before delivery, so every session, offline
//                 storage and XEP-0198 queues get the message with its archive id
//   iq (account)  query / form, metadata, prefs; only the account itself may use its archive
//   tick          retention: messages older than a host's retention go, in batches on the write lane
// Archive writes are storage jobs on the write lane (group commit), never waited for by a network thread.
// Two cases wait for a read before delivery (the read lane, then delivery from its completion): the
// recipient archives by roster (XEP-0441 default='roster'), or the message carries a stanza id in the
// recipient's name (either our own message re-routed, e.g. by an expired XEP-0198 session, or a forgery).
#include <algorithm>
#include <atomic>
#include <future>
#include <shared_mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/rsm.hpp"
#include "core/xml/serializer.hpp"
#include "modules/all_modules.hpp"
#include "modules/mam/archive_rules.hpp"
#include "storage/account_store.hpp"
#include "storage/archive_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace {

using mam::Decision;
using storage::StorageService;

constexpr size_t kRetractWindow = 5000;  // a retraction names one of the conversation's last messages
constexpr size_t kExpireBatch = 5000;    // rows one retention job deletes
constexpr size_t kJoinedWrites = 256;    // archive writes one joined storage job holds at most
constexpr auto kRetentionEvery = std::chrono::minutes(15);  // by the server's clock

// Set while this thread delivers a message the module held back (roster check, re-route check): the
// kToAccount hook lets it pass untouched.
thread_local bool tl_redelivering = false;

// The outgoing write this thread queued last (its token), while the router may still hand the same
// stanza to the recipient's kToAccount hook (a local recipient: synchronously, on this thread, right
// after; the Stanza object itself is moved on the way, so it is recognised by its parties and id).
thread_local uint64_t tl_last_outgoing = 0;
std::atomic<uint64_t> g_tokens{0};
struct Redelivering {
  Redelivering() { tl_redelivering = true; }
  ~Redelivering() { tl_redelivering = false; }
};

int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
std::string stamp_of_ms(int64_t ms) {
  return util::format_datetime(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Every account's preferences that differ from the server's default, in memory: each archived message
// consults them on a network thread. Read often, written on prefs changes only.
class PrefsCache {
 public:
  explicit PrefsCache(storage::ArchivePrefs defaults) : defaults_(std::move(defaults)) {}
  Decision decide(std::string_view owner, const Jid& target) const {
    if (count_.load(std::memory_order_relaxed) == 0) return mam::decide(defaults_, target);
    std::shared_lock l(mutex_);
    auto it = map_.find(owner);
    return mam::decide(it == map_.end() ? defaults_ : it->second, target);
  }
  storage::ArchivePrefs get(std::string_view owner) const {
    std::shared_lock l(mutex_);
    auto it = map_.find(owner);
    return it == map_.end() ? defaults_ : it->second;
  }
  void set(const std::string& owner, storage::ArchivePrefs p) {
    std::unique_lock l(mutex_);
    map_[owner] = std::move(p);
    count_.store(map_.size(), std::memory_order_relaxed);
  }
  void erase(const std::string& owner) {
    std::unique_lock l(mutex_);
    map_.erase(owner);
    count_.store(map_.size(), std::memory_order_relaxed);
  }

 private:
  storage::ArchivePrefs defaults_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, storage::ArchivePrefs, StringHash, std::equal_to<>> map_;
  std::atomic<size_t> count_{0};
};

// The recipient's half of a 1:1 message between two accounts here, joined to the sender's write (see
// MamModule::incoming): both archives get the one stored message, under one stanza id.
struct ArchivePeer {
  std::string owner;  // the recipient's bare JID
  std::string with;   // the sender, as the recipient's archive names it (the stanza's 'from')
  std::string id;     // the message's stanza id in the recipient's archive
};

// One archive write: a message for one archive (two with a peer), and/or the retraction it carries.
struct ArchiveWrite {
  std::string owner;
  storage::ArchivedMessage message;
  bool outgoing = false;
  bool store = false;
  bool roster_check = false;  // store only if the correspondent is in the owner's roster
  std::string retracts;       // XEP-0424: the id of the message it retracts ("" = none)
  std::string retraction_id;  // the retraction's own id, for the tombstone
  std::string with_bare;
  int64_t now_ms = 0;
  uint64_t token = 0;                // an outgoing write the recipient's half may join (0: none)
  std::optional<ArchivePeer> peer;   // the recipient's half, joined
};

// XEP-0424 §4: the retracted message keeps its place, id and time; its content becomes a tombstone.
// Only a message of the same conversation in the same direction qualifies (§5: same bare JID).
void tombstone(storage::Storage& db, const ArchiveWrite& w) {
  auto target = db.archive().find_by_message_id(w.owner, w.with_bare, w.outgoing, w.retracts, kRetractWindow);
  if (!target) return;
  auto original = xml::parse_fragment(target->xml);
  if (!original || original->child("retracted", ns::kRetract)) return;
  xml::Element t = mam::tombstone(*original, w.retraction_id, stamp_of_ms(w.now_ms));
  db.archive().replace_content(w.owner, target->seq, xml::to_string(t), "");
}

// On the write lane. `accounts` remembers which owners exist, for the writes of one batch.
void apply(storage::Storage& db, ArchiveWrite& w, std::unordered_map<std::string, bool>& accounts) {
  // A message for an account that does not exist is bounced, not archived.
  auto exists = [&](const std::string& owner) {
    auto known = accounts.find(owner);
    if (known == accounts.end()) known = accounts.emplace(owner, db.accounts().exists(owner)).first;
    return known->second;
  };
  bool own = exists(w.owner);
  bool peer = w.peer && exists(w.peer->owner);
  bool store = own && w.store;
  if (store && w.roster_check) {
    auto item = db.roster().item(w.owner, w.with_bare);
    store = item && !item->hidden;
  }
  if (store) {
    storage::ArchiveCopy copy;
    if (peer) copy = {w.peer->owner, w.peer->with, false, w.peer->id};
    db.archive().append(w.owner, w.message, w.now_ms, peer ? &copy : nullptr);
  } else if (peer) {  // the recipient's half alone
    w.message.id = w.peer->id;
    w.message.with = w.peer->with;
    w.message.outgoing = false;
    db.archive().append(w.peer->owner, w.message, w.now_ms);
  }
  if (w.retracts.empty()) return;
  if (own) tombstone(db, w);
  if (peer) {  // the recipient's archive, where the retraction came in
    ArchiveWrite in;
    in.owner = w.peer->owner;
    in.with_bare = w.owner;
    in.retracts = w.retracts;
    in.retraction_id = w.retraction_id;
    in.now_ms = w.now_ms;
    tombstone(db, in);
  }
}

// Archive writes sharing one storage job (StorageService::write_joined, no savepoint), applied in the order
// they were queued. One that fails (its statement undone by SQLite) is logged and does not stop the others.
struct ArchiveBatch {
  std::vector<ArchiveWrite> writes;
  StorageService::Completion run(storage::Storage& db) {
    // Within one job (one transaction, on the write lane) an account cannot appear or go between writes.
    std::unordered_map<std::string, bool> accounts;
    for (auto& w : writes) {
      try {
        apply(db, w, accounts);
      } catch (const std::exception& e) {
        spdlog::error("archive write for {} failed: {}", w.owner, e.what());
      }
    }
    return nullptr;
  }
};

// A message held back until a read decides; delivered when this goes, even if the read never ran (a
// refused job must not lose the message).
struct Held {
  Router& router;
  Stanza stanza;
  ~Held() {
    Redelivering r;
    router.deliver_to_account(std::move(stanza));
  }
};

class MamModule final : public Module {
 public:
  explicit MamModule(ModuleContext& ctx) : ctx_(ctx), prefs_(default_prefs(ctx.raw_config())) {
    const RawConfig& raw = ctx.raw_config();
    default_page_ = static_cast<size_t>(bounded(raw, "default_page", 50, 1, 1000));
    max_page_ = static_cast<size_t>(bounded(raw, "max_page", 250, 1, 5000));
    if (default_page_ > max_page_) throw ConfigError("config key 'modules.mam.default_page': larger than max_page");
    if (auto text = raw.get_string("modules.mam.retention")) {
      auto d = parse_duration(*text);
      if (!d) throw ConfigError("config key 'modules.mam.retention': expected a duration such as \"30d\" or \"0\" (kept)");
      default_retention_ = *d;
    }
    load_prefs();

    for (const char* f : {ns::kMam, ns::kMamExtended, ns::kStanzaId, ns::kRetract, ns::kRetractTombstone})
      ctx.disco().add_account_feature(f);
    ctx.on_iq(IqScope::kAccount, false, ns::kMam, [this](IqRequest& r) { form(r); }, "query");
    ctx.on_iq(IqScope::kAccount, true, ns::kMam, [this](IqRequest& r) { query(r); }, "query");
    ctx.on_iq(IqScope::kAccount, false, ns::kMam, [this](IqRequest& r) { metadata(r); }, "metadata");
    ctx.on_iq(IqScope::kAccount, false, ns::kMam, [this](IqRequest& r) { get_prefs(r); }, "prefs");
    ctx.on_iq(IqScope::kAccount, true, ns::kMam, [this](IqRequest& r) { set_prefs(r); }, "prefs");
    // Below blocking (1000): a blocked message is neither delivered nor archived (XEP-0313 §5.1).
    ctx.hook(StanzaHook::kFromClient, 500, [this](StanzaEvent& ev) { return from_client(ev); });
    ctx.hook(StanzaHook::kFromAccount, 500, [this](StanzaEvent& ev) { return outgoing(ev); });
    ctx.hook(StanzaHook::kToAccount, 500, [this](StanzaEvent& ev) { return incoming(ev); });
    ctx.on_account_removed([this](const std::string& bare) { prefs_.erase(bare); });
    ctx.on_tick([this] { tick(); });
  }

 private:
  static int64_t bounded(const RawConfig& raw, const std::string& key, int64_t def, int64_t min, int64_t max) {
    int64_t v = raw.get_int("modules.mam." + key).value_or(def);
    if (v < min || v > max)
      throw ConfigError("config key 'modules.mam." + key + "': expected " + std::to_string(min) + " to " + std::to_string(max));
    return v;
  }

  static storage::ArchivePrefs default_prefs(const RawConfig& raw) {
    storage::ArchivePrefs p;
    p.default_mode = raw.get_string("modules.mam.default").value_or("always");
    if (p.default_mode != "always" && p.default_mode != "never" && p.default_mode != "roster")
      throw ConfigError("config key 'modules.mam.default': expected \"always\", \"never\" or \"roster\"");
    return p;
  }

  void load_prefs() {
    auto loaded = std::make_shared<std::promise<size_t>>();
    auto done = loaded->get_future();
    ctx_.storage().read([this, loaded](storage::Storage& db) {
      try {
        auto all = db.archive().all_prefs();
        for (auto& [owner, p] : all) prefs_.set(owner, std::move(p));
        loaded->set_value(all.size());
      } catch (...) {
        loaded->set_exception(std::current_exception());
      }
    });
    loaded.reset();
    spdlog::debug("mam: preferences of {} accounts loaded", done.get());
  }

  bool is_local_host(std::string_view domain) const { return ctx_.router().is_local_host(domain); }

  // An address in one of our hosts (an account or the host itself): stanza ids 'by' it are ours to give.
  bool ours(std::string_view by) const {
    auto jid = Jid::parse(by);
    return jid && !jid->has_resource() && is_local_host(jid->domainpart());
  }

  int64_t now_ms() const { return to_ms(ctx_.clock().wall()); }

  // --- archiving ---

  HookResult from_client(StanzaEvent& ev) {
    if (ev.stanza.is_message())
      mam::strip_stanza_ids(ev.stanza.element(), [this](std::string_view by) { return ours(by); });
    return HookResult::kContinue;
  }

  HookResult outgoing(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    // Only what a client sent: what the server routes in an account's name (errors, messages an expired
    // XEP-0198 session gives back) was archived when it was first sent, or is no conversation.
    if (!st.is_message() || !ev.origin) return HookResult::kContinue;
    // A message to one's own account is archived once, as it arrives (XEP-0313 §5.1.2 "only once").
    if (st.to().bare_view() == st.from().bare_view()) return HookResult::kContinue;
    const xml::Element& el = st.element();
    std::string retracts = mam::retracted_id(el);
    bool archivable = mam::should_archive(el);
    // Decided before anything is built: on the message path of an account that archives nothing.
    Decision d = archivable ? prefs_.decide(st.from().bare_view(), st.to()) : Decision::kSkip;
    if (d == Decision::kSkip && retracts.empty()) return HookResult::kContinue;
    ArchiveWrite w;
    w.outgoing = true;
    w.retracts = std::move(retracts);
    w.owner = std::string(st.from().bare_view());
    w.with_bare = std::string(st.to().bare_view());
    w.store = d != Decision::kSkip;
    w.roster_check = d == Decision::kAskRoster;
    fill(w, st);
    tl_last_outgoing = 0;
    if (w.store) {
      w.token = g_tokens.fetch_add(1, std::memory_order_relaxed) + 1;
      tl_last_outgoing = w.token;
    }
    write(std::move(w));
    return HookResult::kContinue;
  }

  HookResult incoming(StanzaEvent& ev) {
    if (tl_redelivering) return HookResult::kContinue;
    Stanza& st = ev.stanza;
    if (!st.is_message()) return HookResult::kContinue;
    std::string owner(st.to().bare_view());
    // XEP-0359 §4 rule 2: ids in our accounts' names are ours to give; the one in the owner's name may
    // be our own (a re-routed message), which a read tells from a forgery.
    std::string claimed = mam::strip_stanza_ids(st.element(), [this](std::string_view by) { return ours(by); }, owner);
    const xml::Element& el = st.element();
    std::string retracts = mam::retracted_id(el);
    bool archivable = mam::should_archive(el);
    Decision d = archivable ? prefs_.decide(owner, st.from()) : Decision::kSkip;
    if (d == Decision::kSkip && retracts.empty() && claimed.empty()) return HookResult::kContinue;
    ArchiveWrite w;
    w.retracts = std::move(retracts);
    w.owner = owner;
    w.with_bare = std::string(st.from().bare_view());
    uint64_t last = std::exchange(tl_last_outgoing, 0);
    if (claimed.empty() && d != Decision::kAskRoster) {
      w.store = d == Decision::kArchive;
      if (w.store && last && join_sender(w, st, last)) return HookResult::kContinue;
      fill(w, st);
      write(std::move(w));
      return HookResult::kContinue;
    }
    hold(std::move(st), std::move(w), d, std::move(claimed));
    return HookResult::kHandled;
  }

  // Completes a write from the stanza: a new stanza id (added to an incoming message, which is then
  // delivered with it), and the archived copy.
  void fill(ArchiveWrite& w, Stanza& st) {
    bool outgoing = w.outgoing;
    w.now_ms = now_ms();
    const xml::Element& el = st.element();
    if (!w.retracts.empty()) w.retraction_id = std::string(el.attr("id"));
    if (!w.store) return;
    storage::ArchivedMessage& m = w.message;
    m.id = mam::new_archive_id(w.now_ms);  // XEP-0313 §3: unpredictable, unique in the archive
    m.outgoing = outgoing;
    m.with = outgoing ? st.to().str() : st.from().str();
    m.message_id = std::string(el.attr("id"));
    m.body = mam::body_text(el);
    m.xml = xml::to_string(el);
    // XEP-0313 §5.1.2: the recipient learns the archive id; a sender's outgoing message never carries
    // its own archive's id to the contact.
    if (!outgoing && !w.roster_check) mam::add_stanza_id(st.element(), w.owner, m.id);
  }

  // A message between two accounts here is stored once: when the sender's write (token) still waits at
  // the tail of the write queue, the recipient's half joins it, with a stanza id of its own (XEP-0313
  // §5.1.2: the contact never learns the ids of the sender's archive). Otherwise (the lane took the
  // sender's write meanwhile) the recipient's write is queued on its own. A refused write archives
  // nothing and gives no stanza id, as write() does.
  bool join_sender(ArchiveWrite& w, Stanza& st, uint64_t token) {
    std::string sid = mam::new_archive_id(now_ms());
    std::string_view sender = st.from().bare_view();
    std::string_view id = st.element().attr("id");
    bool joined = false;
    uint64_t seq = ctx_.storage().write_joined<ArchiveBatch>(kJoinedWrites, [&](ArchiveBatch& b) {
      if (!b.writes.empty()) {
        ArchiveWrite& o = b.writes.back();
        if (o.token == token && o.store && !o.peer && o.owner == sender && o.with_bare == w.owner &&
            o.message.message_id == id) {
          o.peer = ArchivePeer{w.owner, st.from().str(), sid};
          joined = true;
          return;
        }
      }
      fill(w, st);  // adds its own stanza id
      b.writes.push_back(std::move(w));
    });
    if (seq && joined) mam::add_stanza_id(st.element(), w.owner, sid);
    return true;
  }

  void hold(Stanza&& st, ArchiveWrite w, Decision d, std::string claimed) {
    // Built in place: a temporary Held would deliver its copy when destroyed.
    std::shared_ptr<Held> held(new Held{ctx_.router(), std::move(st)});
    ctx_.storage().read([this, held, w = std::move(w), d, claimed = std::move(claimed)](storage::Storage& db) mutable {
      const std::string& owner = w.owner;
      if (!claimed.empty()) {
        storage::ArchiveQuery q;
        q.ids = {claimed};
        q.limit = 1;
        if (db.archive().query(owner, q)) {
          // Our own message coming back (e.g. from an expired XEP-0198 session): delivered as it was.
          mam::add_stanza_id(held->stanza.element(), owner, claimed);
          return;
        }
      }
      if (d == Decision::kAskRoster) {
        auto item = db.roster().item(owner, w.with_bare);
        d = item && !item->hidden ? Decision::kArchive : Decision::kSkip;  // XEP-0441 §2.1.1
      }
      w.store = d == Decision::kArchive;
      if (!w.store && w.retracts.empty()) return;
      fill(w, held->stanza);
      write(std::move(w));
    });
  }

  void write(ArchiveWrite w) {
    if (!w.store && w.retracts.empty()) return;  // nothing to archive (preferences said no)
    // Joined: the writes of a burst of messages (both parties' rows of each) share one job, one savepoint.
    ctx_.storage().write_joined<ArchiveBatch>(kJoinedWrites, [&w](ArchiveBatch& b) { b.writes.push_back(std::move(w)); });
  }

  // --- queries ---

  bool own_archive(IqRequest& r) {
    if (r.from().bare() == r.account()) return true;
    r.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "only the account may read its archive"));
    return false;
  }

  void form(IqRequest& r) {
    if (!own_archive(r)) return;
    xml::Element q("query", ns::kMam);
    q.add(mam::query_form().to_element());
    r.reply.result(std::move(q));
  }

  void query(IqRequest& r) {
    if (!own_archive(r)) return;
    auto parsed = mam::parse_query(r.payload(), default_page_, max_page_);
    if (!parsed) {
      r.reply.error(parsed.error());
      return;
    }
    std::optional<SessionRef> ref;
    if (r.origin) ref = r.origin->ref();
    else if (auto b = ctx_.sessions().find(r.from())) ref = b->ref;
    if (!ref) {
      r.reply.error(StanzaError(StanzaErrorCondition::kRecipientUnavailable));
      return;
    }
    std::string owner = r.account().str();
    std::string to = r.from().str();
    ctx_.storage().read([this, p = std::move(*parsed), owner, to, ref = *ref, reply = r.reply](storage::Storage& db) {
      auto page = db.archive().query(owner, p.query);
      if (!page) {
        reply.error(StanzaError(StanzaErrorCondition::kItemNotFound, "no such message in the archive"));  // §4.1.3
        return;
      }
      const auto& msgs = page->messages;
      for (size_t i = 0; i < msgs.size(); ++i) {
        const auto& m = msgs[p.flip ? msgs.size() - 1 - i : i];
        ctx_.dispatcher().deliver(ref, result_message(to, owner, p.queryid, m));
      }
      reply.result(mam::fin_element(*page));
    });
  }

  // §4.2: <message><result queryid id><forwarded><delay/><message…/></forwarded></result></message>,
  // built around the stored bytes (archived by to_string, so the inner message declares jabber:client).
  static OutStanza result_message(const std::string& to, const std::string& from, const std::string& queryid,
                                  const storage::ArchivedMessage& m) {
    auto bytes = std::make_shared<std::string>();
    std::string& s = *bytes;
    s.reserve(m.xml.size() + 300);
    s += "<message to='";
    xml::append_escaped(s, to, true);
    s += "' from='";
    xml::append_escaped(s, from, true);
    s += "' id='" + util::random_id(9) + "'><result xmlns='urn:xmpp:mam:2'";
    if (!queryid.empty()) {
      s += " queryid='";
      xml::append_escaped(s, queryid, true);
      s += "'";
    }
    s += " id='";
    xml::append_escaped(s, m.id, true);
    s += "'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='" + stamp_of_ms(m.time_ms()) + "'/>";
    s += m.xml;
    s += "</forwarded></result></message>";
    return OutStanza{std::move(bytes), {}, StanzaKind::kMessage};
  }

  void metadata(IqRequest& r) {
    if (!own_archive(r)) return;
    std::string owner = r.account().str();
    ctx_.storage().read([owner, reply = r.reply](storage::Storage& db) {
      xml::Element md("metadata", ns::kMam);
      auto first = db.archive().first(owner);
      auto last = db.archive().last(owner);
      if (first && last) {  // §5: an empty archive answers an empty <metadata/>
        md.add_child("start").set_attr("id", first->id).set_attr("timestamp", stamp_of_ms(first->time_ms()));
        md.add_child("end").set_attr("id", last->id).set_attr("timestamp", stamp_of_ms(last->time_ms()));
      }
      reply.result(std::move(md));
    });
  }

  void get_prefs(IqRequest& r) {
    if (!own_archive(r)) return;
    // The preferences change in write completions: a get pipelined after a set waits for it.
    ctx_.storage().after_marked([this, owner = r.account().str(), reply = r.reply] {
      reply.result(mam::prefs_element(prefs_.get(owner)));
    });
  }

  void set_prefs(IqRequest& r) {
    if (!own_archive(r)) return;
    auto p = mam::parse_prefs(r.payload());
    if (!p) {
      r.reply.error(p.error());
      return;
    }
    std::string owner = r.account().str();
    ctx_.storage().write([this, owner, p = std::move(*p), reply = r.reply](storage::Storage& db) -> StorageService::Completion {
      db.archive().set_prefs(owner, p);
      return [this, owner, p, reply] {
        prefs_.set(owner, p);
        reply.result(mam::prefs_element(p));
      };
    });
  }

  // --- retention ---

  // On worker 0, at each sweep: by the server's clock, every kRetentionEvery, one chain of batched jobs
  // per host whose archive has a retention.
  void tick() {
    auto now = ctx_.clock().now();
    if (now < next_retention_ || retention_running_.load()) return;
    next_retention_ = now + kRetentionEvery;
    int64_t wall = now_ms();
    retention_running_ = true;
    // Every job and completion of this round holds `round`; when the last one goes (done, or refused by
    // a full lane), the next round may start.
    std::shared_ptr<void> round(nullptr, [this](void*) { retention_running_ = false; });
    // Each host's retention as the configuration in force says (a reload may add hosts or change it).
    for (const auto& h : ctx_.config().hosts) {
      auto keep = h.archive_retention.value_or(default_retention_);
      if (keep.count() <= 0) continue;
      const std::string& host = h.name;
      int64_t cutoff = wall - std::chrono::duration_cast<std::chrono::milliseconds>(keep).count();
      expire(host, cutoff, 0, round);
    }
  }

  void expire(std::string host, int64_t cutoff, size_t removed, std::shared_ptr<void> round) {
    ctx_.storage().write([this, host, cutoff, removed, round](storage::Storage& db) -> StorageService::Completion {
      size_t n = db.archive().expire(host, cutoff, kExpireBatch);
      return [this, host, cutoff, total = removed + n, more = n == kExpireBatch, round] {
        if (more) {
          expire(host, cutoff, total, round);
          return;
        }
        if (total)
          spdlog::info("mam: retention removed {} messages archived before {} on {}", total, stamp_of_ms(cutoff), host);
        else
          spdlog::debug("mam: retention found nothing archived before {} on {}", stamp_of_ms(cutoff), host);
      };
    });
  }

  ModuleContext& ctx_;
  PrefsCache prefs_;
  size_t default_page_ = 50, max_page_ = 250;
  std::chrono::seconds default_retention_{0};  // [modules.mam] retention, for hosts that set none
  std::chrono::steady_clock::time_point next_retention_{};
  std::atomic<bool> retention_running_{false};
};

}  // namespace

std::unique_ptr<Module> make_mam(ModuleContext& ctx) { return std::make_unique<MamModule>(ctx); }

}  // namespace causerie::modules
