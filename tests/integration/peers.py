"""Debian's Prosody (0.12) and ejabberd (23.01) as federation peers of a Causerie server (issue 11).

Each peer runs in the foreground as the current user, from its own config files in the test's temp dir (data,
logs, pid, Mnesia all there: the packages' system services and directories are never used), on its own loopback
address for s2s and on 127.0.0.1 for its clients, with a certificate from the test bed, resolving other servers
through the test's dnsmasq. It runs in a process group of its own, which stop() ends whole.

Two modes, the same tests:
- "certificates": everyone's certificate comes from the test CA and everyone trusts it; the peer has no dialback
  (Prosody: modules_disabled = {"dialback"} and s2s_secure_auth; ejabberd: no mod_s2s_dialback, s2s_cafile), so
  both directions must authenticate by SASL EXTERNAL (XEP-0178).
- "dialback": the peer's certificate comes from a CA Causerie does not trust and the peer is given no CA for
  ours, so neither side can verify the other: both directions use dialback (XEP-0220); Causerie allows it for
  the peer's domains with s2s.insecure_domains.
- "bidi" (Prosody only): as "certificates", with Prosody's mod_s2s_bidi (XEP-0288), so that one stream per
  pair of domains carries both directions.

The tests are below; a test script names its peer: `peers.main(globals(), PeerClass, address)` runs each test (and
the script's own `async def test_*(bed)`) once per mode of the peer, each mode against a fresh pair (a
Causerie server for a.test and the peer).
"""
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import federation
import harness
import muc_util
import pubsub_util as pu
from harness import free_port

CAUSERIE = "a.test"
MODES = ("certificates", "dialback")


def _die_with_parent():
    """In the child before exec: the kernel sends it SIGTERM if the test process dies without stopping it
    (killed by ctest's timeout, say), since its own session puts it out of reach of signals to ours."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_port(proc, address, port, deadline, what):
    """Returns once address:port accepts a connection; raises when `proc` exits or the deadline passes. Between
    attempts it waits on the process itself, so an exit is seen at once."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection((address, port), timeout=0.2):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {address}:{port} in time")
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass


class Peer(harness.LogWatch):
    """What both peers share: ports, certificate, process group, DNS records, and what harness.Env needs from a
    server (hosts, c2s_port, tls_port, cert_path)."""

    name = "peer"
    modes = MODES
    # Whether Causerie's certificate may carry an XmppAddr besides its DNS-IDs (RFC 6120 §13.7.1.4).
    accepts_xmpp_addr = True
    # Whether the peer finds the address of an SRV target through DNS (else the target is named by its address).
    resolves_targets_by_dns = True

    def __init__(self, workdir, output, domain, address, dns_port, mode, cert, key, issuer_cert, ca_file):
        self.workdir = workdir
        self.domain = domain
        self.hosts = (domain,)
        self.muc = f"conference.{domain}"
        self.address = address
        self.dns_port = dns_port
        self.mode = mode
        self.cert, self.key = cert, key
        self.issuer_cert = issuer_cert  # what clients check the peer's certificate against
        self.ca_file = ca_file          # what the peer trusts besides the system store (None: nothing more)
        self.c2s_port = free_port()
        self.tls_port = None
        self.s2s_port = free_port()
        self.log_path = os.path.join(output, f"{self.name}-{mode}.log")
        self.stdout_path = os.path.join(output, f"{self.name}-{mode}.stdout")
        self.proc = None
        os.makedirs(workdir, exist_ok=True)
        open(self.log_path, "w").close()

    @property
    def cert_path(self):
        return self.issuer_cert

    def publish(self, dns):
        """SRV records for the domain and its MUC service, and the A record of their target."""
        target = f"xmpp.{self.domain}"
        dns.host(target, self.address)
        for name in (self.domain, self.muc):
            dns.srv("_xmpp-server", name, target, self.s2s_port, priority=10)

    def _spawn(self, args, env=None):
        self.out = open(self.stdout_path, "a")
        # A session of its own: stop() signals the whole group (an Erlang VM's helper processes included).
        self.proc = subprocess.Popen(args, cwd=self.workdir, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True,
                                     preexec_fn=_die_with_parent)

    def wait_listening(self, timeout=60):
        deadline = time.monotonic() + timeout
        _wait_port(self.proc, "127.0.0.1", self.c2s_port, deadline, self.name)
        _wait_port(self.proc, self.address, self.s2s_port, deadline, self.name)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.proc:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (children that outlive the leader) goes too.
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()
        self.out.close()
        self.proc = None


