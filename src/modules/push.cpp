// XEP-0357 v0.4.1 Push Notifications, the module: <enable/> and <disable/> (§4) on the account, the
// account feature urn:xmpp:push:0 (§3), and the notifications (§5):
//   a message that matters (push::worth_pushing) for an account with no available session (the kOffline
//     hook: it goes to offline storage) → a publish to every app server the account enabled;
//   the same for a session whose stream is detached (XEP-0198, waiting for resumption: the core's
//     detached-delivery hook) → a publish to the app servers that session enabled (the device that is
//     away; the account's other devices register their own).
// Publishes go from the account's bare JID, so the app server's answer comes back to the account, where a
// kToAccount hook takes it; an error answer disables that JID and node (§6 "Recommended") unless it
// is transient (push::error_disables).
//
// Privacy (§8: "servers SHOULD allow users to limit the information sent"): the summary carries the
// message count and the sender unless `[modules.push] include_sender = false`, and the body only with
// `include_body = true` (off by default: the app server and the phone vendor's push service see it).
//
// Thread rules: the iq handlers and hooks run on the calling thread (a session's worker for enable,
// disable and detached deliveries); registrations are read and written on the storage lanes and not kept
// in memory; `mutex_` guards the pending publishes and the per-account message counts.
#include "modules/push.hpp"

#include <deque>
#include <mutex>
#include <set>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "core/jid/jid.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "modules/all_modules.hpp"
#include "storage/key_value_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie::modules {

namespace push {

namespace {
constexpr const char* kDocNs = "urn:causerie:push";
constexpr const char* kChatStates = "http://jabber.org/protocol/chatstates";
}  // namespace

std::string to_xml(const std::vector<Registration>& regs) {
  xml::Element doc("registrations", kDocNs);
  for (const auto& r : regs) {
    xml::Element& e = doc.add_child("registration", kDocNs);
    e.set_attr("jid", r.jid);
    if (!r.node.empty()) e.set_attr("node", r.node);
    if (r.publish_options) e.add(*r.publish_options);
  }
  return xml::to_string(doc);
}

std::vector<Registration> from_xml(std::string_view text) {
  std::vector<Registration> out;
  if (text.empty()) return out;
  auto doc = xml::parse_fragment(text);
  if (!doc || !doc->is("registrations", kDocNs)) return out;
  for (const xml::Element* e : doc->children("registration", kDocNs)) {
    Registration r;
    r.jid = std::string(e->attr("jid"));
    r.node = std::string(e->attr("node"));
    if (const xml::Element* x = e->child("x", ns::kDataForms)) r.publish_options = *x;
    if (!r.jid.empty()) out.push_back(std::move(r));
  }
  return out;
}

bool upsert(std::vector<Registration>& regs, Registration reg) {
  for (auto& r : regs) {
    if (r.jid == reg.jid && r.node == reg.node) {
      r = std::move(reg);  // §4: the last request's publish options are used
      return true;
    }
  }
  if (regs.size() >= kMaxRegistrations) return false;
  regs.push_back(std::move(reg));
  return true;
}

size_t remove(std::vector<Registration>& regs, std::string_view jid, std::optional<std::string_view> node) {
  size_t before = regs.size();
  std::erase_if(regs, [&](const Registration& r) { return r.jid == jid && (!node || r.node == *node); });
  return before - regs.size();
}

EnableRequest parse_enable(const xml::Element& enable) {
  EnableRequest out;
  if (!enable.has_attr("jid") || enable.attr("jid").empty()) {
    out.error = "<enable/> needs the 'jid' of the push service";  // §4: MUST contain
    return out;
  }
  auto jid = Jid::parse(enable.attr("jid"));
  if (!jid) {
    out.error = "invalid push service jid";
    out.jid_malformed = true;
    return out;
  }
  Registration reg;
  reg.jid = jid->str();
  reg.node = std::string(enable.attr("node"));
  if (const xml::Element* x = enable.child("x", ns::kDataForms)) {
    auto form = xml::DataForm::parse(*x);
    // §4: the parameters come as a form whose FORM_TYPE is publish-options.
    if (!form || form->form_type() != kPublishOptions) {
      out.error = "the form of <enable/> must have the FORM_TYPE " + std::string(kPublishOptions);
      return out;
    }
    xml::Element options = *x;
    options.set_attr("type", "submit");  // sent on as submitted publish options (§5)
    reg.publish_options = std::move(options);
  }
  out.reg = std::move(reg);
  return out;
}

bool worth_pushing(const xml::Element& message) {
  std::string_view type = message.attr("type");
  if (!type.empty() && type != "chat" && type != "normal") return false;
  for (const auto& c : message.nodes()) {
    if (c.is_text()) continue;
    if (c.name() == "body" && (c.ns().empty() || c.ns() == message.ns() || c.ns() == ns::kClient)) {
      if (!c.text().empty()) return true;
      continue;
    }
    if (c.ns() == kChatStates) continue;
    // OMEMO (XEP-0384, legacy and current), a Jingle call proposal (XEP-0353).
    if (c.name() == "encrypted" && (c.ns() == "eu.siacs.conversations.axolotl" || c.ns() == "urn:xmpp:omemo:2"))
      return true;
    if (c.name() == "propose" && c.ns() == "urn:xmpp:jingle-message:0") return true;
  }
  return false;
}

bool error_disables(const xml::Element& iq_error, std::string& condition) {
  condition.clear();
  const xml::Element* err = iq_error.child("error", iq_error.ns());
  if (!err) return true;
  for (const auto& c : err->nodes())
    if (!c.is_text() && c.ns() == ns::kStanzas && c.name() != "text") condition = c.name();
  if (err->attr("type") == "wait") return false;
  return condition != "remote-server-not-found" && condition != "remote-server-timeout";
}

xml::Element make_publish(const Registration& reg, const Summary& summary, std::string_view from,
                          std::string_view id) {
  xml::Element iq("iq", ns::kClient);
  iq.set_attr("type", "set").set_attr("id", id).set_attr("from", from).set_attr("to", reg.jid);
  xml::Element& pubsub = iq.add_child("pubsub", ns::kPubsub);
  xml::Element& publish = pubsub.add_child("publish", ns::kPubsub);
  if (!reg.node.empty()) publish.set_attr("node", reg.node);
  xml::Element& notification = publish.add_child("item", ns::kPubsub).add_child("notification", kNs);
  xml::DataForm form;
  form.type = "form";
  form.add("FORM_TYPE", "hidden", {kSummary});
  form.add("message-count", {}, {std::to_string(summary.message_count)});
  if (!summary.last_sender.empty()) form.add("last-message-sender", {}, {summary.last_sender});
  if (!summary.last_body.empty()) form.add("last-message-body", {}, {summary.last_body});
  notification.add(form.to_element());
  if (reg.publish_options) pubsub.add_child("publish-options", ns::kPubsub).add(*reg.publish_options);
  return iq;
}

}  // namespace push

