#include "modules/webpush/ec_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <stdexcept>

namespace causerie::modules::webpush {

namespace {

constexpr const char* kGroup = "prime256v1";

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_PKEY_CTX, CtxFree>;

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("webpush: OpenSSL failed: ") + what); }

// The key in `params` (group and public point, and the scalar when `priv`), or nullptr.
EVP_PKEY* from_params(const std::string& point, const BIGNUM* scalar) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (!bld) fail("OSSL_PARAM_BLD_new");
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  if (scalar) OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, scalar);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  OSSL_PARAM_BLD_free(bld);
  if (!params) fail("OSSL_PARAM_BLD_to_param");
  Ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, scalar ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
    key = nullptr;
  OSSL_PARAM_free(params);
  if (!key) return nullptr;
  // fromdata does not check that the point is on the curve: an attacker's point would leak the scalar
  // through ECDH (invalid-curve attacks).
  Ctx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return key;
}

}  // namespace

void EcKey::Free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

EcKey EcKey::generate() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!k) fail("EVP_PKEY_Q_keygen");
  return EcKey(k, true);
}

std::optional<EcKey> EcKey::from_private(std::string_view scalar) {
  if (scalar.size() != 32) return std::nullopt;
  BIGNUM* d = BN_bin2bn(reinterpret_cast<const unsigned char*>(scalar.data()), 32, nullptr);
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT* q = group ? EC_POINT_new(group) : nullptr;
  std::string point(65, '\0');
  bool ok = d && q && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(group)) < 0 &&
            EC_POINT_mul(group, q, d, nullptr, nullptr, nullptr) == 1 &&
            EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, reinterpret_cast<unsigned char*>(point.data()),
                               point.size(), nullptr) == 65;
  EVP_PKEY* key = ok ? from_params(point, d) : nullptr;
  EC_POINT_free(q);
  EC_GROUP_free(group);
  BN_clear_free(d);
  if (!key) return std::nullopt;
  return EcKey(key, true);
}

std::optional<EcKey> EcKey::from_public(std::string_view point) {
  if (point.size() != 65 || point[0] != 0x04) return std::nullopt;
  EVP_PKEY* key = from_params(std::string(point), nullptr);
  if (!key) return std::nullopt;
  return EcKey(key, false);
}

std::string EcKey::public_point() const {
  std::string out(65, '\0');
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      reinterpret_cast<unsigned char*>(out.data()), out.size(), &len) != 1 ||
      len != 65)
    fail("public point");
  return out;
}

std::string EcKey::private_scalar() const {
  if (!has_private_) return {};
  BIGNUM* d = nullptr;
  if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) fail("private scalar");
  std::string out(32, '\0');
  int n = BN_bn2binpad(d, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_clear_free(d);
  if (n != 32) fail("private scalar size");
  return out;
}

std::string EcKey::ecdh(const EcKey& peer) const {
  Ctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    fail("ECDH");
  std::string out(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1) fail("ECDH");
  out.resize(len);
  return out;
}

std::string EcKey::sign_es256(std::string_view data) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  std::string der;
  bool ok = md && EVP_DigestSignInit_ex(md, nullptr, "SHA256", nullptr, nullptr, key_.get(), nullptr) == 1 &&
            EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(md);
  if (!ok) fail("ES256 sign");
  // DER SEQUENCE { r, s } → the fixed-size r || s of RFC 7518 §3.4.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) fail("ES256 signature");
  std::string out(64, '\0');
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

bool EcKey::verify_es256(std::string_view data, std::string_view signature) const {
  if (signature.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return false;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md && EVP_DigestVerifyInit_ex(md, nullptr, "SHA256", nullptr, nullptr, key_.get(), nullptr) == 1 &&
            EVP_DigestVerify(md, der, static_cast<size_t>(der_len), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  return ok;
}

}  // namespace causerie::modules::webpush
