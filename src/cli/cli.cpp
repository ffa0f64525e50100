#include "cli/cli.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "app/server.hpp"
#include "cli/check_command.hpp"
#include "cli/pie_import.hpp"
#include "cli/prosody_data.hpp"
#include "modules/portability/pie_export.hpp"
#include "core/accounts/accounts.hpp"
#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "storage/account_store.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace causerie {

namespace {

class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config load(const std::string& path) { return path.empty() ? embedded_default_config() : load_config_file(path); }

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("causerie");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// The account JID for a user command: valid, bare, and on a host this config serves.
Jid account_jid(const Config& c, const std::string& text) {
  auto j = Jid::parse(text);
  if (!j || !j->has_localpart() || j->has_resource())
    throw CliError("'" + text + "' is not a valid account address (user@host)");
  if (!c.find_host(j->domainpart()))
    throw CliError("host '" + std::string(j->domainpart()) + "' is not served by " + c.source);
  return *j;
}

std::string read_password(const std::string& given) {
  if (given != "-") return given;
  std::string line;
  std::getline(std::cin, line);
  return line;
}

std::unique_ptr<storage::Storage> open_db(const Config& c) {
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec) throw CliError("cannot create data directory " + c.data_dir + ": " + ec.message());
  return storage::sqlite::open_sqlite(c.database_path());
}

// Each session is a file descriptor: raise the soft limit to the hard one (and, where allowed, the hard
// one to the kernel's maximum) so that a large community is not capped at a distribution default.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  rlim_t want = lim.rlim_max;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    unsigned long nr = 0;
    if (std::fscanf(f, "%lu", &nr) == 1 && nr > want) want = nr;
    std::fclose(f);
  }
  rlimit up{want, want};
  if (setrlimit(RLIMIT_NOFILE, &up) != 0) {
    up = {lim.rlim_max, lim.rlim_max};
    setrlimit(RLIMIT_NOFILE, &up);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  spdlog::debug("open file limit: {}", lim.rlim_cur);
}