namespace {

using push::Registration;

// The app servers a session enabled (§4), on the session's thread: the ones its device listens to while
// its stream is detached.
struct PushSession final : SessionExtension {
  std::set<std::pair<std::string, std::string>> enabled;  // (jid, node)
};

class PushModule final : public Module {
 public:
  explicit PushModule(ModuleContext& ctx) : ctx_(ctx), slot_(ctx.allocate_session_slot()) {
    const RawConfig& raw = ctx.raw_config();
    if (!raw.get_bool("modules.push.enabled").value_or(true)) return;
    include_sender_ = raw.get_bool("modules.push.include_sender").value_or(true);
    include_body_ = raw.get_bool("modules.push.include_body").value_or(false);
    ctx.disco().add_account_feature(push::kNs);  // §3
    ctx.on_iq(IqScope::kAccount, true, push::kNs, [this](IqRequest& r) { enable(r); }, "enable");
    ctx.on_iq(IqScope::kAccount, true, push::kNs, [this](IqRequest& r) { disable(r); }, "disable");
    // Before offline storage (priority 0) takes the message; never stops it.
    ctx.hook(StanzaHook::kOffline, 10, [this](StanzaEvent& ev) {
      on_offline(ev.stanza);
      return HookResult::kContinue;
    });
    ctx.on_detached_delivery([this](ClientSession& s, const OutStanza& out) { on_detached(s, out); });
    // The app servers' answers to our publishes come back to the account (after blocking, 1000).
    ctx.hook(StanzaHook::kToAccount, 900, [this](StanzaEvent& ev) { return on_answer(ev.stanza); });
    // The count restarts when the account is back.
    ctx.on_session(SessionHook::kAvailable, [this](ClientSession& s) { forget_count(std::string(s.jid().bare_view())); });
    ctx.on_account_removed([this](const std::string& bare) { forget_count(bare); });
  }

