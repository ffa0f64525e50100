// XEP-0388 v1.0.4 Extensible SASL Profile (SASL2) for client streams, with what it carries inline:
// XEP-0386 v1.1.0 Bind 2 (a resource derived from the client's <user-agent id>, and the session features
// modules registered with ModuleContext::on_bind2, plus XEP-0198 <enable/>), XEP-0198 §"SASL2 And BIND2
// Interaction" (<resume/> in <authenticate/>), and XEP-0484 v0.2.0 FAST tokens for the HT mechanisms
// (core/sasl/ht.hpp). The mechanism exchange itself is SASL1's (c2s_sasl.cpp): only the framing
// (send_sasl, sasl_failure) and the end (sasl2_succeeded instead of a restart) differ.
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "core/stream/c2s_stream.hpp"
#include "core/stream/stream_xml.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "storage/account_store.hpp"
#include "storage/fast_token_store.hpp"
#include "storage/storage.hpp"
#include "storage/storage_service.hpp"

namespace causerie {

namespace {

constexpr size_t kMaxUserAgentId = 128;  // a UUID is 36 characters; anything longer is not one
constexpr size_t kMaxTag = 32;           // bytes of the client's Bind 2 tag kept in the resource

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string trimmed(std::string s) {
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The first `max` bytes of UTF-8 text, cut at a character boundary.
std::string utf8_prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

OutStanza nonza(std::string bytes) {
  return OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther};
}

const char* kResumeFailed =
    "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";

}  // namespace

std::vector<std::string> C2sStream::offered_fast_mechanisms() const {
  // XEP-0484 §"Server advertises support for FAST": token mechanisms, with channel binding where this
  // connection has it and one without.
  std::vector<std::string> out;
  if (!t_.secure()) return out;
  for (const auto& [type, data] : t_.channel_bindings()) {
    if (type == "tls-server-end-point") out.push_back(sasl::ht_mechanism_name(sasl::HtBinding::kEndpoint));
    else if (type == "tls-exporter") out.push_back(sasl::ht_mechanism_name(sasl::HtBinding::kExporter));
    else if (type == "tls-unique") out.push_back(sasl::ht_mechanism_name(sasl::HtBinding::kUnique));
  }
  out.push_back(sasl::ht_mechanism_name(sasl::HtBinding::kNone));
  return out;
}

void C2sStream::add_sasl2_feature(xml::Element& features, const std::vector<std::string>& mechanisms) const {
  xml::Element auth("authentication", ns::kSasl2);
  for (const auto& m : mechanisms) auth.add_text_child("mechanism", m);
  xml::Element inline_features("inline", ns::kSasl2);
  // XEP-0386 §"Discovering support": what may be enabled inside <bind/>.
  xml::Element bind("bind", ns::kBind2);
  xml::Element bind_inline("inline", ns::kBind2);
  bind_inline.add_child("feature").set_attr("var", ns::kSm);
  for (const auto& var : services_.streams.bind2_features()) bind_inline.add_child("feature").set_attr("var", var);
  bind.add(std::move(bind_inline));
  inline_features.add(std::move(bind));
  inline_features.add_child("sm", ns::kSm);  // XEP-0198: resumption inside <authenticate/>
  xml::Element fast("fast", ns::kFast);
  for (const auto& m : offered_fast_mechanisms()) fast.add_text_child("mechanism", m);
  inline_features.add(std::move(fast));
  auth.add(std::move(inline_features));
  features.add(std::move(auth));
}

void C2sStream::sasl2_authenticate(const xml::Element& el) {
  if (state_ != State::kNegotiating) {
    // XEP-0388 §"Overview" (RFC 4422 §4): a new <authenticate/> once authenticated, or mid-exchange.
    fail_stream(StreamErrorCondition::kPolicyViolation, "one authentication at a time");
    return;
  }
  sasl2_.emplace();
  if (!t_.secure()) {
    sasl_failure(sasl::SaslError::kEncryptionRequired, "SASL2 needs TLS", false);
    return;
  }
  std::string mech(el.attr("mechanism"));
  bool token_mech = sasl::parse_ht_mechanism(mech).has_value();
  auto offered = token_mech ? offered_fast_mechanisms() : offered_mechanisms();
  if (std::find(offered.begin(), offered.end(), mech) == offered.end()) {
    sasl_failure(sasl::SaslError::kInvalidMechanism, {}, false);
    return;
  }
  Sasl2Request& req = *sasl2_;
  if (const xml::Element* ua = el.child("user-agent", ns::kSasl2)) {
    req.user_agent_id = std::string(ua->attr("id"));
    req.software = utf8_prefix(trimmed(ua->child_text("software", ns::kSasl2)), 256);
    req.device = utf8_prefix(trimmed(ua->child_text("device", ns::kSasl2)), 256);
    if (req.user_agent_id.size() > kMaxUserAgentId) {
      sasl_failure(sasl::SaslError::kMalformedRequest, "the user-agent id is not a UUID", false);
      return;
    }
  }
  if (const xml::Element* b = el.child("bind", ns::kBind2)) req.bind = *b;
  if (const xml::Element* r = el.child("resume", ns::kSm)) req.resume = *r;
  if (const xml::Element* rt = el.child("request-token", ns::kFast)) {
    req.request_token = std::string(rt->attr("mechanism"));
    auto fast = offered_fast_mechanisms();
    if (std::find(fast.begin(), fast.end(), req.request_token) == fast.end()) {
      sasl_failure(sasl::SaslError::kInvalidMechanism, "no such FAST mechanism", false);
      return;
    }
  }
  const xml::Element* fast = el.child("fast", ns::kFast);
  if (fast) req.invalidate = fast->attr("invalidate") == "true" || fast->attr("invalidate") == "1";
  // XEP-0484 §"Business rules": tokens are per client, so both need the user-agent id; a token
  // mechanism is used with <fast/>.
  if ((token_mech || !req.request_token.empty()) && req.user_agent_id.empty()) {
    sasl_failure(sasl::SaslError::kMalformedRequest, "FAST needs <user-agent id='…'/>", false);
    return;
  }
  if (token_mech && !fast) {
    sasl_failure(sasl::SaslError::kMalformedRequest, "a token mechanism needs <fast xmlns='urn:xmpp:fast:0'/>", false);
    return;
  }
  const xml::Element* initial = el.child("initial-response", ns::kSasl2);
  mechanism_ = mech;
  state_ = State::kAuthWait;
  if (!initial) {
    if (token_mech) {
      sasl_failure(sasl::SaslError::kMalformedRequest, "HT needs an initial response");
      return;
    }
    send_sasl("challenge", {});  // SCRAM and PLAIN start with the client
    return;
  }
  // An empty <initial-response/> is empty data (XEP-0388 §"Initiation"); sasl_response reads "" so.
  xml::Element response("response", ns::kSasl2);
  std::string text = trimmed(initial->text());
  if (!text.empty()) response.add_text(text);
  sasl_response(response);
}

void C2sStream::sasl_ht(const std::string& message) {
  auto msg = sasl::parse_ht_initial_response(message);
  if (!msg) {
    sasl_failure(sasl::SaslError::kMalformedRequest);
    return;
  }
  auto local = prep_localpart(msg->authcid);
  if (!local) {
    sasl_failure(sasl::SaslError::kNotAuthorized);
    return;
  }
  std::string bare = *local + "@" + host_;
  lookup_pending_ = true;
  SessionRef ref = session_->ref();
  SessionDispatcher& dispatcher = services_.dispatcher;
  services_.storage.read([bare, client = sasl2_->user_agent_id, ref, &dispatcher, alive = alive_, this,
                          m = std::move(*msg), username = *local](storage::Storage& db) mutable {
    // A disabled account (XEP-0133 §4.3) has no usable token, as if it had none: the login fails like
    // any wrong token, and nobody learns whether the account exists.
    std::vector<storage::FastToken> tokens;
    if (auto account = db.accounts().get(bare); account && !account->disabled) tokens = db.fast_tokens().for_client(bare, client);
    dispatcher.with_session(ref, [this, alive, m = std::move(m), username, tokens = std::move(tokens)](ClientSession&) mutable {
      if (!*alive) return;
      lookup_pending_ = false;
      if (closed_ || !sasl2_) return;
      sasl_check_ht(std::move(m), std::move(username), std::move(tokens));
    });
  });
}

void C2sStream::sasl_check_ht(sasl::HtInitialResponse msg, std::string username,
                              std::vector<storage::FastToken> tokens) {
  auto binding = sasl::parse_ht_mechanism(mechanism_);
  std::string cb_type = sasl::ht_channel_binding_type(*binding);
  std::string cb_data;
  if (!cb_type.empty()) {
    bool found = false;
    for (const auto& [type, data] : t_.channel_bindings()) {
      if (type == cb_type) {
        cb_data = data;
        found = true;
      }
    }
    if (!found) {
      sasl_failure(sasl::SaslError::kNotAuthorized);
      return;
    }
  }
  int64_t now = unix_seconds(services_.clock.wall());
  bool expired = false;
  // XEP-0484 §"Implementation Notes": the fresh token first, then the current one; each bound to the
  // mechanism it was issued for, and not past its expiry (on the server's clock).
  for (const auto& t : tokens) {
    if (t.mechanism != mechanism_ || !sasl::ht_verify(t.key, cb_data, msg.initiator_hash)) continue;
    if (t.expiry <= now) {
      expired = true;
      continue;
    }
    jid_ = *Jid::from_parts(username, host_);
    fast_used_ = UsedToken{t.id, t.mechanism, t.fresh, t.expiry};
    sasl_success(mechanism_, sasl::ht_responder_hash(t.key, cb_data));
    return;
  }
  // XEP-0484 §"Server responsibilities": a token the server no longer trusts is credentials-expired.
  if (expired) sasl_failure(sasl::SaslError::kCredentialsExpired, "the token has expired");
  else sasl_failure(sasl::SaslError::kNotAuthorized);
}

void C2sStream::sasl2_succeeded(const std::string& additional) {
  const Sasl2Request& req = *sasl2_;
  scram_.reset();
  mechanism_.clear();
  authenticated_ = true;
  session_->set_authenticated(jid_.bare());
  spdlog::info("c2s {}: authenticated {} with SASL2{}", t_.peer_address(), jid_.str(),
               fast_used_ ? " and a FAST token" : "");
  std::string additional_b64 = additional.empty() ? std::string() : util::base64_encode(additional);

  // XEP-0484: a token asked for, or a used one due for rotation (past half its life), gives a new one;
  // using a fresh token makes it the client's current one; invalidation revokes the one used.
  auto now = services_.clock.wall();
  int64_t lifetime = services_.config().fast_token_lifetime.count();
  bool rotate = fast_used_ && !req.invalidate && fast_used_->expiry - unix_seconds(now) < lifetime / 2;
  std::optional<storage::FastToken> issue;
  std::string token_xml;
  if (!req.request_token.empty() || rotate) {
    std::string token = sasl::make_fast_token();
    storage::FastToken t;
    t.id = util::hex_encode(util::random_bytes(6));  // hex: never taken for an option on the command line
    t.account = jid_.bare().str();
    t.client = req.user_agent_id;
    t.mechanism = req.request_token.empty() ? fast_used_->mechanism : req.request_token;
    t.key = sasl::fast_token_key(token);
    t.created = unix_seconds(now);
    t.expiry = t.created + lifetime;
    t.software = req.software;
    t.device = req.device;
    token_xml = "<token xmlns='urn:xmpp:fast:0' expiry='" +
                util::format_datetime(std::chrono::system_clock::time_point(std::chrono::seconds(t.expiry))) +
                "' token='" + token + "'/>";
    issue = std::move(t);
  }
  bool promote = fast_used_ && fast_used_->fresh && !req.invalidate;
  bool revoke = fast_used_ && req.invalidate;
  if (!issue && !promote && !revoke) {
    sasl2_finish(additional_b64, {});
    return;
  }
  // The token is on disk before the client hears of it (DESIGN §8, acknowledged means saved).
  lookup_pending_ = true;
  SessionRef ref = session_->ref();
  SessionDispatcher& dispatcher = services_.dispatcher;
  std::string account = jid_.bare().str();
  std::string used = fast_used_ ? fast_used_->id : std::string();
  uint64_t seq = services_.storage.write(
      [=, this, alive = alive_, &dispatcher, client = req.user_agent_id](storage::Storage& db) -> std::function<void()> {
        storage::FastTokenStore& store = db.fast_tokens();
        if (promote) store.promote(account, client, used);
        if (revoke) store.revoke(account, used);
        if (issue) store.issue(*issue);
        return [=, this, &dispatcher] {
          dispatcher.with_session(ref, [=, this](ClientSession&) {
            if (!*alive) return;
            lookup_pending_ = false;
            if (closed_) return;
            sasl2_finish(additional_b64, token_xml);
          });
        };
      });
  if (seq == 0) {
    // The write lane is full: nothing was stored, so nothing is promised.
    lookup_pending_ = false;
    fail_stream(StreamErrorCondition::kResourceConstraint, "the server is overloaded");
  }
}

void C2sStream::sasl2_finish(const std::string& additional_base64, const std::string& token_xml) {
  Sasl2Request req = std::move(*sasl2_);
  sasl2_.reset();
  fast_used_.reset();
  // XEP-0388 §"Success": <additional-data/>, <authorization-identifier/>, then what inline features
  // answered; the identifier is filled in once the session is known (resumed or bound).
  std::string head = "<success xmlns='urn:xmpp:sasl:2'>";
  if (!additional_base64.empty()) head += "<additional-data>" + additional_base64 + "</additional-data>";
  std::string tail = token_xml + "</success>";
  if (req.resume) {
    // XEP-0198 §"SASL2 And BIND2 Interaction": resumption first; if it works, <bind/> is ignored.
    if (sasl2_resume(*req.resume, head, tail, req.bind, req.user_agent_id)) return;
    sasl2_bind(head, kResumeFailed, tail, req.bind, req.user_agent_id);
    return;
  }
  sasl2_bind(head, {}, tail, req.bind, req.user_agent_id);
}

bool C2sStream::sasl2_resume(const xml::Element& resume, const std::string& head, const std::string& tail,
                             std::optional<xml::Element> bind, const std::string& user_agent_id) {
  std::string previd(resume.attr("previd"));
  uint32_t h = 0;
  try {
    h = static_cast<uint32_t>(std::stoull(std::string(resume.attr("h"))));
  } catch (...) {
    return false;
  }
  auto entry = services_.resumable.find(previd);
  if (!entry || entry->bare != jid_.bare().str()) return false;
  std::string features = sasl2_features_xml(true);
  Session::ResumedFrame frame = [head, tail, features](const Session& s, const std::string& resumed) {
    std::string out = head + "<authorization-identifier>";
    xml::append_escaped(out, s.jid().str());
    out += "</authorization-identifier>";
    out += resumed;
    out += tail;
    out += features;
    return out;
  };
  if (entry->ref.worker == host_worker_.index()) return resume_here(entry->ref, h, frame);
  bool secure = t_.secure();
  std::string peer = t_.peer_address();
  // On another worker: the session takes this stream over there; a failure comes back here and the
  // client gets a new session instead, as if resumption had failed at once.
  state_ = State::kResuming;
  auto bind_copy = std::make_shared<std::optional<xml::Element>>(std::move(bind));
  services_.dispatcher.with_session(
      entry->ref, [this, alive = alive_, conn = connection_, kind = t_.kind(), secure, peer, h, worker = host_worker_.index(),
                   dispatcher = &services_.dispatcher, ref = entry->ref, frame, head, tail, bind_copy,
                   user_agent_id](ClientSession& s) {
        auto& old = static_cast<Session&>(s);
        bool ok = old.resume_from(conn, kind, secure, peer, h, frame);
        dispatcher->post(worker, [this, alive, ok, ref, head, tail, bind_copy, user_agent_id] {
          if (!*alive || closed_) return;
          if (ok) resumed_elsewhere(ref);
          else sasl2_bind(head, kResumeFailed, tail, *bind_copy, user_agent_id);
        });
      });
  return true;
}

std::string C2sStream::bind2_resource(const xml::Element& bind, const std::string& user_agent_id) const {
  // XEP-0386 §"Resource identifier generation": "[client tag]/[server generated identifier]", the
  // identifier stable for one client (its user-agent id, which must not show: a hash of it with the
  // account and the tag) and random without one.
  std::string tag = utf8_prefix(trimmed(bind.child_text("tag", ns::kBind2)), kMaxTag);
  if (!tag.empty() && !jid_.bare().with_resource(tag)) tag.clear();  // not a valid resourcepart
  std::string id;
  if (!user_agent_id.empty()) {
    std::string seed = "causerie bind2\n" + jid_.bare().str() + "\n" + tag + "\n" + user_agent_id;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(seed.data(), seed.size(), out, &len, EVP_sha256(), nullptr);
    id = util::hex_encode(std::string_view(reinterpret_cast<char*>(out), 6));
  } else {
    id = util::random_id(9);
  }
  return tag.empty() ? id : tag + "/" + id;
}

void C2sStream::sasl2_bind(const std::string& head, const std::string& sm_failed, const std::string& tail,
                           const std::optional<xml::Element>& bind, const std::string& user_agent_id) {
  std::string bound_xml;
  if (bind) {
    auto full = jid_.bare().with_resource(bind2_resource(*bind, user_agent_id));
    if (!full) full = jid_.bare().with_resource(util::random_id(9));
    if (!session_->bind(*full, {})) {
      fail_stream(StreamErrorCondition::kResourceConstraint, "too many sessions for this account");
      return;
    }
    jid_ = *full;
    state_ = State::kEstablished;
    t_.set_established();
    // XEP-0386 §"Performing the bind": the features asked for inline, in the order given.
    xml::Element bound("bound", ns::kBind2);
    for (const auto& child : bind->nodes()) {
      if (child.is_text() || child.ns() == ns::kBind2) continue;
      if (child.is("enable", ns::kSm)) {
        bound.add(session_->enable_sm(child));
      } else if (const Bind2Handler* h = services_.streams.bind2_handler(child.ns())) {
        if (auto answer = (*h)(*session_, child)) bound.add(std::move(*answer));
      }
      // Features nobody registered are ignored: the client learns from <inline/> what exists.
    }
    bound_xml = xml::to_string(bound);
  } else {
    state_ = State::kBinding;  // legacy binding or <resume/> next, on this stream, without a restart
  }
  std::string out = head + "<authorization-identifier>";
  xml::append_escaped(out, jid_.str());
  out += "</authorization-identifier>";
  out += sm_failed;
  out += bound_xml;
  out += tail;
  // XEP-0388 §"Success": the features of the authenticated stream follow at once; no restart.
  out += sasl2_features_xml(bind.has_value());
  t_.send(nonza(std::move(out)));
  if (bind) {
    spdlog::info("c2s {}: bound {} (Bind 2)", t_.peer_address(), jid_.str());
    services_.router.run_session_hooks(SessionHook::kBound, *session_);
  }
  std::vector<xml::Element> waiting;
  waiting.swap(waiting_);
  for (auto& el : waiting) on_element(std::move(el));
}

std::string C2sStream::sasl2_features_xml(bool bound) {
  xml::Element features("features", ns::kStream);
  if (!bound) {
    features.add_child("bind", ns::kBind);
    features.add_child("session", ns::kSession).add_child("optional");
  }
  if (!bound || !session_->sm().enabled) features.add_child("sm", ns::kSm);
  services_.streams.append_features(FeatureStage::kPostAuth, *session_, features);
  return stream_features_xml(features);
}

}  // namespace causerie