int cmd_run(const std::string& config_path) {
  Config c = load(config_path);
  setup_logging(c.log_level);
  raise_fd_limit();
  block_signals();
  Server server(std::move(c));
  server.start();
  server.wait_for_signal();
  server.stop();
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Causerie: an XMPP server for instant messaging and social networking", "causerie"};
  app.require_subcommand(1);
  std::string config_path;

  auto* run = app.add_subcommand("run", "Run the server (without --config: host localhost, data in ./data)");
  run->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  auto* user = app.add_subcommand("user", "Manage accounts");
  user->require_subcommand(1);
  std::string jid, password, host;
  auto* add = user->add_subcommand("add", "Create an account");
  add->add_option("jid", jid, "user@host")->required();
  add->add_option("--password,-p", password, "the password ('-' reads a line from stdin)")->required();
  add->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* del = user->add_subcommand("del", "Delete an account and all its data");
  del->add_option("jid", jid, "user@host")->required();
  del->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* passwd = user->add_subcommand("passwd", "Change an account's password");
  passwd->add_option("jid", jid, "user@host")->required();
  passwd->add_option("--password,-p", password, "the new password ('-' reads a line from stdin)")->required();
  passwd->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  std::string import_file, import_from = "xep0227";
  uint64_t import_max = PieLimits{}.max_total_bytes;
  auto* user_import = user->add_subcommand("import", "Same as `causerie import FILE` (XEP-0227)");
  user_import->add_option("file", import_file, "XEP-0227 XML ('-' reads stdin)")->required();
  user_import->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* list = user->add_subcommand("list", "List the accounts of a host");
  list->add_option("host", host, "host name")->required();
  list->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  std::string export_host, export_user, export_out = "-";
  auto* exp = app.add_subcommand("export", "Export the server, a host or one account as a XEP-0227 document");
  exp->add_option("--host", export_host, "only this host (and its services)");
  exp->add_option("--user", export_user, "only this account (user@host)");
  exp->add_option("--output,-o", export_out, "file to write ('-': stdout, the default)");
  exp->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* import = app.add_subcommand(
      "import", "Import a XEP-0227 document (ours, ejabberd's export_piefxis) or a Prosody data directory, all or "
                "nothing");
  import->add_option("source", import_file, "XEP-0227 file ('-' reads stdin), or Prosody's data_path")->required();
  import->add_option("--from", import_from, "xep0227 (the default) or prosody")
      ->check(CLI::IsMember({"xep0227", "prosody"}));
  import->add_option("--max-size", import_max, "refuse input larger than this many bytes");
  import->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  auto* check = app.add_subcommand(
      "check", "Check a configuration: syntax, data directory, free ports, and for each host its certificate "
               "and DNS records");
  check->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  check->footer(
      "Each finding is one line: OK, WARN or ERROR, then the host or item, then what was found.\n"
      "ERROR (exit status 1): a configuration that cannot run (data directory, a port in use, an unreadable\n"
      "  s2s.ca_file); a certificate that does not name its host, is expired or not yet valid, or whose key\n"
      "  does not match; and for public domain names: a certificate chain that does not verify, service\n"
      "  domains (conference., pubsub.) the certificate does not name while federating, and DNS records\n"
      "  that lead nowhere: no SRV record and no usable fallback, a target without A/AAAA, a '.' target for a\n"
      "  service this server offers, a port no listener of that kind serves, loopback addresses.\n"
      "WARN (exit status 0): what works but deserves a look: a missing SRV record where the fallback works,\n"
      "  no direct-TLS record, addresses that are not this machine's (right only behind a NAT), a certificate\n"
      "  ending within 14 days, a key readable by every user, a lookup that failed; and every problem of a\n"
      "  special-use name (localhost, .test, .example, .invalid, .local, example.org...), whose DNS is not\n"
      "  looked up at all unless [dns] servers is set.");

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "causerie: error: " << e.what() << " (see causerie --help)\n";
    return 2;
  }

  try {
    if (app.got_subcommand("version")) {
      std::cout << "causerie " << CAUSERIE_VERSION << "\n";
      return 0;
    }
    if (app.got_subcommand("run")) return cmd_run(config_path);
    if (app.got_subcommand("check")) return check::run_check(load(config_path));
    Config c = load(config_path);
    spdlog::set_level(spdlog::level::warn);
    if (add->parsed()) {
      Jid j = account_jid(c, jid);
      std::string pw = read_password(password);
      if (auto problem = password_problem(pw)) throw CliError(*problem);
      if (!open_db(c)->accounts().create(make_account(j.str(), pw, c.scram_iterations)))
        throw CliError("account " + j.str() + " already exists");
      std::cout << "created " << j.str() << "\n";
    } else if (del->parsed()) {
      Jid j = account_jid(c, jid);
      if (!open_db(c)->accounts().remove(j.str())) throw CliError("no account " + j.str());
      std::cout << "deleted " << j.str() << "\n";
    } else if (passwd->parsed()) {
      Jid j = account_jid(c, jid);
      std::string pw = read_password(password);
      if (auto problem = password_problem(pw)) throw CliError(*problem);
      storage::Account a = make_account(j.str(), pw, c.scram_iterations);
      if (!open_db(c)->accounts().set_credentials(j.str(), a.sha1, a.sha256)) throw CliError("no account " + j.str());
      std::cout << "password changed for " << j.str() << "\n";
    } else if (import->parsed() || user_import->parsed()) {
      PieLimits limits;
      limits.max_total_bytes = import_max;
      auto db = open_db(c);
      PieImportResult r;
      if (import_from == "prosody") {
        auto doc = prosody::pie_from_data_dir(import_file);
        if (!doc) throw CliError(doc.error() + " — nothing was imported");
        std::istringstream in(*doc);
        r = import_pie(in, *db, c, PieImportOptions{limits, ".", import_file});
      } else if (import_file == "-") {
        r = import_pie(std::cin, *db, c, PieImportOptions{limits, ".", "<stdin>"});
      } else {
        r = import_pie_file(import_file, *db, c, limits);
      }
      if (!r.ok) throw CliError(r.error);
      std::cout << r.summary() << "\n";
    } else if (exp->parsed()) {
      portability::ExportScope scope;
      if (!export_user.empty()) {
        Jid j = account_jid(c, export_user);
        scope.user = j.str();
        scope.hosts = {std::string(j.domainpart())};
      } else if (!export_host.empty()) {
        auto h = prep_domainpart(export_host);
        if (!h || !c.find_host(*h)) throw CliError("host '" + export_host + "' is not served by " + c.source);
        scope.hosts = {*h};
      } else {
        for (const auto& h : c.hosts) scope.hosts.push_back(h.name);
      }
      auto db = open_db(c);
      if (!scope.user.empty() && !db->accounts().exists(scope.user)) throw CliError("no account " + scope.user);
      if (export_out == "-") {
        portability::export_pie(*db, scope, std::cout);
        std::cout.flush();
      } else {
        // Written beside the target and renamed, so a failed export never leaves a partial file behind.
        std::string tmp = export_out + ".part";
        size_t n = 0;
        {
          std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
          if (!out) throw CliError("cannot write " + tmp);
          std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
          n = portability::export_pie(*db, scope, out);
          out.flush();
          if (!out) throw CliError("writing " + tmp + " failed");
        }
        std::filesystem::rename(tmp, export_out);
        std::cerr << "exported " << n << " account(s) to " << export_out << "\n";
      }
    } else if (list->parsed()) {
      auto h = prep_domainpart(host);
      if (!h || !c.find_host(*h)) throw CliError("host '" + host + "' is not served by " + c.source);
      for (const auto& a : open_db(c)->accounts().list(*h)) std::cout << a << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "causerie: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace causerie
