#include "app/control_socket.hpp"

#include "core/config/live_config.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

#include <spdlog/spdlog.h>

#include "core/config/config.hpp"
#include "core/module/command_registry.hpp"
#include "core/xml/fragment.hpp"
#include "core/xml/serializer.hpp"

namespace causerie {

namespace {

constexpr size_t kMaxFrame = 1 << 20;
constexpr int kIdleMs = 60'000;          // a client that says nothing for a minute is dropped
constexpr auto kAnswerWait = std::chrono::seconds(60);

sockaddr_un address_of(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) throw ConfigError("control socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Reads exactly n bytes, waiting at most idle_ms for each chunk; false on EOF, error, silence, or when
// `wake` (the server stopping) becomes readable.
bool read_exact(int fd, int wake, int idle_ms, char* buf, size_t n) {
  while (n > 0) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
    if (::poll(p, 2, idle_ms) <= 0 || p[1].revents) return false;
    ssize_t got = ::read(fd, buf, n);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      return false;
    }
    buf += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

std::string control_socket_path(const std::string& data_dir) { return data_dir + "/control.sock"; }

bool write_control_frame(int fd, const std::string& body) {
  std::string data = std::to_string(body.size()) + "\n" + body;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> read_control_frame(int fd, int wake_fd, int idle_ms) {
  std::string len;
  char c = 0;
  while (true) {
    if (!read_exact(fd, wake_fd, idle_ms, &c, 1)) return std::nullopt;
    if (c == '\n') break;
    if (c < '0' || c > '9' || len.size() > 8) return std::nullopt;
    len += c;
  }
  if (len.empty()) return std::nullopt;
  size_t n = std::stoul(len);
  if (n > kMaxFrame) return std::nullopt;
  std::string body(n, '\0');
  if (!read_exact(fd, wake_fd, idle_ms, body.data(), n)) return std::nullopt;
  return body;
}

ControlSocket::ControlSocket(const LiveConfig& config, CommandRegistry& commands)
    : config_(config), commands_(commands), path_(control_socket_path(config.current().data_dir)) {}

ControlSocket::~ControlSocket() { stop(); }

void ControlSocket::start() {
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) {
    // A Unix socket path has at most 107 bytes: the server runs, the command line works on the database only.
    spdlog::warn("no control socket: the path {} is too long; `causerie` commands will not reach this server", path_);
    return;
  }
  sockaddr_un addr = address_of(path_);
  // A socket file left by a server that is gone is replaced; one a live server answers on is not.
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(probe);
    if (live) throw ConfigError("another server is running on " + config_.current().data_dir + " (" + path_ + " answers)");
  }
  ::unlink(path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw ConfigError("control socket: " + std::string(std::strerror(errno)));
  // Created 0600 from the start (the umask applies at bind), so nobody else can connect in between.
  mode_t old = ::umask(0177);
  int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0 || ::chmod(path_.c_str(), 0600) != 0 || ::listen(listen_fd_, 8) != 0)
    throw ConfigError("cannot listen on " + path_ + ": " + std::strerror(errno));
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw ConfigError("control socket: " + std::string(std::strerror(errno)));
  thread_ = std::thread([this] { run(); });
  spdlog::info("control socket on {}", path_);
}

void ControlSocket::stop() {
  if (!thread_.joinable()) return;
  char b = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &b, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  listen_fd_ = wake_[0] = wake_[1] = -1;
  ::unlink(path_.c_str());
}

void ControlSocket::run() {
  unsigned long connections = 0;
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("control socket: poll: {}", std::strerror(errno));
      return;
    }
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != ::geteuid() && cred.uid != 0)) {
      spdlog::warn("control socket: refused a connection from uid {}", cred.uid);
      ::close(fd);
      continue;
    }
    serve(fd, ++connections);
    ::close(fd);
  }
}

void ControlSocket::serve(int fd, unsigned long connection) {
  while (auto body = read_control_frame(fd, wake_[0], kIdleMs)) {
    auto req = xml::parse_fragment(*body, kMaxFrame);
    xml::Element answer("control", kControlNs);
    const xml::Element* command = req ? req->child("command", adhoc::kNs) : nullptr;
    std::string host = req ? std::string(req->attr("host")) : "";
    if (!req || !req->is("control", kControlNs) || !command) {
      answer.add(StanzaError(StanzaErrorCondition::kBadRequest, "expected <control host='…'><command/></control>").to_element());
    } else if (!config_.current().find_host(host)) {
      answer.add(StanzaError(StanzaErrorCondition::kItemNotFound, "this server does not serve '" + host + "'").to_element());
    } else {
      auto caller = Jid::from_parts("", host, "control-" + std::to_string(connection));
      auto result = std::make_shared<std::promise<tl::expected<xml::Element, StanzaError>>>();
      auto future = result->get_future();
      commands_.execute(CommandCaller{caller ? *caller : Jid(), true}, host, *command,
                        [result](tl::expected<xml::Element, StanzaError> out) { result->set_value(std::move(out)); });
      if (future.wait_for(kAnswerWait) != std::future_status::ready) {
        spdlog::warn("control socket: a command did not answer in time");
        return;
      }
      auto out = future.get();
      answer.add(out ? std::move(*out) : out.error().to_element());
    }
    if (!write_control_frame(fd, xml::to_string(answer))) return;
  }
}

}  // namespace causerie
