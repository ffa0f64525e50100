// ControlSocket: the running server's local control channel, a Unix socket `control.sock` in the data
// directory (mode 0600, owned by the server's user; a peer of another uid, root aside, is refused by its
// SO_PEERCRED). Through it the `causerie` command line runs the server's XEP-0050 ad-hoc commands — the
// XEP-0133 administration commands among them — as the host's operator (CommandCaller::local_operator),
// so a command from the CLI does what the same command from an admin's client does, live sessions
// included.
//
// Framing (both ways): the decimal byte length of one XML element, '\n', then the element.
//   request:  <control xmlns='urn:causerie:control' host='example.org'><command xmlns='…commands' …/></control>
//   answer:   <control xmlns='urn:causerie:control'><command …/></control>, or with an RFC 6120
//             <error type='…'><condition/><text/></error> (the stanza error the iq would have had)
// A connection may carry several requests in turn (a multi-stage command keeps its sessionid).
//
// Thread rules: one thread of its own accepts and serves connections one at a time (commands answer in
// milliseconds); commands run from it as from any thread. start()/stop() from the main thread.
#pragma once

#include <optional>
#include <string>
#include <thread>

namespace causerie {

class CommandRegistry;
struct Config;
class LiveConfig;

inline constexpr const char* kControlNs = "urn:causerie:control";
// Path of the control socket for a data directory.
std::string control_socket_path(const std::string& data_dir);
// The framing, for both ends: one frame holding `body`; false when the peer is gone.
bool write_control_frame(int fd, const std::string& body);
// The next frame's body; nullopt at the end of the connection, on a malformed or oversized frame, when
// nothing arrives for `idle_ms` (-1: no limit) or when `wake_fd` (-1: none) becomes readable.
std::optional<std::string> read_control_frame(int fd, int wake_fd = -1, int idle_ms = -1);

class ControlSocket {
 public:
  ControlSocket(const LiveConfig& config, CommandRegistry& commands);
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Binds the socket (replacing a stale one no server listens on; ConfigError when a live server
  // already does) and starts serving.
  void start();
  void stop();

 private:
  void run();
  void serve(int fd, unsigned long connection);

  const LiveConfig& config_;  // hosts as the configuration in force says (reloads add and remove them)
  CommandRegistry& commands_;
  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace causerie
