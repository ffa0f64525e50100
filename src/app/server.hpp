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
  // Blocks until SIGINT or SIGTERM; each SIGHUP meanwhile reloads (below).
  void wait_for_signal();
  void stop();
  // SIGHUP: reads the configuration file again, takes the certificates (and keys) of the running hosts
  // for new connections, and logs every other change as one that needs a restart. Sessions stay up.
  // False (and the old settings in use) when the file or a certificate does not load.
  bool reload();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where a running server keeps its process id (for `causerie cert import`'s reload): data_dir/causerie.pid.
std::string pid_file(const Config& config);

// Blocks SIGINT/SIGTERM/SIGHUP/SIGPIPE in the calling thread (call before any thread starts, so all inherit it).
void block_signals();

}  // namespace causerie
