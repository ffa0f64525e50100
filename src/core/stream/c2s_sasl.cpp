// SASL negotiation for client streams (RFC 6120 §6): SCRAM-SHA-1/-256 and their -PLUS variants
// (RFC 5802, RFC 7677, channel bindings RFC 5929 / RFC 9266), PLAIN over TLS (RFC 4616), and ANONYMOUS
// (RFC 4505, XEP-0175) alone on hosts whose authentication is "anonymous".
#include <spdlog/spdlog.h>

#include "core/sasl/downgrade_protection.hpp"
#include "core/stream/c2s_stream.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"
#include "storage/account_store.hpp"
#include "storage/storage_service.hpp"

namespace causerie {

namespace {
// RFC 6120 §6.4.5: allow a reasonable number of retries, then close the stream.
constexpr unsigned kMaxAttemptsPerStream = 5;
}

void C2sStream::send_sasl(const char* name, std::string_view payload, bool always_text) {
  std::string bytes = "<";
  bytes += name;
  if (sasl2_) {
    // XEP-0388 §"Challenges and Responses": no "=" special case, an empty element is empty data.
    bytes += " xmlns='urn:xmpp:sasl:2'>";
    bytes += payload;
    bytes += "</";
    bytes += name;
    bytes += '>';
    t_.send(OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther});
    return;
  }
  bytes += " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'";
  if (payload.empty() && !always_text) {
    bytes += "/>";
  } else {
    bytes += '>';
    bytes += payload.empty() ? std::string_view("=") : payload;  // RFC 6120 §6.4.2: "=" is empty data
    bytes += "</";
    bytes += name;
    bytes += '>';
  }
  t_.send(OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther});
}

void C2sStream::sasl_failure(sasl::SaslError error, std::string_view text, bool count) {
  scram_.reset();
  mechanism_.clear();
  state_ = State::kAuthWait;
  // XEP-0388 §"Failure": the RFC 6120 §6.5 condition, in its namespace, inside SASL2's <failure/>.
  std::string bytes = sasl2_ ? "<failure xmlns='urn:xmpp:sasl:2'><" : "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><";
  bytes += sasl::to_string(error);
  bytes += sasl2_ ? " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" : "/>";
  if (!text.empty()) {
    bytes += "<text xml:lang='en'>";
    bytes += xml::escape(text);
    bytes += "</text>";
  }
  bytes += "</failure>";
  // The inline requests of a failed attempt are never processed (XEP-0388, XEP-0386).
  sasl2_.reset();
  fast_used_.reset();
  std::chrono::milliseconds delay{0};
  if (count) delay = throttle_.record_failure(t_.peer_address());
  bool give_up = ++sasl_attempts_ >= kMaxAttemptsPerStream;
  auto answer = [this, bytes = std::move(bytes), give_up]() mutable {
    if (closed_) return;
    t_.send(OutStanza{std::make_shared<const std::string>(std::move(bytes)), {}, StanzaKind::kOther});
    if (give_up) fail_stream(StreamErrorCondition::kPolicyViolation, "too many authentication attempts");
    else state_ = State::kNegotiating;
  };
  if (delay.count() > 0) {
    spdlog::info("c2s {}: authentication failed, answering in {} ms", t_.peer_address(), delay.count());
    t_.after(delay, std::move(answer));
  } else {
    answer();
  }
}

void C2sStream::sasl_auth(const xml::Element& el) {
  if (state_ != State::kNegotiating) {
    fail_stream(StreamErrorCondition::kPolicyViolation, "one authentication at a time");
    return;
  }
  std::string mech(el.attr("mechanism"));
  auto offered = offered_mechanisms();
  if (!t_.secure() && services_.config().require_encryption) {
    sasl_failure(sasl::SaslError::kEncryptionRequired, "use STARTTLS first", false);
    return;
  }
  if (std::find(offered.begin(), offered.end(), mech) == offered.end()) {
    sasl_failure(sasl::SaslError::kInvalidMechanism, {}, false);
    return;
  }
  std::string text = el.text();
  std::optional<std::string> initial;
  if (!text.empty()) {
    initial = text == "=" ? std::optional<std::string>("") : util::base64_decode(text);
    if (!initial) {
      sasl_failure(sasl::SaslError::kMalformedRequest, "invalid base64");  // RFC 6120 §6.4.2
      return;
    }
  }
  mechanism_ = mech;
  state_ = State::kAuthWait;
  if (!initial) {
    // Both SCRAM and PLAIN start with the client: ask for the initial response.
    send_sasl("challenge", {});
    return;
  }
  xml::Element response("response", ns::kSasl);
  response.add_text(initial->empty() ? "=" : util::base64_encode(*initial));
  sasl_response(response);
}

