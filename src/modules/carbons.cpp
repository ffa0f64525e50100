// XEP-0280 v1.0 Message Carbons (urn:xmpp:carbons:2), with XEP-0334's <no-copy/> hint.
//
//   enable / disable     iq set from the client (§§4–5), repeatable (§10.1); a registry flag per session;
//                        or <enable/> inline in a XEP-0386 Bind 2 request
//   received copies      a router message observer: a message that reached the account (from a local
//                        client, a remote server, a component or a module) is copied to every
//                        carbons-enabled resource that the §8.5 rules did not deliver it to (§7)
//   sent copies          a kFromAccount hook (after blocking, priority 1000, let it through): what a
//                        client sends is copied to the account's other carbons-enabled resources (§8)
// Copies go straight to the sessions (never routed), so a copy cannot bounce back to anyone (§10.3).
// XEP-0334 `store`, `no-store` and `no-permanent-store` are about storage: carbons ignore them.
#include "modules/carbons.hpp"

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "core/router/routing_rules.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace carbons {

namespace {

bool has(const xml::Element& m, std::string_view name, std::string_view ns) { return m.child(name, ns) != nullptr; }

// Payloads of instant messaging that make any message eligible (§6.1, third rule).
bool has_im_payload(const xml::Element& m) {
  for (const auto& c : m.nodes()) {
    if (c.is_text()) continue;
    if (c.ns() == ns::kChatStates || c.ns() == ns::kReceipts || c.ns() == ns::kChatMarkers) return true;
  }
  return false;
}

}  // namespace

bool eligible(const xml::Element& m, Direction direction, bool from_bare) {
  if (has(m, "private", ns::kCarbons)) return false;  // §9
  // A carbon is never copied again (nor is a forged one from elsewhere, which clients ignore, §11).
  if (has(m, "received", ns::kCarbons) || has(m, "sent", ns::kCarbons)) return false;
  MessageType type = parse_message_type(m.attr("type"));
  if (type == MessageType::kGroupchat) return false;  // §6.1, MUC rules
  // XEP-0334 §5: hints in an error are the original's, echoed back, and are ignored.
  if (type != MessageType::kError && has(m, "no-copy", ns::kHints)) return false;
  // §6.1, MUC rules: invitations, direct (XEP-0249) or mediated (XEP-0045 §7.8.2), are copied; a private
  // message from an occupant is not (the room already sends it to each of the user's joined clients),
  // while one the user sends to an occupant is.
  if (has(m, "x", ns::kConference)) return true;
  if (const xml::Element* x = m.child("x", ns::kMucUser)) {
    if (x->child("invite", ns::kMucUser)) return true;
    if (direction == Direction::kReceived) return false;
  }
  switch (type) {
    case MessageType::kChat:
      return true;
    case MessageType::kNormal:
      if (has(m, "body", m.ns())) return true;
      break;
    case MessageType::kError:
      // "sent in response to a message that was eligible": the server keeps no record of what was sent,
      // so an error counts when it echoes an IM message's body or comes from a bare JID (the answer to a
      // message sent to an account). Only inbound: a client's own error messages are not conversation.
      return direction == Direction::kReceived && (from_bare || has(m, "body", m.ns()));
    default:
      break;
  }
  return has_im_payload(m);
}

xml::Element wrap(const xml::Element& message, Direction direction, std::string_view bare) {
  xml::Element copy("message", ns::kClient);
  copy.set_attr("from", bare);
  if (const std::string* type = message.find_attr("type")) copy.set_attr("type", *type);
  xml::Element& forwarded =
      copy.add_child(direction == Direction::kReceived ? "received" : "sent", ns::kCarbons).add_child("forwarded", ns::kForward);
  xml::Element& inner = forwarded.add(message);
  inner.set_ns(ns::kClient);
  return copy;
}

}  // namespace carbons

namespace {

using carbons::Direction;

// What a session remembers: whether it enabled carbons (the registry flag says the same to other threads).
struct Enabled final : SessionExtension {};

class CarbonsModule final : public Module {
 public:
  explicit CarbonsModule(ModuleContext& ctx)
      : ctx_(ctx), flag_(ctx.allocate_session_flag()), slot_(ctx.allocate_session_slot()) {
    ctx.disco().add_server_feature(ns::kCarbons);  // §3
    ctx.disco().add_account_feature(ns::kCarbons);
    ctx.on_iq(IqScope::kAccount, true, ns::kCarbons, [this](IqRequest& r) { toggle(r, true); }, "enable");
    ctx.on_iq(IqScope::kAccount, true, ns::kCarbons, [this](IqRequest& r) { toggle(r, false); }, "disable");
    // XEP-0386: "Message Carbons MUST be enabled at this point. As this operation MUST succeed, no
    // response is necessary."
    ctx.on_bind2(ns::kCarbons, [this](ClientSession& s, const xml::Element& el) -> std::optional<xml::Element> {
      if (el.name() == "enable") set(s, true);
      return std::nullopt;
    });
    ctx.on_session(SessionHook::kClosed, [this](ClientSession& s) {
      if (s.extension(slot_)) enabled_.fetch_sub(1, std::memory_order_relaxed);
    });
    ctx.observe_messages([this](const Stanza& m, std::span<const SessionRef> delivered) { received(m, delivered); });
    ctx.hook(StanzaHook::kFromAccount, 100, [this](StanzaEvent& ev) {
      sent(ev);
      return HookResult::kContinue;
    });
  }

