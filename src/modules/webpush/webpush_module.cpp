// Web Push for browser users with no live session (issue 15 item 3; docs/protocol/webpush.md): the
// urn:causerie:webpush:0 requests (the server's VAPID key; subscribe, list, unsubscribe), and the pushes:
//   a 1:1 message with a body that no live session of the account receives: the kOffline hook (no
//     session at all) and the detached-delivery hook (every session waits for XEP-0198 resumption);
//   the account events of other modules (core/router/account_event.hpp): mentions in rooms the account
//     is not in (muc), comments, likes and new followers of its posts (pubsub/account_events.hpp), while
//     the account has no live session.
// Each push is encrypted for the subscription (RFC 8291) and queued (push_queue.hpp) for the push
// service, through the outbound HTTP client; a push service saying 404/410 deletes the subscription.
//
// Thread rules: handlers and hooks run on the calling thread; subscriptions are read and written on the
// storage lanes (encryption runs in the read job that found them); the queue has its own mutex; the
// VAPID key is set once, from the completion of the job that loads or creates it.
#include <spdlog/spdlog.h>

#include <mutex>

#include "core/jid/jid.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"
#include "modules/webpush/message_encryption.hpp"
#include "modules/webpush/outbound_push_transport.hpp"
#include "modules/webpush/push_queue.hpp"
#include "modules/webpush/push_transport.hpp"
#include "modules/webpush/webpush_rules.hpp"
#include "storage/storage_service.hpp"
#include "storage/webpush_store.hpp"

namespace causerie::modules {

namespace {

using webpush::PushContent;

constexpr size_t kMaxText = 1000;  // octets of message text in a payload: far below RFC 8291's 3993

class WebPushModule final : public Module {
 public:
  WebPushModule(ModuleContext& ctx, std::unique_ptr<webpush::PushTransport> transport)
      : ctx_(ctx), transport_(std::move(transport)), detached_flag_(ctx.allocate_session_flag()),
        queue_(ctx.clock(), *transport_, queue_settings(ctx), [this](const std::string& account, const std::string& id) {
          remove_gone(account, id);
        }) {
    const RawConfig& raw = ctx.raw_config();
    max_subscriptions_ = static_cast<size_t>(raw.get_int("modules.webpush.max_subscriptions").value_or(10));
    include_body_ = raw.get_bool("modules.webpush.include_body").value_or(true);
    policy_.insecure_hosts = raw.get_strings("modules.webpush.insecure_hosts").value_or(std::vector<std::string>{});

    ctx.disco().add_account_feature(webpush::kNs);
    ctx.on_iq(IqScope::kAccount, false, webpush::kNs, [this](IqRequest& r) { vapid(r); }, "vapid");
    ctx.on_iq(IqScope::kAccount, false, webpush::kNs, [this](IqRequest& r) { list(r); }, "subscriptions");
    ctx.on_iq(IqScope::kAccount, true, webpush::kNs, [this](IqRequest& r) { subscribe(r); }, "subscribe");
    ctx.on_iq(IqScope::kAccount, true, webpush::kNs, [this](IqRequest& r) { unsubscribe(r); }, "unsubscribe");
    // Before offline storage (priority 0) takes the message; never stops it.
    ctx.hook(StanzaHook::kOffline, 9, [this](StanzaEvent& ev) {
      on_offline(ev.stanza);
      return HookResult::kContinue;
    });
    ctx.on_session(SessionHook::kDetached, [this](ClientSession& s) { ctx_.sessions().set_flag(s.jid(), detached_flag_, true); });
    ctx.on_session(SessionHook::kResumed, [this](ClientSession& s) { ctx_.sessions().set_flag(s.jid(), detached_flag_, false); });
    ctx.on_detached_delivery([this](ClientSession& s, const OutStanza& out) { on_detached(s, out); });
    ctx.observe_account_events([this](const AccountEvent& ev) { on_event(ev); });
    ctx.on_tick([this] { queue_.poll(); });  // retries whose backoff has passed

    // The VAPID key: created on first start and kept (RFC 8292 §2: a push service ties a subscription
    // to the key it was made with, so it must not change).
    std::string candidate = webpush::EcKey::generate().private_scalar();
    ctx.storage().write([this, candidate](storage::Storage& db) -> storage::StorageService::Completion {
      std::string scalar = db.webpush().vapid_key(candidate);
      return [this, scalar] {
        auto key = webpush::EcKey::from_private(scalar);
        if (!key) {
          spdlog::error("webpush: the stored VAPID key is not a P-256 key; Web Push is off");
          return;
        }
        {
          std::lock_guard lock(mutex_);
          vapid_public_ = util::base64url_encode(key->public_point());
        }
        queue_.set_vapid_key(std::move(*key));
      };
    });
  }

