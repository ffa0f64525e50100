// Server: builds and owns every part of a running Causerie (storage, workers, router, modules,
// listeners) from a Config, in dependency order, and takes them down in reverse. Used by `causerie run`.
#pragma once

#include <memory>

#include "core/config/config.hpp"

namespace causerie {

class Server {
 public:
  // Opens storage, loads the TLS configuration and binds every listener: a ConfigError or StorageError
  // here means the server cannot start, and says why.
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  // Blocks until SIGINT or SIGTERM.
  void wait_for_signal();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGINT/SIGTERM/SIGPIPE in the calling thread (call before any thread starts, so all inherit it).
void block_signals();

}  // namespace causerie
