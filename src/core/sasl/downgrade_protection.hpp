// XEP-0474 v0.5.0 SASL SCRAM Downgrade Protection (SSDP): the hash the server puts, as the "h" attribute,
// into its SCRAM server-first-message, over the mechanisms and channel-binding types it advertised to
// this client. A client that saw other lists (a man in the middle removed the -PLUS mechanisms or a
// binding type) computes another hash and stops; and since the attribute is inside the SCRAM
// AuthMessage, an attacker cannot change it without the proofs failing. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/sasl/scram.hpp"

namespace causerie::sasl {

// §"Server Sends Downgrade Protection Hash": the mechanisms sorted (i;octet) and joined by 0x1E; then,
// when XEP-0440 advertised channel bindings, 0x1F and the binding types sorted and joined by 0x1E; hashed
// with the SCRAM mechanism's hash and base64-encoded. `channel_bindings` nullopt: none were advertised.
std::string downgrade_protection_hash(ScramHash hash, std::vector<std::string> mechanisms,
                                      std::optional<std::vector<std::string>> channel_bindings);

}  // namespace causerie::sasl
