// Web Push crypto (src/modules/webpush/): the aes128gcm coding against RFC 8188 §3.1, the message
// encryption against every value of RFC 8291 §5 (keys, intermediates, body), a fresh message decrypted
// the way a user agent does, the 4096-octet bound, and VAPID JWTs (RFC 8292) checked with the public key.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include "core/util/encoding.hpp"
#include "modules/webpush/aes128gcm.hpp"
#include "modules/webpush/endpoint.hpp"
#include "modules/webpush/message_encryption.hpp"
#include "modules/webpush/vapid.hpp"

using namespace causerie;
using namespace causerie::modules::webpush;

namespace {

std::string b64(std::string_view s) {
  auto d = util::base64url_decode(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or("");
}

// RFC 8291 §5.
constexpr const char* kPlaintext = "When I grow up, I want to be a watermelon";
constexpr const char* kAsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
constexpr const char* kAsPublic =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
constexpr const char* kUaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
constexpr const char* kUaPublic =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr const char* kSalt = "DGv6ra1nlYgDCS1FRnbzlw";
constexpr const char* kAuth = "BTBZMqHH6r4Tts7J_aSIgg";
constexpr const char* kBody =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl"
    "7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

// What a user agent does with a push message (RFC 8291 §3, RFC 8188 §2), written apart from the
// encoder: the plaintext, or nullopt when anything fails to authenticate.
std::optional<std::string> ua_decrypt(std::string_view body, const EcKey& ua, std::string_view auth) {
  if (body.size() < 21) return std::nullopt;
  std::string salt(body.substr(0, 16));
  size_t idlen = static_cast<unsigned char>(body[20]);
  if (body.size() < 21 + idlen + 17) return std::nullopt;
  auto as = EcKey::from_public(body.substr(21, idlen));
  if (!as) return std::nullopt;
  std::string prk_key = hkdf_extract(auth, ua.ecdh(*as));
  std::string info = std::string("WebPush: info", 13) + '\0' + ua.public_point() + as->public_point();
  std::string ikm = hkdf_expand(prk_key, info, 32);
  ContentKeys k = aes128gcm_keys(salt, ikm);
  std::string_view record = body.substr(21 + idlen);
  std::string_view ct = record.substr(0, record.size() - 16), tag = record.substr(record.size() - 16);
  std::string plain(ct.size(), '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0, fin = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, reinterpret_cast<const unsigned char*>(k.cek.data()),
                               reinterpret_cast<const unsigned char*>(k.nonce.data())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(plain.data()), &len,
                              reinterpret_cast<const unsigned char*>(ct.data()), static_cast<int>(ct.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<char*>(tag.data())) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(plain.data()) + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  // §2: strip the padding zeros back to the delimiter, which must be 0x02 in the last record.
  while (!plain.empty() && plain.back() == '\0') plain.pop_back();
  if (plain.empty() || plain.back() != '\x02') return std::nullopt;
  plain.pop_back();
  return plain;
}

}  // namespace

TEST(WebPushCrypto, Base64urlRoundTripsAndRefusesStandardAlphabet) {
  EXPECT_EQ(util::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(util::base64url_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(util::base64url_decode("-_8="), std::string("\xfb\xff"));
  EXPECT_FALSE(util::base64url_decode("+/8"));
  EXPECT_FALSE(util::base64url_decode("A"));
}

TEST(WebPushCrypto, Aes128gcmMatchesRfc8188Section31) {
  ContentKeys k = aes128gcm_keys(b64("I1BsxtFttlv3u_Oo94xnmw"), b64("yqdlZ-tYemfogSmv7Ws5PQ"));
  EXPECT_EQ(util::base64url_encode(k.prk), "zyeH5phsIsgUyd4oiSEIy35x-gIi4aM7y0hCF8mwn9g");
  EXPECT_EQ(util::base64url_encode(k.cek), "_wniytB-ofscZDh4tbSjHw");
  EXPECT_EQ(util::base64url_encode(k.nonce), "Bcs8gkIRKLI8GeI8");
  Aes128gcmParams p;
  p.ikm = b64("yqdlZ-tYemfogSmv7Ws5PQ");
  p.salt = b64("I1BsxtFttlv3u_Oo94xnmw");
  p.record_size = 4096;
  auto body = aes128gcm_encrypt_record(p, "I am the walrus");
  ASSERT_TRUE(body);
  EXPECT_EQ(util::base64url_encode(*body), "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg");
}

TEST(WebPushCrypto, Aes128gcmRecordSizeBoundsThePlaintextAndPadding) {
  Aes128gcmParams p;
  p.ikm = std::string(16, 'k');
  p.salt = std::string(16, 's');
  p.record_size = 16 + 4;  // four octets of data, the delimiter and the tag need 21
  EXPECT_FALSE(aes128gcm_encrypt_record(p, "abcd"));
  p.record_size = 17 + 4;  // data + delimiter + tag: exactly full
  EXPECT_TRUE(aes128gcm_encrypt_record(p, "abcd"));
  p.padding = 1;
  EXPECT_FALSE(aes128gcm_encrypt_record(p, "abcd"));
  p.record_size = 17;  // below the minimum of §2.1
  p.padding = 0;
  EXPECT_FALSE(aes128gcm_encrypt_record(p, ""));
  p.record_size = 4096;
  p.salt = "short";
  EXPECT_FALSE(aes128gcm_encrypt_record(p, "abcd"));
}

TEST(WebPushCrypto, KeysFromRawFormsMatchRfc8291Section5) {
  auto as = EcKey::from_private(b64(kAsPrivate));
  auto ua = EcKey::from_private(b64(kUaPrivate));
  ASSERT_TRUE(as && ua);
  EXPECT_EQ(util::base64url_encode(as->public_point()), kAsPublic);
  EXPECT_EQ(util::base64url_encode(ua->public_point()), kUaPublic);
  EXPECT_EQ(util::base64url_encode(as->private_scalar()), kAsPrivate);
  auto ua_pub = EcKey::from_public(b64(kUaPublic));
  ASSERT_TRUE(ua_pub);
  EXPECT_FALSE(ua_pub->has_private());
  EXPECT_EQ(util::base64url_encode(as->ecdh(*ua_pub)), "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs");
  EXPECT_EQ(as->ecdh(*ua_pub), ua->ecdh(*EcKey::from_public(b64(kAsPublic))));
}

TEST(WebPushCrypto, PublicKeysOffTheCurveOrMalformedAreRefused) {
  std::string point = b64(kUaPublic);
  EXPECT_FALSE(EcKey::from_public(point.substr(0, 64)));
  std::string compressed = point;
  compressed[0] = 0x02;
  EXPECT_FALSE(EcKey::from_public(compressed));
  std::string off = point;
  off[64] = static_cast<char>(off[64] ^ 1);  // y changed: no longer on the curve
  EXPECT_FALSE(EcKey::from_public(off));
  EXPECT_FALSE(EcKey::from_private(std::string(32, '\0')));
  EXPECT_FALSE(EcKey::from_private(std::string(32, '\xff')));  // above the group order
}

TEST(WebPushCrypto, MessageEncryptionMatchesRfc8291Section5) {
  auto as = EcKey::from_private(b64(kAsPrivate));
  auto ua_pub = EcKey::from_public(b64(kUaPublic));
  ASSERT_TRUE(as && ua_pub);
  std::string ikm = webpush_ikm(*as, *ua_pub, b64(kAuth));
  EXPECT_EQ(util::base64url_encode(ikm), "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg");
  ContentKeys k = aes128gcm_keys(b64(kSalt), ikm);
  EXPECT_EQ(util::base64url_encode(k.prk), "09_eUZGrsvxChDCGRCdkLiDXrReGOEVeSCdCcPBSJSc");
  EXPECT_EQ(util::base64url_encode(k.cek), "oIhVW04MRdy2XN9CiKLxTg");
  EXPECT_EQ(util::base64url_encode(k.nonce), "4h_95klXJ5E_qnoN");
  EncryptionInputs in{*ua_pub, b64(kAuth), *as, b64(kSalt), 0};
  auto body = encrypt_message(in, kPlaintext);
  ASSERT_TRUE(body);
  EXPECT_EQ(util::base64url_encode(*body), kBody);
  // And the user agent's side reads the RFC's body.
  EXPECT_EQ(ua_decrypt(b64(kBody), *EcKey::from_private(b64(kUaPrivate)), b64(kAuth)), std::string(kPlaintext));
}

TEST(WebPushCrypto, FreshMessagesDecryptWithTheSubscriptionKeysAndDifferEachTime) {
  EcKey ua = EcKey::generate();
  std::string auth = util::random_bytes(16);
  auto ua_pub = EcKey::from_public(ua.public_point());
  ASSERT_TRUE(ua_pub);
  auto a = encrypt_message(*ua_pub, auth, R"({"kind":"message"})");
  auto b = encrypt_message(*ua_pub, auth, R"({"kind":"message"})");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // a fresh salt and ephemeral key each time
  EXPECT_EQ(ua_decrypt(*a, ua, auth), std::string(R"({"kind":"message"})"));
  EXPECT_FALSE(ua_decrypt(*a, ua, util::random_bytes(16)));  // the auth secret is part of the key
  EncryptionInputs padded{*ua_pub, auth, EcKey::generate(), util::random_bytes(16), 100};
  auto p = encrypt_message(padded, "x");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 86u + 1 + 1 + 100 + 16);
  EXPECT_EQ(ua_decrypt(*p, ua, auth), std::string("x"));
}

TEST(WebPushCrypto, MessagesLargerThan4096OctetsAreRefused) {
  EcKey ua = EcKey::generate();
  std::string auth(16, 'a');
  auto max = encrypt_message(ua, auth, std::string(kMaxPlaintext, 'x'));
  ASSERT_TRUE(max);
  EXPECT_EQ(max->size(), kMaxEncryptedSize);
  EXPECT_FALSE(encrypt_message(ua, auth, std::string(kMaxPlaintext + 1, 'x')));
  EXPECT_FALSE(encrypt_message(ua, "short", "x"));
}

TEST(WebPushCrypto, VapidJwtIsSignedForTheOriginAndVerifies) {
  EcKey key = EcKey::generate();
  VapidClaims c{"https://push.example.net", std::chrono::system_clock::time_point(std::chrono::seconds(1453523768)),
                "mailto:push@example.com"};
  std::string auth = vapid_authorization(key, c);
  ASSERT_TRUE(auth.starts_with("vapid t="));
  size_t comma = auth.find(", k=");
  ASSERT_NE(comma, std::string::npos);
  std::string jwt = auth.substr(8, comma - 8);
  EXPECT_EQ(b64(auth.substr(comma + 4)), key.public_point());
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  ASSERT_NE(d1, d2);
  EXPECT_EQ(b64(jwt.substr(0, d1)), R"({"typ":"JWT","alg":"ES256"})");
  // RFC 8292 §2.4's example claims, in this order.
  EXPECT_EQ(b64(jwt.substr(d1 + 1, d2 - d1 - 1)),
            R"({"aud":"https://push.example.net","exp":1453523768,"sub":"mailto:push@example.com"})");
  std::string sig = b64(jwt.substr(d2 + 1));
  EXPECT_EQ(sig.size(), 64u);
  auto pub = EcKey::from_public(key.public_point());
  EXPECT_TRUE(pub->verify_es256(jwt.substr(0, d2), sig));
  EXPECT_FALSE(pub->verify_es256(jwt.substr(0, d2) + "x", sig));
  EXPECT_FALSE(EcKey::generate().verify_es256(jwt.substr(0, d2), sig));
}

TEST(WebPushCrypto, JsonStringsEscapeWhatJsonRequires) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
}

TEST(WebPushEndpoint, OriginsAndTargetsOfPushResources) {
  struct Case {
    const char* url;
    const char* origin;
    const char* host;
    uint16_t port;
    const char* target;
  } cases[] = {
      {"https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV", "https://push.example.net", "push.example.net",
       443, "/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV"},
      {"https://Updates.Push.Services.Mozilla.com:443/wpush/v2/gAAA?x=1", "https://updates.push.services.mozilla.com",
       "updates.push.services.mozilla.com", 443, "/wpush/v2/gAAA?x=1"},
      {"http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1", 8080, "/"},
      {"https://[::1]:9443/p", "https://[::1]:9443", "::1", 9443, "/p"},
  };
  for (const auto& c : cases) {
    auto e = PushEndpoint::parse(c.url);
    ASSERT_TRUE(e) << c.url;
    EXPECT_EQ(e->origin(), c.origin);
    EXPECT_EQ(e->host, c.host);
    EXPECT_EQ(e->port, c.port);
    EXPECT_EQ(e->target, c.target);
  }
  for (const char* bad : {"ftp://x/", "https://", "https://user@host/", "https://host:0/", "https://host:99999/",
                          "https://ho st/", "https://host/#frag", "//host/p", "https://h_st/"}) {
    std::string why;
    EXPECT_FALSE(PushEndpoint::parse(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}
