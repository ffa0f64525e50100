"""`make bench`'s federation scenarios (issue 11), for each server software in turn: two instances of it
federating with each other, the load generator logged in on both.

- `s2s-msg`: `causerie-bench run msg` with the two users of each pair on different servers (a.bench and
  b.bench), so that every message crosses a server-to-server stream; msgs/s, zero loss and per-sender order
  checked by the generator, CPU of both servers summed (msgs per server core-second).
- `s2s-links`: `causerie-bench run s2s-links`: u0@a.bench pings d0.b.bench … d(N-1).b.bench, N domains of the
  second server, each ping needing a new link for a new domain pair; links/s and links per core-second.

The pieces are those of the federation tests (tests/integration): `federation.TestCA` (certificates: both sides
authenticate by SASL EXTERNAL, no dialback), `federation.Dns` (dnsmasq on a loopback port, SRV and A records),
`federation.FedServer` for Causerie and `peers.Prosody` / `peers.Ejabberd` for the anchors, each with the
bench's changes: warn-level logs, plain c2s for the generator (as in the c2s scenarios), no s2s rate limit or
queue bound, listen backlog 1024 (as run.sh gives the anchors), one worker / one scheduler / one thread. Each scenario gets freshly started servers. This script
pins itself (so both servers and dnsmasq) to --server-cpu and the generator to --gen-cpu; traffic stays on
loopback (the servers on 127.0.0.31 and .32 for s2s, 127.0.0.1 for clients).

Writes one JSON line per run to --results (the generator's, with "label" and "variant") and the command lines
to --commands, as bench/run.sh does for the other scenarios. tests/integration/test_bench_s2s.py runs it
tiny against Causerie only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import federation  # noqa: E402
import peers  # noqa: E402

A_DOMAIN, B_DOMAIN = "a.bench", "b.bench"
A_ADDRESS, B_ADDRESS = "127.0.0.31", "127.0.0.32"
LABELS = ("s2s-msg", "s2s-links")
PASSWORD = "bench-password"
# What the bench lifts on Causerie's s2s side, as it lifts the c2s limits: a bounded queue and a per-stream
# stanza rate are protections the anchors do not have by default.
CAUSERIE_S2S = "stanzas_per_second = 1000000\nmax_queue = 1000000\n"


def log(msg):
    print(f"[bench s2s {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def edit(path, change):
    """Rewrites a config file written by the test bed's wrappers: change(text) -> text."""
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(change(text))


def remote_domains(n):
    return [f"d{i}.{B_DOMAIN}" for i in range(n)]


class BenchCauserie(federation.FedServer):
    """FedServer for the bench: one worker, warn-level log, plain c2s allowed, s2s limits lifted, and extra
    hosts (sharing the domain's certificate, which names *.domain) for s2s-links."""

    def __init__(self, binary, workdir, log_path, domain, address, ca, dns_port, extra_hosts=(), log_level="warn"):
        super().__init__(binary, workdir, log_path, domain, address, ca, dns_port, s2s_toml=CAUSERIE_S2S,
                         xmpp_addr=False)
        cert, key = (os.path.join(ca.dir, domain + ext) for ext in (".crt", ".key"))
        edit(self.config_path, lambda cfg: (
            cfg.replace("workers = 2", "workers = 1").replace('log_level = "debug"', f'log_level = "{log_level}"')
            .replace("[c2s]\nrequire_encryption = true", "[c2s]\nrequire_encryption = false")
            + "".join(f'\n[[host]]\nname = "{h}"\ncertificate = "{cert}"\nkey = "{key}"\n' for h in extra_hosts)))
        self.extra_hosts = tuple(extra_hosts)

    def add_accounts(self, generator, count):
        pie = os.path.join(self.workdir, "accounts.xml")
        subprocess.run([generator, "accounts", "--format", "xep0227", "--domain", self.domain, "--count", str(count),
                        "--password", PASSWORD, "--out", pie], check=True, timeout=300)
        self.cli("user", "import", pie)

    def publish_all(self, dns):
        publish(self, dns, target=f"xmpp.{self.domain}")


class BenchProsody(peers.Prosody):
    """peers.Prosody for the bench: warn-level log, plain c2s allowed, extra VirtualHosts for s2s-links."""

    def __init__(self, *args, extra_hosts=(), **kw):
        super().__init__(*args, **kw)
        # Global options go before the first VirtualHost line (after it they would be that host's).
        edit(self.config_path, lambda cfg: (
            cfg.replace(f'log = {{ debug = "{self.log_path}" }}', f'log = {{ warn = "{self.log_path}" }}')
            .replace(f'VirtualHost "{self.domain}"', f'c2s_require_encryption = false\n'
                     f'network_settings = {{ tcp_backlog = 1024 }}\nVirtualHost "{self.domain}"', 1)
            + "".join(f'VirtualHost "{h}"\n' for h in extra_hosts)))
        self.extra_hosts = tuple(extra_hosts)

    def add_accounts(self, generator, count):
        # Prosody's internal storage written directly (SCRAM-SHA-1), as bench/run.sh does.
        subprocess.run([generator, "accounts", "--format", "prosody", "--hashes", "sha1", "--domain", self.domain,
                        "--count", str(count), "--password", PASSWORD, "--out", os.path.join(self.workdir, "data")],
                       check=True, timeout=300)

    def publish_all(self, dns):
        publish(self, dns, target=f"xmpp.{self.domain}")


