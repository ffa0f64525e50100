#include "core/module/command_registry.hpp"

#include <algorithm>
#include <atomic>

#include "core/router/iq.hpp"
#include "core/util/encoding.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie {

namespace {

StanzaError command_error(StanzaErrorCondition c, const char* specific, std::string text = {}) {
  StanzaError e(c, std::move(text));
  if (specific) e.with_app(xml::Element(specific, adhoc::kNs));
  return e;
}

StanzaError bad_action(std::string text) {
  return command_error(StanzaErrorCondition::kBadRequest, "bad-action", std::move(text));
}
StanzaError bad_sessionid() {
  return command_error(StanzaErrorCondition::kBadRequest, "bad-sessionid", "no such command session");
}
StanzaError session_expired() {
  return command_error(StanzaErrorCondition::kNotAllowed, "session-expired", "the command session has ended");
}

const char* note_type(CommandNote::Type t) {
  switch (t) {
    case CommandNote::kWarn: return "warn";
    case CommandNote::kError: return "error";
    default: return "info";
  }
}

xml::Element command_element(const std::string& node, const std::string& id, const char* status) {
  xml::Element c("command", adhoc::kNs);
  c.set_attr("node", node);
  c.set_attr("sessionid", id);
  c.set_attr("status", status);
  return c;
}

void add_notes(xml::Element& c, const std::vector<CommandNote>& notes) {
  for (const auto& n : notes) c.add_text_child("note", n.text).set_attr("type", note_type(n.type));
}

// The form shown again after 'prev', with what had been submitted to it (XEP-0050 §3.3 allows it).
xml::DataForm refill(xml::DataForm form, const SubmittedForm& answer) {
  for (auto& f : form.fields) {
    if (f.type == "fixed" || f.type == "hidden") continue;
    if (const xml::FormField* got = answer.form().field(f.var)) f.values = got->values;
  }
  return form;
}

}  // namespace

struct CommandRegistry::Session {
  struct Shown {
    xml::DataForm form;
    CommandActions actions;
    std::vector<CommandNote> notes;
  };
  std::string id, node, host;
  Jid caller;
  bool ended = false;
  bool busy = false;
  std::chrono::steady_clock::time_point last;
  std::vector<Shown> shown;
  std::vector<SubmittedForm> answers;    // answers[i] answers shown[i]
  std::optional<SubmittedForm> pending;  // the answer to shown.back() while its stage runs
  std::map<std::string, std::string> state;
};

struct CommandReply::State {
  CommandRegistry* registry;
  std::string session_id, node;
  CommandRegistry::Answer answer;
  std::atomic<bool> answered{false};

  enum class Kind { kForm, kDone, kFail };
  void finish(Kind kind, xml::DataForm form, CommandActions actions, std::vector<CommandNote> notes,
              std::optional<xml::DataForm> result, StanzaError error);
  ~State() {
    // A handler that dropped its reply: the requester gets an error and the session does not stay busy.
    if (!answered.load())
      finish(Kind::kFail, {}, {}, {}, std::nullopt, StanzaError(StanzaErrorCondition::kInternalServerError));
  }
};