class Prosody(Peer):
    """prosody -F with its own prosody.cfg.lua; DNS through lua-unbound pointed at the test's dnsmasq."""

    name = "prosody"
    modes = MODES + ("bidi",)
    software = "Prosody"
    domain_name = "p.test"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.config_path = os.path.join(self.workdir, "prosody.cfg.lua")
        data = os.path.join(self.workdir, "data")
        os.makedirs(data, exist_ok=True)
        certs = self.mode != "dialback"
        cafile = f'cafile = "{self.ca_file}"; ' if self.ca_file else ""
        os.makedirs(os.path.join(self.workdir, "certs"), exist_ok=True)
        with open(self.config_path, "w") as f:
            f.write(f"""-- Written by tests/integration/peers.py: Prosody as a federation peer, mode {self.mode}.
run_as_root = true
certificates = "{self.workdir}/certs"
pidfile = "{self.workdir}/prosody.pid"
data_path = "{data}"
log = {{ debug = "{self.log_path}" }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.c2s_port} }}
c2s_direct_tls_ports = {{}}
s2s_interfaces = {{ "{self.address}" }}
s2s_ports = {{ {self.s2s_port} }}
s2s_direct_tls_ports = {{}}
http_ports = {{}}
https_ports = {{}}
component_ports = {{}}
network_backend = "epoll"
authentication = "internal_hashed"
storage = "internal"
s2s_require_encryption = true
s2s_secure_auth = {"true" if certs else "false"}
ssl = {{ certificate = "{self.cert}"; key = "{self.key}"; {cafile}}}
-- Names through the test's dnsmasq only; unbound treats .test as a local zone unless told otherwise.
unbound = {{ resolvconf = false; hoststxt = false; forward = "127.0.0.1@{self.dns_port}";
  options = {{ ["do-not-query-localhost:"] = "no"; ["local-zone:"] = "test. transparent" }} }}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping"; "version"; "time"; "pep"; "private";
  "vcard_legacy"; "register"; {'' if certs else '"dialback";'} {'"s2s_bidi";' if self.mode == "bidi" else ''} }}
modules_disabled = {{ {'"dialback"' if certs else ''} }}
allow_registration = false
VirtualHost "{self.domain}"
Component "{self.muc}" "muc"
  restrict_room_creation = false
  muc_room_locking = false
""")

    def start(self):
        self._spawn(["prosody", "--config", self.config_path, "-F"])
        self.wait_listening()

    def user(self, name, password):
        r = subprocess.run(["prosodyctl", "--config", self.config_path, "register", name, self.domain, password],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise AssertionError(f"prosodyctl register {name}: {r.stdout} {r.stderr}")


    def authentications(self):
        """{(direction, from, to): method} of the s2s streams in the log that completed authentication:
        'in' for a stream another server opened to Prosody, 'out' for one Prosody opened. Prosody logs each
        stream's traffic under the stream's id at debug level, which says how it authenticated."""
        sessions, done = {}, []
        with open(self.log_path, errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                if len(fields) < 3:
                    continue
                sid, message = fields[0].split()[-1], fields[2]
                sessions.setdefault(sid, []).append(message)
                m = re.match(r"(Incoming|Outgoing) s2s connection (\S+)->(\S+) complete", message)
                if m:
                    done.append((sid, "in" if m.group(1) == "Incoming" else "out", m.group(2), m.group(3)))
        out = {}
        for sid, direction, frm, to in done:
            lines = sessions[sid]
            if direction == "in":
                external = any(l.startswith("Sending[s2sin_unauthed]: <success") for l in lines)
                dialback = any(l.startswith("Received[s2sin_unauthed]: <result") for l in lines)
            else:
                external = any(l.startswith("Received[s2sout_unauthed]: <success") for l in lines)
                dialback = any(l == "sent dialback key on outgoing s2s stream" for l in lines)
            out[(direction, frm, to)] = "SASL EXTERNAL" if external else "dialback" if dialback else "?"
        return out


class Ejabberd(Peer):
    """ejabberd's Erlang node started with erl in the foreground (what `ejabberdctl foreground` runs, without its
    switch to the ejabberd system user): its config, Mnesia directory, logs and Erlang cookie in the temp dir.
    Erlang distribution listens on a fixed loopback port (-erl_epmd_port) with -start_epmd false, so no epmd
    daemon is started that could outlive the test. Names through the test's dnsmasq (an inetrc with its
    address and port). Accounts through ejabberd's HTTP API (the `register` command of ejabberdctl) on a
    loopback port."""

    name = "ejabberd"
    software = "ejabberd"
    domain_name = "e.test"
    # ejabberd 23.01 (p1_xmpp 1.6.1, xmpp_stream_pkix:get_domains_from_san/1) crashes its s2s process on a peer
    # certificate whose XmppAddr names a domain: it returns a binary where lists:flatmap wants a list
    # (badarg), and the stream just closes. Causerie's certificate carries DNS-IDs only here, as public CAs
    # issue them.
    accepts_xmpp_addr = False
    # ejabberd asks SRV records of its own DNS client (inet_res, pointed at the test's dnsmasq by the inetrc) but
    # the addresses of their targets of the system's (net:getaddrinfo, in xmpp_stream_out:a_lookup/5), which
    # only knows the DNS server of /etc/resolv.conf, on port 53: Causerie's SRV records name their target by
    # its address, which getaddrinfo takes as it is.
    resolves_targets_by_dns = False
    lib = "/usr/lib/x86_64-linux-gnu"  # where Debian puts ejabberd's Erlang application (ejabberdctl's ERL_LIBS)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.api_port = free_port()
        self.dist_port = free_port()
        self.node = f"causerie{os.getpid()}{self.mode[0]}@localhost"
        self.config_path = os.path.join(self.workdir, "ejabberd.yml")
        self.inetrc = os.path.join(self.workdir, "inetrc")
        self.pem = os.path.join(self.workdir, "server.pem")
        with open(self.pem, "w") as out:
            for part in (self.cert, self.key):
                with open(part) as f:
                    out.write(f.read())
        os.chmod(self.pem, 0o600)
        with open(self.inetrc, "w") as f:
            # resolv_conf "": otherwise inet_db keeps reading /etc/resolv.conf, whose servers replace ours.
            f.write(f'{{resolv_conf, ""}}.\n{{lookup, [file, dns]}}.\n{{host, {{127,0,0,1}}, ["localhost"]}}.\n'
                    f'{{nameserver, {{127,0,0,1}}, {self.dns_port}}}.\n')
        certs = self.mode == "certificates"
        cafile = f's2s_cafile: "{self.ca_file}"\n' if self.ca_file else ""
        dialback = "" if certs else "  mod_s2s_dialback: {}\n"
        with open(self.config_path, "w") as f:
            f.write(f"""# Written by tests/integration/peers.py: ejabberd as a federation peer, mode {self.mode}.
hosts: ["{self.domain}"]
loglevel: debug
log_rotate_count: 0
hide_sensitive_log_data: false
certfiles: ["{self.pem}"]
s2s_use_starttls: required
{cafile}s2s_dns_timeout: 2
outgoing_s2s_families: [ipv4]
auth_method: internal
auth_password_format: scram
listen:
  - port: {self.c2s_port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
  - port: {self.s2s_port}
    ip: "{self.address}"
    module: ejabberd_s2s_in
  - port: {self.api_port}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
api_permissions:
  "accounts made by the test":
    from: [mod_http_api]
    who:
      ip: "127.0.0.1/32"
    what: ["register"]
modules:
  mod_caps: {{}}
  mod_disco: {{}}
  mod_http_api: {{}}
  mod_offline: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
  mod_version: {{}}
  mod_pubsub:
    plugins: ["flat", "pep"]
    access_createnode: pubsub_createnode
  mod_muc:
    host: "{self.muc}"
    access_create: muc_create
{dialback}""")

    def start(self):
        env = dict(os.environ, HOME=self.workdir, ERL_LIBS=self.lib, ERL_INETRC=self.inetrc,
                   EJABBERD_CONFIG_PATH=self.config_path, EJABBERD_LOG_PATH=self.log_path,
                   EJABBERD_PID_PATH=os.path.join(self.workdir, "ejabberd.pid"),
                   ERL_CRASH_DUMP=os.path.join(self.workdir, "erl_crash.dump"))
        self._spawn(["erl", "-sname", self.node, "-noinput", "-erl_epmd_port", str(self.dist_port),
                     "-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
                     "-env", "ERL_CRASH_DUMP_BYTES", "0", "-mnesia", "dir", f'"{self.workdir}/db"',
                     "-s", "ejabberd"], env=env)
        self.wait_listening()
        deadline = time.monotonic() + 60
        _wait_port(self.proc, "127.0.0.1", self.api_port, deadline, self.name)

    def user(self, name, password):
        import json
        import urllib.request
        body = json.dumps({"user": name, "host": self.domain, "password": password}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}/api/register", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"ejabberd register {name}: {e.code} {e.read()!r}") from None

    def authentications(self):
        """{(direction, from, to): method} from ejabberd's "Accepted inbound/outbound s2s <mechanism>
        authentication" lines."""
        out = {}
        pattern = re.compile(r"Accepted (inbound|outbound) s2s (\S+) authentication (\S+) -> (\S+) ")
        for m in pattern.finditer(self.log_since(0)):
            method = {"EXTERNAL": "SASL EXTERNAL"}.get(m.group(2), m.group(2))
            out[("in" if m.group(1) == "inbound" else "out", m.group(3), m.group(4))] = method
        return out


class PeerEnv(harness.Env):
    """harness.Env for a peer's clients: accounts made with the peer's own tool."""

    def user(self, name, password="pw-" + "x" * 8):
        self.server.user(name, password)
        return f"{name}@{self.host}", password


class Bed(federation.Bed):
    def __init__(self, output, workdir, mode):
        super().__init__(output, workdir)
        self.mode = mode
        self.causerie = None
        self.peer = None


def make_bed(bed, binary, peer_class, peer_address):
    """a.test (Causerie, 127.0.0.2) and the peer on `peer_address`, in `bed.mode`."""
    domain = peer_class.domain_name
    certs = bed.mode != "dialback"
    if certs:
        cert, key = bed.ca.issue(domain)
        issuer = bed.ca.cert
    else:
        other = federation.TestCA(os.path.join(bed.workdir, "other-ca"), name="CA unknown to Causerie")
        cert, key = other.issue(domain)
        issuer = other.cert
    s2s_toml = "" if certs else f'insecure_domains = ["{domain}"]'
    causerie = federation.FedServer(binary, os.path.join(bed.workdir, CAUSERIE),
                                    os.path.join(bed.output, f"causerie-{bed.mode}.log"), CAUSERIE, "127.0.0.2",
                                    bed.ca, bed.dns.port, s2s_toml=s2s_toml, xmpp_addr=peer_class.accepts_xmpp_addr)
    causerie.publish(bed.dns, target=None if peer_class.resolves_targets_by_dns else causerie.address)
    peer = peer_class(os.path.join(bed.workdir, peer_class.name), bed.output, domain, peer_address, bed.dns.port,
                      bed.mode, cert, key, issuer, bed.ca.cert if certs else None)
    peer.publish(bed.dns)
    bed.servers[CAUSERIE] = causerie
    bed.servers[domain] = peer
    bed.causerie, bed.peer = causerie, peer
    bed.dns.start()
    causerie.start()
    peer.start()
    bed.envs[CAUSERIE] = harness.Env(causerie, bed.output)
    bed.envs[domain] = PeerEnv(peer, bed.output)


def main(namespace, peer_class, peer_address):
    """Runs every test_* of this module, then those of `namespace` (the script's own), in each mode, each mode
    with its own bed; exits non-zero on failure."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "../../build/causerie"))
    ap.add_argument("--output", default=None)
    ap.add_argument("-k", default=None, help="run only tests whose name contains this")
    ap.add_argument("--mode", choices=peer_class.modes, default=None)
    args = ap.parse_args()
    name = os.path.splitext(os.path.basename(namespace["__file__"]))[0]
    output = args.output or os.path.join(tempfile.gettempdir(), "causerie-test-output", name)
    os.makedirs(output, exist_ok=True)
    shared = [(n, f) for n, f in globals().items() if n.startswith("test_") and asyncio.iscoroutinefunction(f)]
    own = [(n, f) for n, f in namespace.items() if n.startswith("test_") and asyncio.iscoroutinefunction(f)]
    # The last shared test looks back over every stream the others opened.
    tests = shared[:-1] + [t for t in own if t not in shared] + shared[-1:]
    if args.k:
        tests = [(n, f) for n, f in tests if args.k in n]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    failures, ran = [], 0
    for mode in ([args.mode] if args.mode else peer_class.modes):
        workdir = tempfile.mkdtemp(prefix=f"causerie-{peer_class.name}-")
        bed = Bed(output, workdir, mode)
        try:
            make_bed(bed, os.path.abspath(args.binary), peer_class, peer_address)
            for test_name, fn in tests:
                ran += 1
                t0 = time.monotonic()
                label = f"{test_name}[{mode}]"
                try:
                    loop.run_until_complete(asyncio.wait_for(fn(bed), 120))
                    print(f"PASS {label} ({time.monotonic() - t0:.1f}s)", flush=True)
                except BaseException as e:  # noqa: BLE001
                    failures.append(label)
                    print(f"FAIL {label}: {e!r}", flush=True)
                    traceback.print_exc()
                finally:
                    loop.run_until_complete(bed.close_all())
                dead = [d for d, s in bed.servers.items() if not s.alive()]
                if dead:
                    failures.append(f"server-crashed[{mode}]")
                    print(f"FAIL server(s) died: {dead}; logs in {output}", flush=True)
                    break
        except BaseException as e:  # noqa: BLE001 - a bed that does not start fails its mode, not the script
            failures.append(f"setup[{mode}]")
            print(f"FAIL setting up {mode}: {e!r}", flush=True)
            traceback.print_exc()
        finally:
            bed.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    passed = ran - len([f for f in failures if not f.startswith(("setup[", "server-crashed["))])
    print(f"{passed} passed, {len(failures)} failed; logs in {output}", flush=True)
    sys.exit(1 if failures else 0)


def causerie_authentications(server):
    """{(direction, from, to): method} from a causerie log: how each of its s2s streams authenticated."""
    out = {}
    pattern = re.compile(r"s2s (incoming|outgoing) (\S+) -> (\S+) \([^)]*\): authenticated by "
                         r"(SASL EXTERNAL|dialback, certificate|dialback),")
    for m in pattern.finditer(server.log_since(0)):
        out[("in" if m.group(1) == "incoming" else "out", m.group(2), m.group(3))] = m.group(4)
    return out


# ---------------------------------------------------------------- the tests, run in each mode against each peer

PLUGINS = ["xep_0030", "xep_0092", "xep_0199", "xep_0203"]
MOOD = "urn:test:mood"


def expected_method(bed):
    return "dialback" if bed.mode == "dialback" else "SASL EXTERNAL"


async def pair(bed, a_name, p_name, plugins=PLUGINS):
    """A Causerie user and a peer user, connected and available."""
    a_env, p_env = bed.env(CAUSERIE), bed.env(bed.peer.domain)
    a_jid, a_pw = a_env.user(a_name)
    p_jid, p_pw = p_env.user(p_name)
    a = await a_env.connect(a_jid + "/r", a_pw, plugins)
    p = await p_env.connect(p_jid + "/r", p_pw, plugins)
    return a, p


async def test_authentication_both_ways(bed):
    # Runs first: the first stanzas each way open the first streams between a.test and the peer's domain.
    alice, pat = await pair(bed, "alice", "pat")
    alice.send_message(mto=pat.boundjid, mbody="from causerie", mtype="chat")
    await pat.next_message(lambda m: m["body"] == "from causerie", timeout=30)
    pat.send_message(mto=alice.boundjid, mbody="from the peer", mtype="chat")
    await alice.next_message(lambda m: m["body"] == "from the peer", timeout=30)
    want, peer, d = expected_method(bed), bed.peer, bed.peer.domain
    if bed.mode == "bidi":
        # XEP-0288: Causerie's stream (it wrote first) carried the answer too; no stream the other way.
        line = await bed.causerie.wait_log(f"s2s outgoing {CAUSERIE} -> {d} (")
        harness.check(f"authenticated by {want}" in line.splitlines()[-1] and
                      line.splitlines()[-1].endswith(", bidirectional"), f"one bidirectional stream: {line}")
        ours, theirs = causerie_authentications(bed.causerie), peer.authentications()
        harness.check(("in", d, CAUSERIE) not in ours, f"causerie accepted no stream from {d}: {ours}")
        harness.check(theirs.get(("in", CAUSERIE, d)) == want and ("out", d, CAUSERIE) not in theirs,
                      f"{peer.name} opened no stream to {CAUSERIE}: {theirs}")
        return
    # Each server says how each stream authenticated; the two ends of each stream must agree.
    ours = causerie_authentications(bed.causerie)
    harness.check(ours.get(("out", CAUSERIE, d)) == want, f"causerie, outgoing {CAUSERIE} -> {d}: {ours}")
    harness.check(ours.get(("in", d, CAUSERIE)) == want, f"causerie, incoming {d} -> {CAUSERIE}: {ours}")
    theirs = await harness.wait_until(
        lambda: (lambda t: t if ("in", CAUSERIE, d) in t and ("out", d, CAUSERIE) in t else None)(
            peer.authentications()), f"{peer.name} to log both streams as authenticated")
    harness.check(theirs[("in", CAUSERIE, d)] == want, f"{peer.name}, incoming {CAUSERIE} -> {d}: {theirs}")
    harness.check(theirs[("out", d, CAUSERIE)] == want, f"{peer.name}, outgoing {d} -> {CAUSERIE}: {theirs}")


async def test_subscription_presence_and_chat(bed):
    alice, pat = await pair(bed, "sam", "sue")
    # Subscription both ways: Alice asks, slixmpp on the peer approves and asks back, slixmpp here approves.
    alice.client_roster.subscribe(pat.boundjid.bare)
    await alice.next_presence(lambda p: p["from"] == pat.boundjid and p["type"] == "available", timeout=30)
    await pat.next_presence(lambda p: p["from"] == alice.boundjid and p["type"] == "available", timeout=30)
    alice.send_message(mto=pat.boundjid.bare, mbody="bonjour", mtype="chat")
    m = await pat.next_message(lambda m: m["body"] == "bonjour", timeout=20)
    harness.check(m["from"] == alice.boundjid, f"from Alice's full JID: {m['from']}")
    pat.send_message(mto=alice.boundjid.bare, mbody="hello", mtype="chat")
    m = await alice.next_message(lambda m: m["body"] == "hello", timeout=20)
    harness.check(m["from"] == pat.boundjid, f"from the peer user's full JID: {m['from']}")
    # Presence changes both ways, then the peer user leaving.
    alice.send_presence(pshow="dnd", pstatus="busy here")
    p = await pat.next_presence(lambda p: p["from"] == alice.boundjid and p["status"] == "busy here", timeout=20)
    harness.check(p["show"] == "dnd", "show crosses to the peer")
    pat.send_presence(pshow="away", pstatus="out there")
    p = await alice.next_presence(lambda p: p["from"] == pat.boundjid and p["status"] == "out there", timeout=20)
    harness.check(p["show"] == "away", "show crosses from the peer")
    await pat.disconnect()
    await alice.next_presence(lambda p: p["from"] == pat.boundjid and p["type"] == "unavailable", timeout=20)


async def test_iq_to_the_remote_server_and_clients(bed):
    alice, pat = await pair(bed, "ivy", "ian")
    d = bed.peer.domain
    await alice["xep_0199"].ping(jid=d, timeout=20)
    version = await alice["xep_0092"].get_version(d, timeout=20)
    harness.check(version["software_version"]["name"] == bed.peer.software, f"{d} version: {version}")
    await pat["xep_0199"].ping(jid=CAUSERIE, timeout=20)
    version = await pat["xep_0092"].get_version(CAUSERIE, timeout=20)
    harness.check(version["software_version"]["name"] == "Causerie", f"{CAUSERIE} version: {version}")
    info = await pat["xep_0030"].get_info(jid=CAUSERIE, timeout=20)
    harness.check("urn:xmpp:ping" in info["disco_info"]["features"], "disco#info of a.test from the peer")
    # Client to client, both ways (the answer comes from the other client through both servers).
    await alice["xep_0199"].ping(jid=pat.boundjid, timeout=20)
    await pat["xep_0199"].ping(jid=alice.boundjid, timeout=20)


async def test_offline_message_from_a_peer_user(bed):
    a_env, p_env = bed.env(CAUSERIE), bed.env(bed.peer.domain)
    o_jid, o_pw = a_env.user("olga")
    p_jid, p_pw = p_env.user("otto")
    otto = await p_env.connect(p_jid + "/r", p_pw, PLUGINS)
    otto.send_message(mto=o_jid, mbody="while you were away", mtype="chat")
    # A ping of Olga's account, answered by a.test after the message on the same stream: by then a.test has
    # taken the message and queued it for storage, before Olga logs in.
    await otto["xep_0199"].ping(jid=o_jid, timeout=20)
    olga = await a_env.connect(o_jid + "/r", o_pw, PLUGINS)
    m = await olga.next_message(lambda m: m["body"] == "while you were away", timeout=20)
    harness.check(m["from"].bare == p_jid, f"from the peer user: {m['from']}")
    harness.check(m["delay"]["stamp"] is not None, "delivered later, with a delay stamp (XEP-0203)")


async def test_muc_rooms_across(bed):
    a_env, p_env = bed.env(CAUSERIE), bed.env(bed.peer.domain)
    a_jid, a_pw = a_env.user("malice")
    p_jid, p_pw = p_env.user("mpat")
    alice = await muc_util.connect(a_env, a_jid + "/r", a_pw)
    pat = await muc_util.connect(p_env, p_jid + "/r", p_pw)
    # Alice (a.test) in a room of the peer's MUC service.
    room = f"salon@{bed.peer.muc}"
    await muc_util.create(pat, room, "pat")
    pres, *_ = await muc_util.join(alice, room, "alice")
    harness.check(110 in muc_util.codes(pres), "Alice gets her own presence from the peer's room")
    await pat.next_presence(lambda p: p["from"] == f"{room}/alice", timeout=20)
    alice.send_message(mto=room, mbody="salut le salon", mtype="groupchat")
    await pat.next_message(lambda m: m["body"] == "salut le salon" and m["from"] == f"{room}/alice", timeout=20)
    await alice.next_message(lambda m: m["body"] == "salut le salon" and m["from"] == f"{room}/alice", timeout=20)
    pat.send_message(mto=room, mbody="bienvenue", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "bienvenue" and m["from"] == f"{room}/pat", timeout=20)
    await muc_util.leave(alice, room, "alice")
    # And the peer's user in a room of a.test.
    room_a = f"cafe@conference.{CAUSERIE}"
    await muc_util.create(alice, room_a, "alice")
    await muc_util.join(pat, room_a, "pat")
    await alice.next_presence(lambda p: p["from"] == f"{room_a}/pat", timeout=20)
    pat.send_message(mto=room_a, mbody="depuis le pair", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "depuis le pair" and m["from"] == f"{room_a}/pat", timeout=20)
    alice.send_message(mto=room_a, mbody="reçu", mtype="groupchat")
    await pat.next_message(lambda m: m["body"] == "reçu" and m["from"] == f"{room_a}/alice", timeout=20)


def mood(text):
    return f"<mood xmlns='{MOOD}'><text>{text}</text></mood>"


async def test_pep_notifications_between_contacts(bed):
    a_env, p_env = bed.env(CAUSERIE), bed.env(bed.peer.domain)
    alice = await pu.connect(a_env, "palice", interests=(MOOD,))
    pat = await pu.connect(p_env, "ppat", interests=(MOOD,))
    # COMPAT(slixmpp 1.8.3): the caps 'ver' of the first presence is computed before add_interest()'s feature
    # is counted, so it does not match the disco#info answer. ejabberd then rightly ignores those caps
    # (XEP-0115 §5.4: an answer whose hash does not match is invalid) and notifies nobody, its own users
    # included. Recomputed and sent again in a new presence, which each server has taken (and asked about)
    # before the subscription: the presences it sends a new contact carry the right 'ver'.
    for c in (alice, pat):
        await c["xep_0115"].update_caps()
        await pu.caps_known(c)
    await pu.make_contacts(alice, pat, timeout=30)
    # Alice publishes on a.test: her contact on the peer asks MOOD+notify in his caps (learnt over s2s).
    await pu.send(alice, None, pu.ps(f"<publish node='{MOOD}'><item id='current'>{mood('ici')}</item></publish>"))
    m = await pu.next_event(pat, lambda m: m["from"] == alice.boundjid.bare and pu.is_event("item", MOOD)(m),
                            timeout=30)
    harness.check(pu.event_items(m, MOOD)[0][3].find(f"{{{MOOD}}}text").text == "ici", "with its payload")
    # And the peer's PEP service notifies Alice.
    await pu.send(pat, None, pu.ps(f"<publish node='{MOOD}'><item id='current'>{mood('là-bas')}</item></publish>"))
    m = await pu.next_event(alice, lambda m: m["from"] == pat.boundjid.bare and pu.is_event("item", MOOD)(m),
                            timeout=30)
    harness.check(pu.event_items(m, MOOD)[0][3].find(f"{{{MOOD}}}text").text == "là-bas", "with its payload")


async def test_every_stream_used_the_modes_authentication(bed):
    # Runs last: every stream the tests opened (a.test and its services with the peer's domain and its MUC
    # service, both ways), as each server logged it.
    want = expected_method(bed)
    ours = causerie_authentications(bed.causerie)
    theirs = bed.peer.authentications()
    harness.check(len(ours) >= 2 and set(ours.values()) == {want}, f"causerie's streams: {ours}")
    harness.check(len(theirs) >= 2 and set(theirs.values()) == {want}, f"{bed.peer.name}'s streams: {theirs}")
    print(f"  [{bed.mode}] causerie: {sorted(ours.items())}\n  [{bed.mode}] {bed.peer.name}: {sorted(theirs.items())}",
          flush=True)
