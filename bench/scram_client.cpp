#include "scram_client.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>

#include "core/util/encoding.hpp"

namespace causerie::bench {

namespace {
const EVP_MD* md(Hash h) { return h == Hash::kSha1 ? EVP_sha1() : EVP_sha256(); }

std::string hmac(Hash h, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(md(h), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string digest(Hash h, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md(h), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

// RFC 5802 §5.1: ',' and '=' in a username are escaped.
std::string escape_name(std::string_view u) {
  std::string r;
  for (char c : u) {
    if (c == ',') r += "=2C";
    else if (c == '=') r += "=3D";
    else r += c;
  }
  return r;
}

std::string_view field(std::string_view msg, char key) {
  size_t pos = 0;
  while (pos < msg.size()) {
    size_t end = msg.find(',', pos);
    if (end == std::string_view::npos) end = msg.size();
    if (end - pos >= 2 && msg[pos] == key && msg[pos + 1] == '=') return msg.substr(pos + 2, end - pos - 2);
    pos = end + 1;
  }
  return {};
}
}  // namespace

std::string b64_encode(std::string_view raw) { return util::base64_encode(raw); }
std::optional<std::string> b64_decode(std::string_view text) { return util::base64_decode(text); }

ClientKeys cached_keys(Hash h, std::string_view password, std::string_view salt, unsigned iterations) {
  using Key = std::tuple<int, std::string, std::string, unsigned>;
  static std::mutex mu;
  static std::map<Key, ClientKeys> cache;
  Key k{static_cast<int>(h), std::string(password), std::string(salt), iterations};
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(k); it != cache.end()) return it->second;
  }
  unsigned char salted[EVP_MAX_MD_SIZE];
  int len = EVP_MD_get_size(md(h));
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    static_cast<int>(iterations), md(h), len, salted);
  std::string sp(reinterpret_cast<char*>(salted), static_cast<size_t>(len));
  ClientKeys keys;
  keys.client_key = hmac(h, sp, "Client Key");
  keys.stored_key = digest(h, keys.client_key);
  keys.server_key = hmac(h, sp, "Server Key");
  std::lock_guard lock(mu);
  cache.emplace(std::move(k), keys);
  return keys;
}

ScramClient::ScramClient(Hash h, std::string user, std::string password)
    : hash_(h), user_(std::move(user)), password_(std::move(password)) {}

std::string ScramClient::client_first() {
  unsigned char raw[18];
  RAND_bytes(raw, sizeof raw);
  nonce_ = b64_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
  client_first_bare_ = "n=" + escape_name(user_) + ",r=" + nonce_;
  return "n,," + client_first_bare_;
}

std::optional<std::string> ScramClient::client_final(std::string_view server_first) {
  std::string_view r = field(server_first, 'r'), s = field(server_first, 's'), i = field(server_first, 'i');
  if (r.size() <= nonce_.size() || r.substr(0, nonce_.size()) != nonce_ || s.empty() || i.empty()) return std::nullopt;
  auto salt = b64_decode(s);
  unsigned iterations = static_cast<unsigned>(std::strtoul(std::string(i).c_str(), nullptr, 10));
  if (!salt || iterations == 0) return std::nullopt;
  ClientKeys keys = cached_keys(hash_, password_, *salt, iterations);
  std::string without_proof = "c=biws,r=" + std::string(r);
  std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  std::string signature = hmac(hash_, keys.stored_key, auth_message);
  std::string proof = keys.client_key;
  for (size_t k = 0; k < proof.size(); ++k) proof[k] = static_cast<char>(proof[k] ^ signature[k]);
  expected_server_signature_ = hmac(hash_, keys.server_key, auth_message);
  return without_proof + ",p=" + b64_encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final) const {
  auto v = b64_decode(field(server_final, 'v'));
  return v && *v == expected_server_signature_;
}

}  // namespace causerie::bench