 private:
  static webpush::PushQueueSettings queue_settings(ModuleContext& ctx) {
    const RawConfig& raw = ctx.raw_config();
    webpush::PushQueueSettings s;
    s.max_queued = static_cast<size_t>(raw.get_int("modules.webpush.max_queued").value_or(1000));
    s.max_attempts = static_cast<int>(raw.get_int("modules.webpush.max_attempts").value_or(5));
    s.ttl = std::chrono::seconds(raw.get_int("modules.webpush.ttl").value_or(86400));
    s.first_backoff = std::chrono::seconds(raw.get_int("modules.webpush.retry_after").value_or(2));
    const auto& hosts = ctx.router().local_hosts();
    s.subject = raw.get_string("modules.webpush.subject")
                    .value_or("mailto:admin@" + (hosts.empty() ? std::string("localhost") : hosts.front()));
    if (s.max_queued == 0 || s.max_attempts < 1 || s.ttl.count() < 0 || s.first_backoff.count() < 1)
      throw ConfigError("modules.webpush: max_queued, max_attempts and retry_after must be positive, ttl not negative");
    if (!s.subject.starts_with("mailto:") && !s.subject.starts_with("https:"))
      throw ConfigError("modules.webpush.subject must be a mailto: or https: URI (RFC 8292 §2.1)");
    return s;
  }

  bool own_request(IqRequest& req) {
    if (req.from().bare() == req.account()) return true;
    req.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "Web Push is configured by the account itself"));
    return false;
  }

  void vapid(IqRequest& req) {
    std::string key;
    {
      std::lock_guard lock(mutex_);
      key = vapid_public_;
    }
    if (!key.empty()) return req.reply.result(vapid_element(key));
    // Still being loaded: the write lane runs jobs in order, so this one finds it done.
    ctx_.storage().write([this, reply = req.reply](storage::Storage&) -> storage::StorageService::Completion {
      return [this, reply] {
        std::lock_guard lock(mutex_);
        if (vapid_public_.empty())
          return reply.error(StanzaError(StanzaErrorCondition::kInternalServerError, "no VAPID key"));
        reply.result(vapid_element(vapid_public_));
      };
    });
  }

  static xml::Element vapid_element(const std::string& key) {
    xml::Element e("vapid", webpush::kNs);
    e.set_attr("public-key", key);  // the applicationServerKey of PushManager.subscribe()
    return e;
  }

