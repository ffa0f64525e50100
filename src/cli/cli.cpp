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

#include "app/server.hpp"
#include "cli/cert_import.hpp"
#include "cli/check_command.hpp"
#include "cli/status_command.hpp"
#include "cli/pie_import.hpp"
#include "core/accounts/accounts.hpp"
#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "core/util/time.hpp"
#include "modules/invites/invites.hpp"
#include "storage/account_store.hpp"
#include "storage/invite_store.hpp"
#include "storage/fast_token_store.hpp"
#include "core/util/time.hpp"
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

// `causerie invite create`: an invitation (XEP-0401) on a host that takes them, printed as its link.
struct InviteOptions {
  int64_t uses = 1;
  std::string expires;  // a duration; "" = [modules.invites] expire_after
  std::string host;     // "" = the first host
  std::string inviter;  // an account that becomes the invitee's contact
  std::string username; // a reserved name
};

void invite_create(const Config& c, const InviteOptions& o) {
  std::string host = o.host.empty() ? c.hosts.front().name : prep_domainpart(o.host).value_or("");
  if (!c.find_host(host)) throw CliError("host '" + o.host + "' is not served by " + c.source);
  if (!modules::invites::host_takes_invites(c, host))
    throw CliError("registration on " + host + " is closed: set registration = \"invite\" (or \"open\") for it");
  if (o.uses < 1 || o.uses > 1000000) throw CliError("--uses must be between 1 and 1000000");
  auto lifetime = o.expires.empty() ? modules::invites::default_lifetime(c) : parse_duration(o.expires);
  if (!lifetime) throw CliError("--expires: expected a duration such as \"7d\", \"12h\" or \"0\" (never)");
  storage::Invite i;
  i.token = modules::invites::new_token();
  i.host = host;
  i.uses_left = o.uses;
  i.created = static_cast<int64_t>(std::time(nullptr));
  i.expires = lifetime->count() ? i.created + lifetime->count() : 0;
  if (!o.username.empty()) {
    auto name = prep_localpart(o.username);
    if (!name) throw CliError("'" + o.username + "' is not a valid username");
    i.username = *name;
  }
  auto db = open_db(c);
  if (!o.inviter.empty()) {
    Jid inviter = account_jid(c, o.inviter);
    if (!db->accounts().exists(inviter.str())) throw CliError("no account " + inviter.str());
    i.creator = inviter.str();
    i.add_contact = true;
  }
  if (!i.username.empty() && db->accounts().exists(i.username + "@" + host))
    throw CliError("account " + i.username + "@" + host + " already exists");
  if (!db->invites().create_invite(i)) throw CliError("could not store the invitation");
  std::string base = modules::invites::invite_base_url(c);
  if (base.empty()) {
    std::cerr << "causerie: warning: no HTTP listener and no [modules.invites] url: the invitation has no web page\n";
    std::cout << modules::invites::invite_uri(i, true) << "\n";
  } else {
    std::cout << modules::invites::landing_url(base, i.token) << "\n";
  }
}

