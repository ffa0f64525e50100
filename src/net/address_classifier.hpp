// Address classification for outbound requests (SSRF protection): what kind of destination an IP address
// is — public, or loopback, private, shared (CGNAT), link-local, unique local, multicast, unspecified,
// broadcast, documentation, benchmarking or otherwise reserved (the IANA special-purpose registries,
// RFC 6890 and its updates) — and AddressPolicy, which says whether the server may connect to it: public
// addresses, plus what the operator allow-listed ([http_client] allow, CIDRs).
//
// IPv6 forms that carry an IPv4 address are judged by that address: IPv4-mapped ::ffff:a.b.c.d,
// IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5), the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052) and
// 6to4 2002:AABB:CCDD::/48 (RFC 3056), so ::ffff:127.0.0.1 is loopback, not public.
//
// Pure functions and immutable values: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causerie::net {

enum class AddressClass {
  kPublic,
  kLoopback,       // 127/8, ::1
  kPrivate,        // RFC 1918 10/8, 172.16/12, 192.168/16; fec0::/10 (deprecated site-local); 64:ff9b:1::/48
  kShared,         // 100.64/10, carrier-grade NAT (RFC 6598)
  kLinkLocal,      // 169.254/16, fe80::/10
  kUniqueLocal,    // fc00::/7 (RFC 4193)
  kMulticast,      // 224/4, ff00::/8
  kUnspecified,    // 0/8 ("this network"), ::
  kBroadcast,      // 255.255.255.255
  kDocumentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  kBenchmark,      // 198.18/15, 2001:2::/48
  kReserved,       // 240/4, 192.0.0/24, 192.88.99/24, 100::/64, 2001::/23, outside 2000::/3, Teredo, ...
};
const char* to_string(AddressClass c);

// An IPv4 or IPv6 address in network byte order (IPv4: the first 4 bytes).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
  // The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any.
  std::optional<IpAddress> embedded_v4() const;
  std::string to_string() const;
};

// "192.0.2.1", "2001:db8::1", "::ffff:10.0.0.1" (no brackets, no zone id, no port).
std::optional<IpAddress> parse_ip(std::string_view text);

AddressClass classify(const IpAddress& a);

// An address block: "10.0.0.0/8", "::1/128"; a bare address is a /32 or /128.
struct Cidr {
  IpAddress network;  // host bits cleared
  unsigned prefix = 0;
  bool contains(const IpAddress& a) const;
};
std::optional<Cidr> parse_cidr(std::string_view text);

class AddressPolicy {
 public:
  AddressPolicy() = default;
  explicit AddressPolicy(std::vector<Cidr> allow) : allow_(std::move(allow)) {}
  // From configuration strings; throws ConfigError naming `key` for one that is not a CIDR.
  static AddressPolicy from_config(const std::vector<std::string>& allow, const std::string& key);

  struct Verdict {
    bool allowed = false;
    AddressClass cls = AddressClass::kPublic;
  };
  // Public addresses are allowed; others only inside an allow-listed block (an IPv6 form carrying an
  // IPv4 address also when that address is). Unspecified, multicast and broadcast never are: a TCP
  // connection to 0.0.0.0 reaches this very machine.
  Verdict check(const IpAddress& a) const;

 private:
  std::vector<Cidr> allow_;
};

// What the fetcher does with a resolver's answer before it connects: every address must be allowed,
// else the whole name is refused (a name that also resolves to an internal address is not trusted with
// its public ones: the answer could change between lookups, DNS rebinding). Unparseable entries refuse.
struct AddressVetting {
  std::vector<IpAddress> allowed;  // in the resolver's order, when nothing was refused
  std::string refused;             // "10.0.0.1 (private)" for the first refused address; empty if none
  bool ok() const { return refused.empty() && !allowed.empty(); }
};
AddressVetting vet_addresses(const AddressPolicy& policy, const std::vector<std::string>& answer);

}  // namespace causerie::net
