"""Federation test bed: several servers with their own domains talking server-to-server over loopback, with
real name resolution and real certificates.

- `TestCA` makes a throw-away certificate authority and, per domain, a certificate naming the domain and its
  subdomains (openssl from Debian), at test time: no key is committed.
- `Dns` runs Debian's dnsmasq on a loopback port, answering SRV (_xmpp-server._tcp, _xmpps-server._tcp) and A
  records for the test domains only; servers are pointed at it with `[dns] servers`.
- Each domain gets its own loopback address (127.0.0.x), so its s2s listener can use the standard port
  layout of a real deployment while several servers share the machine.
- `FedServer` is a causerie (harness.Server) for one domain; peers such as Prosody and ejabberd get their
  own wrappers in the tests that use them.

Traffic never leaves loopback.
"""
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import harness
from harness import free_port

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def run(*args, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {r.stderr.strip()}")
    return r


class TestCA:
    """A certificate authority for the test and certificates it signs."""

    def __init__(self, directory, name="Causerie test CA"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.key = os.path.join(directory, "ca.key")
        self.cert = os.path.join(directory, "ca.crt")
        run(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, domain, names=None, days=2, xmpp_addr=True):
        """A certificate and key for `domain`: DNS-IDs for the domain and *.domain (or `names`), and an
        XmppAddr (RFC 6120 §13.7.1.4). Returns (cert_path, key_path)."""
        names = names or [domain, "*." + domain]
        base = os.path.join(self.dir, domain.replace("*", "_"))
        key, csr, cert, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        san = ",".join(f"DNS:{n}" for n in names)
        if xmpp_addr:
            san += f",otherName:1.3.6.1.5.5.7.8.5;UTF8:{domain}"
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth,clientAuth\n"
                    "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n")
        run(OPENSSL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", csr, "-subj", f"/CN={domain}")
        run(OPENSSL, "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
            "-out", cert, "-days", str(days), "-extfile", ext)
        os.chmod(key, 0o600)
        return cert, key


class Dns:
    """dnsmasq on 127.0.0.1:<port>, authoritative for nothing but the records it is given; no upstream."""

    def __init__(self, directory):
        self.port = free_port()
        self.dir = directory
        self.records = []
        self.proc = None

    def host(self, name, address):
        self.records.append(f"--host-record={name},{address}")

    def srv(self, service, domain, target, port, priority=0, weight=5):
        self.records.append(f"--srv-host={service}._tcp.{domain},{target},{port},{priority},{weight}")

    def no_service(self, service, domain):
        """An SRV record whose target is ".": the service is decidedly not available (RFC 2782)."""
        self.records.append(f"--srv-host={service}._tcp.{domain}")

    def zone(self, domain):
        """Answer every name under `domain` locally (NXDOMAIN for names without records), as for .test."""
        self.records.append(f"--local=/{domain}/")

    def start(self):
        log = open(os.path.join(self.dir, "dnsmasq.log"), "a")
        self.proc = subprocess.Popen(
            [shutil.which("dnsmasq") or "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
             f"--port={self.port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
             "--no-poll", "--pid-file=", "--local=/test/", "--user=" + ("root" if os.getuid() == 0 else os.environ.get("USER", "nobody")),
             "--log-queries", "--log-facility=-", *self.records],
            stdout=log, stderr=subprocess.STDOUT)
        # Ready once it answers a query for a name it knows.
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dnsmasq exited with {self.proc.returncode}; see {self.dir}/dnsmasq.log")
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("dnsmasq did not answer in time")
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass

    def _answers(self):
        import socket
        import struct
        # A minimal DNS query for "localhost-probe.test" A: any answer (even NXDOMAIN) means it serves.
        qname = b"".join(bytes([len(p)]) + p.encode() for p in "probe.test".split(".")) + b"\0"
        packet = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(packet, ("127.0.0.1", self.port))
                data, _ = s.recvfrom(512)
                return data[:2] == b"\x12\x34"
            except OSError:
                return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class FedServer(harness.Server):
    """A causerie serving `domain`, its s2s listener on `address`:`s2s_port` (STARTTLS offered unless
    `s2s_tls` says "none"), trusting the test CA."""

    def __init__(self, binary, workdir, log_path, domain, address, ca, dns_port, s2s_toml="", extra_toml="",
                 direct_tls_port=None, issuer=None, xmpp_addr=True, s2s_tls="starttls"):
        self.domain = domain
        self.address = address
        self.ca = ca
        self.issuer = issuer or ca
        self.s2s_port = free_port()
        self.s2s_direct_port = direct_tls_port
        # Its certificate comes from `issuer` (default: the CA everyone trusts); it trusts `ca`. Without
        # `xmpp_addr` it names its domain by DNS-IDs only, as public CAs issue them.
        cert, key = (issuer or ca).issue(domain, xmpp_addr=xmpp_addr)
        os.makedirs(workdir, exist_ok=True)
        super().__init__(binary, workdir, log_path, hosts=(domain,),
                         host_toml=f'certificate = "{cert}"\nkey = "{key}"',
                         extra_toml=f'[dns]\nservers = ["127.0.0.1:{dns_port}"]\ntimeout_ms = 500\ntries = 2\n\n'
                                    f'[s2s]\nca_file = "{ca.cert}"\n{s2s_toml}\n{extra_toml}')
        with open(self.config_path, "a") as f:
            f.write(f'\n[[listener]]\ntype = "s2s"\naddress = "{address}"\nport = {self.s2s_port}\ntls = "{s2s_tls}"\n')
            if direct_tls_port:
                f.write(f'\n[[listener]]\ntype = "s2s"\naddress = "{address}"\nport = {direct_tls_port}\ntls = "direct"\n')

    @property
    def cert_path(self):
        # Clients check the server's certificate against the CA that issued it.
        return self.issuer.cert

    def wait_listening(self, timeout=20):
        super().wait_listening(timeout)
        deadline = time.monotonic() + timeout
        import socket
        for port in [self.s2s_port] + ([self.s2s_direct_port] if self.s2s_direct_port else []):
            while True:
                try:
                    with socket.create_connection((self.address, port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError(f"causerie for {self.domain} did not listen on {self.address}:{port}")
                    try:
                        self.proc.wait(timeout=0.05)
                    except subprocess.TimeoutExpired:
                        pass

    def publish(self, dns, subdomains=("conference", "pubsub"), target=None):
        """DNS records a real deployment would have: SRV for the domain and its services, A for the target
        (xmpp.<domain> unless `target` names it otherwise)."""
        target = target or f"xmpp.{self.domain}"
        dns.host(target, self.address)
        for name in (self.domain, *(f"{s}.{self.domain}" for s in subdomains)):
            # Direct TLS first when there is one (a lower priority number), STARTTLS as the fallback.
            dns.srv("_xmpp-server", name, target, self.s2s_port, priority=10)
            if self.s2s_direct_port:
                dns.srv("_xmpps-server", name, target, self.s2s_direct_port, priority=0)


class Bed:
    """What a federation test gets: the CA, the DNS server, the servers by domain, and one harness.Env each."""

    def __init__(self, output, workdir):
        self.output = output
        self.workdir = workdir
        self.ca = TestCA(os.path.join(workdir, "ca"))
        self.dns = Dns(workdir)
        self.servers = {}
        self.envs = {}

    def env(self, domain):
        return self.envs[domain]

    async def close_all(self):
        for e in self.envs.values():
            await e.close_all()

    def stop(self):
        for s in self.servers.values():
            s.stop()
        self.dns.stop()


def main(namespace, make_bed):
    """Like harness.main, for a Bed: `make_bed(bed, binary)` adds and starts the servers."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "../../build/causerie"))
    ap.add_argument("--output", default=None)
    ap.add_argument("-k", default=None)
    args = ap.parse_args()
    name = os.path.splitext(os.path.basename(namespace["__file__"]))[0]
    output = args.output or os.path.join(tempfile.gettempdir(), "causerie-test-output", name)
    os.makedirs(output, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="causerie-fed-")
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and asyncio.iscoroutinefunction(f)]
    if args.k:
        tests = [(n, f) for n, f in tests if args.k in n]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    bed = Bed(output, workdir)
    failures = []
    try:
        make_bed(bed, os.path.abspath(args.binary))
        for test_name, fn in tests:
            t0 = time.monotonic()
            try:
                loop.run_until_complete(asyncio.wait_for(fn(bed), 180))
                print(f"PASS {test_name} ({time.monotonic() - t0:.1f}s)", flush=True)
            except BaseException as e:  # noqa: BLE001
                failures.append(test_name)
                print(f"FAIL {test_name}: {e!r}", flush=True)
                traceback.print_exc()
            finally:
                loop.run_until_complete(bed.close_all())
            dead = [d for d, s in bed.servers.items() if hasattr(s, "alive") and not s.alive()]
            if dead:
                failures.append("server-crashed")
                print(f"FAIL server(s) died: {dead}; logs in {output}", flush=True)
                break
    finally:
        bed.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(tests) - len(failures)} passed, {len(failures)} failed; logs in {output}", flush=True)
    sys.exit(1 if failures else 0)


class RawS2s:
    """A byte-level server-to-server peer, for what no real server would send: claims it cannot prove,
    forged addresses, malformed XML, floods. Blocking socket; run its steps with harness.in_thread."""

    def __init__(self, address, port, ca=None, cert=None, key=None, from_domain=None, to_domain=None):
        import socket
        self.sock = socket.create_connection((address, port), timeout=10)
        self.ca, self.cert, self.key = ca, cert, key
        self.from_domain, self.to_domain = from_domain, to_domain
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def read_until(self, marker, timeout=10):
        import ssl
        marker = marker.encode() if isinstance(marker, str) else marker
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {marker!r}; got {self.buffer[-600:]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                break
            self.buffer += chunk
        return self.buffer.decode(errors="replace")

    def read_to_close(self, timeout=10):
        """Everything until the peer closes (raises if it does not within timeout)."""
        import ssl
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the server did not close the stream; got {self.buffer[-600:]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                return self.buffer.decode(errors="replace")
            self.buffer += chunk

    def header(self):
        frm = f" from='{self.from_domain}'" if self.from_domain else ""
        self.buffer = b""
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/"
                  f"streams' xmlns:db='jabber:server:dialback' to='{self.to_domain}'{frm} version='1.0'>")
        got = self.read_until("</stream:features>")
        import re
        m = re.search(r"<stream:stream[^>]* id='([^']+)'", got)
        self.stream_id = m.group(1) if m else None
        return got

    def starttls(self):
        import ssl
        self.header()
        self.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.read_until("<proceed")
        ctx = ssl.create_default_context(cafile=self.ca)
        if self.cert:
            ctx.load_cert_chain(self.cert, self.key)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=self.to_domain)
        return self.header()

    def sasl_external(self):
        import base64
        self.buffer = b""
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>" +
                  base64.b64encode(self.from_domain.encode()).decode() + "</auth>")
        got = self.read_until("sasl'")
        got = self.read_until("/>")
        if "<success" not in got:
            return got
        return self.header()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