void CommandReply::State::finish(Kind kind, xml::DataForm form, CommandActions actions,
                                 std::vector<CommandNote> notes, std::optional<xml::DataForm> result,
                                 StanzaError error) {
  if (answered.exchange(true)) return;
  tl::expected<xml::Element, StanzaError> out = tl::unexpected(error);
  {
    std::lock_guard lock(registry->mutex_);
    auto it = registry->sessions_.find(session_id);
    CommandRegistry::Session* s = it == registry->sessions_.end() ? nullptr : it->second.get();
    if (s) {
      s->busy = false;
      s->last = registry->clock_.now();
    }
    if (kind == Kind::kForm) {
      if (s && !s->ended) {
        if (s->pending) s->answers.push_back(std::move(*s->pending));
        s->pending.reset();
        form.type = "form";
        xml::Element c = command_element(node, session_id, "executing");
        xml::Element& a = c.add_child("actions");
        a.set_attr("execute", actions.execute == CommandActions::kNext ? "next" : "complete");
        if (actions.prev && !s->shown.empty()) a.add_child("prev");
        if (actions.next) a.add_child("next");
        if (actions.complete) a.add_child("complete");
        add_notes(c, notes);
        c.add(form.to_element());
        s->shown.push_back({std::move(form), actions, std::move(notes)});
        out = std::move(c);
      } else {
        out = tl::unexpected(session_expired());
      }
    } else {
      if (s) {
        s->ended = true;
        s->pending.reset();
        s->shown.clear();
        s->answers.clear();
        s->state.clear();
      }
      if (kind == Kind::kDone) {
        xml::Element c = command_element(node, session_id, "completed");
        add_notes(c, notes);
        if (result) c.add(result->to_element());
        out = std::move(c);
      }
    }
  }
  answer(std::move(out));
}

void CommandReply::form(xml::DataForm form, CommandActions actions, std::vector<CommandNote> notes) const {
  s_->finish(State::Kind::kForm, std::move(form), actions, std::move(notes), std::nullopt, {});
}

void CommandReply::done(std::vector<CommandNote> notes, std::optional<xml::DataForm> result) const {
  s_->finish(State::Kind::kDone, {}, {}, std::move(notes), std::move(result), {});
}

void CommandReply::fail(StanzaError error) const {
  s_->finish(State::Kind::kFail, {}, {}, {}, std::nullopt, std::move(error));
}

CommandRegistry::CommandRegistry(const LiveConfig& config, const Clock& clock) : config_(config), clock_(clock) {}

CommandRegistry::~CommandRegistry() = default;

void CommandRegistry::add(CommandSpec spec) {
  for (const auto& c : commands_)
    if (c.node == spec.node && (c.host.empty() || spec.host.empty() || c.host == spec.host))
      throw ConfigError("ad-hoc command node '" + spec.node + "' registered twice");
  if (!spec.allowed) spec.allowed = host_admins();
  commands_.push_back(std::move(spec));
}

CommandPermission CommandRegistry::anyone() {
  return [](const CommandCaller&, const std::string&) { return true; };
}

CommandPermission CommandRegistry::local_users() {
  return [](const CommandCaller& c, const std::string& host) {
    return c.jid.has_localpart() && c.jid.domainpart() == host;
  };
}

CommandPermission CommandRegistry::host_admins() const {
  return [this](const CommandCaller& c, const std::string& host) { return is_admin(c, host); };
}

bool CommandRegistry::is_admin(const CommandCaller& caller, const std::string& host) const {
  if (caller.local_operator) return true;
  // The host's admins as the configuration in force says (a reload may have changed them).
  const HostConfig* h = config_.current().find_host(host);
  if (!h || !caller.jid.has_localpart()) return false;
  for (const auto& a : h->admins)
    if (auto j = Jid::parse(a); j && j->bare_view() == caller.jid.bare_view()) return true;
  return false;
}

const CommandSpec* CommandRegistry::find(const std::string& host, const std::string& node) const {
  for (const auto& c : commands_)
    if (c.node == node && (c.host.empty() || c.host == host)) return &c;
  return nullptr;
}

bool CommandRegistry::answers_node(const std::string& host, const std::string& node) const {
  return node == adhoc::kNs || find(host, node) != nullptr;
}

xml::Element CommandRegistry::disco_items(const CommandCaller& caller, const std::string& host) const {
  xml::Element q("query", ns::kDiscoItems);
  q.set_attr("node", adhoc::kNs);
  for (const auto& c : commands_) {
    if (!(c.host.empty() || c.host == host) || !c.allowed(caller, host)) continue;
    xml::Element& i = q.add_child("item");
    i.set_attr("jid", host);
    i.set_attr("node", c.node);
    i.set_attr("name", c.name);
  }
  return q;
}

