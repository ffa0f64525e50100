// `causerie status`: asks the running server's admin listener (the first [[listener]] of type "admin")
// for /metrics over loopback HTTP and prints a summary. Exit status 0 when it answered, 3 when nothing
// answers there (the server is not running: the LSB status convention), 1 when the configuration has
// no admin listener or the answer is not what a Causerie server sends.
//
// Thread rules: the CLI's thread; blocking POSIX sockets with a timeout, no Asio.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace causerie::status {

// Samples of a Prometheus text page, by name with its labels as written ("name{a=\"b\"}"); comments
// skipped. nullopt when a line is not a sample. Pure.
std::optional<std::map<std::string, double>> parse_samples(std::string_view text);

int run_status(const Config& config);

}  // namespace causerie::status
