#include "cli/cli.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "app/server.hpp"
#include "cli/cert_import.hpp"
#include "cli/check_command.hpp"
#include "cli/status_command.hpp"
#include "cli/control_client.hpp"
#include "cli/pie_import.hpp"
#include "modules/portability/pie_export.hpp"
#include "core/accounts/accounts.hpp"
#include "core/config/config.hpp"
#include "core/jid/jid.hpp"
#include "core/util/time.hpp"
#include "modules/invites/invites.hpp"
#include "core/util/encoding.hpp"
#include "modules/admin/motd.hpp"
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

// A host this config serves, prepared.
std::string served_host(const Config& c, const std::string& text) {
  auto h = prep_domainpart(text);
  if (!h || !c.find_host(*h)) throw CliError("host '" + text + "' is not served by " + c.source);
  return *h;
}

// Text given on the command line, or read from stdin for '-' (every line).
std::string read_text(const std::string& given) {
  if (given != "-") return given;
  std::string all, line;
  while (std::getline(std::cin, line)) all += (all.empty() ? "" : "\n") + line;
  return all;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

constexpr const char* kAdminNode = "http://jabber.org/protocol/admin#";

// Runs an ad-hoc command (a XEP-0133 name like "announce", or a full node) on the running server through
// its control socket. A failed command (a stanza error, or a note of type error) is a CliError.
cli::CommandOutcome run_live(cli::ControlClient& server, const std::string& host, const std::string& name,
                             const std::map<std::string, std::vector<std::string>>& values) {
  std::string node = name.find(':') == std::string::npos ? kAdminNode + name : name;
  auto r = server.run(host, node, values);
  if (!r) throw CliError(cli::describe(r.error()));
  for (const auto& [type, text] : r->notes)
    if (type == "error") throw CliError(text);
  return *r;
}

// The running server, which every live-only operation needs.
std::unique_ptr<cli::ControlClient> require_live(const Config& c) {
  auto server = cli::ControlClient::connect(c.data_dir);
  if (!server) throw CliError("no server is running on " + c.data_dir + " (this needs the running server)");
  return server;
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
  std::string import_file, import_from = "xep0227";
  uint64_t import_max = PieLimits{}.max_total_bytes;
  auto* user_import = user->add_subcommand("import", "Same as `causerie import FILE` (XEP-0227)");
  user_import->add_option("file", import_file, "XEP-0227 XML ('-' reads stdin)")->required();
  user_import->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
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
  auto* disable = user->add_subcommand("disable", "Disable an account: its sessions end and it cannot log in");
  disable->add_option("jid", jid, "user@host")->required();
  disable->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* enable = user->add_subcommand("enable", "Re-enable a disabled account");
  enable->add_option("jid", jid, "user@host")->required();
  enable->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* kick = user->add_subcommand("kick", "End the sessions of an account (user@host) or of one resource "
                                            "(user@host/resource); needs the running server");
  kick->add_option("jid", jid, "user@host or user@host/resource")->required();
  kick->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* online = user->add_subcommand("online", "List the accounts of a host that are online; needs the running server");
  online->add_option("host", host, "host name")->required();
  online->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* stats = user->add_subcommand("stats", "An account's roster size, online resources and their addresses; "
                                              "needs the running server");
  stats->add_option("jid", jid, "user@host")->required();
  stats->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

  std::string text;
  auto* announce = app.add_subcommand("announce", "Send a message to every online user of a host; needs the running server");
  announce->add_option("host", host, "host name")->required();
  announce->add_option("text", text, "the message ('-' reads stdin)")->required();
  announce->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* motd = app.add_subcommand("motd", "The message of the day of a host (each user gets it once, at login or at once if online)");
  motd->require_subcommand(1);
  auto* motd_set = motd->add_subcommand("set", "Set a new message of the day");
  motd_set->add_option("host", host, "host name")->required();
  motd_set->add_option("text", text, "the message ('-' reads stdin)")->required();
  motd_set->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* motd_show = motd->add_subcommand("show", "Print the message of the day");
  motd_show->add_option("host", host, "host name")->required();
  motd_show->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  auto* motd_del = motd->add_subcommand("delete", "Delete the message of the day");
  motd_del->add_option("host", host, "host name")->required();
  motd_del->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);
  std::string node;
  std::vector<std::string> assignments;
  auto* adhoc_cmd = app.add_subcommand("adhoc", "Run any ad-hoc command of the running server as its operator, answering its "
                                            "form with var=value pairs (repeat a var for several values)");
  adhoc_cmd->add_option("host", host, "host name")->required();
  adhoc_cmd->add_option("node", node, "the command's node, or a XEP-0133 name such as get-online-users-num")->required();
  adhoc_cmd->add_option("values", assignments, "var=value");
  adhoc_cmd->add_option("--config,-c", config_path, "TOML configuration file")->check(CLI::ExistingFile);

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
    // Beside a running server, account changes go through it (its control socket), so that they take
    // effect at once: sessions of a removed or disabled account end, cached credentials are dropped.
    if (add->parsed()) {
      Jid j = account_jid(c, jid);
      std::string pw = read_password(password);
      if (auto problem = password_problem(pw)) throw CliError(*problem);
      if (auto server = cli::ControlClient::connect(c.data_dir)) {
        run_live(*server, std::string(j.domainpart()), "add-user",
                 {{"accountjid", {j.str()}}, {"password", {pw}}, {"password-verify", {pw}}});
      } else if (!open_db(c)->accounts().create(make_account(j.str(), pw, c.scram_iterations))) {
        throw CliError("account " + j.str() + " already exists");
      }
      std::cout << "created " << j.str() << "\n";
    } else if (del->parsed()) {
      Jid j = account_jid(c, jid);
      if (auto server = cli::ControlClient::connect(c.data_dir))
        run_live(*server, std::string(j.domainpart()), "delete-user", {{"accountjids", {j.str()}}});
      else if (!open_db(c)->accounts().remove(j.str()))
        throw CliError("no account " + j.str());
      std::cout << "deleted " << j.str() << "\n";
    } else if (passwd->parsed()) {
      Jid j = account_jid(c, jid);
      std::string pw = read_password(password);
      if (auto problem = password_problem(pw)) throw CliError(*problem);
      if (auto server = cli::ControlClient::connect(c.data_dir)) {
        run_live(*server, std::string(j.domainpart()), "change-user-password", {{"accountjid", {j.str()}}, {"password", {pw}}});
      } else {
        storage::Account a = make_account(j.str(), pw, c.scram_iterations);
        if (!open_db(c)->accounts().set_credentials(j.str(), a.sha1, a.sha256)) throw CliError("no account " + j.str());
      }
      std::cout << "password changed for " << j.str() << "\n";
    } else if (disable->parsed() || enable->parsed()) {
      Jid j = account_jid(c, jid);
      bool off = disable->parsed();
      if (auto server = cli::ControlClient::connect(c.data_dir))
        run_live(*server, std::string(j.domainpart()), off ? "disable-user" : "reenable-user", {{"accountjids", {j.str()}}});
      else if (!open_db(c)->accounts().set_disabled(j.str(), off))
        throw CliError("no account " + j.str());
      std::cout << (off ? "disabled " : "re-enabled ") << j.str() << "\n";
    } else if (kick->parsed()) {
      auto j = Jid::parse(jid);
      if (!j || !j->has_localpart()) throw CliError("'" + jid + "' is not a valid account address (user@host)");
      served_host(c, std::string(j->domainpart()));
      auto r = run_live(*require_live(c), std::string(j->domainpart()), "end-user-session", {{"accountjids", {j->str()}}});
      for (const auto& [type, note] : r.notes) std::cout << note << "\n";
    } else if (online->parsed()) {
      std::string h = served_host(c, host);
      auto r = run_live(*require_live(c), h, "get-online-users-list", {{"max_items", {"none"}}});
      for (const auto& u : r.values("onlineuserjids")) std::cout << u << "\n";
    } else if (stats->parsed()) {
      Jid j = account_jid(c, jid);
      auto r = run_live(*require_live(c), std::string(j.domainpart()), "user-stats", {{"accountjid", {j.str()}}});
      for (const auto& [var, values] : r.fields) {
        std::string joined;
        for (const auto& v : values) joined += (joined.empty() ? "" : " ") + v;
        std::cout << var << ": " << joined << "\n";
      }
    } else if (announce->parsed()) {
      std::string h = served_host(c, host);
      std::string body = read_text(text);
      if (body.empty()) throw CliError("the announcement is empty");
      auto r = run_live(*require_live(c), h, "announce", {{"announcement", lines_of(body)}});
      for (const auto& [type, note] : r.notes) std::cout << note << "\n";
    } else if (motd_set->parsed()) {
      std::string h = served_host(c, host);
      std::string body = read_text(text);
      if (body.empty()) throw CliError("the message of the day is empty");
      if (auto server = cli::ControlClient::connect(c.data_dir)) {
        auto r = run_live(*server, h, "set-motd", {{"motd", lines_of(body)}});
        for (const auto& [type, note] : r.notes) std::cout << note << "\n";
      } else {
        modules::admin::Motd::store(*open_db(c), h, body, util::random_id(9));
        std::cout << "message of the day set\n";
      }
    } else if (motd_show->parsed()) {
      std::string h = served_host(c, host);
      if (auto m = modules::admin::Motd::stored(*open_db(c), h)) std::cout << *m << "\n";
    } else if (motd_del->parsed()) {
      std::string h = served_host(c, host);
      if (auto server = cli::ControlClient::connect(c.data_dir)) run_live(*server, h, "delete-motd", {});
      else modules::admin::Motd::erase(*open_db(c), h);
      std::cout << "message of the day deleted\n";
    } else if (adhoc_cmd->parsed()) {
      std::string h = served_host(c, host);
      std::map<std::string, std::vector<std::string>> values;
      for (const auto& a : assignments) {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0) throw CliError("'" + a + "' is not var=value");
        values[a.substr(0, eq)].push_back(a.substr(eq + 1));
      }
      auto r = run_live(*require_live(c), h, node, values);
      for (const auto& [type, note] : r.notes) std::cout << type << ": " << note << "\n";
      for (const auto& [var, vals] : r.fields)
        for (const auto& v : vals) std::cout << var << ": " << v << "\n";
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
    } else if (import->parsed() || user_import->parsed()) {
      PieLimits limits;
      limits.max_total_bytes = import_max;
      auto db = open_db(c);
      PieImportResult r;
      if (import_from == "prosody") {
        r = import_prosody_dir(import_file, *db, c, limits);
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
      std::string h = served_host(c, host);
      if (auto server = cli::ControlClient::connect(c.data_dir)) {
        auto r = run_live(*server, h, "get-registered-users-list", {{"max_items", {"none"}}});
        for (const auto& a : r.values("registereduserjids")) std::cout << a << "\n";
      } else {
        for (const auto& a : open_db(c)->accounts().list(h)) std::cout << a << "\n";
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "causerie: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace causerie
