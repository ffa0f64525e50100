// XEP-0175 v1.2 best practices for SASL ANONYMOUS: guests of anonymous hosts stay on this server (no
// federation, no registration), are limited like any unauthenticated source (stanza rate, rooms at once,
// [limits] guest_*), and leave nothing behind: when a guest's session ends, its account and everything
// stored for it (roster, vCard, PEP, private XML, offline messages, archive) is deleted, and contacts it
// subscribed to are told it is gone.
#include "modules/guests.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "core/util/rate_limiter.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "storage/account_store.hpp"
#include "storage/roster_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace guests {

StanzaError refusal(Outbound verdict) {
  if (verdict == Outbound::kRemote)
    return StanzaError(StanzaErrorCondition::kNotAllowed, "guests cannot reach other servers");
  return StanzaError(StanzaErrorCondition::kNotAllowed, "guests cannot register");
}

std::optional<RoomMove> room_move(const Stanza& st, bool to_service) {
  if (!st.is_presence() || !to_service || !st.to().has_resource() || !st.to().has_localpart()) return std::nullopt;
  if (st.type().empty()) return RoomMove::kEnter;
  if (st.type() == "unavailable") return RoomMove::kLeave;
  return std::nullopt;
}

std::optional<std::string> room_left(std::string_view head, std::string_view body) {
  std::string bytes;
  bytes.reserve(head.size() + body.size());
  bytes.append(head).append(body);
  std::string_view s = bytes;
  if (!s.starts_with("<presence")) return std::nullopt;
  std::string_view start = s.substr(0, s.find('>'));
  auto attr = [&](std::string_view name) -> std::optional<std::string_view> {
    std::string key = " " + std::string(name) + "='";
    size_t at = start.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    at += key.size();
    size_t end = start.find('\'', at);
    if (end == std::string_view::npos) return std::nullopt;
    return start.substr(at, end - at);
  };
  auto type = attr("type");
  auto from = attr("from");
  if (!type || !from) return std::nullopt;
  bool self_left = *type == "unavailable" && s.find("<status code='110'/>") != std::string_view::npos;
  if (!self_left && *type != "error") return std::nullopt;
  std::string_view room = from->substr(0, from->find('/'));
  if (room.find('@') == std::string_view::npos) return std::nullopt;
  return std::string(room);
}

