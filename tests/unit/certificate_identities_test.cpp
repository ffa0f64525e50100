// RFC 6125 / RFC 9525 identity rules over names already read from a certificate (RFC 6120 §13.7).
#include <gtest/gtest.h>

#include "core/stream/certificate_identities.hpp"

using namespace causerie;

namespace {

TEST(CertificateIdentities, DnsNameMatching) {
  struct Case {
    const char* pattern;
    const char* host;
    bool match;
  };
  const Case cases[] = {
      {"example.com", "example.com", true},
      {"Example.COM", "example.com.", true},  // case-insensitive, root dot ignored (RFC 9525 §6.3)
      {"example.com", "example.org", false},
      {"example.com", "a.example.com", false},
      {"*.example.com", "a.example.com", true},
      {"*.example.com", "A.EXAMPLE.COM", true},
      {"*.example.com", "example.com", false},      // the wildcard stands for exactly one label
      {"*.example.com", "a.b.example.com", false},  // and only one
      {"*.example.com", ".example.com", false},
      {"a*.example.com", "ab.example.com", false},  // not the complete label: invalid identifier
      {"*a.example.com", "ba.example.com", false},
      {"a.*.example.com", "a.b.example.com", false},  // not the left-most label
      {"*.*.example.com", "a.b.example.com", false},  // more than one wildcard
      {"*.com", "example.com", false},                // directly over a top-level label
      {"*", "example", false},
      {"", "", false},
      {"*.example.com", "*.example.com", false},  // a reference identifier never holds a wildcard
  };
  for (const auto& c : cases)
    EXPECT_EQ(dns_name_matches(c.pattern, c.host), c.match) << c.pattern << " vs " << c.host;
}

TEST(CertificateIdentities, ServerIdentityRules) {
  struct Case {
    const char* name;
    CertificateIdentities ids;
    const char* domain;
    bool match;
  };
  const Case cases[] = {
      {"DNS-ID", {.dns_ids = {"example.com"}}, "example.com", true},
      {"DNS-ID of another domain", {.dns_ids = {"example.org"}}, "example.com", false},
      {"wildcard DNS-ID covers a service subdomain",
       {.dns_ids = {"*.example.com"}},
       "conference.example.com",
       true},
      {"wildcard DNS-ID does not cover the domain itself",
       {.dns_ids = {"*.example.com"}},
       "example.com",
       false},
      {"IDN: A-labels compared", {.dns_ids = {"xn--bcher-kva.example"}}, "bücher.example", true},
      {"SRV-ID _xmpp-server", {.srv_ids = {"_xmpp-server.example.com"}}, "example.com", true},
      {"SRV-ID service is case-insensitive", {.srv_ids = {"_XMPP-Server.example.com"}}, "example.com", true},
      {"SRV-ID _xmpp-client names no server",
       {.srv_ids = {"_xmpp-client.example.com"}},
       "example.com",
       false},
      {"SRV-ID of another domain", {.srv_ids = {"_xmpp-server.example.org"}}, "example.com", false},
      {"SRV-ID with a wildcard name", {.srv_ids = {"_xmpp-server.*.example.com"}}, "chat.example.com", true},
      {"SRV-ID without a service", {.srv_ids = {"example.com"}}, "example.com", false},
      {"XmppAddr of the domain", {.xmpp_addrs = {"example.com"}}, "example.com", true},
      {"XmppAddr is prepared before comparing", {.xmpp_addrs = {"EXAMPLE.com"}}, "example.com", true},
      {"XmppAddr of a user names no server", {.xmpp_addrs = {"user@example.com"}}, "example.com", false},
      {"XmppAddr takes no wildcard", {.xmpp_addrs = {"*.example.com"}}, "a.example.com", false},
      {"CN alone (RFC 6125 §6.4.4 last resort)", {.common_names = {"example.com"}}, "example.com", true},
      {"CN alone, wildcard", {.common_names = {"*.example.com"}}, "a.example.com", true},
      {"CN ignored beside a DNS-ID",
       {.dns_ids = {"example.org"}, .common_names = {"example.com"}},
       "example.com",
       false},
      {"CN ignored beside an SRV-ID",
       {.srv_ids = {"_xmpp-client.example.org"}, .common_names = {"example.com"}},
       "example.com",
       false},
      {"CN ignored beside an XmppAddr",
       {.xmpp_addrs = {"example.org"}, .common_names = {"example.com"}},
       "example.com",
       false},
      {"CN ignored beside a URI-ID",
       {.uri_ids = {"https://example.org/"}, .common_names = {"example.com"}},
       "example.com",
       false},
      {"nothing presented", {}, "example.com", false},
      {"an invalid reference domain matches nothing", {.dns_ids = {"example.com"}}, "", false},
  };
  for (const auto& c : cases) EXPECT_EQ(c.ids.identifies_server(c.domain), c.match) << c.name;
}

}  // namespace
