// EcKey: a P-256 key (RFC 8291 §3.1 ECDH, RFC 8292 §2 ES256) held as an OpenSSL 3 EVP_PKEY, made from or
// turned into the raw forms Web Push uses: the uncompressed point (65 octets, X9.62 §4.3.6) for public
// keys and the 32-octet scalar for private ones.
//
// Thread rules: a value; const methods may be used from any thread at once (EVP_PKEY is reference
// counted and read-only here; each operation makes its own EVP_PKEY_CTX).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace causerie::modules::webpush {

class EcKey {
 public:
  // A fresh key pair (the server's VAPID key; the per-message ephemeral key of RFC 8291 §3.1).
  static EcKey generate();
  // A private key from its scalar (32 octets); nullopt when it is not a valid P-256 scalar.
  static std::optional<EcKey> from_private(std::string_view scalar);
  // A public key from its uncompressed point; nullopt unless it is 65 octets, 0x04 first, on the curve.
  static std::optional<EcKey> from_public(std::string_view point);

  bool has_private() const { return has_private_; }
  std::string public_point() const;    // 65 octets
  std::string private_scalar() const;  // 32 octets; empty for a public key
  // ECDH (SEC 1 §3.3.1): the X coordinate of the shared point, 32 octets. Needs a private key.
  std::string ecdh(const EcKey& peer) const;
  // ECDSA P-256 with SHA-256 over `data`, as JWS wants it (RFC 7518 §3.4): r || s, 32 octets each.
  std::string sign_es256(std::string_view data) const;
  // Checks an r || s signature (used by tests and by nobody else needing the private key).
  bool verify_es256(std::string_view data, std::string_view signature) const;

  EVP_PKEY* get() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  EcKey(EVP_PKEY* k, bool priv) : key_(k, Free{}), has_private_(priv) {}
  std::shared_ptr<EVP_PKEY> key_;
  bool has_private_ = false;
};

}  // namespace causerie::modules::webpush
