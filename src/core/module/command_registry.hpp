// CommandRegistry: XEP-0050 ad-hoc commands offered by the server's hosts, and the engine that runs
// them. Modules register commands through ModuleContext::commands() at startup; the adhoc module
// (modules/adhoc.cpp) answers the iqs and the disco queries from it, and the local control socket
// (app/control_socket) runs the same commands for the `causerie` command line.
//
// Registering a command (in a module's constructor):
//
//   ctx.commands().add({.node = "urn:example#hello", .name = "Say hello",
//                       .allowed = CommandRegistry::host_admins(),   // or local_users(), anyone(), a lambda
//                       .handler = [](CommandCall& call) { … }});
//
// The handler runs once per stage, on the thread the request arrived on. It reads `call` and answers
// through `call.reply` exactly once, at once or later from any thread (e.g. a storage completion):
//   reply.form(form, actions, notes)  — show a form; the session goes on (status 'executing');
//   reply.done(notes, result)         — the session ends (status 'completed'), with notes and an
//                                       optional result form; a failed command adds a Note::kError
//                                       (XEP-0050 §4.4: "MUST include at least one <note type='error'/>");
//   reply.fail(error)                 — an iq error (XEP-0133 §4: conflict, item-not-found, …); ends
//                                       the session.
// call.stage is the number of forms this session has shown (0: the first execution). When it is > 0,
// call.submitted is the checked answer to the last form shown (SubmittedForm: required fields, types,
// options), and call.previous holds the answers to the earlier ones. call.state is scratch space that
// persists across stages (see CommandCall for how long its references live).
//
// The engine does the rest of XEP-0050: session ids (valid for one requester, one command), the
// actions allowed at each stage (bad-action otherwise; malformed-action for an unknown one), 'execute'
// meaning the stage's default action, 'prev' (shows the previous form again, with what was submitted
// to it; only when the stage allowed it), 'cancel' (status 'canceled'), bad-payload for a submission
// the shown form refuses (the session stays at its stage), bad-sessionid, session-expired for a
// session that ended or stayed idle longer than kSessionTimeout on the server's Clock, forbidden for a
// caller the command's Permission refuses (and the command is not listed for them), item-not-found for
// an unknown node, and a busy session answers resource-constraint while its last stage is running.
//
// Thread rules: add() only at startup; everything else from any thread (one mutex over the sessions,
// never held while a handler runs or an answer is sent).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "core/config/config.hpp"
#include "core/config/live_config.hpp"
#include "core/jid/jid.hpp"
#include "core/module/submitted_form.hpp"
#include "core/stanza/errors.hpp"
#include "core/util/clock.hpp"
#include "core/xml/data_form.hpp"

namespace causerie {

struct IqRequest;

namespace adhoc {
inline constexpr const char* kNs = "http://jabber.org/protocol/commands";
}

// Who runs a command.
struct CommandCaller {
  Jid jid;                // the requester's full JID; for the control socket, host/<connection id>
  bool local_operator = false;  // the operator on the local control socket: passes host_admins() everywhere
};

// Whether `caller` may see and run a command on `host`.
using CommandPermission = std::function<bool(const CommandCaller& caller, const std::string& host)>;

struct CommandNote {
  enum Type { kInfo, kWarn, kError };
  Type type = kInfo;
  std::string text;
};

// The actions a stage allows (XEP-0050 §3.4 <actions/>); cancel is always allowed. `execute` is the
// default action, one of those allowed.
struct CommandActions {
  bool prev = false, next = false, complete = true;
  enum Default { kNext, kComplete } execute = kComplete;

