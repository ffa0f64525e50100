// ControlClient: the command line's end of a running server's control socket (app/control_socket.hpp):
// it runs the server's XEP-0050 commands as the operator, answering the forms they show with values
// given on the command line. Used by `causerie user …`, `announce`, `motd` and `adhoc` while a server
// runs on the same data directory. One thread (the CLI's).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/element.hpp"

namespace causerie::cli {

// What a command ended with: its notes and the fields of its result form.
struct CommandOutcome {
  std::vector<std::pair<std::string, std::string>> notes;  // type, text
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;  // var, values (FORM_TYPE left out)
  bool has_error_note() const;
  std::vector<std::string> values(const std::string& var) const;
};

// The error a command answered with, as a sentence ("item-not-found: no account x@y").
std::string describe(const StanzaError& e);

class ControlClient {
 public:
  // Connected to the server on `data_dir`, or nullptr when none runs there (no socket, or nobody listening).
  // Throws std::runtime_error when a server runs but refuses this user.
  static std::unique_ptr<ControlClient> connect(const std::string& data_dir);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // One request and its answer: the <command/>, or the stanza error.
  tl::expected<xml::Element, StanzaError> send(const std::string& host, const xml::Element& command);
  // Runs `node` on `host` to its end: executes it and answers every form it shows with `values` (var →
  // values; fields not given keep the form's defaults). A var no form had adds a "warn" note.
  tl::expected<CommandOutcome, StanzaError> run(const std::string& host, const std::string& node,
                                                const std::map<std::string, std::vector<std::string>>& values);

 private:
  explicit ControlClient(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace causerie::cli
