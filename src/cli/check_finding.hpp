// Finding: one line of `causerie check`: a severity and what was found, for one host or for the whole
// configuration. Values; any thread.
//
// kError means something stops the server, its clients or other servers from working as configured (the
// exit status is 1 when any is found); kWarn something that works, or that is only partly checked, but
// deserves a look; kOk a check that passed.
#pragma once

#include <string>
#include <vector>

namespace causerie::check {

enum class Severity { kOk, kWarn, kError };

struct Finding {
  Severity severity = Severity::kOk;
  std::string text;
  bool operator==(const Finding&) const = default;
};

using Findings = std::vector<Finding>;

}  // namespace causerie::check
