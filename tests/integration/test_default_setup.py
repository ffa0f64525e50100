"""Issue 2, "done when a newcomer following the README can register and chat from two real clients against
`make run`": `causerie run` without a config (what `make run` starts) serves the embedded default — host
localhost, SQLite under ./data, a self-signed certificate for localhost and *.localhost generated on first
start, c2s on 5222 (STARTTLS) and 5223 (direct TLS), HTTP on 5280/5281, the admin listener on
127.0.0.1:5282, in-band registration open — and two slixmpp clients sign up, become contacts and chat,
over both c2s ports; `causerie status` finds the server.

The embedded default's ports are fixed, so this script cannot pick free ones: when one is in use before the
first start (a `make run` beside `make test`), it says so and exits with 77, which ctest reports as skipped."""
import os
import socket
import ssl
import xml.etree.ElementTree as ET
import subprocess
import sys
import urllib.request

import harness
from harness import check
from test_core_im import wait_subscription  # polls the server's stored roster

DEFAULT_PORTS = (5222, 5223, 5280, 5281, 5282)


class DefaultServer(harness.Server):
    """`causerie run` with no --config, in a fresh working directory (data lands in ./data there)."""

    def __init__(self, binary, workdir, log_path, **_):
        super().__init__(binary, workdir, log_path)
        self.c2s_port, self.tls_port = 5222, 5223
        self.data_dir = os.path.join(workdir, "data")
        os.remove(self.config_path)  # the parent wrote one for its random ports: not ours to use

    def listen_ports(self):
        return list(DEFAULT_PORTS)

    def start(self):
        first = self.proc is None and not hasattr(self, "log")
        for port in DEFAULT_PORTS:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no owner
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    if first:
                        print(f"SKIP: port {port} is in use on this machine (is `make run` running?); "
                              "the embedded default needs 5222, 5223, 5280, 5281 and 5282", flush=True)
                        sys.exit(77)
                    raise RuntimeError(f"port {port} is taken on this machine; the embedded default needs it")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "run"], cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_listening(timeout=30)  # the first start also generates the certificate

    def cli(self, *args, check=True, input=None):
        r = subprocess.run([self.binary, *args], cwd=self.workdir, capture_output=True, text=True, input=input,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"causerie {' '.join(args)} failed: {r.stderr.strip()}")
        return r


async def test_first_start_creates_data_and_a_certificate_for_the_host(env):
    data = env.server.data_dir
    check(os.path.exists(os.path.join(data, "causerie.db")), "SQLite database under ./data")
    cert = env.server.cert_path
    check(os.path.exists(cert), f"self-signed certificate at {cert}")
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"], capture_output=True,
                         text=True).stdout
    check("DNS:localhost" in out and "DNS:*.localhost" in out, f"SANs cover localhost and *.localhost: {out!r}")


async def test_two_newcomers_register_become_contacts_and_chat(env):
    # Over STARTTLS on 5222, trusting the generated certificate with host-name checks on (ssl_context()).
    a = await env.connect("ann@localhost/phone", "ann-secret-1", register=True)
    b = await env.connect("ben@localhost/laptop", "ben-secret-2", register=True, direct_tls=True)  # 5223
    a.client_roster.subscribe("ben@localhost")  # slixmpp approves and subscribes back: both ways
    await wait_subscription(a, "ben@localhost", "both")
    await wait_subscription(b, "ann@localhost", "both")
    b.drain()
    a.send_message(mto="ben@localhost", mbody="hello from the README", mtype="chat")
    m = await b.next_message(lambda m: m["body"] == "hello from the README")
    check(m["from"] == a.boundjid, "from ann's full JID")
    b.send_message(mto=a.boundjid, mbody="hi Ann", mtype="chat")
    await a.next_message(lambda m: m["body"] == "hi Ann")
    listed = env.server.cli("user", "list", "localhost").stdout.split()
    check("ann@localhost" in listed and "ben@localhost" in listed, f"accounts stored: {listed}")


async def test_web_endpoints_of_the_default(env):
    def fetch(url, ctx=None):
        with urllib.request.urlopen(url, timeout=5, context=ctx) as r:
            return r.status, r.read().decode()
    status, body = await harness.in_thread(fetch, "http://localhost:5280/.well-known/host-meta")
    check(status == 200 and "/xmpp-websocket" in body and "/http-bind" in body, body[:300])
    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    status, body = await harness.in_thread(fetch, "https://localhost:5281/.well-known/host-meta.json", ctx)
    check(status == 200 and "wss://" in body, body[:300])
    # The web app at the address the README gives, and upload slots on that same origin (so that the app,
    # whose CSP allows only its own origin, can share files).
    status, body = await harness.in_thread(fetch, "http://localhost:5280/")
    check(status == 200 and "/app/main-" in body, body[:300])
    c = await env.connect("ann@localhost/upload", "ann-secret-1")
    iq = c.Iq(stype="get", sto="upload.localhost")
    iq.append(ET.fromstring("<request xmlns='urn:xmpp:http:upload:0' filename='a.png' size='10' content-type='image/png'/>"))
    res = await iq.send(timeout=10)
    put = res.xml[0].find("{urn:xmpp:http:upload:0}put").get("url")
    check(put.startswith("http://localhost:5280/upload/"), f"slot on the app's origin: {put}")
    c.disconnect()


async def test_status_without_a_config_asks_the_default_admin_listener(env):
    r = env.server.cli("status")
    check("is running" in r.stdout and "sessions:" in r.stdout, r.stdout)


async def test_restart_keeps_the_accounts(env):
    await env.restart()
    c = await env.connect("ann@localhost/again", "ann-secret-1")
    c.disconnect()


if __name__ == "__main__":
    harness.Server = DefaultServer  # harness.main builds the server through this name
    harness.main(globals())