  void subscribe(IqRequest& req) {
    if (!own_request(req)) return;
    auto parsed = webpush::parse_subscribe(req.payload(), policy_);
    if (!parsed.sub) return req.reply.error(parsed.error);
    storage::WebPushSubscription sub = std::move(*parsed.sub);
    sub.account = req.account().str();
    sub.created = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock().wall().time_since_epoch()).count();
    ctx_.storage().write([sub = std::move(sub), max = max_subscriptions_,
                          reply = req.reply](storage::Storage& db) mutable -> storage::StorageService::Completion {
      auto& store = db.webpush();
      if (auto existing = store.find_endpoint(sub.account, sub.endpoint)) {
        // The same browser again (new keys, new settings): its subscription is replaced, keeping its id.
        sub.id = existing->id;
        sub.created = existing->created;
      } else if (store.list(sub.account).size() >= max) {
        reply.error(StanzaError(StanzaErrorCondition::kResourceConstraint,
                                "at most " + std::to_string(max) + " Web Push subscriptions per account"));
        return nullptr;
      } else {
        sub.id = util::random_id(9);
      }
      store.put(sub);
      return [reply, sub] {
        spdlog::info("webpush: {} subscribed {} ({})", sub.account, sub.id, endpoint_origin(sub.endpoint));
        reply.result(webpush::subscription_element(sub));
      };
    });
  }

  static std::string endpoint_origin(const std::string& url) {
    auto e = webpush::PushEndpoint::parse(url);
    return e ? e->origin() : url;
  }

  void list(IqRequest& req) {
    if (!own_request(req)) return;
    ctx_.storage().read([account = req.account().str(), reply = req.reply](storage::Storage& db) {
      xml::Element out("subscriptions", webpush::kNs);
      for (const auto& s : db.webpush().list(account)) out.add(webpush::subscription_element(s));
      reply.result(std::move(out));
    });
  }

  void unsubscribe(IqRequest& req) {
    if (!own_request(req)) return;
    std::string id(req.payload().attr("id"));
    if (id.empty()) return req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "<unsubscribe/> needs an 'id'"));
    ctx_.storage().write([account = req.account().str(), id, reply = req.reply](storage::Storage& db)
                             -> storage::StorageService::Completion {
      if (!db.webpush().remove(account, id)) {
        reply.error(StanzaError(StanzaErrorCondition::kItemNotFound, "no such subscription"));
        return nullptr;
      }
      return [reply, account, id] {
        spdlog::info("webpush: {} unsubscribed {}", account, id);
        reply.result();
      };
    });
  }

  void remove_gone(const std::string& account, const std::string& id) {
    ctx_.storage().write([account, id](storage::Storage& db) -> storage::StorageService::Completion {
      if (!db.webpush().remove(account, id)) return nullptr;
      return [account, id] { spdlog::info("webpush: removed the subscription {} of {}", id, account); };
    });
  }

  // Whether a session of the account is attached to a stream (bound, and not waiting for resumption).
  bool live(std::string_view bare) const {
    bool any = false;
    ctx_.sessions().inspect(bare, [&](const std::vector<BoundResource>& rs) {
      for (const auto& r : rs)
        if (!(r.flags & detached_flag_)) any = true;
    });
    return any;
  }

  static bool worth_pushing(const xml::Element& m) {
    std::string_view type = m.attr("type");
    return (type.empty() || type == "chat" || type == "normal") && !m.child_text("body", m.ns()).empty();
  }

  void on_offline(const Stanza& st) {
    if (!st.is_message() || !worth_pushing(st.element())) return;
    std::string account(st.to().bare_view());
    push(account, webpush::message_content(account, st.from().str(), body_of(st.element()), kMaxText));
  }

  void on_detached(ClientSession& session, const OutStanza& out) {
    std::string bare(session.jid().bare_view());
    if (live(bare)) return;  // another session of the account shows it
    std::string bytes = out.head + (out.body ? *out.body : std::string());
    auto msg = xml::parse_fragment(bytes);
    if (!msg || msg->name() != "message" || !worth_pushing(*msg)) return;
    // A message to the bare JID reaches every detached session: the first resource alone pushes it.
    auto to = Jid::parse(msg->attr("to"));
    if (!to || !to->has_resource()) {
      std::string first;
      ctx_.sessions().inspect(bare, [&](const std::vector<BoundResource>& rs) {
        for (const auto& r : rs)
          if (first.empty() || r.resource < first) first = r.resource;
      });
      if (first != session.jid().resourcepart()) return;
    }
    push(bare, webpush::message_content(bare, msg->attr("from"), body_of(*msg), kMaxText));
  }

  std::string body_of(const xml::Element& m) const { return include_body_ ? m.child_text("body", m.ns()) : std::string(); }

  void on_event(const AccountEvent& ev) {
    size_t at = ev.account.find('@');
    if (at == std::string::npos || !ctx_.router().is_local_host(std::string_view(ev.account).substr(at + 1))) return;
    if (live(ev.account)) return;  // the account's clients see it themselves
    AccountEvent copy = ev;
    if (!include_body_) copy.text.clear();
    push(ev.account, webpush::event_content(copy, kMaxText));
  }

  // Encrypts `content` for each of the account's subscriptions that enabled its kind, and queues them.
  void push(const std::string& account, PushContent content) {
    ctx_.storage().read([this, account, content = std::move(content)](storage::Storage& db) {
      for (const auto& s : db.webpush().list(account)) {
        if (!(s.kinds & content.kind)) continue;
        auto endpoint = webpush::PushEndpoint::parse(s.endpoint);
        auto ua = webpush::EcKey::from_public(s.p256dh);
        if (!endpoint || !ua) continue;
        auto body = webpush::encrypt_message(*ua, s.auth, content.json);
        if (!body) continue;  // cannot happen with kMaxText: the payload is far below 4096 octets
        webpush::PushJob job{account, s.id, std::move(*endpoint), std::move(*body), content.urgency, content.topic};
        if (!queue_.enqueue(std::move(job)))
          spdlog::warn("webpush: the queue is full; a push for {} is dropped", account);
      }
    });
  }

  ModuleContext& ctx_;
  std::unique_ptr<webpush::PushTransport> transport_;
  uint32_t detached_flag_;
  webpush::PushQueue queue_;
  webpush::SubscribePolicy policy_;
  size_t max_subscriptions_ = 10;
  bool include_body_ = true;
  mutable std::mutex mutex_;
  std::string vapid_public_;  // base64url, once loaded
};

}  // namespace

std::unique_ptr<Module> make_webpush(ModuleContext& ctx) {
  if (!ctx.raw_config().get_bool("modules.webpush.enabled").value_or(true)) return std::make_unique<Module>();
  return std::make_unique<WebPushModule>(ctx, std::make_unique<webpush::OutboundPushTransport>(ctx.outbound_http()));
}

}  // namespace causerie::modules
