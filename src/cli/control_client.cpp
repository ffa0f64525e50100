#include "cli/control_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include "app/control_socket.hpp"
#include "core/module/command_registry.hpp"
#include "core/xml/data_form.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/namespaces.hpp"
#include "core/xml/serializer.hpp"

namespace causerie::cli {

namespace {

StanzaError error_from(const xml::Element& e) {
  StanzaError out(StanzaErrorCondition::kUndefinedCondition);
  for (const xml::Element* c : e.children()) {
    if (c->ns() != ns::kStanzas) continue;
    if (c->name() == "text") {
      out.text = c->text();
      continue;
    }
    for (int i = 0; i <= static_cast<int>(StanzaErrorCondition::kUnexpectedRequest); ++i)
      if (c->name() == to_string(static_cast<StanzaErrorCondition>(i))) out.condition = static_cast<StanzaErrorCondition>(i);
  }
  return out;
}

}  // namespace

bool CommandOutcome::has_error_note() const {
  for (const auto& [type, _] : notes)
    if (type == "error") return true;
  return false;
}

std::vector<std::string> CommandOutcome::values(const std::string& var) const {
  for (const auto& [v, values] : fields)
    if (v == var) return values;
  return {};
}

std::string describe(const StanzaError& e) {
  return e.text.empty() ? std::string(to_string(e.condition)) : e.text + " (" + to_string(e.condition) + ")";
}

std::unique_ptr<ControlClient> ControlClient::connect(const std::string& data_dir) {
  std::string path = control_socket_path(data_dir);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) return nullptr;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EACCES || err == EPERM)
      throw std::runtime_error("a server runs on " + data_dir + " but its control socket " + path +
                               " is not open to this user (run as the server's user)");
    return nullptr;  // ENOENT, ECONNREFUSED: no server runs there
  }
  return std::unique_ptr<ControlClient>(new ControlClient(fd));
}

ControlClient::~ControlClient() { ::close(fd_); }

tl::expected<xml::Element, StanzaError> ControlClient::send(const std::string& host, const xml::Element& command) {
  xml::Element req("control", kControlNs);
  req.set_attr("host", host);
  req.add(command);
  if (!write_control_frame(fd_, xml::to_string(req))) throw std::runtime_error("the server closed its control socket");
  auto answer = read_control_frame(fd_);
  if (!answer) throw std::runtime_error("the server closed its control socket");
  auto el = xml::parse_fragment(*answer);
  if (!el) throw std::runtime_error("the server's answer is not XML");
  if (const xml::Element* cmd = el->child("command", adhoc::kNs)) return *cmd;
  if (const xml::Element* err = el->child("error", kControlNs)) return tl::unexpected(error_from(*err));
  for (const xml::Element* ch : el->children())
    if (ch->name() == "error") return tl::unexpected(error_from(*ch));
  throw std::runtime_error("the server's answer holds neither a command nor an error");
}

tl::expected<CommandOutcome, StanzaError> ControlClient::run(const std::string& host, const std::string& node,
                                                             const std::map<std::string, std::vector<std::string>>& values) {
  xml::Element cmd("command", adhoc::kNs);
  cmd.set_attr("node", node);
  cmd.set_attr("action", "execute");
  std::set<std::string> used;
  for (int stage = 0; stage < 16; ++stage) {
    auto answer = send(host, cmd);
    if (!answer) return tl::unexpected(answer.error());
    std::string status(answer->attr("status"));
    const xml::Element* x = answer->child("x", ns::kDataForms);
    if (status != "executing") {
      CommandOutcome out;
      for (const xml::Element* n : answer->children("note", adhoc::kNs)) {
        std::string type(n->attr("type"));
        out.notes.emplace_back(type.empty() ? "info" : type, n->text());
      }
      if (x)
        if (auto form = xml::DataForm::parse(*x))
          for (const auto& f : form->fields)
            if (f.var != "FORM_TYPE") out.fields.emplace_back(f.var, f.values);
      for (const auto& [var, _] : values)
        if (!used.count(var)) out.notes.emplace_back("warn", "no form of the command had a field '" + var + "'");
      return out;
    }
    auto shown = x ? xml::DataForm::parse(*x) : std::nullopt;
    xml::DataForm submit;
    submit.type = "submit";
    if (shown) {
      for (const auto& f : shown->fields) {
        if (f.type == "fixed" || f.var.empty()) continue;
        auto given = values.find(f.var);
        if (given != values.end()) used.insert(f.var);
        submit.add(f.var, {}, given != values.end() ? given->second : f.values);
      }
    }
    cmd = xml::Element("command", adhoc::kNs);
    cmd.set_attr("node", node);
    cmd.set_attr("sessionid", answer->attr("sessionid"));
    cmd.add(submit.to_element());
  }
  return tl::unexpected(StanzaError(StanzaErrorCondition::kResourceConstraint, "the command has too many stages"));
}

}  // namespace causerie::cli
