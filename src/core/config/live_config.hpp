// LiveConfig: the configuration in force. It starts as the file read at startup; a reload (SIGHUP)
// publishes a new snapshot in which only what may change live (hosts and their settings, [limits],
// certificates) differs from the running one.
//
// Snapshots are kept until the server ends (core/util/published.hpp), so a `const Config&` taken from an
// earlier one stays valid, only stale: readers on any thread call current() without locks, and whoever
// needs the newest values asks again. publish() runs on the main thread.
#pragma once

#include "core/config/config.hpp"
#include "core/util/published.hpp"

namespace causerie {

class LiveConfig {
 public:
  explicit LiveConfig(Config initial) : config_(std::move(initial)) {}

  const Config& current() const { return config_.get(); }
  const Config& publish(Config next) { return config_.publish(std::move(next)); }

 private:
  Published<Config> config_;
};

}  // namespace causerie
