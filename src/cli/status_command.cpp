#include "cli/status_command.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

namespace causerie::status {

std::optional<std::map<std::string, double>> parse_samples(std::string_view text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    // The value follows the last space outside the label braces (label values may hold spaces).
    size_t close = line.rfind('}');
    size_t space = line.find(' ', close == std::string_view::npos ? 0 : close);
    if (space == std::string_view::npos) return std::nullopt;
    std::string value(line.substr(space + 1));
    char* stop = nullptr;
    double v = std::strtod(value.c_str(), &stop);  // also "+Inf", "-Inf", "NaN"
    if (stop == value.c_str() || *stop != '\0') return std::nullopt;
    out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

namespace {

// GET /metrics from address:port; nullopt with errno-like text in `error` when nothing answers.
std::optional<std::string> fetch_metrics(const std::string& address, uint16_t port, std::string& error,
                                         bool& refused) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  // An admin listener on a wildcard address is reached on loopback.
  std::string host = address == "0.0.0.0" ? "127.0.0.1" : address == "::" ? "::1" : address;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) {
    error = "not an IP address: " + host;
    return std::nullopt;
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    refused = errno == ECONNREFUSED;
    error = std::strerror(errno);
    close(fd);
    return std::nullopt;
  }
  std::string req = "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    error = std::strerror(errno);
    close(fd);
    return std::nullopt;
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      error = std::strerror(errno);
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    resp.append(buf, static_cast<size_t>(n));
    if (resp.size() > 16 * 1024 * 1024) break;
  }
  close(fd);
  size_t body = resp.find("\r\n\r\n");
  if (!resp.starts_with("HTTP/1.1 200") || body == std::string::npos) {
    error = "unexpected answer: " + resp.substr(0, resp.find('\r'));
    return std::nullopt;
  }
  return resp.substr(body + 4);
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

std::string human_duration(double s) {
  auto t = static_cast<long long>(s);
  return fmt::format("{}d {:02}h {:02}m {:02}s", t / 86400, t % 86400 / 3600, t % 3600 / 60, t % 60);
}

}  // namespace

int run_status(const Config& config) {
  const ListenerConfig* admin = nullptr;
  for (const auto& l : config.listeners)
    if (l.type == "admin") {
      admin = &l;
      break;
    }
  if (!admin) {
    std::cerr << "causerie: error: " << config.source
              << " has no admin listener ([[listener]] type = \"admin\"): status cannot ask the server\n";
    return 1;
  }
  std::string error;
  bool refused = false;
  auto text = fetch_metrics(admin->address, admin->port, error, refused);
  if (!text) {
    if (refused) {
      std::cout << "causerie is not running (nothing listens on " << admin->address << ":" << admin->port << ")\n";
      return 3;
    }
    std::cerr << "causerie: error: admin listener " << admin->address << ":" << admin->port << ": " << error << "\n";
    return 3;
  }
  auto samples = parse_samples(*text);
  if (!samples || !samples->count("causerie_uptime_seconds")) {
    std::cerr << "causerie: error: " << admin->address << ":" << admin->port
              << " did not answer with Causerie's metrics\n";
    return 1;
  }
  auto get = [&](const std::string& k) {
    auto it = samples->find(k);
    return it == samples->end() ? 0.0 : it->second;
  };
  std::string version = "?";
  for (const auto& [k, v] : *samples)
    if (k.starts_with("causerie_build_info{version=\"")) version = k.substr(29, k.size() - 31);
  double tcp = get("causerie_sessions{transport=\"tcp\"}"), ws = get("causerie_sessions{transport=\"websocket\"}"),
         bosh = get("causerie_sessions{transport=\"bosh\"}");
  std::cout << fmt::format("causerie {} is running, up {}, data in {}\n", version,
                           human_duration(get("causerie_uptime_seconds")), config.data_dir);
  std::cout << fmt::format("sessions: {} ({} tcp, {} websocket, {} bosh), {} waiting for resumption\n",
                           tcp + ws + bosh, tcp, ws, bosh, get("causerie_sessions_detached"));
  std::cout << fmt::format("stanzas received: {} messages, {} presences, {} iqs\n",
                           get("causerie_stanzas_received_total{kind=\"message\"}"),
                           get("causerie_stanzas_received_total{kind=\"presence\"}"),
                           get("causerie_stanzas_received_total{kind=\"iq\"}"));
  std::cout << fmt::format("stanzas sent: {} messages, {} presences, {} iqs\n",
                           get("causerie_stanzas_sent_total{kind=\"message\"}"),
                           get("causerie_stanzas_sent_total{kind=\"presence\"}"),
                           get("causerie_stanzas_sent_total{kind=\"iq\"}"));
  std::cout << fmt::format("server-to-server connections: {} in, {} out\n",
                           get("causerie_s2s_connections{direction=\"in\"}"),
                           get("causerie_s2s_connections{direction=\"out\"}"));
  double commits = get("causerie_storage_commit_duration_seconds_count");
  std::cout << fmt::format("storage: {} write and {} read jobs queued, {} commits ({:.2f} ms on average)\n",
                           get("causerie_storage_queue_depth{lane=\"write\"}"),
                           get("causerie_storage_queue_depth{lane=\"read\"}"), commits,
                           commits > 0 ? get("causerie_storage_commit_duration_seconds_sum") * 1000 / commits : 0.0);
  std::cout << fmt::format("memory: {} resident\n", human_bytes(get("causerie_resident_memory_bytes")));
  return 0;
}

}  // namespace causerie::status
