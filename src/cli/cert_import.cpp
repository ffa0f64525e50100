#include "cli/cert_import.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

#include "app/server.hpp"
#include "core/jid/jid.hpp"
#include "net/tls_context.hpp"

namespace causerie::cert {

namespace fs = std::filesystem;

bool name_covers(const std::string& name, const std::string& host) {
  if (name == host) return true;
  // RFC 9525 §6.3: a wildcard stands for exactly one leftmost label.
  if (name.starts_with("*.")) {
    size_t dot = host.find('.');
    return dot != std::string::npos && dot > 0 && host.substr(dot + 1) == name.substr(2);
  }
  return false;
}

namespace {

class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    throw ImportError("cannot read " + p.string() +
                      " (run as root, or as a user allowed to read Let's Encrypt's keys)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `data` to `target` through a temporary file and a rename, so the server never reads half a
// file; `mode` is set before any byte is written.
void write_atomically(const fs::path& target, const std::string& data, mode_t mode, uid_t owner, gid_t group,
                      bool chown_it) {
  fs::path tmp = target;
  tmp += ".tmp";
  fs::remove(tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) throw ImportError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  fchmod(fd, mode);
  if (chown_it && fchown(fd, owner, group) != 0) {
    ::close(fd);
    fs::remove(tmp);
    throw ImportError("cannot give " + tmp.string() + " to the data directory's owner: " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      fs::remove(tmp);
      throw ImportError("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || ::close(fd) != 0) throw ImportError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  fs::rename(tmp, target);
}

// The process in data_dir/causerie.pid, if it is alive and is a causerie (a pid file left by a crash may
// name another process by now, which SIGHUP would end).
std::optional<pid_t> running_server_pid(const Config& config) {
  std::ifstream pid_in(pid_file(config));
  long pid = 0;
  if (!(pid_in >> pid) || pid <= 1) return std::nullopt;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!std::getline(comm, name) || name != "causerie") return std::nullopt;
  return static_cast<pid_t>(pid);
}

struct Candidate {
  fs::path dir;
  std::string domain;
};

// Checks and copies one live directory's pair for `host`.
void import_one(const Config& config, const Candidate& c, std::ostream& out, std::ostream& err) {
  fs::path chain = c.dir / "fullchain.pem", key = c.dir / "privkey.pem";
  std::string chain_pem = read_all(chain), key_pem = read_all(key);
  struct stat st{};
  if (::stat(key.c_str(), &st) == 0 && (st.st_mode & S_IROTH))
    err << "causerie: warning: " << key.string() << " is readable by every user of this machine\n";
  net::CertificateInfo info;
  try {
    info = net::inspect_certificate(chain.string(), key.string());
  } catch (const ConfigError& e) {
    throw ImportError(c.domain + ": " + e.what());
  }
  bool covered = false;
  for (const auto& n : info.dns_names) covered = covered || name_covers(n, c.domain);
  if (!covered) throw ImportError(c.domain + ": " + chain.string() + " does not name " + c.domain);
  if (info.days_left < 0) throw ImportError(c.domain + ": " + chain.string() + " has expired");

  fs::path store = fs::path(config.data_dir) / "certs";
  std::error_code ec;
  if (!fs::exists(store)) {
    fs::create_directories(store, ec);
    if (ec) throw ImportError("cannot create " + store.string() + ": " + ec.message());
    fs::permissions(store, fs::perms::owner_all, ec);
  }
  struct stat ds{};
  if (::stat(store.c_str(), &ds) != 0) throw ImportError("cannot read " + store.string());
  // Anyone who may write there may replace the server's key.
  if (ds.st_mode & (S_IWGRP | S_IWOTH))
    throw ImportError(store.string() + " is writable by other users: fix it (chmod go-w) before importing keys");
  // Run as root (certbot's deploy hook): the files go to whoever owns the data directory, the server's user.
  struct stat owner{};
  bool as_root = geteuid() == 0 && ::stat(config.data_dir.c_str(), &owner) == 0 && owner.st_uid != 0;
  auto [cert_target, key_target] = net::imported_certificate(config.data_dir, c.domain);
  write_atomically(key_target, key_pem, 0600, owner.st_uid, owner.st_gid, as_root);
  write_atomically(cert_target, chain_pem, 0644, owner.st_uid, owner.st_gid, as_root);
  out << "imported " << c.domain << ": " << cert_target << " (SHA-256 " << net::certificate_fingerprint(cert_target)
      << ", " << info.days_left << " days left)\n";
  const HostConfig* h = config.find_host(c.domain);
  if (h && !h->certificate.empty())
    err << "causerie: warning: [[host]] " << c.domain << " names its own certificate (" << h->certificate
        << "), which is used instead of imported ones\n";
}

}  // namespace

int run_import(const Config& config, const std::string& dir_text, std::ostream& out, std::ostream& err) {
  fs::path dir(dir_text);
  std::vector<Candidate> candidates;
  std::error_code ec;
  auto host_of = [&](const fs::path& p) -> std::optional<std::string> {
    auto name = prep_domainpart(p.filename().string());
    if (name && config.find_host(*name)) return *name;
    return std::nullopt;
  };
  if (fs::exists(dir / "fullchain.pem", ec)) {
    fs::path canonical = fs::weakly_canonical(dir, ec);
    auto host = host_of(canonical.empty() ? dir : canonical);
    if (!host) {
      err << "causerie: error: " << dir.string() << " is not named after a host of " << config.source << "\n";
      return 1;
    }
    candidates.push_back({dir, *host});
  } else if (fs::is_directory(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (!entry.is_directory() || !fs::exists(entry.path() / "fullchain.pem")) continue;
      if (auto host = host_of(entry.path())) candidates.push_back({entry.path(), *host});
      else out << "skipped " << entry.path().string() << ": not a host of " << config.source << "\n";
    }
    if (candidates.empty()) {
      err << "causerie: error: no directory for a host of " << config.source << " in " << dir.string()
          << " (expected <host>/fullchain.pem and privkey.pem, as certbot writes them)\n";
      return 1;
    }
  } else {
    err << "causerie: error: " << dir.string() << " is not a directory\n";
    return 1;
  }
  int failures = 0;
  for (const auto& c : candidates) {
    try {
      import_one(config, c, out, err);
    } catch (const std::exception& e) {
      err << "causerie: error: " << e.what() << "\n";
      ++failures;
    }
  }
  if (failures < static_cast<int>(candidates.size())) {
    // Tell a running server; it checks the files again and keeps the old ones if they do not load.
    if (auto pid = running_server_pid(config)) {
      if (::kill(*pid, SIGHUP) == 0) {
        out << "asked the running server (pid " << *pid << ") to reload\n";
      } else {
        err << "causerie: warning: cannot signal the server (pid " << *pid << "): " << std::strerror(errno)
            << "; run as its user or root, or `systemctl reload causerie`\n";
      }
    } else {
      out << "the server is not running: it will use the certificate when it starts\n";
    }
  }
  return failures ? 1 : 0;
}

}  // namespace causerie::cert
