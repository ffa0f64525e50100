"""Integration test harness: starts the real `causerie` binary on free loopback ports with a throw-away
data directory, and drives it with real third-party clients (python3-slixmpp here).

A test script defines `async def test_*(env)` functions and ends with `harness.main(globals())`.
Each script gets one server (restartable with `await env.restart()`); tests run in file order and the
script exits non-zero if any fails. Server logs land in the --output directory.

Tests wait for events, never for time: a stanza arriving (`next_message`, `_next`), a round trip
(`round_trip`), a line in the server's log (`Server.wait_log`), or a condition polled with a deadline
(`wait_until`). That something did NOT happen is checked after a marker that took the same path later.

Run with Debian's interpreter, which has slixmpp: /usr/bin/python3 tests/integration/test_x.py --binary build/causerie
"""
import argparse
import asyncio
import logging
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout  # noqa: F401  (re-exported for tests)
from slixmpp.xmlstream import ET

logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
# slixmpp warns about its pure-Python stringprep on every import: noise for our purposes.
logging.getLogger("slixmpp.stringprep").setLevel(logging.ERROR)

DEFAULT_TIMEOUT = 10


def free_port():
    """A free TCP port on loopback below 32768 (the range above is the kernel's for outgoing connections)."""
    for _ in range(200):
        port = random.randint(12000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port found")


class LogWatch:
    """Waiting on a process's log file (`self.log_path`): what a causerie server and the federation peers
    (Prosody, ejabberd) share."""

    def log_mark(self):
        """The current end of the server's log: pass it to wait_log to look only at what follows."""
        return os.path.getsize(self.log_path)

    def log_since(self, mark):
        with open(self.log_path, errors="replace") as f:
            f.seek(mark)
            return f.read()

    async def wait_log(self, text, since=0, timeout=DEFAULT_TIMEOUT, what=None):
        """Waits until `text` appears in the server's log after `since` (a log_mark); returns the log from
        `since` to the end of the first line holding it. The server logs to an unbuffered stderr."""
        async def found():
            log = self.log_since(since)
            at = log.find(text)
            if at < 0:
                return None
            end = log.find("\n", at)
            return log if end < 0 else log[:end + 1]
        return await wait_until(found, what or f"{text!r} in the server log", timeout=timeout, interval=0.05)


class Process:
    """A child process whose output lines are kept (in a log file too) and can be waited for."""

    def __init__(self, name, log_path):
        self.name = name
        self.log = open(log_path, "w")
        self.lines = []
        self.new_line = asyncio.Event()
        self.proc = None

    async def start(self, *argv, cwd=None):
        self.proc = await asyncio.create_subprocess_exec(*argv, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                         stderr=asyncio.subprocess.STDOUT)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            self.log.write(text + "\n")
            self.log.flush()
            self.lines.append(text)
            self.new_line.set()
        self.new_line.set()

    async def wait_for(self, text, timeout=20):
        """Returns the first output line containing `text`; fails if the process exits first."""
        seen = 0
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            for line in self.lines[seen:]:
                if text in line:
                    return line
            seen = len(self.lines)
            if self.proc.returncode is not None or self.reader.done():
                raise AssertionError(f"{self.name} exited before printing {text!r}")
            self.new_line.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name} did not print {text!r}")
            await asyncio.wait_for(self.new_line.wait(), left)

    async def stop(self):
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.log.close()


