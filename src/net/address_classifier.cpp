#include "net/address_classifier.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "core/config/config.hpp"

namespace causerie::net {

namespace {

IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

// Whether the first `bits` bits of `a` equal those of `prefix` (given as leading bytes).
bool has_prefix(const IpAddress& a, std::initializer_list<uint8_t> prefix, unsigned bits) {
  unsigned i = 0;
  for (uint8_t p : prefix) {
    if (bits == 0) return true;
    unsigned take = bits >= 8 ? 8 : bits;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((a.bytes[i] & mask) != (p & mask)) return false;
    bits -= take;
    ++i;
  }
  return bits == 0;
}

bool all_zero(const IpAddress& a, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i)
    if (a.bytes[i] != 0) return false;
  return true;
}

// RFC 6890 and the IANA IPv4 Special-Purpose Address Registry.
AddressClass classify_v4(const IpAddress& a) {
  const auto& b = a.bytes;
  if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return AddressClass::kBroadcast;
  if (b[0] == 0) return AddressClass::kUnspecified;  // 0/8: "this host on this network" (RFC 1122 §3.2.1.3)
  if (b[0] == 127) return AddressClass::kLoopback;
  if (b[0] == 10) return AddressClass::kPrivate;
  if (b[0] == 172 && (b[1] & 0xf0) == 16) return AddressClass::kPrivate;
  if (b[0] == 192 && b[1] == 168) return AddressClass::kPrivate;
  if (b[0] == 100 && (b[1] & 0xc0) == 64) return AddressClass::kShared;
  if (b[0] == 169 && b[1] == 254) return AddressClass::kLinkLocal;
  if (b[0] == 192 && b[1] == 0 && b[2] == 2) return AddressClass::kDocumentation;
  if (b[0] == 198 && b[1] == 51 && b[2] == 100) return AddressClass::kDocumentation;
  if (b[0] == 203 && b[1] == 0 && b[2] == 113) return AddressClass::kDocumentation;
  if (b[0] == 198 && (b[1] & 0xfe) == 18) return AddressClass::kBenchmark;
  if (b[0] == 192 && b[1] == 0 && b[2] == 0) return AddressClass::kReserved;    // IETF protocol assignments
  if (b[0] == 192 && b[1] == 88 && b[2] == 99) return AddressClass::kReserved;  // 6to4 relay anycast (RFC 7526)
  if ((b[0] & 0xf0) == 224) return AddressClass::kMulticast;
  if ((b[0] & 0xf0) == 240) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

// RFC 4291 and the IANA IPv6 Special-Purpose Address Registry. Forms carrying an IPv4 address were
// handled by the caller.
AddressClass classify_v6(const IpAddress& a) {
  if (all_zero(a, 0, 16)) return AddressClass::kUnspecified;
  if (all_zero(a, 0, 15) && a.bytes[15] == 1) return AddressClass::kLoopback;
  if (has_prefix(a, {0xff}, 8)) return AddressClass::kMulticast;
  if (has_prefix(a, {0xfe, 0x80}, 10)) return AddressClass::kLinkLocal;
  if (has_prefix(a, {0xfe, 0xc0}, 10)) return AddressClass::kPrivate;  // site-local, deprecated (RFC 3879)
  if (has_prefix(a, {0xfc}, 7)) return AddressClass::kUniqueLocal;
  if (has_prefix(a, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) return AddressClass::kPrivate;  // RFC 8215 local NAT64
  if (has_prefix(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64)) return AddressClass::kReserved;  // discard-only (RFC 6666)
  if (has_prefix(a, {0x20, 0x01, 0x0d, 0xb8}, 32)) return AddressClass::kDocumentation;
  if (has_prefix(a, {0x3f, 0xff, 0x00}, 20)) return AddressClass::kDocumentation;  // RFC 9637
  if (has_prefix(a, {0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48)) return AddressClass::kBenchmark;  // RFC 5180
  // 2001::/23, IETF protocol assignments: Teredo 2001::/32 (whose IPv4 address is obfuscated, so it
  // cannot be judged), ORCHID, AMT, ... none is a web server's address.
  if (has_prefix(a, {0x20, 0x01, 0x00}, 23)) return AddressClass::kReserved;
  // Global unicast is 2000::/3; the rest of the space is unassigned or special.
  if (!has_prefix(a, {0x20}, 3)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

}  // namespace

const char* to_string(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kShared: return "shared";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kUniqueLocal: return "unique-local";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kBroadcast: return "broadcast";
    case AddressClass::kDocumentation: return "documentation";
    case AddressClass::kBenchmark: return "benchmark";
    case AddressClass::kReserved: return "reserved";
  }
  return "?";
}

std::optional<IpAddress> IpAddress::embedded_v4() const {
  if (!v6) return std::nullopt;
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, but not :: and ::1 themselves)
  if (all_zero(*this, 0, 10) && bytes[10] == 0xff && bytes[11] == 0xff)
    return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (all_zero(*this, 0, 12) && !(all_zero(*this, 12, 15) && bytes[15] <= 1))
    return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052 §2.1)
  if (has_prefix(*this, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96))
    return v4(bytes[12], bytes[13], bytes[14], bytes[15]);
  // 2002:AABB:CCDD::/48, 6to4 (RFC 3056 §2)
  if (bytes[0] == 0x20 && bytes[1] == 0x02) return v4(bytes[2], bytes[3], bytes[4], bytes[5]);
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

AddressClass classify(const IpAddress& a) {
  if (!a.v6) return classify_v4(a);
  if (auto inner = a.embedded_v4()) {
    // 6to4 of a public address is public; of anything else, that thing. The same for the others.
    return classify_v4(*inner);
  }
  return classify_v6(a);
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.v6 != network.v6) return false;
  unsigned bits = prefix;
  for (size_t i = 0; bits > 0; ++i) {
    unsigned take = bits >= 8 ? 8 : bits;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((a.bytes[i] & mask) != network.bytes[i]) return false;
    bits -= take;
  }
  return true;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  Cidr c;
  auto slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  unsigned max = ip->v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), c.prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || c.prefix > max) return std::nullopt;
  }
  c.network = *ip;
  unsigned bits = c.prefix;
  for (size_t i = 0; i < 16; ++i) {
    unsigned keep = bits >= 8 ? 8 : bits;
    c.network.bytes[i] &= static_cast<uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
    bits -= keep;
  }
  return c;
}