void C2sStream::sasl_response(const xml::Element& el) {
  if (state_ != State::kAuthWait || mechanism_.empty() || lookup_pending_) {
    fail_stream(StreamErrorCondition::kPolicyViolation, "no authentication step expected now");
    return;
  }
  std::string text = el.text();
  // Whitespace around the base64 (XEP-0388's examples indent it) is no data.
  size_t first = text.find_first_not_of(" \t\r\n");
  text = first == std::string::npos ? std::string() : text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  auto data = text == "=" || text.empty() ? std::optional<std::string>("") : util::base64_decode(text);
  if (!data) {
    sasl_failure(sasl::SaslError::kMalformedRequest, "invalid base64");
    return;
  }
  if (mechanism_.starts_with("HT-")) {
    sasl_ht(*data);
    return;
  }
  // The credentials of `username` for `hash`, from the cache of recent logins or from storage; `then`
  // gets the prepared localpart ("" when it is not a valid one) and nullopt for an unknown account.
  auto lookup = [this](std::string username, sasl::ScramHash hash, auto then) {
    auto local = prep_localpart(username);
    if (!local) {
      then(std::string(), std::nullopt);
      return;
    }
    std::string bare = *local + "@" + host_;
    CredentialCache& cache = services_.credentials;
    // At most once a second (by the server's clock, which tests move) a login goes to storage anyway and
    // checks whether another process changed accounts meanwhile; otherwise a recent login's credentials
    // are used at once.
    bool check = cache.generation_check_due(services_.clock.now());
    if (!check) {
      if (auto cached = cache.find(bare, hash)) {
        then(*local, std::move(cached));
        return;
      }
    }
    lookup_pending_ = true;
    SessionRef ref = session_->ref();
    SessionDispatcher& dispatcher = services_.dispatcher;
    services_.storage.read([bare, ref, &dispatcher, &cache, check, hash, then, username = *local](storage::Storage& db) {
      if (check) cache.observe_generation(db.accounts().generation());
      // Taken before reading: a change committed after this point bumps the epoch, so a stale read is
      // not cached; one committed before it is what the read sees.
      uint64_t epoch = cache.epoch();
      std::optional<sasl::ScramCredentials> creds;
      // A disabled account (XEP-0133 §4.3) logs in like an unknown one: it fails at the proof, and
      // nobody learns from the failure whether the account exists.
      if (auto account = db.accounts().get(bare); account && !account->disabled) {
        creds = hash == sasl::ScramHash::kSha256 ? std::move(account->sha256) : std::move(account->sha1);
        // An account imported with one hash only (Prosody keeps SCRAM-SHA-1 keys alone) has no
        // credentials for the other: that mechanism fails at the proof, as for an unknown user.
        if (creds->iterations == 0) creds.reset();
        else cache.put(bare, hash, *creds, epoch);
      }
      dispatcher.with_session(ref, [then, username, creds](ClientSession&) { then(username, creds); });
    });
  };

  if (mechanism_ == "ANONYMOUS") {
    sasl_anonymous(*data);
    return;
  }
  if (mechanism_ == "PLAIN") {
    auto msg = sasl::parse_plain(*data);
    if (!msg) {
      sasl_failure(sasl::SaslError::kMalformedRequest);
      return;
    }
    lookup(msg->authcid, sasl::ScramHash::kSha256, [this, m = *msg](std::string username,
                                                                    std::optional<sasl::ScramCredentials> creds) {
      lookup_pending_ = false;
      if (closed_) return;
      sasl::PlainMessage checked = m;
      if (!username.empty()) checked.authcid = username;
      sasl_check_plain(std::move(checked), std::move(creds));
    });
    return;
  }

  if (!scram_) {
    bool plus = mechanism_.ends_with("-PLUS");
    auto hash = mechanism_.starts_with("SCRAM-SHA-256") ? sasl::ScramHash::kSha256 : sasl::ScramHash::kSha1;
    auto bindings = t_.channel_bindings();
    if (plus) {
      // COMPAT(slixmpp 1.8): binds with tls-unique even on TLS 1.3; accepted there, never advertised.
      for (auto& b : t_.compat_channel_bindings()) bindings.push_back(std::move(b));
    }
    scram_ = std::make_unique<sasl::ScramServer>(hash, plus, std::move(bindings));
    scram_->set_downgrade_protection(downgrade_protection(hash));
    auto user = scram_->receive_client_first(*data);
    if (!user) {
      sasl_failure(user.error());
      return;
    }
    lookup(*user, hash, [this](std::string username, std::optional<sasl::ScramCredentials> creds) {
      lookup_pending_ = false;
      if (closed_ || !scram_) return;
      sasl_continue_scram(std::move(username), std::move(creds));
    });
    return;
  }
  auto final_message = scram_->receive_client_final(*data);
  if (!final_message) {
    sasl_failure(final_message.error());
    return;
  }
  sasl_success(mechanism_, *final_message);
}

