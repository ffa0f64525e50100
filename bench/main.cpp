// causerie-bench: the load generator of `make bench` (bench/README.md).
//   causerie-bench run SCENARIO [options]   one scenario, one JSON line on stdout
//   causerie-bench list                     the scenarios
//   causerie-bench accounts [options]       writes the accounts for the servers to import
//   causerie-bench fill-archive [options]   fills one account's archive in Causerie's database
//   causerie-bench fill-feed [options]      fills microblogs and one reader's news feed in Causerie's database
#include <iostream>

#include <CLI/CLI.hpp>

#include "accounts.hpp"
#include "archive_fill.hpp"
#include "feed_fill.hpp"
#include "scenario.hpp"

using namespace causerie::bench;

int main(int argc, char** argv) {
  CLI::App app{"causerie-bench: XMPP load generator (loopback only)", "causerie-bench"};
  app.require_subcommand(1);

  Options o;
  std::string scenario, tls = "none", mech = "SCRAM-SHA-1", transport = "tcp";
  auto* run = app.add_subcommand("run", "Run one scenario against a server on 127.0.0.1");
  run->add_option("scenario", scenario, "login | idle | msg | presence | muc | pubsub | s2s-links | resume | mam-page | feed-page")->required();
  run->add_option("--server-name", o.server_name, "name put in the JSON line");
  run->add_option("--server-pid", o.server_pid, "server process, for CPU and RSS figures from /proc");
  run->add_option("--port", o.ep.port, "c2s port on 127.0.0.1 (the last one given counts)")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  run->add_option("--domain", o.ep.domain, "XMPP domain of the accounts");
  uint16_t peer_port = 0;
  std::string peer_domain;
  run->add_option("--peer-port", peer_port, "msg: c2s port on 127.0.0.1 of a second server (federation): the "
                                            "second user of each pair logs in there");
  run->add_option("--peer-domain", peer_domain, "msg: XMPP domain of the second server's accounts");
  run->add_option("--peer-pid", o.peer_pid, "the second server's process (its CPU is added to --server-pid's)");
  run->add_option("--remote-domains", o.remote_domains, "s2s-links: remote domains pinged, d0.<suffix>…");
  run->add_option("--remote-suffix", o.remote_suffix, "s2s-links: parent domain of the remote domains");
  run->add_option("--tls", tls, "none | starttls | direct");
  run->add_option("--mech", mech, "PLAIN | SCRAM-SHA-1 | SCRAM-SHA-256");
  run->add_option("--transport", transport, "tcp | websocket (RFC 7395) | bosh (XEP-0124/0206, plain HTTP only); --port is then the HTTP port");
  run->add_option("--http-path", o.ep.http_path, "websocket or bosh: the endpoint's path (default /xmpp-websocket, /http-bind)");
  run->add_option("--threads", o.threads, "worker threads (default: CPUs in our affinity mask)");
  run->add_option("--source-addresses", o.ep.source_addresses, "127.1.x.y source addresses used");
  run->add_option("--user-prefix", o.user_prefix, "accounts are <prefix><n>@<domain>");
  run->add_option("--password", o.password, "password of every account");
  run->add_option("--warmup", o.warmup, "seconds before measuring");
  run->add_option("--duration", o.duration, "seconds measured");
  run->add_option("--timeout", o.timeout, "bound on each set-up phase, seconds");
  run->add_option("--concurrency", o.concurrency, "logins in flight");
  run->add_option("--accounts", o.accounts, "login: accounts cycled through");
  run->add_option("--sessions", o.sessions, "idle: sessions");
  run->add_option("--hold", o.hold, "idle: seconds the sessions are held after measuring");
  run->add_option("--pairs", o.pairs, "msg: pairs");
  run->add_option("--window", o.window, "msg/muc/presence: in flight per sender");
  run->add_option("--body-bytes", o.body_bytes, "msg: body size");
  run->add_option("--rate", o.rate, "msg: paced total msgs/s (default: as fast as the window allows)");
  run->add_flag("--busy-poll", o.busy_poll, "the generator polls without sleeping (see scenario.hpp)");
  run->add_option("--users", o.users, "presence: users with ring rosters");
  run->add_option("--roster-size", o.roster_size, "presence: contacts per roster");
  run->add_option("--occupants", o.occupants, "muc: occupants");
  run->add_option("--senders", o.senders, "muc: senders");
  run->add_option("--room", o.room, "muc: room JID");
  run->add_option("--subscribers", o.subscribers, "pubsub: subscribed sessions (the publishers among them)");
  run->add_option("--publishers", o.publishers, "pubsub: publishing sessions, each with --window publishes in flight");
  run->add_option("--service", o.service, "pubsub: the pubsub service's JID, or pep (the first account's bare JID)");
  run->add_option("--node", o.node, "pubsub: node name (default bench, or urn:xmpp:bench:0 for pep)");
  run->add_option("--max-items", o.max_items, "pubsub: the node's pubsub#max_items");
  run->add_flag("--followers", o.followers,
                "pubsub: subscribers follow with their bare JID and log out before the run; the figure is feed entries "
                "(items x subscribers), checked in the last follower's news feed (urn:causerie:feed:0)");
  run->add_option("--archive-size", o.archive_size, "mam-page: messages in u0's archive (ids m0…, fill-archive)");
  run->add_option("--page-size", o.page_size, "mam-page, feed-page: messages (entries) per page (RSM max)");
  run->add_option("--with-jid", o.with_jid, "mam-page: the 'with' filter (default u1@<domain>)");
  run->add_option("--feed-posts", o.feed_posts, "feed-page: posts stored by fill-feed (--posts)");
  run->add_option("--feed-authors", o.feed_authors, "feed-page: authors of fill-feed (--authors)");
  run->add_option("--feed-follow", o.feed_follow, "feed-page: authors u0 follows (fill-feed --follow)");

  app.add_subcommand("list", "List the scenarios");

  AccountSpec a;
  auto* acc = app.add_subcommand("accounts", "Write benchmark accounts for import");
  acc->add_option("--format", a.format, "xep0227 | ejabberd | prosody");
  acc->add_option("--out", a.out, "output file (xep0227) or data directory (prosody)")->required();
  acc->add_option("--domain", a.domain);
  acc->add_option("--user-prefix", a.prefix);
  acc->add_option("--password", a.password);
  acc->add_option("--salt", a.salt);
  acc->add_option("--hashes", a.hashes, "both | sha1 | sha256");
  acc->add_option("--iterations", a.iterations);
  acc->add_option("--count", a.count);
  acc->add_option("--roster-users", a.roster_users, "the first N accounts get ring rosters");
  acc->add_option("--roster-size", a.roster_size);

  ArchiveFillSpec f;
  auto* fill = app.add_subcommand("fill-archive", "Fill one account's message archive in Causerie's database "
                                                  "(server stopped)");
  fill->add_option("--database", f.database, "path of causerie.db")->required();
  fill->add_option("--owner", f.owner);
  fill->add_option("--domain", f.domain, "domain of the correspondents");
  fill->add_option("--user-prefix", f.prefix);
  fill->add_option("--count", f.count);
  fill->add_option("--correspondents", f.correspondents);
  fill->add_option("--batch", f.batch, "messages per transaction");

  FeedFillSpec ff;
  auto* fill_feed_cmd = app.add_subcommand("fill-feed", "Fill microblogs and <prefix>0's news feed in Causerie's "
                                                        "database (server stopped)");
  fill_feed_cmd->add_option("--database", ff.database, "path of causerie.db")->required();
  fill_feed_cmd->add_option("--domain", ff.domain);
  fill_feed_cmd->add_option("--user-prefix", ff.prefix, "reader <prefix>0, authors <prefix>1…");
  fill_feed_cmd->add_option("--posts", ff.posts, "posts in all, round-robin over the authors");
  fill_feed_cmd->add_option("--authors", ff.authors);
  fill_feed_cmd->add_option("--follow", ff.follow, "the first N authors are followed by the reader");
  fill_feed_cmd->add_option("--batch", ff.batch, "posts per transaction");

  CLI11_PARSE(app, argc, argv);
  try {
    if (app.got_subcommand("list")) {
      for (const auto& s : scenarios()) std::cout << s.name << "\t" << s.what << "\n";
      return 0;
    }
    if (acc->parsed()) {
      write_accounts(a);
      return 0;
    }
    if (fill->parsed()) {
      std::cout << fill_archive(f) << " messages archived for " << f.owner << "\n";
      return 0;
    }
    if (fill_feed_cmd->parsed()) {
      unsigned rows = fill_feed(ff);
      std::cout << ff.posts << " posts stored, " << rows << " in " << ff.prefix << "0@" << ff.domain << "'s feed\n";
      return 0;
    }
    auto t = parse_tls_mode(tls);
    auto m = parse_mech(mech);
    auto tr = parse_transport(transport);
    if (!t || !m || !tr || (*tr == Transport::kWebSocket && *t == TlsMode::kStartTls) ||
        (*tr == Transport::kBosh && *t != TlsMode::kNone)) {
      std::cerr << "causerie-bench: bad --tls, --mech or --transport (WebSocket has no STARTTLS; BOSH is plain HTTP only)\n";
      return 2;
    }
    o.ep.tls = *t;
    o.ep.transport = *tr;
    if (*tr == Transport::kBosh && o.ep.http_path == "/xmpp-websocket") o.ep.http_path = "/http-bind";
    if (peer_port != 0) {
      if (peer_domain.empty()) {
        std::cerr << "causerie-bench: --peer-port needs --peer-domain\n";
        return 2;
      }
      o.has_peer = true;
      o.peer_ep = o.ep;
      o.peer_ep.port = peer_port;
      o.peer_ep.domain = peer_domain;
    }
    o.mech = *m;
    return run_scenario(scenario, o);
  } catch (const std::exception& e) {
    std::cerr << "causerie-bench: error: " << e.what() << "\n";
    return 1;
  }
}
