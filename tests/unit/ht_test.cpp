// The HT SASL mechanisms of XEP-0484 FAST (core/sasl/ht.hpp): names, token shape, the initiator and
// responder hashes against values computed with Python's hmac module, and the RFC 2104 property the
// server relies on to keep only SHA-256(token).
#include <gtest/gtest.h>

#include <cctype>

#include "core/sasl/ht.hpp"
#include "core/util/encoding.hpp"

using namespace causerie;
using namespace causerie::sasl;

namespace {

TEST(Ht, MechanismNamesAndBindings) {
  struct Row {
    const char* name;
    HtBinding binding;
    const char* cb;
  };
  for (const Row& r : {Row{"HT-SHA-256-NONE", HtBinding::kNone, ""}, Row{"HT-SHA-256-UNIQ", HtBinding::kUnique, "tls-unique"},
                       Row{"HT-SHA-256-ENDP", HtBinding::kEndpoint, "tls-server-end-point"},
                       Row{"HT-SHA-256-EXPR", HtBinding::kExporter, "tls-exporter"}}) {
    auto b = parse_ht_mechanism(r.name);
    ASSERT_TRUE(b) << r.name;
    EXPECT_EQ(*b, r.binding);
    EXPECT_STREQ(ht_mechanism_name(*b), r.name);
    EXPECT_STREQ(ht_channel_binding_type(*b), r.cb);
  }
  for (const char* bad : {"HT-SHA-1-NONE", "ht-sha-256-none", "HT-SHA-256", "SCRAM-SHA-256", ""})
    EXPECT_FALSE(parse_ht_mechanism(bad)) << bad;
}

TEST(Ht, TokensAreLongerThanTheHashBlockAndRandom) {
  std::string a = make_fast_token(), b = make_fast_token();
  EXPECT_EQ(a.size(), 96u);
  EXPECT_GT(a.size(), 64u);  // SHA-256's block: see ht.hpp
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << a;
  EXPECT_EQ(fast_token_key(a).size(), 32u);
}

TEST(Ht, HashesMatchAnIndependentHmac) {
  std::string token(80, 'T');
  EXPECT_EQ(util::hex_encode(ht_initiator_hash(token, "")),
            "bff422da13a74e805de64a81ce66d6b5cd14543bde1b13287377e713a2cbdec2");
  EXPECT_EQ(util::hex_encode(ht_responder_hash(token, std::string("\x01\x02", 2))),
            "e2bf471f34960029eab5555e8fa6e3f1679b2aebda5d4051b1029d65a0ef7c95");
}

TEST(Ht, TheStoredHashVerifiesWhatTheTokenSigned) {
  std::string token = make_fast_token();
  std::string key = fast_token_key(token);
  std::string cb = "channel binding data";
  // RFC 2104 §2: a key longer than the block is hashed first, so both give the same HMAC.
  EXPECT_EQ(ht_initiator_hash(token, cb), ht_initiator_hash(key, cb));
  EXPECT_EQ(ht_responder_hash(token, cb), ht_responder_hash(key, cb));
  std::string proof = ht_initiator_hash(token, cb);
  EXPECT_TRUE(ht_verify(key, cb, proof));
  EXPECT_FALSE(ht_verify(key, "other binding", proof));                   // another TLS channel
  EXPECT_FALSE(ht_verify(fast_token_key(make_fast_token()), cb, proof));  // another token
  EXPECT_FALSE(ht_verify(key, cb, ht_responder_hash(token, cb)));         // the server's own answer replayed
  EXPECT_FALSE(ht_verify(key, cb, proof.substr(0, 31)));
}

TEST(Ht, InitialResponse) {
  std::string hash(32, '\x07');
  auto ok = parse_ht_initial_response("juliet" + std::string(1, '\0') + hash);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->authcid, "juliet");
  EXPECT_EQ(ok->initiator_hash, hash);
  EXPECT_FALSE(parse_ht_initial_response("juliet"));                                   // no NUL
  EXPECT_FALSE(parse_ht_initial_response(std::string(1, '\0') + hash));                // no authcid
  EXPECT_FALSE(parse_ht_initial_response("juliet" + std::string(1, '\0') + hash + "x"));  // wrong length
  EXPECT_FALSE(parse_ht_initial_response("juliet" + std::string(1, '\0')));
}

}  // namespace