void C2sStream::sasl_anonymous(const std::string& trace) {
  // RFC 4505 §3: the message is empty or a trace token of at most 255 UTF-8 characters, which the server
  // may log and otherwise ignores.
  size_t chars = 0;
  bool valid = true;
  for (size_t i = 0; i < trace.size() && valid; ++chars) {
    auto c = static_cast<unsigned char>(trace[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > trace.size()) valid = false;
    for (size_t k = 1; valid && k < len; ++k)
      if ((static_cast<unsigned char>(trace[i + k]) & 0xC0) != 0x80) valid = false;
    i += len;
  }
  if (!valid || chars > 255) {
    sasl_failure(sasl::SaslError::kMalformedRequest, "the trace is at most 255 UTF-8 characters");
    return;
  }
  // A random localpart no one chose: the account lives as long as this session (modules/guests.cpp
  // deletes it and everything stored for it when the session ends). No credentials: an anonymous host
  // offers no other mechanism.
  std::string bare = util::hex_encode(util::random_bytes(8)) + "@" + host_;
  storage::Account account;
  account.jid = bare;
  account.created = std::chrono::duration_cast<std::chrono::seconds>(services_.clock.wall().time_since_epoch()).count();
  lookup_pending_ = true;
  SessionRef ref = session_->ref();
  SessionDispatcher& dispatcher = services_.dispatcher;
  services_.storage.write([this, account, ref, &dispatcher, trace](storage::Storage& db) -> storage::StorageService::Completion {
    bool created = db.accounts().create(account);
    return [this, bare = account.jid, ref, &dispatcher, created, trace] {
      // Back on the session's thread; like a credential lookup, the stream is alive while its session is.
      dispatcher.with_session(ref, [this, bare, created, trace](ClientSession&) { anonymous_created(bare, created, trace); });
    };
  });
}

void C2sStream::anonymous_created(const std::string& bare, bool created, const std::string& trace) {
  lookup_pending_ = false;
  if (closed_ || mechanism_ != "ANONYMOUS") return;
  if (!created) {
    // 64 random bits that collide: refuse rather than share someone's data.
    sasl_failure(sasl::SaslError::kTemporaryAuthFailure, {}, false);
    return;
  }
  jid_ = *Jid::parse(bare);
  if (!trace.empty()) spdlog::info("c2s {}: guest {} trace '{}'", t_.peer_address(), bare, trace);
  sasl_success("ANONYMOUS", {});
}

void C2sStream::sasl_continue_scram(std::string username, std::optional<sasl::ScramCredentials> creds) {
  // Unknown users get a made-up salt and fail only at the proof, so that usernames cannot be probed.
  if (!username.empty()) jid_ = *Jid::from_parts(username, host_);
  else jid_ = Jid();
  send_sasl("challenge", util::base64_encode(scram_->server_first(creds, services_.config().scram_iterations)));
}

void C2sStream::sasl_check_plain(sasl::PlainMessage msg, std::optional<sasl::ScramCredentials> creds) {
  if (!creds || !sasl::verify_password(sasl::ScramHash::kSha256, *creds, msg.password)) {
    sasl_failure(sasl::SaslError::kNotAuthorized);
    return;
  }
  if (!msg.authzid.empty()) {
    auto authz = Jid::parse(msg.authzid);
    if (!authz || authz->bare() != *Jid::from_parts(msg.authcid, host_)) {
      sasl_failure(sasl::SaslError::kInvalidAuthzid);
      return;
    }
  }
  jid_ = *Jid::from_parts(msg.authcid, host_);
  sasl_success("PLAIN", {});
}

void C2sStream::sasl_success(std::string mechanism, const std::string& additional) {
  if (jid_.empty()) {
    sasl_failure(sasl::SaslError::kNotAuthorized);
    return;
  }
  if (scram_ && !scram_->authzid().empty()) {
    // RFC 6120 §6.3.8: an authorization identity other than the account itself is refused.
    auto authz = Jid::parse(scram_->authzid());
    if (!authz || authz->bare() != jid_.bare()) {
      sasl_failure(sasl::SaslError::kInvalidAuthzid);
      return;
    }
  }
  if (sasl2_) {
    sasl2_succeeded(additional);
    return;
  }
  scram_.reset();
  mechanism_.clear();
  authenticated_ = true;
  session_->set_authenticated(jid_.bare());
  state_ = State::kHeader;
  spdlog::info("c2s {}: authenticated {} with {}", t_.peer_address(), jid_.str(), mechanism);
  send_sasl("success", additional.empty() ? std::string() : util::base64_encode(additional));
  t_.restart();
}

std::string C2sStream::downgrade_protection(sasl::ScramHash hash) const {
  // Both profiles advertise the same SCRAM and PLAIN list here (FAST's HT mechanisms are listed apart,
  // in SASL2's <inline/>), and XEP-0440 bindings exactly when the transport is secure and has some.
  std::optional<std::vector<std::string>> types;
  auto bindings = t_.channel_bindings();
  if (t_.secure() && !bindings.empty()) {
    types.emplace();
    for (const auto& [type, data] : bindings) types->push_back(type);
  }
  return sasl::downgrade_protection_hash(hash, offered_mechanisms(), std::move(types));
}

void C2sStream::sasl_abort() {
  if (mechanism_.empty() || lookup_pending_) {
    fail_stream(StreamErrorCondition::kPolicyViolation, "no authentication to abort now");
    return;
  }
  sasl_failure(sasl::SaslError::kAborted, {}, false);
}

}  // namespace causerie
