// `causerie check`: the configuration (data directory, free ports), then for each host its certificate
// (certificate_check.hpp) and the DNS records it needs (dns_expectations.hpp), looked up with the
// server's own DnsResolver (c-ares, [dns] servers) on a local io_context, DNS only (no /etc/hosts).
// Special-use names (localhost, .test...) are not looked up without [dns] servers: the system's resolver
// would ask the public DNS, which has no answer for them. Prints one line per finding, "OK", "WARN" or
// "ERROR" first; returns the exit status: 1 when any finding is an error. Runs on the calling thread.
#pragma once

#include "core/config/config.hpp"

namespace causerie::check {

int run_check(const Config& config);

}  // namespace causerie::check
