#include "core/stream/certificate_identities.hpp"

#include <openssl/x509v3.h>

#include <algorithm>

#include "core/jid/jid.hpp"

namespace causerie {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view without_root_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

// An ASN.1 string as text, or nothing when it hides a NUL (a name that would match one thing in C and
// another here).
void append_text(const ASN1_STRING* s, std::vector<std::string>& out, bool lower) {
  if (!s) return;
  std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                   static_cast<size_t>(ASN1_STRING_length(s)));
  if (text.empty() || text.find('\0') != std::string::npos) return;
  out.push_back(lower ? lower_ascii(text) : std::move(text));
}

}  // namespace

bool dns_name_matches(std::string_view pattern_in, std::string_view host_in) {
  std::string pattern = lower_ascii(without_root_dot(pattern_in));
  std::string host = lower_ascii(without_root_dot(host_in));
  if (pattern.empty() || host.empty() || host.find('*') != std::string::npos) return false;
  size_t stars = static_cast<size_t>(std::count(pattern.begin(), pattern.end(), '*'));
  if (stars == 0) return pattern == host;
  // RFC 9525 §6.3: one wildcard, the complete left-most label, standing for exactly one label; any
  // other use makes the identifier invalid. A wildcard right over a top-level label ("*.com") is refused
  // too (§7.1 leaves public suffixes to the implementation).
  if (stars != 1 || !pattern.starts_with("*.")) return false;
  std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
  if (suffix.find('.', 1) == std::string_view::npos) return false;
  size_t dot = host.find('.');
  return dot != std::string::npos && dot > 0 && std::string_view(host).substr(dot) == suffix;
}

std::optional<std::string> CertificateIdentities::server_identity(std::string_view domain) const {
  auto ascii = domain_to_ascii(domain);
  if (!ascii) return std::nullopt;
  for (const auto& id : dns_ids)
    if (dns_name_matches(id, *ascii)) return "DNS-ID " + id;
  // RFC 9525 §6.5: an SRV-ID's service is matched case-insensitively, its name like a DNS-ID. Only
  // "_xmpp-server" names a server to servers (RFC 6120 §13.7.1.2.1); XEP-0368 §3 rule 4 keeps the same
  // check for direct TLS.
  for (const auto& id : srv_ids) {
    size_t dot = id.find('.');
    if (dot != std::string::npos && lower_ascii(id.substr(0, dot)) == "_xmpp-server" &&
        dns_name_matches(std::string_view(id).substr(dot + 1), *ascii))
      return "SRV-ID " + id;
  }
  auto prepared = prep_domainpart(domain);
  if (prepared) {
    for (const auto& addr : xmpp_addrs) {
      auto jid = Jid::parse(addr);
      if (jid && jid->is_domain() && jid->is_bare() && jid->domainpart() == *prepared) return "XmppAddr " + addr;
    }
  }
  // RFC 6125 §6.4.4: CN only as a last resort, when no other identifier type is presented.
  if (dns_ids.empty() && srv_ids.empty() && xmpp_addrs.empty() && uri_ids.empty()) {
    for (const auto& cn : common_names)
      if (dns_name_matches(cn, *ascii)) return "CN " + cn;
  }
  return std::nullopt;
}

CertificateIdentities certificate_identities(X509* cert) {
  CertificateIdentities ids;
  if (!cert) return ids;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    switch (gn->type) {
      case GEN_DNS:
        append_text(gn->d.dNSName, ids.dns_ids, true);
        break;
      case GEN_URI:
        append_text(gn->d.uniformResourceIdentifier, ids.uri_ids, false);
        break;
      case GEN_OTHERNAME: {
        const OTHERNAME* other = gn->d.otherName;
        int nid = OBJ_obj2nid(other->type_id);
        // RFC 4985: SRVName ::= IA5String; RFC 6120 §13.7.1.4: XmppAddr ::= UTF8String.
        if (nid == NID_SRVName && other->value && other->value->type == V_ASN1_IA5STRING)
          append_text(other->value->value.ia5string, ids.srv_ids, true);
        else if (nid == NID_XmppAddr && other->value && other->value->type == V_ASN1_UTF8STRING)
          append_text(other->value->value.utf8string, ids.xmpp_addrs, false);
        break;
      }
      default:
        break;
    }
  }
  GENERAL_NAMES_free(names);
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int pos = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); pos >= 0;
       pos = X509_NAME_get_index_by_NID(subject, NID_commonName, pos)) {
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, pos)));
    if (len > 0) {
      std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
      if (text.find('\0') == std::string::npos) ids.common_names.push_back(lower_ascii(text));
    }
    OPENSSL_free(utf8);
  }
  return ids;
}

}  // namespace causerie
