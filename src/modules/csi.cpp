// XEP-0352 v1.0 Client State Indication (urn:xmpp:csi:0): the <csi/> stream feature after
// authentication (§3.1), <active/> and <inactive/> per session (§3.2) or inline in a XEP-0386 Bind 2
// request, and an output filter that holds
// back presence updates and standalone chat states (§2.2's examples) while the client is inactive.
//
// The held queue belongs to the session, not to its connection: a session waiting for XEP-0198
// resumption keeps it, and a resumed stream starts active again (§4.2), so resumption sends it. What is
// finally sent passes through the session's stream management counting like any stanza. When a session
// ends, what it held is dropped: presence and chat states only, which nobody stores (RFC 6121 §4.3.2,
// XEP-0160 keeps no bare chat states).
#include "modules/csi.hpp"

#include <optional>

#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "modules/all_modules.hpp"

namespace causerie::modules {

namespace csi {

namespace {

constexpr const char* kStanzaIds = "urn:xmpp:sid:0";  // XEP-0359 stanza-id and origin-id

// A message that only tells a chat state (XEP-0085 §5.1 "standalone notification"): no body or subject,
// a chat state, and besides it only what accompanies any message (thread, hints, ids, delay, carbons'
// <private/>, XEP-0421 occupant id). Anything else (a receipt, a marker, an encrypted payload) matters.
bool chat_state_only(const xml::Element& m) {
  if (m.attr("type") == "error") return false;
  bool state = false;
  for (const auto& c : m.nodes()) {
    if (c.is_text()) continue;
    const std::string& ns = c.ns();
    if (ns == ns::kChatStates) {
      state = true;
    } else if (ns == m.ns()) {
      if (c.name() != "thread") return false;  // body, subject, anything else of the client namespace
    } else if (ns != ns::kHints && ns != kStanzaIds && ns != ns::kDelay && ns != ns::kOccupantId &&
               !c.is("private", ns::kCarbons)) {
      return false;
    }
  }
  return state;
}

}  // namespace

Classification classify(const xml::Element& st) {
  if (st.name() == "presence") {
    std::string_view type = st.attr("type");
    // Subscriptions, probes and errors are not "updates": they go out at once.
    if (type.empty() || type == "unavailable") return {Classification::kPresence, std::string(st.attr("from"))};
    return {};
  }
  if (st.name() != "message") return {};
  const xml::Element* m = &st;
  // A carbon (XEP-0280) is judged by the message it carries.
  const xml::Element* carbon = st.child("received", ns::kCarbons);
  if (!carbon) carbon = st.child("sent", ns::kCarbons);
  if (carbon) {
    const xml::Element* fw = carbon->child("forwarded", ns::kForward);
    m = fw ? fw->child("message") : nullptr;
    if (!m) return {};
  }
  if (chat_state_only(*m)) return {Classification::kChatState, {}};
  return {};
}

bool HeldQueue::hold(const Classification& c, OutStanza& out) {
  size_t size = out.size();
  auto old = c.kind == Classification::kPresence ? presence_.find(c.sender) : presence_.end();
  size_t freed = old != presence_.end() ? old->second->out.size() : 0;
  size_t count = items_.size() - (old != presence_.end() ? 1 : 0);
  if (count + 1 > kMaxStanzas || bytes_ - freed + size > kMaxBytes) return false;
  if (old != presence_.end()) {
    // The newer presence replaces it, at the end: what the sender did since (a chat state) stays before.
    items_.erase(old->second);
    presence_.erase(old);
    bytes_ -= freed;
  }
  std::string key = c.kind == Classification::kPresence ? c.sender : std::string();
  items_.push_back(Item{key, std::move(out)});
  if (c.kind == Classification::kPresence) presence_.emplace(std::move(key), std::prev(items_.end()));
  bytes_ += size;
  return true;
}

std::vector<OutStanza> HeldQueue::take() {
  std::vector<OutStanza> out;
  out.reserve(items_.size());
  for (auto& it : items_) out.push_back(std::move(it.out));
  items_.clear();
  presence_.clear();
  bytes_ = 0;
  return out;
}

}  // namespace csi

namespace {

// Present while the session's client is inactive; <active/> removes it.
struct Inactive final : SessionExtension {
  csi::HeldQueue held;
};

class CsiModule final : public Module {
 public:
  explicit CsiModule(ModuleContext& ctx) : slot_(ctx.allocate_session_slot()) {
    ctx.add_stream_feature(FeatureStage::kPostAuth,
                           [](const ClientSession&) -> std::optional<xml::Element> { return xml::Element("csi", ns::kCsi); });
    ctx.on_nonza(ns::kCsi, [this](ClientSession& s, xml::Element&& el) { indicate(s, el); });
    ctx.filter_output([this](ClientSession& s, OutStanza& out) { return filter(s, out); });
    ctx.on_session(SessionHook::kResumed, [this](ClientSession& s) { activate(s); });
    // XEP-0386: "If the client included a XEP-0352 <active/> or <inactive/> element, the session must
    // begin in that state" (a new session is active already).
    ctx.on_bind2(ns::kCsi, [this](ClientSession& s, const xml::Element& el) -> std::optional<xml::Element> {
      if (el.name() == "inactive" && !s.extension(slot_)) s.set_extension(slot_, std::make_unique<Inactive>());
      return std::nullopt;
    });
  }

 private:
  void indicate(ClientSession& s, const xml::Element& el) {
    if (el.name() == "inactive") {
      if (!s.extension(slot_)) s.set_extension(slot_, std::make_unique<Inactive>());
    } else if (el.name() == "active") {
      activate(s);
    } else {
      s.close(StreamErrorCondition::kUnsupportedStanzaType, "unknown client state");
    }
  }

  // §3.2: the client is active again; what was held goes out, in order, before anything it sends next
  // is answered (§4.1, in-order processing: nonzas are handled in stream order).
  void activate(ClientSession& s) {
    auto* state = s.extension_as<Inactive>(slot_);
    if (!state) return;
    std::vector<OutStanza> held = state->held.take();
    s.set_extension(slot_, nullptr);
    for (auto& out : held) s.release(std::move(out));
  }

  static void flush(ClientSession& s, Inactive& state) {
    for (auto& out : state.held.take()) s.release(std::move(out));
  }

  bool filter(ClientSession& s, OutStanza& out) {
    auto* state = s.extension_as<Inactive>(slot_);
    if (!state) return false;  // active: the common case costs one lookup
    csi::Classification c;
    if (out.kind != StanzaKind::kIq) {
      std::string bytes = out.head;
      if (out.body) bytes += *out.body;
      if (auto el = xml::parse_fragment(bytes)) c = csi::classify(*el);
    }
    if (c.kind != csi::Classification::kUrgent && state->held.hold(c, out)) return true;
    // It matters (or the queue is full): what was held goes first, then it.
    flush(s, *state);
    return false;
  }

  size_t slot_;
};

}  // namespace

std::unique_ptr<Module> make_csi(ModuleContext& ctx) { return std::make_unique<CsiModule>(ctx); }

}  // namespace causerie::modules
