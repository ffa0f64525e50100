#include "cli/certificate_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

#include "core/config/config.hpp"
#include "net/tls_context.hpp"

namespace causerie::check {

namespace {

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

long long seconds_from_now(const ASN1_TIME* t) {
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, t) != 1) return 0;
  return static_cast<long long>(days) * 86400 + secs;
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string all_names(const CertificateIdentities& ids) {
  std::vector<std::string> names = ids.dns_ids;
  names.insert(names.end(), ids.srv_ids.begin(), ids.srv_ids.end());
  names.insert(names.end(), ids.xmpp_addrs.begin(), ids.xmpp_addrs.end());
  if (names.empty()) names = ids.common_names;
  return names.empty() ? "no names" : "names: " + join(names);
}

std::string days(long long seconds) {
  long long d = seconds / 86400;
  return std::to_string(d) + (d == 1 ? " day" : " days");
}

}  // namespace

CertificateFacts read_certificate(const std::string& cert_file, const std::string& key_file, X509_STORE* trust,
                                  std::string_view trust_name) {
  net::inspect_certificate(cert_file, key_file);  // readable, a certificate, its key matches: or ConfigError
  CertificateFacts f;
  f.file = cert_file;
  f.key_file = key_file;
  f.trust_name = trust_name;
  std::vector<std::unique_ptr<X509, X509Free>> chain;
  if (FILE* in = std::fopen(cert_file.c_str(), "r")) {
    while (X509* x = PEM_read_X509(in, nullptr, nullptr, nullptr)) chain.emplace_back(x);
    std::fclose(in);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (chain.empty()) throw ConfigError("certificate " + cert_file + ": not a PEM certificate");
  X509* leaf = chain.front().get();
  f.identities = certificate_identities(leaf);
  f.seconds_left = seconds_from_now(X509_get0_notAfter(leaf));
  f.seconds_to_start = seconds_from_now(X509_get0_notBefore(leaf));
  f.not_after = time_text(X509_get0_notAfter(leaf));
  f.not_before = time_text(X509_get0_notBefore(leaf));

  if (trust) {
    f.chain_checked = true;
    STACK_OF(X509)* rest = sk_X509_new_null();
    for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(rest, chain[i].get());
    // The leaf's own dates have their own finding; an expired intermediate still fails the chain.
    auto verify = [&](bool ignore_time) {
      X509_STORE_CTX* ctx = X509_STORE_CTX_new();
      int err = X509_V_ERR_UNSPECIFIED, depth = -1;
      if (ctx && X509_STORE_CTX_init(ctx, trust, leaf, rest) == 1 &&
          X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) == 1) {
        if (ignore_time) X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
        err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
        depth = X509_STORE_CTX_get_error_depth(ctx);
      }
      X509_STORE_CTX_free(ctx);
      ERR_clear_error();
      return std::pair{err, depth};
    };
    auto [err, depth] = verify(false);
    if ((err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) && depth == 0)
      err = verify(true).first;
    if (err != X509_V_OK) f.chain_error = X509_verify_cert_error_string(err);
    sk_X509_free(rest);
  }

  struct stat st {};
  if (stat(key_file.c_str(), &st) == 0) f.key_readable_by_all = (st.st_mode & S_IROTH) != 0;
  return f;
}

Findings judge_certificate(const CertificateFacts& f, std::string_view host,
                           const std::vector<std::string>& service_domains, bool special_use) {
  Severity problem = special_use ? Severity::kWarn : Severity::kError;
  Findings out;
  std::string h(host);
  if (auto how = f.identities.server_identity(host))
    out.push_back({Severity::kOk, "certificate " + f.file + " names " + h + " (" + *how + ")"});
  else
    out.push_back({Severity::kError, "certificate " + f.file + " does not name " + h + " (" + all_names(f.identities) + ")"});

  if (!service_domains.empty()) {
    std::vector<std::string> covered, uncovered, hows;
    for (const auto& d : service_domains) {
      auto how = f.identities.server_identity(d);
      (how ? covered : uncovered).push_back(d);
      if (how && std::find(hows.begin(), hows.end(), *how) == hows.end()) hows.push_back(*how);
    }
    if (uncovered.empty())
      out.push_back({Severity::kOk, "certificate names the service domains " + join(covered) + " (" + join(hows) + ")"});
    else
      out.push_back({problem, "certificate does not name " + join(uncovered) +
                                  ": servers federating with these domains cannot verify them (add these names, or *." +
                                  h + ")"});
  }

  if (!f.chain_checked)
    out.push_back({Severity::kWarn, "certificate chain not checked: no trust store"});
  else if (f.chain_error.empty())
    out.push_back({Severity::kOk, "certificate chain verifies against " + f.trust_name});
  else
    out.push_back({problem, "certificate chain does not verify against " + f.trust_name + ": " + f.chain_error});

  if (f.seconds_to_start > 0)
    out.push_back({Severity::kError, "certificate is not valid before " + f.not_before});
  else if (f.seconds_left <= 0)
    out.push_back({Severity::kError, "certificate expired on " + f.not_after});
  else if (f.seconds_left < kWarnDaysLeft * 86400)
    out.push_back({Severity::kWarn, "certificate expires in " + days(f.seconds_left) + ", on " + f.not_after + ": renew it"});
  else
    out.push_back({Severity::kOk, "certificate valid until " + f.not_after + " (" + days(f.seconds_left) + ")"});

  if (f.key_readable_by_all)
    out.push_back({Severity::kWarn, "key " + f.key_file + " is readable by every user of this machine (chmod 600 or 640)"});
  return out;
}

}  // namespace causerie::check