AddressPolicy AddressPolicy::from_config(const std::vector<std::string>& allow, const std::string& key) {
  std::vector<Cidr> out;
  for (const auto& text : allow) {
    auto c = parse_cidr(text);
    if (!c) throw ConfigError("config key '" + key + "': '" + text + "' is not an address block (\"127.0.0.1/32\", \"fd00::/8\")");
    out.push_back(*c);
  }
  return AddressPolicy(std::move(out));
}

AddressPolicy::Verdict AddressPolicy::check(const IpAddress& a) const {
  Verdict v;
  v.cls = classify(a);
  if (v.cls == AddressClass::kUnspecified || v.cls == AddressClass::kMulticast || v.cls == AddressClass::kBroadcast)
    return v;
  if (v.cls == AddressClass::kPublic) {
    v.allowed = true;
    return v;
  }
  auto inner = a.embedded_v4();
  for (const auto& c : allow_)
    if (c.contains(a) || (inner && c.contains(*inner))) v.allowed = true;
  return v;
}

AddressVetting vet_addresses(const AddressPolicy& policy, const std::vector<std::string>& answer) {
  AddressVetting out;
  for (const auto& text : answer) {
    auto ip = parse_ip(text);
    if (!ip) {
      out.refused = text + " (not an address)";
      break;
    }
    auto v = policy.check(*ip);
    if (!v.allowed) {
      out.refused = text + " (" + to_string(v.cls) + ")";
      break;
    }
    out.allowed.push_back(*ip);
  }
  if (!out.refused.empty()) out.allowed.clear();
  return out;
}

}  // namespace causerie::net