  static CommandActions complete_only() { return {}; }
  // A middle stage of a wizard: next (default), prev when `back`.
  static CommandActions next_only(bool back = false) { return {back, true, false, kNext}; }
  // The last stage of a wizard: complete (default), prev when `back`.
  static CommandActions last(bool back = true) { return {back, false, true, kComplete}; }
};

class CommandRegistry;

// The answer to one stage; copies share one state and the first answer wins.
class CommandReply {
 public:
  void form(xml::DataForm form, CommandActions actions = CommandActions::complete_only(),
            std::vector<CommandNote> notes = {}) const;
  void done(std::vector<CommandNote> notes = {}, std::optional<xml::DataForm> result = std::nullopt) const;
  void fail(StanzaError error) const;

  struct State;
  explicit CommandReply(std::shared_ptr<State> s) : s_(std::move(s)) {}

 private:
  std::shared_ptr<State> s_;
};

// One stage of a command. The values are the call's own; the references (submitted, previous, state)
// point into the session and stay valid until the handler returns or answers, whichever comes first:
// an asynchronous handler copies what it needs before it returns.
struct CommandCall {
  CommandCaller caller;
  std::string host;                  // the local host the command was sent to
  std::string node;
  const xml::Element& command;       // the <command/> element as received
  size_t stage;                      // forms shown so far in this session
  const SubmittedForm* submitted;    // the answer to the last form shown (stage > 0), else nullptr
  const std::vector<SubmittedForm>& previous;  // answers to the forms before it, oldest first
  bool complete;                     // the requester asked to complete (action 'complete', or its default)
  std::map<std::string, std::string>& state;
  CommandReply reply;
};

using CommandHandler = std::function<void(CommandCall&)>;

struct CommandSpec {
  std::string node;
  std::string name;   // the label in disco#items
  std::string host;   // one local host, or "" for every local host
  CommandPermission allowed;
  CommandHandler handler;
};

class CommandRegistry {
 public:
  static constexpr std::chrono::minutes kSessionTimeout{10};
  static constexpr size_t kMaxSessionsPerCaller = 16;
  static constexpr size_t kMaxSessions = 10000;

  CommandRegistry(const LiveConfig& config, const Clock& clock);
  ~CommandRegistry();

  // Startup only. Throws ConfigError when a node is registered twice for a host.
  void add(CommandSpec spec);

  // --- any thread ---
  // Permissions for CommandSpec::allowed.
  static CommandPermission anyone();
  // An account of the host itself (user@host).
  static CommandPermission local_users();
  // The host's `admins` (config), and the control socket's operator.
  CommandPermission host_admins() const;
  bool is_admin(const CommandCaller& caller, const std::string& host) const;

  // Runs one stage of the <command/> `command` sent by `caller` to `host`; `answer` gets the <command/>
  // to put in the iq result, or the stanza error. Exactly one call of `answer`, on any thread.
  using Answer = std::function<void(tl::expected<xml::Element, StanzaError>)>;
  void execute(const CommandCaller& caller, const std::string& host, const xml::Element& command, Answer answer);
  // The iq form of execute(): a <command/> set to a local host.
  void handle_iq(IqRequest& request);

  // XEP-0030 for the host: <query/> of disco#items for the node kNs (only what `caller` may run), and
  // disco#info for kNs or for one command node (forbidden when `caller` may not run it).
  xml::Element disco_items(const CommandCaller& caller, const std::string& host) const;
  tl::expected<xml::Element, StanzaError> disco_info(const CommandCaller& caller, const std::string& host,
                                                     const std::string& node) const;
  // Whether the host has a command with this node, or `node` is kNs: the disco queries it answers.
  bool answers_node(const std::string& host, const std::string& node) const;

  // Forgets sessions idle past kSessionTimeout and ended sessions' ids (call periodically).
  void sweep();
  size_t session_count() const;

 private:
  friend struct CommandReply::State;
  struct Session;
  const CommandSpec* find(const std::string& host, const std::string& node) const;
  void answer_stage(const std::string& id, const std::string& node, std::shared_ptr<CommandReply::State> st);

  const LiveConfig& config_;
  const Clock& clock_;
  std::vector<CommandSpec> commands_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;  // by session id
};

}  // namespace causerie
