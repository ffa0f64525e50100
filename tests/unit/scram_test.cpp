// SCRAM against the test vectors of RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256), plus channel binding
// and failure cases.
#include <gtest/gtest.h>

#include "core/sasl/scram.hpp"
#include "core/util/encoding.hpp"

using namespace causerie;
using namespace causerie::sasl;

namespace {

struct Vector {
  ScramHash hash;
  std::string salt_b64, client_first, server_nonce, server_first, client_final, server_final;
};

const Vector kSha1{ScramHash::kSha1, "QSXCR+Q6sek8bf92", "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                   "3rfcNHYJY1ZVvWVs7j",
                   "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
                   "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
                   "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="};
const Vector kSha256{ScramHash::kSha256, "W22ZaJ0SNY7soEsUEjb6gQ==", "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
                     "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                     "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="};

void run_vector(const Vector& v) {
  auto salt = util::base64_decode(v.salt_b64);
  ASSERT_TRUE(salt);
  ScramCredentials creds = derive_scram_credentials(v.hash, "pencil", *salt, 4096);
  ScramServer server(v.hash, false, {}, v.server_nonce);
  auto user = server.receive_client_first(v.client_first);
  ASSERT_TRUE(user);
  EXPECT_EQ(*user, "user");
  EXPECT_EQ(server.server_first(creds), v.server_first);
  auto final_msg = server.receive_client_final(v.client_final);
  ASSERT_TRUE(final_msg);
  EXPECT_EQ(*final_msg, v.server_final);
}

TEST(Scram, Rfc5802Sha1Vector) { run_vector(kSha1); }
TEST(Scram, Rfc7677Sha256Vector) { run_vector(kSha256); }

TEST(Scram, WrongPasswordFailsAtTheProof) {
  auto salt = util::base64_decode(kSha256.salt_b64);
  ScramCredentials creds = derive_scram_credentials(ScramHash::kSha256, "not pencil", *salt, 4096);
  ScramServer server(ScramHash::kSha256, false, {}, kSha256.server_nonce);
  ASSERT_TRUE(server.receive_client_first(kSha256.client_first));
  server.server_first(creds);
  auto r = server.receive_client_final(kSha256.client_final);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), SaslError::kNotAuthorized);
}

TEST(Scram, UnknownUserFailsOnlyAtTheEnd) {
  ScramServer server(ScramHash::kSha256, false, {}, kSha256.server_nonce);
  ASSERT_TRUE(server.receive_client_first(kSha256.client_first));
  std::string first = server.server_first(std::nullopt);
  EXPECT_NE(first.find(",s="), std::string::npos);  // looks like any other challenge
  EXPECT_FALSE(server.receive_client_final(kSha256.client_final));
}

TEST(Scram, MalformedMessages) {
  for (std::string msg : {"", "x,,n=user,r=abc", "n,,r=abc", "n,,n=user", "n,,n=us=er,r=abc", "n,,m=ext,n=u,r=a",
                          "n,x=1,n=user,r=abc", "p=tls-unique,,n=user,r=abc"}) {
    ScramServer server(ScramHash::kSha256, false, {});
    EXPECT_FALSE(server.receive_client_first(msg)) << msg;
  }
}

TEST(Scram, SaslnameEscapes) {
  ScramServer server(ScramHash::kSha1, false, {});
  auto user = server.receive_client_first("n,,n=a=2Cb=3Dc,r=abc");
  ASSERT_TRUE(user);
  EXPECT_EQ(*user, "a,b=c");
}

TEST(Scram, ChannelBindingFlags) {
  std::vector<std::pair<std::string, std::string>> cb = {{"tls-exporter", "EXPORTED-KEYING-MATERIAL-32-BYTES"}};
  // -PLUS with a binding we have: the final message must carry gs2 header + binding data.
  {
    ScramServer s(ScramHash::kSha256, true, cb, "srv");
    ASSERT_TRUE(s.receive_client_first("p=tls-exporter,,n=user,r=cli"));
    auto salt = std::string("saltsaltsaltsalt");
    ScramCredentials creds = derive_scram_credentials(ScramHash::kSha256, "pw", salt, 4096);
    s.server_first(creds);
    std::string wrong_cbind = util::base64_encode("p=tls-exporter,,OTHER");
    EXPECT_FALSE(s.receive_client_final("c=" + wrong_cbind + ",r=clisrv,p=AAAA"));
  }
  // -PLUS asking for a binding type we lack.
  {
    ScramServer s(ScramHash::kSha256, true, cb);
    EXPECT_FALSE(s.receive_client_first("p=tls-unique,,n=user,r=cli"));
  }
  // "y" while we offer channel binding is a downgrade (RFC 5802 §6).
  {
    ScramServer s(ScramHash::kSha256, false, cb);
    auto r = s.receive_client_first("y,,n=user,r=cli");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SaslError::kNotAuthorized);
  }
  // "y" without channel binding on offer is fine; "n" with a -PLUS mechanism is not.
  {
    ScramServer s(ScramHash::kSha256, false, {});
    EXPECT_TRUE(s.receive_client_first("y,,n=user,r=cli"));
    ScramServer plus(ScramHash::kSha256, true, cb);
    EXPECT_FALSE(plus.receive_client_first("n,,n=user,r=cli"));
  }
}

TEST(Scram, VerifyPasswordAndSaslprep) {
  ScramCredentials c = derive_scram_credentials(ScramHash::kSha256, "pencil", "0123456789abcdef", 4096);
  EXPECT_TRUE(verify_password(ScramHash::kSha256, c, "pencil"));
  EXPECT_FALSE(verify_password(ScramHash::kSha256, c, "Pencil"));
  // RFC 4013 §3: SOFT HYPHEN maps to nothing, so "I\u00ADX" and "IX" are the same password.
  ScramCredentials ix = derive_scram_credentials(ScramHash::kSha256, "IX", "0123456789abcdef", 4096);
  EXPECT_TRUE(verify_password(ScramHash::kSha256, ix, "I\xc2\xad" "X"));
  EXPECT_FALSE(saslprep(std::string("a\x07", 2)));
}

TEST(Plain, ParsesAuthzidAuthcidPassword) {
  auto p = parse_plain(std::string("\0tim\0tanstaaftanstaaf", 21));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->authcid, "tim");
  EXPECT_EQ(p->password, "tanstaaftanstaaf");
  auto q = parse_plain(std::string("Ursel\0Kurt\0xipj3plmq", 20));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->authzid, "Ursel");
  EXPECT_FALSE(parse_plain("no-nuls"));
  EXPECT_FALSE(parse_plain(std::string("\0\0pw", 4)));
}

}  // namespace