class BenchEjabberd(peers.Ejabberd):
    """peers.Ejabberd for the bench: its own Erlang node name, warning-level log, plain c2s allowed, only the
    modules the scenarios need, extra hosts for s2s-links. Accounts through its HTTP API, after start."""

    def __init__(self, *args, extra_hosts=(), tag="a", **kw):
        super().__init__(*args, **kw)
        self.node = f"causeriebench{os.getpid()}{tag}@localhost"
        hosts = ", ".join(f'"{h}"' for h in (self.domain, *extra_hosts))
        edit(self.config_path, lambda cfg: (
            cfg.replace("loglevel: debug", "loglevel: warning").replace("    starttls_required: true\n", "")
            .replace("    module: ejabberd_c2s\n", "    module: ejabberd_c2s\n    backlog: 1024\n")
            .replace("    module: ejabberd_s2s_in\n", "    module: ejabberd_s2s_in\n    backlog: 1024\n")
            .replace(f'hosts: ["{self.domain}"]', f"hosts: [{hosts}]\nmax_fsm_queue: 1000000")
            .split("\nmodules:\n")[0]
            + "\nmodules:\n  mod_disco: {}\n  mod_http_api: {}\n  mod_ping: {}\n  mod_roster: {}\n"))
        self.extra_hosts = tuple(extra_hosts)
        self.pending_accounts = []

    def add_accounts(self, generator, count, which=None):
        self.pending_accounts = [f"u{i}" for i in (which if which is not None else range(count))]

    def start(self):
        super().start()
        for name in self.pending_accounts:
            self.user(name, PASSWORD)

    def publish_all(self, dns):
        # ejabberd finds the address of an SRV target with getaddrinfo, which does not ask dnsmasq: the target
        # is the address itself (see peers.Ejabberd.resolves_targets_by_dns).
        publish(self, dns, target=self.address)


def publish(server, dns, target):
    if target != server.address:
        dns.host(target, server.address)
    for name in (server.domain, *server.extra_hosts):
        dns.srv("_xmpp-server", name, target, server.s2s_port, priority=10)