 private:
  void toggle(IqRequest& r, bool on) {
    // §§4.1, 5.1: only a client of this server, for its own session.
    ClientSession* s = r.origin;
    if (!s || !s->bound() || r.account().bare_view() != s->jid().bare_view()) {
      r.reply.error(StanzaError(StanzaErrorCondition::kNotAllowed));
      return;
    }
    set(*s, on);
    r.reply.result();  // §10.1: enabling twice, or disabling twice, is no error
  }

  // On a bound session, on its thread.
  void set(ClientSession& s, bool on) {
    bool was = s.extension(slot_) != nullptr;
    if (on == was) return;
    // The flag first: a message routed on another thread meanwhile sees either state, both correct.
    ctx_.sessions().set_flag(s.jid(), flag_, on);
    s.set_extension(slot_, on ? std::make_unique<Enabled>() : nullptr);
    if (on) enabled_.fetch_add(1, std::memory_order_relaxed);
    else enabled_.fetch_sub(1, std::memory_order_relaxed);
  }

  // The account's carbons-enabled sessions, except those in `skip` and the resource `skip_resource`.
  std::vector<std::pair<SessionRef, std::string>> targets(std::string_view bare, std::span<const SessionRef> skip,
                                                          std::string_view skip_resource) const {
    std::vector<std::pair<SessionRef, std::string>> out;
    ctx_.sessions().inspect(bare, [&](const std::vector<BoundResource>& resources) {
      for (const auto& r : resources) {
        if (!(r.flags & flag_) || r.resource == skip_resource) continue;
        bool got_it = false;
        for (const auto& ref : skip) got_it = got_it || ref == r.ref;
        if (!got_it) out.emplace_back(r.ref, r.resource);
      }
    });
    return out;
  }

  void send_copies(const xml::Element& message, Direction direction, std::string_view bare,
                   const std::vector<std::pair<SessionRef, std::string>>& to) {
    if (to.empty()) return;
    SharedStanza copy(carbons::wrap(message, direction, bare));
    std::string full(bare);
    full += '/';
    for (const auto& [ref, resource] : to) {
      full.resize(bare.size() + 1);
      full += resource;
      ctx_.dispatcher().deliver(ref, copy.out_for(full));
    }
  }

  // §7: after the §8.5 delivery, to the enabled resources it did not reach.
  void received(const Stanza& m, std::span<const SessionRef> delivered) {
    if (enabled_.load(std::memory_order_relaxed) == 0) return;
    const Jid& from = m.from();
    if (!carbons::eligible(m.element(), Direction::kReceived, !from.empty() && !from.has_resource())) return;
    std::string_view bare = m.to().bare_view();
    // A message between two resources of the account: the sender has it already.
    std::string_view sender = from.bare_view() == bare ? from.resourcepart() : std::string_view{};
    send_copies(m.element(), Direction::kReceived, bare, targets(bare, delivered, sender));
  }

  // §8: to the sender's other enabled resources, whether or not the sender enabled carbons itself.
  void sent(StanzaEvent& ev) {
    const Stanza& m = ev.stanza;
    if (!ev.origin || !m.is_message() || enabled_.load(std::memory_order_relaxed) == 0) return;
    std::string_view bare = m.from().bare_view();
    // To the user's own account: the received copies (above) cover the other resources.
    if (m.to().bare_view() == bare) return;
    if (!carbons::eligible(m.element(), Direction::kSent)) return;
    SessionRef origin = ev.origin->ref();
    send_copies(m.element(), Direction::kSent, bare, targets(bare, std::span<const SessionRef>(&origin, 1), {}));
  }

  ModuleContext& ctx_;
  uint32_t flag_;
  size_t slot_;
  std::atomic<int64_t> enabled_{0};  // sessions with carbons enabled: none, and nothing is looked up
};

}  // namespace

std::unique_ptr<Module> make_carbons(ModuleContext& ctx) { return std::make_unique<CarbonsModule>(ctx); }

}  // namespace causerie::modules
