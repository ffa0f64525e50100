// CertificateIdentities: the names a certificate presents, and the RFC 6125 / RFC 9525 rules that
// decide whether they identify an XMPP server's domain (RFC 6120 §13.7.1.2, §13.7.2). Extraction reads
// an OpenSSL X509; matching is pure. Values; any thread.
//
// Rules kept here:
//  - DNS-ID: case-insensitive ASCII over A-labels; a wildcard only as the whole left-most label, matching
//    exactly one label ("*.example.com" matches "a.example.com", neither "example.com" nor
//    "a.b.example.com"); any other '*' makes the identifier invalid (RFC 9525 §6.3).
//  - SRV-ID (id-on-dnsSRV, RFC 4985): "_xmpp-server.<domain>", service compared case-insensitively, the
//    name portion like a DNS-ID (RFC 9525 §6.5, RFC 6120 §13.7.1.2.1).
//  - XmppAddr (id-on-xmppAddr, RFC 6120 §13.7.1.4): a server's is its bare domain, compared prepared.
//  - CN: only when the certificate presents no DNS-ID, SRV-ID, URI-ID nor XmppAddr at all, as RFC 6125
//    §6.4.4 allows "as a last resort". That is the stricter of RFC 6125's rule and "no DNS/SRV entries"
//    (an XmppAddr or URI also rules CN out); RFC 9525 drops CN entirely, which would refuse the few
//    SAN-less certificates peers still present.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;

namespace causerie {

struct CertificateIdentities {
  std::vector<std::string> dns_ids;     // subjectAltName dNSName, lower case ("*.example.com" kept as is)
  std::vector<std::string> srv_ids;     // subjectAltName otherName id-on-dnsSRV ("_xmpp-server.example.com")
  std::vector<std::string> xmpp_addrs;  // subjectAltName otherName id-on-xmppAddr (UTF-8 JIDs)
  std::vector<std::string> uri_ids;     // subjectAltName uniformResourceIdentifier (only rules CN out)
  std::vector<std::string> common_names;  // subject CN values

  // Whether these names identify the XMPP server of `domain` (a prepared domainpart, Unicode or ASCII):
  // a DNS-ID, an "_xmpp-server" SRV-ID, an XmppAddr, or (see above) a CN.
  bool identifies_server(std::string_view domain) const { return server_identity(domain).has_value(); }
  // The identifier that does it, for people to read ("DNS-ID *.example.com", "SRV-ID
  // _xmpp-server.example.com", "XmppAddr example.com", "CN example.com"); nothing when none does.
  std::optional<std::string> server_identity(std::string_view domain) const;
};

CertificateIdentities certificate_identities(X509* cert);

// What a TLS peer's certificate proves, as the transport found it after the handshake.
struct PeerCertificate {
  bool present = false;      // the peer sent a certificate
  bool chain_valid = false;  // it chains to a trust anchor, is within its validity period and fit for TLS
  std::string chain_error;   // when not valid, OpenSSL's reason ("certificate has expired", ...)
  CertificateIdentities identities;  // read whenever present, valid or not
  // Whether the certificate authenticates `domain` (RFC 6120 §13.7.2.1): a valid chain that names it.
  bool authenticates(std::string_view domain) const { return chain_valid && identities.identifies_server(domain); }
};

// RFC 9525 §6.3: does a presented DNS name (possibly "*.example.com") match a reference host name?
// Both in ASCII (A-labels); case and one trailing dot are ignored.
bool dns_name_matches(std::string_view pattern, std::string_view host);

}  // namespace causerie
