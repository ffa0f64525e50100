// `causerie cert import DIR`: takes certificates from Let's Encrypt live directories (certbot's
// /etc/letsencrypt/live/<domain>/ with fullchain.pem and privkey.pem, or the live/ directory holding
// several) into the certificate store the server reads, data_dir/certs/<host>.crt and .key
// (tls_context.hpp, imported_certificate), for each directory named after a configured host. Each pair
// is checked first — readable, key matching, the host among the names, not expired — and written
// atomically, the key readable by its owner only (the data directory's owner when run as root); then
// a running server (data_dir/causerie.pid) is sent SIGHUP to use them for new connections.
//
// Thread rules: the CLI's thread.
#pragma once

#include <iosfwd>
#include <string>

#include "core/config/config.hpp"

namespace causerie::cert {

// Returns the exit status: 0 when every certificate found for a host was imported, 1 otherwise.
int run_import(const Config& config, const std::string& dir, std::ostream& out, std::ostream& err);

// Whether a certificate name (a DNS-ID, possibly "*.parent") covers `host`. Pure.
bool name_covers(const std::string& name, const std::string& host);

}  // namespace causerie::cert