 private:
  struct Pending {
    std::string owner, jid, node;
  };

  bool own_request(IqRequest& req) {
    if (req.from().bare() != req.account()) {
      req.reply.error(StanzaError(StanzaErrorCondition::kForbidden, "push is configured by the account itself"));
      return false;
    }
    return true;
  }

  void enable(IqRequest& req) {
    if (!own_request(req)) return;
    auto parsed = push::parse_enable(req.payload());
    if (!parsed.reg) {
      req.reply.error(StanzaError(
          parsed.jid_malformed ? StanzaErrorCondition::kJidMalformed : StanzaErrorCondition::kBadRequest,
          parsed.error));
      return;
    }
    Registration reg = std::move(*parsed.reg);
    if (req.origin) {
      auto* ps = req.origin->extension_as<PushSession>(slot_);
      if (!ps) {
        req.origin->set_extension(slot_, std::make_unique<PushSession>());
        ps = req.origin->extension_as<PushSession>(slot_);
      }
      ps->enabled.emplace(reg.jid, reg.node);
    }
    std::string owner = req.account().str();
    ctx_.storage().write([reply = std::move(req.reply), owner,
                          reg = std::move(reg)](storage::Storage& db) mutable -> storage::StorageService::Completion {
      auto regs = push::from_xml(db.kv().get(owner, push::kStore, push::kKey).value_or(""));
      std::string jid = reg.jid, node = reg.node;
      if (!push::upsert(regs, std::move(reg))) {
        reply.error(StanzaError(StanzaErrorCondition::kResourceConstraint,
                                "at most " + std::to_string(push::kMaxRegistrations) + " push services per account"));
        return nullptr;
      }
      db.kv().put(owner, push::kStore, push::kKey, push::to_xml(regs));
      return [reply, owner, jid, node] {
        spdlog::info("push: {} enabled {} node '{}'", owner, jid, node);
        reply.result();
      };
    });
  }

