// XEP-0474 SCRAM downgrade protection (core/sasl/downgrade_protection.hpp, and the "h" attribute the
// ScramServer puts into its server-first-message): the XEP's own example, the ordering rules, and a
// proof computed over another list failing.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/sasl/downgrade_protection.hpp"
#include "core/sasl/scram.hpp"
#include "core/util/encoding.hpp"

using namespace causerie;
using namespace causerie::sasl;

namespace {

TEST(DowngradeProtection, XepExample) {
  // XEP-0474 §"Full Example": SHA-1 of 'SCRAM-SHA-1\x1eSCRAM-SHA-1-PLUS\x1ftls-exporter\x1etls-server-end-point'.
  EXPECT_EQ(downgrade_protection_hash(ScramHash::kSha1, {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"},
                                      std::vector<std::string>{"tls-server-end-point", "tls-exporter"}),
            "G6k/rBLDqgOhRRaCuuatSDFkJ08=");
}

TEST(DowngradeProtection, WhatChangesTheHash) {
  std::vector<std::string> mechs{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN"};
  std::vector<std::string> cbs{"tls-exporter", "tls-server-end-point"};
  std::string full = downgrade_protection_hash(ScramHash::kSha256, mechs, cbs);
  EXPECT_EQ(util::base64_decode(full)->size(), 32u);
  // Order as advertised does not matter (both sides sort).
  EXPECT_EQ(full, downgrade_protection_hash(ScramHash::kSha256, {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"},
                                            std::vector<std::string>{"tls-server-end-point", "tls-exporter"}));
  // A man in the middle removing a -PLUS mechanism, a binding type, or the whole XEP-0440 list.
  EXPECT_NE(full, downgrade_protection_hash(ScramHash::kSha256, {"SCRAM-SHA-256", "PLAIN"}, cbs));
  EXPECT_NE(full, downgrade_protection_hash(ScramHash::kSha256, mechs, std::vector<std::string>{"tls-server-end-point"}));
  EXPECT_NE(full, downgrade_protection_hash(ScramHash::kSha256, mechs, std::nullopt));
  // No XEP-0440 list and an empty one differ (0x1F only with a list).
  EXPECT_NE(downgrade_protection_hash(ScramHash::kSha256, mechs, std::nullopt),
            downgrade_protection_hash(ScramHash::kSha256, mechs, std::vector<std::string>{}));
  EXPECT_NE(full, downgrade_protection_hash(ScramHash::kSha1, mechs, cbs));
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// The client-final-message of RFC 5802 §3 for `server_first` as the client saw it.
std::string client_final(const ScramCredentials& c, const std::string& client_key, const std::string& bare,
                         const std::string& server_first, const std::string& nonce) {
  std::string without_proof = "c=biws,r=" + nonce;
  std::string auth = bare + "," + server_first + "," + without_proof;
  std::string sig = hmac256(c.stored_key, auth);
  std::string proof(sig.size(), '\0');
  for (size_t i = 0; i < sig.size(); ++i) proof[i] = static_cast<char>(client_key[i] ^ sig[i]);
  return without_proof + ",p=" + util::base64_encode(proof);
}

TEST(DowngradeProtection, TheHashIsInsideTheScramProof) {
  std::string salt = "0123456789abcdef";
  ScramCredentials creds = derive_scram_credentials(ScramHash::kSha256, "pencil", salt, 4096);
  // The client key, as a client derives it from the password.
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC("pencil", 6, reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    4096, EVP_sha256(), 32, salted);
  std::string client_key = hmac256(std::string_view(reinterpret_cast<char*>(salted), 32), "Client Key");
  std::string h = downgrade_protection_hash(ScramHash::kSha256, {"SCRAM-SHA-256"}, std::nullopt);
  for (bool strip : {false, true}) {
    ScramServer server(ScramHash::kSha256, false, {}, "servernonce");
    server.set_downgrade_protection(h);
    ASSERT_TRUE(server.receive_client_first("n,,n=user,r=clientnonce"));
    std::string first = server.server_first(creds);
    ASSERT_TRUE(first.ends_with(",i=4096,h=" + h)) << first;
    // A man in the middle who removed the attribute (so that the client could not compare) changes the
    // AuthMessage the client signs: the proof no longer verifies.
    std::string seen = strip ? first.substr(0, first.find(",h=")) : first;
    auto result = server.receive_client_final(client_final(creds, client_key, "n=user,r=clientnonce", seen,
                                                           "clientnonceservernonce"));
    EXPECT_EQ(result.has_value(), !strip);
  }
}

}  // namespace