namespace {

// The stanza budget of one guest session, on its thread.
struct GuestLimiter final : SessionExtension {
  explicit GuestLimiter(unsigned rate) : bucket(rate) {}
  RateLimiter bucket;
};

class GuestsModule final : public Module {
 public:
  explicit GuestsModule(ModuleContext& ctx) : ctx_(ctx), slot_(ctx.allocate_session_slot()) {
    for (const auto& h : ctx.config().hosts)
      if (h.anonymous) anonymous_hosts_.insert(h.name);
    if (anonymous_hosts_.empty()) return;
    forget_leftovers();
    // First of all client hooks: a refused stanza must not be seen, archived or carbon-copied.
    ctx.hook(StanzaHook::kFromClient, 10000, [this](StanzaEvent& ev) { return from_client(ev); });
    // What the server sends on a guest's behalf (presence broadcasts, iq answers) stays local too.
    ctx.hook(StanzaHook::kFromAccount, 10000, [this](StanzaEvent& ev) { return from_account(ev); });
    // And nothing from other servers reaches a guest, who could not answer.
    ctx.hook(StanzaHook::kToAccount, 10000, [this](StanzaEvent& ev) { return to_account(ev); });
    ctx.filter_output([this](ClientSession& s, OutStanza& out) {
      if (out.kind == StanzaKind::kPresence && is_guest(s.jid()))
        if (auto room = guests::room_left(out.head, out.body ? std::string_view(*out.body) : std::string_view()))
          leave_room(s.jid().bare_view(), *room);
      return false;
    });
    ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) {
      if (is_guest(s.jid())) forget(s.jid().bare().str());
    });
    // A guest that authenticated but never bound a resource has no session end to tell us: such accounts
    // are found by a sweep once a minute.
    ctx.on_tick([this] {
      auto now = ctx_.clock().now();
      if (now - last_sweep_ < std::chrono::minutes(1)) return;
      last_sweep_ = now;
      sweep_unbound();
    });
  }

 private:
  bool is_guest(const Jid& jid) const {
    return jid.has_localpart() && anonymous_hosts_.count(std::string(jid.domainpart())) != 0;
  }
  bool is_ours(std::string_view domain) const {
    return ctx_.router().is_local_host(domain) || ctx_.router().is_service(domain);
  }

  HookResult from_client(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    if (!ev.origin || !is_guest(st.from())) return HookResult::kContinue;
    ClientSession& s = *ev.origin;
    auto* limiter = s.extension_as<GuestLimiter>(slot_);
    if (!limiter) {
      s.set_extension(slot_, std::make_unique<GuestLimiter>(ctx_.config().limits.guest_stanzas_per_second));
      limiter = s.extension_as<GuestLimiter>(slot_);
    }
    if (!limiter->bucket.allow(ctx_.clock().now())) {
      if (++rate_refusals_ % 100 == 1) spdlog::info("guests: {} over its stanza rate ({} refusals so far)", st.from().str(), rate_refusals_.load());
      refuse(s, st, StanzaError(StanzaErrorCondition::kPolicyViolation, StanzaErrorType::kWait,
                                "guests may send only a few stanzas a second"));
      return HookResult::kHandled;
    }
    auto verdict = guests::classify_outbound(st, [this](std::string_view d) { return is_ours(d); });
    if (verdict != guests::Outbound::kAllow) {
      refuse(s, st, guests::refusal(verdict));
      return HookResult::kHandled;
    }
    if (auto move = guests::room_move(st, ctx_.router().is_service(st.to().domainpart()))) {
      std::string room(st.to().bare_view());
      if (*move == guests::RoomMove::kLeave) {
        leave_room(st.from().bare_view(), room);
      } else if (!enter_room(st.from().bare_view(), room)) {
        refuse(s, st, StanzaError(StanzaErrorCondition::kPolicyViolation, StanzaErrorType::kWait,
                                  "guests may be in " + std::to_string(ctx_.config().limits.guest_max_rooms) +
                                      " rooms at once"));
        return HookResult::kHandled;
      }
    }
    return HookResult::kContinue;
  }

  HookResult from_account(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    if (!is_guest(st.from()) || st.to().empty() || is_ours(st.to().domainpart())) return HookResult::kContinue;
    // A copy a module routes for the guest's own stanza (XEP-0033 multicast) is refused to the guest;
    // what the server would send on its own for a guest is dropped.
    if (ev.origin) refuse(*ev.origin, st, guests::refusal(guests::Outbound::kRemote));
    return HookResult::kHandled;
  }

  HookResult to_account(StanzaEvent& ev) {
    Stanza& st = ev.stanza;
    if (!is_guest(st.to()) || st.from().empty() || is_ours(st.from().domainpart())) return HookResult::kContinue;
    if (st.type() != "error" && (st.is_message() || (st.is_iq() && (st.type() == "get" || st.type() == "set"))))
      ctx_.router().bounce(st, StanzaError(StanzaErrorCondition::kServiceUnavailable));
    return HookResult::kHandled;
  }

  // Answers the guest itself: routed, an error from a remote JID would be dropped as remote.
  void refuse(ClientSession& s, const Stanza& st, const StanzaError& err) {
    if (st.type() == "error" || (st.is_presence() && st.type() == "unavailable")) return;
    if (auto reply = make_error_reply(st.element(), err)) s.send(*reply);
  }

  bool enter_room(std::string_view guest, const std::string& room) {
    std::lock_guard lock(mutex_);
    auto& rooms = rooms_[std::string(guest)];
    if (rooms.count(room)) return true;
    if (rooms.size() >= ctx_.config().limits.guest_max_rooms) return false;
    rooms.insert(room);
    return true;
  }
  void leave_room(std::string_view guest, const std::string& room) {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(std::string(guest));
    if (it != rooms_.end()) it->second.erase(room);
  }

  // The session is over: delete the account as XEP-0077 cancellation does, and tell its contacts.
  void forget(std::string bare) {
    {
      std::lock_guard lock(mutex_);
      rooms_.erase(bare);
    }
    ctx_.storage().write([this, bare](storage::Storage& db) -> storage::StorageService::Completion {
      auto roster = db.roster().items(bare);
      if (!db.accounts().remove(bare)) return nullptr;
      return [this, bare, roster] {
        ctx_.credentials().invalidate(bare);
        ctx_.router().account_removed(bare);
        spdlog::info("guests: {} left; its data is deleted", bare);
        Jid from = *Jid::parse(bare);
        for (const auto& it : roster) {
          auto contact = Jid::parse(it.jid);
          if (!contact || !is_ours(contact->domainpart())) continue;
          for (const char* type : {"unsubscribe", "unsubscribed"}) {
            xml::Element p("presence", ns::kClient);
            p.set_attr("type", type);
            ctx_.router().route(Stanza(std::move(p), from, *contact));
          }
        }
      };
    });
  }

  // Accounts of anonymous hosts older than the time a stream has to authenticate and bind, with no bound
  // resource (a detached XEP-0198 session stays bound until its window ends).
  void sweep_unbound() {
    std::vector<std::string> hosts(anonymous_hosts_.begin(), anonymous_hosts_.end());
    int64_t cutoff = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().wall().time_since_epoch()).count() -
                     2 * ctx_.config().limits.unauthenticated_timeout.count();
    ctx_.storage().write([this, hosts, cutoff](storage::Storage& db) -> storage::StorageService::Completion {
      std::vector<std::string> gone;
      for (const auto& h : hosts) {
        for (const auto& bare : db.accounts().list(h)) {
          auto account = db.accounts().get(bare);
          if (!account || account->created > cutoff || !ctx_.sessions().resources(bare).empty()) continue;
          if (db.accounts().remove(bare)) gone.push_back(bare);
        }
      }
      if (gone.empty()) return nullptr;
      return [this, gone] {
        for (const auto& bare : gone) {
          ctx_.credentials().invalidate(bare);
          ctx_.router().account_removed(bare);
          spdlog::info("guests: {} never bound a resource; its account is deleted", bare);
        }
      };
    });
  }

  // Guests of a previous run that did not end cleanly (a crash, a power loss): nobody can resume them.
  void forget_leftovers() {
    std::vector<std::string> hosts(anonymous_hosts_.begin(), anonymous_hosts_.end());
    ctx_.storage().write([hosts](storage::Storage& db) -> storage::StorageService::Completion {
      size_t n = 0;
      for (const auto& h : hosts)
        for (const auto& bare : db.accounts().list(h)) n += db.accounts().remove(bare) ? 1 : 0;
      if (n == 0) return nullptr;
      return [n] { spdlog::info("guests: {} guest accounts of an earlier run deleted", n); };
    });
  }

  ModuleContext& ctx_;
  size_t slot_;
  std::set<std::string, std::less<>> anonymous_hosts_;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> rooms_;  // guest bare JID → rooms it is in or entering
  std::atomic<uint64_t> rate_refusals_{0};
  std::chrono::steady_clock::time_point last_sweep_{};  // the tick's thread only
};

}  // namespace

}  // namespace guests

std::unique_ptr<Module> make_guests(ModuleContext& ctx) { return std::make_unique<guests::GuestsModule>(ctx); }

}  // namespace causerie::modules