class Server(LogWatch):
    """One causerie process with its own config and data directory."""

    def __init__(self, binary, workdir, log_path, hosts=("localhost",), extra_toml="", listeners=None,
                 require_encryption=True, host_toml="", anonymous_hosts=(), registration=None):
        self.binary = binary
        self.workdir = workdir
        self.log_path = log_path
        self.hosts = hosts
        self.c2s_port = free_port()
        self.tls_port = free_port()
        self.extra_ports = {}
        self.data_dir = os.path.join(workdir, "data")
        self.config_path = os.path.join(workdir, "causerie.toml")
        self.proc = None
        self.bad_exits = []  # how stop() found the server ending, when not cleanly
        lines = ["[server]", f'data_dir = "{self.data_dir}"', 'log_level = "debug"', "workers = 2", "",
                 "[c2s]", f"require_encryption = {'true' if require_encryption else 'false'}", ""]
        if extra_toml:
            lines += [extra_toml, ""]
        # Every host's registration policy is "open" unless `registration` ({host: policy}) says otherwise;
        # `host_toml` goes into every [[host]], or ({host: toml}) into those it names.
        for h in hosts:
            policy = (registration or {}).get(h, "open")
            extra = host_toml.get(h, "") if isinstance(host_toml, dict) else host_toml
            lines += ["[[host]]", f'name = "{h}"', f'registration = "{policy}"', extra, ""]
        for h in anonymous_hosts:  # guest hosts (SASL ANONYMOUS): no registration there
            lines += ["[[host]]", f'name = "{h}"', 'authentication = "anonymous"', ""]
        lines += ["[[listener]]", 'type = "c2s"', 'address = "127.0.0.1"', f"port = {self.c2s_port}", 'tls = "starttls"', "",
                  "[[listener]]", 'type = "c2s"', 'address = "127.0.0.1"', f"port = {self.tls_port}", 'tls = "direct"', ""]
        for name, kind, tls in (listeners or []):
            port = free_port()
            self.extra_ports[name] = port
            lines += ["[[listener]]", f'type = "{kind}"', 'address = "127.0.0.1"', f"port = {port}", f'tls = "{tls}"', ""]
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines))

    @property
    def cert_path(self):
        return os.path.join(self.data_dir, "certs", "server.crt")

    def cli(self, *args, check=True, input=None):
        """Runs a `causerie` subcommand against this server's config."""
        r = subprocess.run([self.binary, *args, "--config", self.config_path], capture_output=True, text=True,
                           input=input, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"causerie {' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "run", "--config", self.config_path], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.wait_listening()

    def listen_ports(self):
        return [self.c2s_port, self.tls_port, *self.extra_ports.values()]

    def wait_listening(self, timeout=20):
        """Returns once every listener accepts connections; raises as soon as the process exits, or when the
        deadline passes. Between attempts it waits on the process itself, so an exit is seen at once."""
        deadline = time.monotonic() + timeout
        for port in self.listen_ports():
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"causerie exited with {self.proc.returncode}; see {self.log_path}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"causerie did not start listening on port {port} in time")
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass

    def stop(self):
        """SIGTERM, as an admin stops the server; a server that then crashes (a signal) or has not ended
        after 10 s is recorded in `bad_exits`, which fails the test script."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
                if rc != 0:
                    self.bad_exits.append(f"exit status {rc} after SIGTERM" if rc > 0 else
                                          f"killed by signal {-rc} while stopping")
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.bad_exits.append("still running 10 s after SIGTERM")
        if self.proc:
            self.log.close()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that records what it receives, for assertions."""

    def __init__(self, jid, password, **kw):
        super().__init__(jid, password, **kw)
        self.messages = asyncio.Queue()
        self.presences = asyncio.Queue()
        self.stanza_log = []
        self.add_event_handler("message", lambda m: self.messages.put_nowait(m))
        self.add_event_handler("presence", lambda p: self.presences.put_nowait(p))

    async def next_message(self, pred=lambda m: True, timeout=DEFAULT_TIMEOUT, refuse=None):
        return await _next(self.messages, pred, timeout, refuse)

    async def next_presence(self, pred=lambda p: True, timeout=DEFAULT_TIMEOUT, refuse=None):
        return await _next(self.presences, pred, timeout, refuse)

    def drain(self):
        for q in (self.messages, self.presences):
            while not q.empty():
                q.get_nowait()


async def _next(queue, pred, timeout, refuse=None):
    """The next item of `queue` matching `pred`, skipping the others. With `refuse`, none of the skipped
    items may match it: that is how a test checks that something did not arrive, by waiting for a marker
    it sent after it along the same path (what comes one way to one session keeps its order)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out waiting for a matching stanza")
        try:
            item = await asyncio.wait_for(queue.get(), left)
        except asyncio.TimeoutError:
            raise AssertionError("timed out waiting for a matching stanza") from None
        if pred(item):
            return item
        if refuse and refuse(item):
            raise AssertionError(f"arrived before the marker, and should not have arrived at all: {item}")


async def wait_until(condition, what, timeout=DEFAULT_TIMEOUT, interval=0.1):
    """Polls `condition` (a coroutine function, or a plain one) until it returns something true, which is
    returned; fails after `timeout` seconds. For outcomes nothing announces (a stored roster, a log line,
    a query whose answer changes); `interval` only spaces the attempts. `what` (text, or a function
    giving it at the end, to tell what was last seen) names the awaited outcome."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(interval)


async def round_trip(client, timeout=DEFAULT_TIMEOUT):
    """An XEP-0199 ping from `client` to its server, answered by the server on the session's own worker.
    Everything handed to the session before the ping reached the server (directly, or through the
    worker's inbox, which is drained before later socket reads) reaches the client before the answer."""
    iq = client.Iq(stype="get", sto=client.boundjid.domain)
    iq.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
    await iq.send(timeout=timeout)


async def storage_barrier(client, timeout=DEFAULT_TIMEOUT):
    """A write of private XML (XEP-0049) by `client`, answered after its COMMIT. The storage write lane
    runs jobs in order, so whatever this session's earlier stanzas queued there (a message stored
    offline...) is on disk once this returns."""
    iq = client.Iq(stype="set")
    iq.append(ET.fromstring("<query xmlns='jabber:iq:private'><barrier xmlns='urn:causerie:test:barrier'/></query>"))
    await iq.send(timeout=timeout)


async def advance_clock(client, seconds, timeout=DEFAULT_TIMEOUT):
    """Moves the server's clock `seconds` forward (a server started with `[testing] manual_clock = true`,
    see MANUAL_CLOCK); answered once every worker has swept with the new time."""
    iq = client.Iq(stype="set", sto=client.boundjid.domain)
    iq.append(ET.fromstring(f"<advance xmlns='urn:causerie:testing:clock' seconds='{int(seconds)}'/>"))
    await iq.send(timeout=timeout)


# For harness.main(globals(), extra_toml=MANUAL_CLOCK): the server's time moves only by advance_clock().
MANUAL_CLOCK = "[testing]\nmanual_clock = true\n"


def queued(queue):
    """What `queue` holds now, in order, left in place."""
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    for it in items:
        queue.put_nowait(it)
    return items


class Env:
    def __init__(self, server, output):
        self.server = server
        self.output = output
        self.clients = []

    @property
    def host(self):
        return self.server.hosts[0]

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.server.cert_path)
        ctx.check_hostname = True
        return ctx

    async def connect(self, jid, password, plugins=(), direct_tls=False, mech=None, presence=True,
                      expect_failure=False, register=False, timeout=DEFAULT_TIMEOUT, plain=False, setup=None,
                      preauth=None):
        """A connected, authenticated client with its session started (or, with expect_failure, the reason
        authentication failed). `setup(client)` runs after the plugins are registered, before connecting
        (e.g. to announce XEP-0163 interests in the first presence's caps). With `register`, the account is
        created in-band first (XEP-0077), after presenting the invitation token `preauth` (XEP-0445)."""
        c, started, failed = await self._login(jid, password, timeout, plugins, direct_tls, mech, presence,
                                               register, plain, setup, preauth)
        if expect_failure:
            c.disconnect()
            if started.done():
                raise AssertionError(f"{jid} logged in but should not have")
            if not failed.done():
                raise AssertionError(f"{jid}: neither success nor failure within {timeout}s")
            return failed.result()
        if not started.done():
            c.abort()
            why = failed.result() if failed.done() else "timeout"
            raise AssertionError(f"{jid} could not log in: {why}")
        self.clients.append(c)
        if presence:
            # Our own presence comes back first (RFC 6121 §4.2.2): after it, the session is available.
            await c.next_presence(lambda p: p["from"] == c.boundjid and p["type"] != "unavailable")
        return c

    async def _login(self, jid, password, timeout, plugins=(), direct_tls=False, mech=None, presence=True,
                     register=False, plain=False, setup=None, preauth=None):
        """Starts a client; returns (client, started, failed) once one of the two futures is done or the
        timeout has passed."""
        c = Client(jid, password, sasl_mech=mech)
        for p in plugins:
            c.register_plugin(p)
        if setup:
            setup(c)
        if register:
            c.register_plugin("xep_0077")
            c["xep_0077"].force_registration = True
            # slixmpp 1.8 queues every iq sent before session start, its own registration iq included;
            # this switch (meant for components) lets the pre-authentication iq out.
            c._always_send_everything = True
        c.ssl_context = self.ssl_context()
        loop = asyncio.get_event_loop()
        started, failed = loop.create_future(), loop.create_future()

        def on_start(_):
            if presence:
                c.send_presence()
            if not started.done():
                started.set_result(True)

        def on_fail(ev):
            if not failed.done():
                failed.set_result(ev)

        c.add_event_handler("session_start", on_start)
        c.add_event_handler("failed_auth", on_fail)
        c.add_event_handler("failed_all_auth", on_fail)
        c.add_event_handler("disconnected", lambda _: failed.done() or failed.set_result("disconnected"))
        if register:
            async def do_register(_):
                if preauth:
                    # XEP-0445 §4: the token first, in an iq slixmpp has no plugin for.
                    pa = c.Iq(stype="set")
                    pa.append(ET.fromstring(f"<preauth xmlns='urn:xmpp:pars:0' token='{preauth}'/>"))
                    try:
                        await pa.send()
                    except IqError as e:
                        if not failed.done():
                            failed.set_result(e)
                        return
                resp = c.Iq()
                resp["type"] = "set"
                resp["register"]["username"] = slixmpp.JID(jid).user
                resp["register"]["password"] = password
                try:
                    await resp.send()
                except IqError as e:
                    if not failed.done():
                        failed.set_result(e)
            c.add_event_handler("register", do_register)
        port = self.server.tls_port if direct_tls else self.server.c2s_port
        if plain:
            c.connect(("127.0.0.1", port), disable_starttls=True, force_starttls=False)
        else:
            c.connect(("127.0.0.1", port), use_ssl=direct_tls)
        await asyncio.wait([started, failed], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return c, started, failed

    async def close_all(self):
        """Ends every client's stream and waits until each is disconnected (the server closed its side, or
        did not within slixmpp's own 2 s and the client cut the connection)."""
        ends = []
        for c in self.clients:
            try:
                ends.append(c.disconnect())
            except Exception:
                pass
        if ends:
            await asyncio.gather(*ends, return_exceptions=True)
        self.clients.clear()

    async def disconnect(self, client, timeout=DEFAULT_TIMEOUT):
        """Ends the client's stream and returns once the server has let the session go: unbound, its
        close hooks run (unavailable presence, last activity), as its log line says."""
        mark = self.server.log_mark()
        full = str(client.boundjid)
        await client.disconnect()
        await self.server.wait_log(f": {full} disconnected", since=mark, timeout=timeout,
                                   what=f"the server to end the session of {full}")

    async def login_refused(self, jid, password):
        """True when the server refuses these credentials now (an authentication failure), False when it
        lets the client in (the session is closed again at once)."""
        c, started, failed = await self._login(jid, password, DEFAULT_TIMEOUT, presence=False)
        await c.disconnect()
        if started.done():
            return False
        if failed.done() and failed.result() != "disconnected":
            return True
        raise AssertionError(f"{jid}: neither logged in nor refused ({failed.result() if failed.done() else 'timeout'})")

    async def restart(self):
        await self.close_all()
        self.server.stop()
        self.server.start()

    def user(self, name, password="pw-" + "x" * 8):
        """Creates an account through the CLI; returns (jid, password)."""
        jid = f"{name}@{self.host}"
        r = self.server.cli("user", "add", jid, "--password", password, check=False)
        if r.returncode != 0 and "already exists" not in r.stderr:
            raise AssertionError(f"causerie user add {jid} failed: {r.stderr.strip()}")
        return jid, password


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(namespace, **server_kw):
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "../../build/causerie"))
    ap.add_argument("--output", default=None)
    ap.add_argument("-k", default=None, help="run only tests whose name contains this")
    args = ap.parse_args()
    name = os.path.splitext(os.path.basename(namespace["__file__"]))[0]
    output = args.output or os.path.join(tempfile.gettempdir(), "causerie-test-output", name)
    os.makedirs(output, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="causerie-it-")
    server = Server(os.path.abspath(args.binary), workdir, os.path.join(output, "server.log"), **server_kw)
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and asyncio.iscoroutinefunction(f)]
    if args.k:
        tests = [(n, f) for n, f in tests if args.k in n]
    failures = []
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        server.start()
        env = Env(server, output)
        for test_name, fn in tests:
            t0 = time.monotonic()
            try:
                loop.run_until_complete(asyncio.wait_for(fn(env), 120))
                print(f"PASS {test_name} ({time.monotonic() - t0:.1f}s)", flush=True)
            except BaseException as e:  # noqa: BLE001 - report every failure, keep going
                failures.append(test_name)
                print(f"FAIL {test_name}: {e!r}", flush=True)
                traceback.print_exc()
            finally:
                loop.run_until_complete(env.close_all())
            if not server.alive():
                failures.append("server-crashed")
                print("FAIL the server process died; see " + server.log_path, flush=True)
                break
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for why in server.bad_exits:
        failures.append("server-exit")
        print(f"FAIL the server did not stop cleanly: {why}; see {server.log_path}", flush=True)
    print(f"{len(tests) - len(failures)} passed, {len(failures)} failed; server log: {server.log_path}", flush=True)
    sys.exit(1 if failures else 0)