  void disable(IqRequest& req) {
    if (!own_request(req)) return;
    const xml::Element& d = req.payload();
    auto jid = Jid::parse(d.attr("jid"));
    if (!d.has_attr("jid") || !jid) {
      req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "<disable/> needs the 'jid' of the push service"));
      return;
    }
    std::optional<std::string> node;
    if (d.has_attr("node")) node = std::string(d.attr("node"));
    if (req.origin) {
      if (auto* ps = req.origin->extension_as<PushSession>(slot_))
        std::erase_if(ps->enabled, [&](const auto& e) { return e.first == jid->str() && (!node || e.second == *node); });
    }
    remove_registration(req.account().str(), jid->str(), node, std::move(req.reply));
  }

  // Removes the JID (and node) from the account's registrations; then answers `reply`, or logs `why`.
  void remove_registration(std::string owner, std::string jid, std::optional<std::string> node,
                           std::optional<IqResponder> reply, std::string why = {}) {
    ctx_.storage().write([owner, jid, node, reply, why](storage::Storage& db) -> storage::StorageService::Completion {
      auto regs = push::from_xml(db.kv().get(owner, push::kStore, push::kKey).value_or(""));
      size_t n = push::remove(regs, jid, node ? std::optional<std::string_view>(*node) : std::nullopt);
      if (n) {
        if (regs.empty()) {
          db.kv().remove(owner, push::kStore, push::kKey);
        } else {
          db.kv().put(owner, push::kStore, push::kKey, push::to_xml(regs));
        }
      }
      return [owner, jid, n, reply, why] {
        if (reply) {
          spdlog::info("push: {} disabled {} ({} registrations)", owner, jid, n);
          reply->result();
        } else {
          spdlog::warn("{}", why);
        }
      };
    });
  }

  void on_offline(const Stanza& st) {
    if (!st.is_message() || !push::worth_pushing(st.element())) return;
    notify(std::string(st.to().bare_view()), st.from().str(), st.element().child_text("body", st.element().ns()),
           std::nullopt);
  }

  void on_detached(ClientSession& session, const OutStanza& out) {
    auto* ps = session.extension_as<PushSession>(slot_);
    if (!ps || ps->enabled.empty()) return;  // this device asked for no push
    std::string bytes = out.head + (out.body ? *out.body : std::string());
    auto msg = xml::parse_fragment(bytes);
    if (!msg || msg->name() != "message" || !push::worth_pushing(*msg)) return;
    notify(std::string(session.jid().bare_view()), std::string(msg->attr("from")),
           msg->child_text("body", msg->ns()), ps->enabled);
  }

  // Publishes a summary to the account's registrations (those in `only`, when given).
  void notify(std::string owner, std::string sender, std::string body,
              std::optional<std::set<std::pair<std::string, std::string>>> only) {
    push::Summary summary;
    if (include_sender_) summary.last_sender = std::move(sender);
    if (include_body_) summary.last_body = std::move(body);
    ctx_.storage().read([this, owner, summary, only = std::move(only)](storage::Storage& db) mutable {
      auto regs = push::from_xml(db.kv().get(owner, push::kStore, push::kKey).value_or(""));
      if (only) std::erase_if(regs, [&](const Registration& r) { return !only->count({r.jid, r.node}); });
      if (regs.empty()) return;
      auto from = Jid::parse(owner);
      if (!from) return;
      std::vector<std::pair<Registration, std::string>> sends;
      {
        std::lock_guard lock(mutex_);
        summary.message_count = ++counts_[owner];
        for (auto& r : regs) {
          std::string id = "push-" + std::to_string(++next_id_);
          remember(id, Pending{owner, r.jid, r.node});
          sends.emplace_back(std::move(r), std::move(id));
        }
      }
      for (const auto& [r, id] : sends) {
        auto to = Jid::parse(r.jid);
        if (!to) continue;
        spdlog::debug("push: notifying {} node '{}' for {} ({} messages)", r.jid, r.node, owner,
                      summary.message_count);
        ctx_.router().route(Stanza(push::make_publish(r, summary, owner, id), *from, *to));
      }
    });
  }

  // Holds `mutex_`. Bounded: an app server that never answers does not grow it past kMaxPending.
  void remember(const std::string& id, Pending p) {
    static constexpr size_t kMaxPending = 10000;
    pending_.emplace(id, std::move(p));
    order_.push_back(id);
    while (order_.size() > kMaxPending) {
      pending_.erase(order_.front());
      order_.pop_front();
    }
  }

  HookResult on_answer(const Stanza& st) {
    if (!st.is_iq() || !st.to().is_bare()) return HookResult::kContinue;
    std::string_view type = st.type();
    if ((type != "result" && type != "error") || !st.id().starts_with("push-")) return HookResult::kContinue;
    Pending p;
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(std::string(st.id()));
      if (it == pending_.end() || it->second.owner != st.to().str() || it->second.jid != st.from().str())
        return HookResult::kContinue;
      p = std::move(it->second);
      pending_.erase(it);
      std::erase(order_, std::string(st.id()));
    }
    std::string condition;
    if (type == "error" && !push::error_disables(st.element(), condition)) {
      spdlog::info("push: {} answered {} for {} node '{}': transient, registration kept", p.jid, condition, p.owner,
                   p.node);
    } else if (type == "error") {
      // §6 "Recommended": an error answer disables this JID and node. Logged once it is gone from storage.
      remove_registration(p.owner, p.jid, p.node, std::nullopt,
                          fmt::format("push: {} answered {} for {} node '{}': registration disabled", p.jid,
                                      condition.empty() ? "an error" : condition, p.owner, p.node));
    }
    return HookResult::kHandled;
  }

  void forget_count(const std::string& bare) {
    std::lock_guard lock(mutex_);
    counts_.erase(bare);
  }

  ModuleContext& ctx_;
  size_t slot_;  // PushSession
  bool include_sender_ = true;
  bool include_body_ = false;
  std::mutex mutex_;
  uint64_t next_id_ = 0;
  std::unordered_map<std::string, Pending> pending_;  // publish id → its registration
  std::deque<std::string> order_;                     // pending ids, oldest first
  // Messages notified since the account was last available (§5 message-count); only accounts that
  // have push registrations get an entry.
  std::unordered_map<std::string, uint64_t> counts_;
};

}  // namespace

std::unique_ptr<Module> make_push(ModuleContext& ctx) { return std::make_unique<PushModule>(ctx); }

}  // namespace causerie::modules
