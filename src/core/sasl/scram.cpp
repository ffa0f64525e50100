#include "core/sasl/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stringprep.h>

#include <cstring>

#include "core/util/encoding.hpp"

namespace causerie::sasl {

namespace {

const EVP_MD* md(ScramHash h) { return h == ScramHash::kSha1 ? EVP_sha1() : EVP_sha256(); }

std::string hmac(ScramHash h, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md(h), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string digest(ScramHash h, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md(h), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string salted_password(ScramHash h, std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(static_cast<size_t>(EVP_MD_get_size(md(h))), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    static_cast<int>(iterations), md(h), static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// RFC 5802 §5.1: saslname escapes ',' as =2C and '=' as =3D; any other '=' is malformed.
std::optional<std::string> decode_saslname(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') return std::nullopt;
    if (s[i] == '=') {
      if (s.substr(i, 3) == "=2C") out.push_back(',');
      else if (s.substr(i, 3) == "=3D") out.push_back('=');
      else return std::nullopt;
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Splits "a=1,b=2" into attribute/value pairs; nullopt when a part is not "x=…".
std::optional<std::vector<std::pair<char, std::string_view>>> split_attrs(std::string_view s) {
  std::vector<std::pair<char, std::string_view>> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string_view part = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool printable_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (unsigned char c : n)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

}  // namespace

const char* to_string(SaslError e) {
  switch (e) {
    case SaslError::kNotAuthorized: return "not-authorized";
    case SaslError::kMalformedRequest: return "malformed-request";
    case SaslError::kInvalidAuthzid: return "invalid-authzid";
    case SaslError::kEncryptionRequired: return "encryption-required";
    case SaslError::kAborted: return "aborted";
    case SaslError::kInvalidMechanism: return "invalid-mechanism";
    case SaslError::kTemporaryAuthFailure: return "temporary-auth-failure";
    case SaslError::kCredentialsExpired: return "credentials-expired";
    case SaslError::kAccountDisabled: return "account-disabled";
  }
  return "not-authorized";
}

std::optional<std::string> saslprep(std::string_view password) {
  bool ascii = true;
  for (unsigned char c : password) {
    if (c >= 0x80) ascii = false;
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  }
  if (ascii) return std::string(password);
  std::string buf(password);
  buf.resize(password.size() * 4 + 16, '\0');
  if (stringprep(buf.data(), buf.size(), STRINGPREP_NO_UNASSIGNED, stringprep_saslprep) != STRINGPREP_OK)
    return std::nullopt;
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

ScramCredentials derive_scram_credentials(ScramHash h, std::string_view password, std::string_view salt,
                                          uint32_t iterations) {
  std::string prepared = saslprep(password).value_or(std::string(password));
  std::string salted = salted_password(h, prepared, salt, iterations);
  ScramCredentials c;
  c.salt = std::string(salt);
  c.iterations = iterations;
  c.stored_key = digest(h, hmac(h, salted, "Client Key"));
  c.server_key = hmac(h, salted, "Server Key");
  return c;
}

bool verify_password(ScramHash h, const ScramCredentials& creds, std::string_view password) {
  if (creds.stored_key.empty()) return false;
  ScramCredentials d = derive_scram_credentials(h, password, creds.salt, creds.iterations);
  return d.stored_key.size() == creds.stored_key.size() &&
         CRYPTO_memcmp(d.stored_key.data(), creds.stored_key.data(), d.stored_key.size()) == 0;
}

ScramServer::ScramServer(ScramHash h, bool plus, std::vector<std::pair<std::string, std::string>> channel_bindings,
                         std::string server_nonce)
    : hash_(h), plus_(plus), bindings_(std::move(channel_bindings)), server_nonce_(std::move(server_nonce)) {
  if (server_nonce_.empty()) server_nonce_ = util::random_id(18);
}

tl::expected<std::string, SaslError> ScramServer::receive_client_first(std::string_view msg) {
  if (step_ != 0) return tl::unexpected(SaslError::kMalformedRequest);
  step_ = 1;
  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  size_t c1 = msg.find(',');
  if (c1 == std::string_view::npos) return tl::unexpected(SaslError::kMalformedRequest);
  size_t c2 = msg.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return tl::unexpected(SaslError::kMalformedRequest);
  std::string_view flag = msg.substr(0, c1);
  std::string_view authz = msg.substr(c1 + 1, c2 - c1 - 1);
  gs2_header_ = std::string(msg.substr(0, c2 + 1));
  client_first_bare_ = std::string(msg.substr(c2 + 1));

  if (flag == "n") {
    if (plus_) return tl::unexpected(SaslError::kMalformedRequest);
  } else if (flag == "y") {
    // RFC 5802 §6: the client could bind but thinks we cannot. We can (and said so): a downgrade.
    if (plus_ || !bindings_.empty()) return tl::unexpected(SaslError::kNotAuthorized);
  } else if (flag.starts_with("p=")) {
    if (!plus_) return tl::unexpected(SaslError::kMalformedRequest);
    std::string_view type = flag.substr(2);
    bool found = false;
    for (const auto& [name, data] : bindings_) {
      if (name == type) {
        cb_data_ = data;
        found = true;
      }
    }
    if (!found) return tl::unexpected(SaslError::kNotAuthorized);
  } else {
    return tl::unexpected(SaslError::kMalformedRequest);
  }
  if (!authz.empty()) {
    if (!authz.starts_with("a=")) return tl::unexpected(SaslError::kMalformedRequest);
    auto a = decode_saslname(authz.substr(2));
    if (!a || a->empty()) return tl::unexpected(SaslError::kMalformedRequest);
    authzid_ = *a;
  }
  auto attrs = split_attrs(client_first_bare_);
  if (!attrs || attrs->size() < 2) return tl::unexpected(SaslError::kMalformedRequest);
  // reserved-mext ("m=") is not supported: RFC 5802 §5.1 says to fail.
  if ((*attrs)[0].first != 'n' || (*attrs)[1].first != 'r') return tl::unexpected(SaslError::kMalformedRequest);
  auto user = decode_saslname((*attrs)[0].second);
  if (!user || user->empty()) return tl::unexpected(SaslError::kMalformedRequest);
  if (!printable_nonce((*attrs)[1].second)) return tl::unexpected(SaslError::kMalformedRequest);
  nonce_ = std::string((*attrs)[1].second) + server_nonce_;
  return *user;
}

std::string ScramServer::server_first(const std::optional<ScramCredentials>& creds, uint32_t default_iterations) {
  step_ = 2;
  creds_ = creds;
  std::string salt = creds ? creds->salt : util::random_bytes(16);
  uint32_t iterations = creds ? creds->iterations : default_iterations;
  server_first_ = "r=" + nonce_ + ",s=" + util::base64_encode(salt) + ",i=" + std::to_string(iterations);
  // RFC 5802 §5.1 allows extensions after i; XEP-0474 puts its hash there, inside the AuthMessage.
  if (!ssdp_hash_.empty()) server_first_ += ",h=" + ssdp_hash_;
  return server_first_;
}

tl::expected<std::string, SaslError> ScramServer::receive_client_final(std::string_view msg) {
  if (step_ != 2) return tl::unexpected(SaslError::kMalformedRequest);
  step_ = 3;
  size_t proof_at = msg.rfind(",p=");
  if (proof_at == std::string_view::npos) return tl::unexpected(SaslError::kMalformedRequest);
  std::string_view without_proof = msg.substr(0, proof_at);
  auto attrs = split_attrs(without_proof);
  if (!attrs || attrs->size() < 2 || (*attrs)[0].first != 'c' || (*attrs)[1].first != 'r')
    return tl::unexpected(SaslError::kMalformedRequest);
  auto cbind = util::base64_decode((*attrs)[0].second);
  if (!cbind || *cbind != gs2_header_ + cb_data_) return tl::unexpected(SaslError::kNotAuthorized);
  if ((*attrs)[1].second != nonce_) return tl::unexpected(SaslError::kNotAuthorized);
  auto proof = util::base64_decode(msg.substr(proof_at + 3));
  if (!proof) return tl::unexpected(SaslError::kMalformedRequest);
  if (!creds_) return tl::unexpected(SaslError::kNotAuthorized);

  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  std::string client_signature = hmac(hash_, creds_->stored_key, auth_message);
  if (proof->size() != client_signature.size()) return tl::unexpected(SaslError::kNotAuthorized);
  std::string client_key(client_signature.size(), '\0');
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  std::string stored = digest(hash_, client_key);
  if (stored.size() != creds_->stored_key.size() ||
      CRYPTO_memcmp(stored.data(), creds_->stored_key.data(), stored.size()) != 0)
    return tl::unexpected(SaslError::kNotAuthorized);
  return "v=" + util::base64_encode(hmac(hash_, creds_->server_key, auth_message));
}

std::optional<PlainMessage> parse_plain(std::string_view m) {
  size_t z1 = m.find('\0');
  if (z1 == std::string_view::npos) return std::nullopt;
  size_t z2 = m.find('\0', z1 + 1);
  if (z2 == std::string_view::npos || m.find('\0', z2 + 1) != std::string_view::npos) return std::nullopt;
  PlainMessage p{std::string(m.substr(0, z1)), std::string(m.substr(z1 + 1, z2 - z1 - 1)),
                 std::string(m.substr(z2 + 1))};
  if (p.authcid.empty() || p.password.empty()) return std::nullopt;
  return p;
}

}  // namespace causerie::sasl
