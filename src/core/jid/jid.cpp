#include "core/jid/jid.hpp"

#include <idna.h>
#include <stringprep.h>

#include <cstdlib>
#include <cstring>

namespace causerie {

namespace {

// RFC 7622 §3.1: each part is at most 1023 octets once prepared.
constexpr size_t kMaxPart = 1023;

void ascii_lower(std::string& s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Runs a libidn stringprep profile over s. Input longer than any valid part is refused up front, so a
// huge address costs nothing.
tl::expected<std::string, int> run_stringprep(std::string_view s, const Stringprep_profile* profile) {
  if (s.size() > kMaxPart * 4) return tl::unexpected(STRINGPREP_TOO_SMALL_BUFFER);
  std::string buf(s);
  buf.resize(s.size() * 4 + 16, '\0');  // mapping can lengthen a string
  int rc = stringprep(buf.data(), buf.size(), static_cast<Stringprep_profile_flags>(0), profile);
  if (rc != STRINGPREP_OK) return tl::unexpected(rc);
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

}  // namespace

const char* to_string(JidError e) {
  switch (e) {
    case JidError::kEmpty: return "empty address";
    case JidError::kBadLocalpart: return "invalid localpart";
    case JidError::kBadDomainpart: return "invalid domainpart";
    case JidError::kBadResourcepart: return "invalid resourcepart";
    case JidError::kTooLong: return "address part longer than 1023 bytes";
  }
  return "invalid address";
}

tl::expected<std::string, JidError> prep_localpart(std::string_view in) {
  if (in.empty()) return tl::unexpected(JidError::kBadLocalpart);
  if (is_ascii(in)) {
    // Fast path, identical to nodeprep on ASCII: lowercase, and refuse RFC 6122 Appendix A.5
    // (" & ' / : < > @), space and controls.
    if (in.size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
    std::string out(in);
    for (char& c : out) {
      if (c <= 0x20 || c == 0x7f || std::strchr("\"&'/:<>@", c)) return tl::unexpected(JidError::kBadLocalpart);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  auto r = run_stringprep(in, stringprep_xmpp_nodeprep);
  if (!r) return tl::unexpected(JidError::kBadLocalpart);
  if (r->empty()) return tl::unexpected(JidError::kBadLocalpart);
  if (r->size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
  return *r;
}

tl::expected<std::string, JidError> prep_resourcepart(std::string_view in) {
  if (in.empty()) return tl::unexpected(JidError::kBadResourcepart);
  if (is_ascii(in)) {
    if (in.size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
    for (char c : in)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return tl::unexpected(JidError::kBadResourcepart);
    return std::string(in);
  }
  auto r = run_stringprep(in, stringprep_xmpp_resourceprep);
  if (!r || r->empty()) return tl::unexpected(JidError::kBadResourcepart);
  if (r->size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
  return *r;
}

namespace {

bool valid_ascii_hostname(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && label == 0) || ++label > 63) return false;
  }
  return d.back() != '-';
}

bool valid_ip_literal(std::string_view d) {
  // RFC 7622 §3.2: an IPv6 address in brackets; IPv4 passes as a hostname of digits.
  if (d.size() < 3 || d.front() != '[' || d.back() != ']') return false;
  for (char c : d.substr(1, d.size() - 2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) return false;
  return true;
}

}  // namespace

tl::expected<std::string, JidError> prep_domainpart(std::string_view in) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);  // RFC 7622 §3.2: drop one trailing dot
  if (in.empty()) return tl::unexpected(JidError::kBadDomainpart);
  if (is_ascii(in)) {
    if (in.size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
    std::string out(in);
    ascii_lower(out);
    if (out.front() == '[') {
      if (!valid_ip_literal(out)) return tl::unexpected(JidError::kBadDomainpart);
      return out;
    }
    if (!valid_ascii_hostname(out)) return tl::unexpected(JidError::kBadDomainpart);
    return out;
  }
  auto r = run_stringprep(in, stringprep_nameprep);
  if (!r || r->empty()) return tl::unexpected(JidError::kBadDomainpart);
  if (r->size() > kMaxPart) return tl::unexpected(JidError::kTooLong);
  // The prepared Unicode form is canonical; its ACE form must still be a valid hostname.
  char* ace = nullptr;
  int rc = idna_to_ascii_8z(r->c_str(), &ace, IDNA_USE_STD3_ASCII_RULES);
  bool ok = rc == IDNA_SUCCESS && ace && valid_ascii_hostname(ace);
  std::free(ace);
  if (!ok) return tl::unexpected(JidError::kBadDomainpart);
  return *r;
}

tl::expected<std::string, JidError> domain_to_ascii(std::string_view domain) {
  if (domain.empty()) return tl::unexpected(JidError::kBadDomainpart);
  if (is_ascii(domain)) {
    std::string out(domain);
    ascii_lower(out);
    return out;
  }
  char* ace = nullptr;
  std::string in(domain);
  int rc = idna_to_ascii_8z(in.c_str(), &ace, IDNA_USE_STD3_ASCII_RULES);
  tl::expected<std::string, JidError> out = tl::unexpected(JidError::kBadDomainpart);
  if (rc == IDNA_SUCCESS && ace) {
    out = std::string(ace);
    ascii_lower(*out);
  }
  std::free(ace);
  return out;
}

tl::expected<Jid, JidError> Jid::from_parts(std::string_view localpart, std::string_view domainpart,
                                            std::string_view resourcepart) {
  Jid j;
  auto d = prep_domainpart(domainpart);
  if (!d) return tl::unexpected(d.error());
  if (!localpart.empty()) {
    auto l = prep_localpart(localpart);
    if (!l) return tl::unexpected(l.error());
    j.local_len_ = static_cast<uint16_t>(l->size());
    j.str_ = std::move(*l);
    j.str_.push_back('@');
  }
  j.domain_len_ = static_cast<uint16_t>(d->size());
  j.str_ += *d;
  if (!resourcepart.empty()) {
    auto r = prep_resourcepart(resourcepart);
    if (!r) return tl::unexpected(r.error());
    j.str_.push_back('/');
    j.str_ += *r;
  }
  return j;
}

tl::expected<Jid, JidError> Jid::parse(std::string_view text) {
  if (text.empty()) return tl::unexpected(JidError::kEmpty);
  // RFC 7622 §3.2: the resourcepart starts at the first '/', the localpart ends at the first '@' before it.
  std::string_view rest = text;
  std::string_view resource;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    resource = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (resource.empty()) return tl::unexpected(JidError::kBadResourcepart);
  }
  std::string_view local;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    local = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (local.empty()) return tl::unexpected(JidError::kBadLocalpart);
  }
  return from_parts(local, rest, resource);
}

Jid Jid::bare() const {
  Jid j = *this;
  j.str_.resize(bare_len());
  return j;
}

Jid Jid::domain() const {
  Jid j;
  j.str_ = std::string(domainpart());
  j.domain_len_ = domain_len_;
  return j;
}

tl::expected<Jid, JidError> Jid::with_resource(std::string_view resource) const {
  auto r = prep_resourcepart(resource);
  if (!r) return tl::unexpected(r.error());
  Jid j = bare();
  j.str_.push_back('/');
  j.str_ += *r;
  return j;
}

}  // namespace causerie