class Pair:
    """Two servers of one kind, a.bench and b.bench (plus `extra` domains under b.bench), with their CA and DNS."""

    def __init__(self, kind, args, workdir, extra=()):
        self.kind = kind
        self.dir = workdir
        self.ca = federation.TestCA(os.path.join(workdir, "ca"))
        self.dns = federation.Dns(workdir)
        self.servers = []
        for domain, address, hosts, tag in ((A_DOMAIN, A_ADDRESS, (), "a"), (B_DOMAIN, B_ADDRESS, extra, "b")):
            sdir = os.path.join(workdir, f"{kind}-{tag}")
            # Logs under --output, a directory per server (peers.Peer names its files by software and mode).
            out = os.path.join(args.output, f"{kind}-{tag}")
            os.makedirs(out, exist_ok=True)
            if kind == "causerie":
                s = BenchCauserie(args.binary, sdir, os.path.join(out, "causerie.log"), domain, address, self.ca,
                                  self.dns.port, extra_hosts=hosts, log_level=args.causerie_log_level)
            else:
                cert, key = self.ca.issue(domain, xmpp_addr=False)
                cls = BenchProsody if kind == "prosody" else BenchEjabberd
                kw = {"tag": tag} if kind == "ejabberd" else {}
                s = cls(sdir, out, domain, address, self.dns.port, "certificates", cert, key, self.ca.cert,
                        self.ca.cert, extra_hosts=hosts, **kw)
            self.servers.append(s)
        self.a, self.b = self.servers

    def start(self):
        for s in self.servers:
            s.publish_all(self.dns)
        self.dns.start()
        for s in self.servers:
            s.start()

    def pids(self):
        return [s.proc.pid for s in self.servers]

    def stop(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception as e:  # noqa: BLE001 - stop the others anyway
                log(f"stopping {self.kind}: {e!r}")
        self.dns.stop()


def run_generator(args, kind, label, scenario, pair, extra):
    a, b = pair.a, pair.b
    cmd = [args.generator, "run", scenario, "--server-name", kind, "--server-pid", str(a.proc.pid),
           "--peer-pid", str(b.proc.pid), "--port", str(a.c2s_port), "--domain", A_DOMAIN,
           "--timeout", str(args.timeout), *extra]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.gen_cpu != "":
        cmd = ["taskset", "-c", args.gen_cpu, *cmd]
    shown = " ".join(cmd).replace(f"--server-pid {a.proc.pid}", "--server-pid PID") \
        .replace(f"--peer-pid {b.proc.pid}", "--peer-pid PID")
    with open(args.commands, "a") as f:
        f.write(f"{label} ({kind}, two servers): {shown}\n")
    log(f"{kind}: {label}")
    perf = None
    if args.perf_record:
        # Both servers sampled with call graphs while the generator runs (perf report -i FILE --sort comm,dso,sym).
        perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", f"{args.perf_record}.{kind}.{label}",
                                 "-p", f"{a.proc.pid},{b.proc.pid}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout * 3 + 120)
    if perf:
        perf.send_signal(2)
        perf.wait(timeout=120)
    with open(os.path.join(args.output, "generator.log"), "a") as f:
        f.write(r.stderr)
    lines = [l for l in r.stdout.splitlines() if l.strip().startswith("{")]
    if lines:
        result = json.loads(lines[-1])
    else:
        result = {"server": kind, "scenario": scenario, "ok": False,
                  "problems": f"generator failed (exit {r.returncode}): {r.stderr.strip()[-300:]}"}
    return result


def one(args, kind, label):
    """Fresh servers of `kind`, one scenario, its JSON line."""
    workdir = tempfile.mkdtemp(prefix=f"causerie-bench-s2s-{kind}-", dir=args.workdir)
    os.chmod(workdir, 0o755)
    pair = None
    try:
        extra = remote_domains(args.links) if label == "s2s-links" else ()
        pair = Pair(kind, args, workdir, extra)
        if label == "s2s-msg":
            # Pair i is u(2i)@a.bench and u(2i+1)@b.bench.
            n = 2 * args.pairs
            for s, first in ((pair.a, 0), (pair.b, 1)):
                if kind == "ejabberd":
                    s.add_accounts(args.generator, n, which=range(first, n, 2))
                else:
                    s.add_accounts(args.generator, n)
            gen = ["--peer-port", str(pair.b.c2s_port), "--peer-domain", B_DOMAIN, "--warmup", str(args.warmup),
                   "--duration", str(args.duration), "--pairs", str(args.pairs), "--window", str(args.window)]
            scenario = "msg"
        else:
            if kind == "ejabberd":
                pair.a.add_accounts(args.generator, 1, which=[0])
            else:
                pair.a.add_accounts(args.generator, 1)
            gen = ["--remote-domains", str(args.links), "--remote-suffix", B_DOMAIN, "--window", str(args.links_window)]
            scenario = "s2s-links"
        pair.start()
        result = run_generator(args, kind, label, scenario, pair, gen)
        dead = [s.domain for s in pair.servers if not s.alive()]
        if dead:
            result["ok"] = False
            result["problems"] = (result.get("problems", "") + f"; server(s) died: {dead}").lstrip("; ")
    except Exception as e:  # noqa: BLE001 - a pair that does not start is an invalid run, not the end of the bench
        log(f"{kind}/{label}: {e!r}")
        result = {"server": kind, "scenario": label, "ok": False, "problems": f"set-up failed: {e}"}
    finally:
        if pair:
            pair.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result["label"], result["variant"] = label, "two servers"
    line = json.dumps(result, separators=(",", ":"))
    with open(args.results, "a") as f:
        f.write(line + "\n")
    print(line, flush=True)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "causerie"))
    ap.add_argument("--generator", default=os.path.join(ROOT, "build", "causerie-bench"))
    ap.add_argument("--servers", default="causerie prosody ejabberd")
    ap.add_argument("--only", default="", help="labels to run (s2s-msg s2s-links); others are skipped")
    ap.add_argument("--results", required=True)
    ap.add_argument("--commands", default=os.devnull)
    ap.add_argument("--output", default=None, help="servers' logs (default: a directory under the work dir)")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--causerie-log-level", default="warn", help="for looking into a failed run")
    ap.add_argument("--perf-record", default=None, help="profile both servers during each run: FILE.<server>.<label>")
    ap.add_argument("--keep", action="store_true", help="keep each pair's directory (configs, data)")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--links", type=int, default=200)
    ap.add_argument("--links-window", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--server-cpu", default="", help="pin both servers here (taskset list); empty: no pinning")
    ap.add_argument("--gen-cpu", default="", help="pin the generator here; empty: no pinning")
    args = ap.parse_args()
    args.output = args.output or tempfile.mkdtemp(prefix="causerie-bench-s2s-logs-", dir=args.workdir)
    os.makedirs(args.output, exist_ok=True)
    if args.server_cpu != "":
        # Children inherit it: both servers (Erlang counts its schedulers from it), dnsmasq, the tools.
        os.sched_setaffinity(0, {int(c) for c in args.server_cpu.split(",")})
    ok = True
    for kind in args.servers.split():
        for label in LABELS:
            if args.only and label not in args.only.split():
                continue
            ok = one(args, kind, label).get("ok", False) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
