// `causerie check`'s certificate verdicts: the host and its service domains covered (DNS-ID, wildcard,
// SRV-ID), the chain, the dates, and which problems are warnings for special-use names.
#include <gtest/gtest.h>

#include "cli/certificate_check.hpp"

using namespace causerie;
using namespace causerie::check;

namespace {

const std::vector<std::string> kServices = {"conference.example.org", "pubsub.example.org"};

CertificateFacts facts(std::vector<std::string> dns_ids, long long days_left = 60) {
  CertificateFacts f;
  f.file = "/etc/letsencrypt/live/example.org/fullchain.pem";
  f.key_file = "/etc/letsencrypt/live/example.org/privkey.pem";
  f.identities.dns_ids = std::move(dns_ids);
  f.chain_checked = true;
  f.trust_name = "the system trust store";
  f.seconds_left = days_left * 86400 + 60;
  f.seconds_to_start = -86400;
  f.not_after = "2027-02-06 12:00 UTC";
  f.not_before = "2026-11-08 12:00 UTC";
  return f;
}

TEST(CertificateCheck, HostAndServiceDomainsCoveredByAWildcard) {
  Findings f = judge_certificate(facts({"example.org", "*.example.org"}), "example.org", kServices, false);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], (Finding{Severity::kOk, "certificate /etc/letsencrypt/live/example.org/fullchain.pem names "
                                          "example.org (DNS-ID example.org)"}));
  EXPECT_EQ(f[1], (Finding{Severity::kOk, "certificate names the service domains conference.example.org, "
                                          "pubsub.example.org (DNS-ID *.example.org)"}));
  EXPECT_EQ(f[2], (Finding{Severity::kOk, "certificate chain verifies against the system trust store"}));
  EXPECT_EQ(f[3], (Finding{Severity::kOk, "certificate valid until 2027-02-06 12:00 UTC (60 days)"}));
}

TEST(CertificateCheck, ServiceDomainsByNameOrSrvId) {
  CertificateFacts f = facts({"example.org", "conference.example.org"});
  f.identities.srv_ids = {"_xmpp-server.pubsub.example.org"};
  Findings out = judge_certificate(f, "example.org", kServices, false);
  EXPECT_EQ(out[1], (Finding{Severity::kOk, "certificate names the service domains conference.example.org, "
                                            "pubsub.example.org (DNS-ID conference.example.org, SRV-ID "
                                            "_xmpp-server.pubsub.example.org)"}));
  // Without federation, the service domains are nobody's business: no line about them.
  EXPECT_EQ(judge_certificate(f, "example.org", {}, false).size(), 3u);
}

TEST(CertificateCheck, AServiceDomainNotCovered) {
  CertificateFacts f = facts({"example.org", "pubsub.example.org"});
  Finding expected{Severity::kError, "certificate does not name conference.example.org: servers federating with "
                                     "these domains cannot verify them (add these names, or *.example.org)"};
  EXPECT_EQ(judge_certificate(f, "example.org", kServices, false)[1], expected);
  expected.severity = Severity::kWarn;  // a special-use name: nobody out there can reach it anyway
  EXPECT_EQ(judge_certificate(f, "example.org", kServices, true)[1], expected);
  // A wildcard covers one label only (RFC 9525 §6.3).
  f = facts({"*.org"});
  EXPECT_EQ(judge_certificate(f, "example.org", {}, false)[0].severity, Severity::kError);
}

TEST(CertificateCheck, TheHostNotNamedIsAlwaysAnError) {
  Findings f = judge_certificate(facts({"other.example", "*.other.example"}), "example.org", {}, true);
  EXPECT_EQ(f[0], (Finding{Severity::kError, "certificate /etc/letsencrypt/live/example.org/fullchain.pem does not "
                                             "name example.org (names: other.example, *.other.example)"}));
}

TEST(CertificateCheck, Dates) {
  auto line = [](CertificateFacts f) { return judge_certificate(f, "example.org", {}, false).back(); };
  EXPECT_EQ(line(facts({"example.org"}, 14)).severity, Severity::kOk);
  EXPECT_EQ(line(facts({"example.org"}, 13)),
            (Finding{Severity::kWarn, "certificate expires in 13 days, on 2027-02-06 12:00 UTC: renew it"}));
  CertificateFacts expired = facts({"example.org"});
  expired.seconds_left = -5;
  EXPECT_EQ(line(expired), (Finding{Severity::kError, "certificate expired on 2027-02-06 12:00 UTC"}));
  CertificateFacts early = facts({"example.org"});
  early.seconds_to_start = 3600;
  EXPECT_EQ(line(early), (Finding{Severity::kError, "certificate is not valid before 2026-11-08 12:00 UTC"}));
  // Expiry is an error for special-use names too: clients refuse such certificates anywhere.
  EXPECT_EQ(judge_certificate(expired, "example.org", {}, true).back().severity, Severity::kError);
}

TEST(CertificateCheck, ChainAndKey) {
  CertificateFacts f = facts({"example.org"});
  f.chain_error = "unable to get local issuer certificate";
  f.key_readable_by_all = true;
  Findings out = judge_certificate(f, "example.org", {}, false);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1], (Finding{Severity::kError, "certificate chain does not verify against the system trust store: "
                                               "unable to get local issuer certificate"}));
  EXPECT_EQ(out[3], (Finding{Severity::kWarn, "key /etc/letsencrypt/live/example.org/privkey.pem is readable by every "
                                              "user of this machine (chmod 600 or 640)"}));
  EXPECT_EQ(judge_certificate(f, "example.org", {}, true)[1].severity, Severity::kWarn);
  f.chain_checked = false;
  EXPECT_EQ(judge_certificate(f, "example.org", {}, false)[1].severity, Severity::kWarn);
}

}  // namespace