void invite_list(const Config& c, const std::string& host_arg) {
  std::string host;
  if (!host_arg.empty()) {
    host = prep_domainpart(host_arg).value_or("");
    if (!c.find_host(host)) throw CliError("host '" + host_arg + "' is not served by " + c.source);
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auto& i : open_db(c)->invites().invites(host)) {
    std::cout << i.token << " " << i.host << " " << modules::invites::describe(modules::invites::invite_state(i, now))
              << " uses-left=" << i.uses_left << " expires="
              << (i.expires ? util::format_datetime(util::from_unix_seconds(i.expires)) : std::string("never"));
    if (!i.creator.empty()) std::cout << " inviter=" << i.creator;
    if (!i.username.empty()) std::cout << " username=" << i.username;
    for (const auto& a : i.accounts) std::cout << " account=" << a;
    std::cout << "\n";
  }
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
  std::string import_file;
  auto* import = user->add_subcommand("import", "Import accounts and rosters from a XEP-0227 file");
  import->add_option("file", import_file, "XEP-0227 XML ('-' reads stdin)")->required();
  import->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  std::string revoke_id;
  bool revoke_all = false;
  auto* tokens = user->add_subcommand("tokens", "List an account's FAST login tokens (XEP-0484), or revoke them");
  tokens->add_option("jid", jid, "user@host")->required();
  tokens->add_option("--revoke", revoke_id, "revoke the token with this id");
  tokens->add_flag("--revoke-all", revoke_all, "revoke every token of the account");
  tokens->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* list = user->add_subcommand("list", "List the accounts of a host");
  list->add_option("host", host, "host name")->required();
  list->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  auto* invite = app.add_subcommand("invite", "Manage invitations (XEP-0401): links that let someone create an account");
  invite->require_subcommand(1);
  InviteOptions io;
  std::string token;
  auto* icreate = invite->add_subcommand("create", "Create an invitation and print its link");
  icreate->add_option("--uses", io.uses, "how many accounts it may create (default 1)");
  icreate->add_option("--expires", io.expires, "how long it is valid: \"7d\", \"12h\", \"0\" = never "
                                               "(default [modules.invites] expire_after, 7d)");
  icreate->add_option("--host", io.host, "the host accounts are created on (default: the first host)");
  icreate->add_option("--inviter", io.inviter, "an account (user@host) the invitee gets as a contact, both ways");
  icreate->add_option("--username", io.username, "reserve this username for the invitee");
  icreate->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* ilist = invite->add_subcommand("list", "List invitations: token, host, state, uses left, expiry, accounts");
  ilist->add_option("--host", host, "only this host's");
  ilist->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* irevoke = invite->add_subcommand("revoke", "Revoke an invitation (accounts it created stay)");
  irevoke->add_option("token", token, "the invitation's token (the end of its link)")->required();
  irevoke->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

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

  auto* status = app.add_subcommand(
      "status", "Ask the running server (its admin listener) how it is doing; exit status 3 when it is not running");
  status->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  auto* cert = app.add_subcommand("cert", "Manage certificates");
  cert->require_subcommand(1);
  std::string cert_dir;
  auto* cert_import = cert->add_subcommand(
      "import", "Import Let's Encrypt certificates (a live/<domain> directory, or live/ itself) for the hosts "
                "of the configuration into data_dir/certs, then reload the running server");
  cert_import->add_option("dir", cert_dir, "e.g. /etc/letsencrypt/live or /etc/letsencrypt/live/example.org")->required();
  cert_import->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

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
    if (status->parsed()) return status::run_status(load(config_path));
    if (cert_import->parsed()) return cert::run_import(load(config_path), cert_dir, std::cout, std::cerr);
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
    } else if (import->parsed()) {
      std::ifstream file;
      if (import_file != "-") {
        file.open(import_file, std::ios::binary);
        if (!file) throw CliError("cannot read " + import_file);
      }
      auto db = open_db(c);
      PieImportResult r = import_pie(import_file == "-" ? std::cin : file, *db, c);
      std::cout << "imported " << r.imported << " account(s) with " << r.roster_items << " roster item(s); "
                << r.existing << " already existed; " << r.skipped_elements << " element(s) not imported\n";
      for (size_t i = 0; i < r.errors.size() && i < 20; ++i) std::cerr << "causerie: error: " << r.errors[i] << "\n";
      if (!r.errors.empty()) throw CliError(std::to_string(r.errors.size()) + " error(s) in " + import_file);
    } else if (icreate->parsed()) {
      invite_create(c, io);
    } else if (ilist->parsed()) {
      invite_list(c, host);
    } else if (irevoke->parsed()) {
      std::string t = token.substr(token.rfind('/') + 1);  // the whole link is accepted too
      if (!open_db(c)->invites().revoke_invite(t)) throw CliError("no invitation " + t);
      std::cout << "revoked " << t << "\n";
    } else if (tokens->parsed()) {
      Jid j = account_jid(c, jid);
      auto db = open_db(c);
      if (!db->accounts().exists(j.str())) throw CliError("no account " + j.str());
      storage::FastTokenStore& store = db->fast_tokens();
      if (revoke_all) {
        std::cout << "revoked " << store.revoke_all(j.str()) << " token(s) of " << j.str() << "\n";
      } else if (!revoke_id.empty()) {
        if (!store.revoke(j.str(), revoke_id)) throw CliError("no token " + revoke_id + " for " + j.str());
        std::cout << "revoked " << revoke_id << "\n";
      } else {
        // One line a token: id, mechanism, state, created, expiry, client software and device. The
        // user-agent id and the token itself are never shown (the token is not even stored).
        auto at = [](int64_t s) { return util::format_datetime(std::chrono::system_clock::time_point(std::chrono::seconds(s))); };
        for (const auto& t : store.list(j.str()))
          std::cout << t.id << " " << t.mechanism << " " << (t.fresh ? "unused" : "in-use") << " created " << at(t.created)
                    << " expires " << at(t.expiry) << " " << (t.software.empty() ? "-" : t.software) << " "
                    << (t.device.empty() ? "-" : t.device) << "\n";
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