class RawClient:
    """A byte-level XMPP client for sending what no well-behaved library would: malformed XML, huge
    stanzas, stanzas before authentication. Blocking sockets, run in a thread by the async helpers."""

    def __init__(self, server, host="localhost", direct_tls=False, source=None):
        """`source`: a loopback address to connect from (127.0.0.0/8), for per-address limits."""
        self.server = server
        self.host = host
        port = server.tls_port if direct_tls else server.c2s_port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                             source_address=(source, 0) if source else None)
        if direct_tls:
            self._wrap()
        self.buffer = b""

    def _wrap(self):
        ctx = ssl.create_default_context(cafile=self.server.cert_path)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.host)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_until(self, marker, timeout=10):
        """Reads until `marker` (bytes or str) has been seen or the peer closes; returns all text so far."""
        if isinstance(marker, str):
            marker = marker.encode()
        deadline = time.time() + timeout
        while marker not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {marker!r}; got {self.buffer[-500:]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                break
            self.buffer += chunk
        return self.buffer.decode(errors="replace")

    def closed_by_peer(self, timeout=5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, ssl.SSLError, OSError):
                return True
            if not chunk:
                return True
            self.buffer += chunk
        return False

    def open_stream(self):
        self.buffer = b""
        self.send(f"<?xml version='1.0'?><stream:stream to='{self.host}' version='1.0' xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams'>")
        return self.read_until("</stream:features>")

    def starttls(self):
        self.open_stream()
        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.read_until("<proceed")
        self._wrap()
        return self.open_stream()

    def authenticate(self, user, password):
        """STARTTLS, SASL PLAIN and the stream restart: ready to bind, or to resume (XEP-0198)."""
        import base64
        self.starttls()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.buffer = b""
        self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
        got = self.read_until("success")
        if "<success" not in got:
            raise AssertionError(f"login failed: {got}")
        self.open_stream()
        self.buffer = b""

    def login(self, user, password, resource="raw"):
        """STARTTLS, SASL PLAIN, bind. Returns the bound JID."""
        self.authenticate(user, password)
        self.send(f"<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        got = self.read_until("</iq>")
        import re
        m = re.search(r"<jid>([^<]+)</jid>", got)
        if not m:
            raise AssertionError(f"bind failed: {got}")
        self.buffer = b""
        return m.group(1)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


async def in_thread(fn, *args):
    return await asyncio.get_event_loop().run_in_executor(None, fn, *args)