tl::expected<xml::Element, StanzaError> CommandRegistry::disco_info(const CommandCaller& caller,
                                                                    const std::string& host,
                                                                    const std::string& node) const {
  xml::Element q("query", ns::kDiscoInfo);
  q.set_attr("node", node);
  if (node == adhoc::kNs) {
    xml::Element& id = q.add_child("identity");
    id.set_attr("category", "automation");
    id.set_attr("type", "command-list");
    id.set_attr("name", "Commands");
    return q;
  }
  const CommandSpec* c = find(host, node);
  if (!c) return tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound));
  // XEP-0050 §2.3: "If the command is not available to the requester, the responder SHOULD respond with
  // a 403 "Forbidden" error."
  if (!c->allowed(caller, host)) return tl::unexpected(StanzaError(StanzaErrorCondition::kForbidden));
  xml::Element& id = q.add_child("identity");
  id.set_attr("category", "automation");
  id.set_attr("type", "command-node");
  id.set_attr("name", c->name);
  q.add_child("feature").set_attr("var", adhoc::kNs);
  q.add_child("feature").set_attr("var", ns::kDataForms);
  return q;
}

void CommandRegistry::handle_iq(IqRequest& r) {
  CommandCaller caller{r.from()};
  std::string host(r.to().domainpart());
  IqResponder reply = r.reply;
  execute(caller, host, r.payload(), [reply](tl::expected<xml::Element, StanzaError> out) {
    if (out) reply.result(std::move(*out));
    else reply.error(out.error());
  });
}

