// Jid: a validated, normalised XMPP address (RFC 7622, prepared with stringprep as in RFC 6122).
//
// A Jid only exists in prepared form, so comparing two Jids is comparing bytes. Parsing is a pure
// function and returns JidError for anything malformed: a bad address from the network becomes a
// jid-malformed error, never a crash or a wrong route. Immutable value type; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace causerie {

enum class JidError { kEmpty, kBadLocalpart, kBadDomainpart, kBadResourcepart, kTooLong };
const char* to_string(JidError e);

class Jid {
 public:
  Jid() = default;

  static tl::expected<Jid, JidError> parse(std::string_view text);
  static tl::expected<Jid, JidError> from_parts(std::string_view localpart, std::string_view domainpart,
                                                std::string_view resourcepart = {});

  bool empty() const { return str_.empty(); }
  std::string_view localpart() const { return std::string_view(str_).substr(0, local_len_); }
  std::string_view domainpart() const {
    return std::string_view(str_).substr(local_len_ ? local_len_ + 1u : 0u, domain_len_);
  }
  std::string_view resourcepart() const {
    size_t start = bare_len();
    return start < str_.size() ? std::string_view(str_).substr(start + 1) : std::string_view();
  }
  bool has_localpart() const { return local_len_ != 0; }
  bool has_resource() const { return bare_len() < str_.size(); }
  bool is_bare() const { return !has_resource(); }
  // A server or component address: no localpart (a resource may follow).
  bool is_domain() const { return !has_localpart(); }

  const std::string& str() const { return str_; }
  std::string_view bare_view() const { return std::string_view(str_).substr(0, bare_len()); }
  Jid bare() const;
  Jid domain() const;
  // This Jid's bare part with an (unprepared) resource; fails on a bad resource.
  tl::expected<Jid, JidError> with_resource(std::string_view resource) const;

  bool operator==(const Jid& o) const { return str_ == o.str_; }
  bool operator<(const Jid& o) const { return str_ < o.str_; }

 private:
  size_t bare_len() const { return (local_len_ ? local_len_ + 1u : 0u) + domain_len_; }
  std::string str_;
  uint16_t local_len_ = 0;
  uint16_t domain_len_ = 0;
};

// Each part prepared on its own (also used for SASL usernames and registration).
tl::expected<std::string, JidError> prep_localpart(std::string_view in);
tl::expected<std::string, JidError> prep_domainpart(std::string_view in);
tl::expected<std::string, JidError> prep_resourcepart(std::string_view in);
// The ASCII form of a prepared domainpart (IDNA A-labels, lower case): what DNS queries, TLS SNI and
// certificate DNS names use (RFC 9525 §6.3).
tl::expected<std::string, JidError> domain_to_ascii(std::string_view prepared_domain);

}  // namespace causerie

template <>
struct std::hash<causerie::Jid> {
  size_t operator()(const causerie::Jid& j) const noexcept { return std::hash<std::string>()(j.str()); }
};