void CommandRegistry::execute(const CommandCaller& caller, const std::string& host, const xml::Element& command,
                              Answer answer) {
  std::string node(command.attr("node"));
  if (node.empty()) {
    answer(tl::unexpected(StanzaError(StanzaErrorCondition::kBadRequest, "the command has no node")));
    return;
  }
  const CommandSpec* spec = find(host, node);
  if (!spec) {
    answer(tl::unexpected(StanzaError(StanzaErrorCondition::kItemNotFound, "no command '" + node + "' here")));
    return;
  }
  if (!spec->allowed(caller, host)) {
    answer(tl::unexpected(StanzaError(StanzaErrorCondition::kForbidden, "you may not run this command")));
    return;
  }
  std::string action(command.attr("action"));
  if (action.empty()) action = "execute";
  if (action != "execute" && action != "next" && action != "prev" && action != "complete" && action != "cancel") {
    answer(tl::unexpected(command_error(StanzaErrorCondition::kBadRequest, "malformed-action",
                                        "unknown action '" + action + "'")));
    return;
  }
  std::string id(command.attr("sessionid"));
  auto now = clock_.now();
  auto st = std::make_shared<CommandReply::State>();
  st->registry = this;
  st->node = node;
  st->answer = std::move(answer);
  auto refuse = [&st](StanzaError e) {
    st->answered = true;
    st->answer(tl::unexpected(std::move(e)));
  };

  std::unique_lock lock(mutex_);
  Session* s = nullptr;
  bool complete = false;
  if (id.empty()) {
    // A new session (XEP-0050 §3.5: the requester starts one by sending the node without a sessionid).
    if (action != "execute") {
      lock.unlock();
      refuse(bad_action("'" + action + "' needs a command session"));
      return;
    }
    size_t mine = 0;
    for (const auto& [_, other] : sessions_)
      if (!other->ended && other->caller.bare_view() == caller.jid.bare_view()) ++mine;
    if (mine >= kMaxSessionsPerCaller || sessions_.size() >= kMaxSessions) {
      lock.unlock();
      refuse(StanzaError(StanzaErrorCondition::kResourceConstraint, "too many command sessions"));
      return;
    }
    auto fresh = std::make_unique<Session>();
    do fresh->id = util::random_id(12);
    while (sessions_.count(fresh->id));
    fresh->node = node;
    fresh->host = host;
    fresh->caller = caller.jid;
    fresh->last = now;
    fresh->busy = true;
    s = fresh.get();
    sessions_.emplace(s->id, std::move(fresh));
  } else {
    auto it = sessions_.find(id);
    // A session id is valid for one requester and one command (§3.5): anything else is unknown here.
    if (it == sessions_.end() || it->second->caller != caller.jid || it->second->node != node ||
        it->second->host != host) {
      lock.unlock();
      refuse(bad_sessionid());
      return;
    }
    s = it->second.get();
    if (!s->ended && !s->busy && now - s->last > kSessionTimeout) {
      s->ended = true;
      s->shown.clear();
      s->answers.clear();
      s->state.clear();
    }
    if (s->ended) {
      lock.unlock();
      refuse(session_expired());
      return;
    }
    if (s->busy) {
      lock.unlock();
      refuse(StanzaError(StanzaErrorCondition::kResourceConstraint, "the previous stage is still running"));
      return;
    }
    if (action == "cancel") {
      s->ended = true;
      s->last = now;
      s->shown.clear();
      s->answers.clear();
      s->state.clear();
      lock.unlock();
      st->answered = true;
      st->answer(command_element(node, id, "canceled"));
      return;
    }
    if (s->shown.empty()) {  // not reachable: a session that showed no form has ended
      lock.unlock();
      refuse(bad_sessionid());
      return;
    }
    const Session::Shown& current = s->shown.back();
    if (action == "execute") action = current.actions.execute == CommandActions::kNext ? "next" : "complete";
    bool allowed = (action == "prev" && current.actions.prev && s->shown.size() > 1) ||
                   (action == "next" && current.actions.next) || (action == "complete" && current.actions.complete);
    if (!allowed) {
      lock.unlock();
      refuse(bad_action("'" + action + "' is not allowed at this stage"));
      return;
    }
    s->last = now;
    if (action == "prev") {
      s->shown.pop_back();
      Session::Shown back = s->shown.back();
      if (!s->answers.empty()) {
        back.form = refill(std::move(back.form), s->answers.back());
        s->answers.pop_back();
      }
      s->shown.pop_back();  // shown again below, as the current stage
      s->busy = true;
      st->session_id = s->id;
      lock.unlock();
      CommandReply(st).form(std::move(back.form), back.actions, std::move(back.notes));
      return;
    }
    xml::DataForm submitted;
    submitted.type = "submit";
    if (const xml::Element* x = command.child("x", ns::kDataForms))
      if (auto f = xml::DataForm::parse(*x)) submitted = std::move(*f);
    auto checked = SubmittedForm::check(current.form, submitted);
    if (!checked) {
      lock.unlock();
      refuse(command_error(StanzaErrorCondition::kBadRequest, "bad-payload", checked.error()));
      return;
    }
    s->pending = std::move(*checked);
    s->busy = true;
    complete = action == "complete";
  }
  st->session_id = s->id;
  lock.unlock();
  // The session is busy: nothing but this stage touches it until the reply, and sweep() keeps it.
  CommandCall call{caller, s->host, s->node, command, s->shown.size(), s->pending ? &*s->pending : nullptr,
                   s->answers, complete, s->state, CommandReply(st)};
  spec->handler(call);
}

void CommandRegistry::sweep() {
  auto now = clock_.now();
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = *it->second;
    if (!s.busy && !s.ended && now - s.last > kSessionTimeout) {
      s.ended = true;
      s.shown.clear();
      s.answers.clear();
      s.state.clear();
    }
    // Ended sessions are kept a while so that their ids answer session-expired, not bad-sessionid.
    if (!s.busy && s.ended && now - s.last > 2 * kSessionTimeout) it = sessions_.erase(it);
    else ++it;
  }
}

size_t CommandRegistry::session_count() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [_, s] : sessions_) n += s->ended ? 0 : 1;
  return n;
}

}  // namespace causerie
