"""Issue 12, item 9: external service discovery (XEP-0215) with TURN credentials that Debian's coturn
accepts. The test starts `turnserver` itself on loopback (REST API secret, no TLS, no CLI, its log in the
output directory) and `turnutils_peer` as the far end of the relay; a Causerie user (slixmpp, raw
iqs: slixmpp has no XEP-0215 plugin) fetches the services and credentials, and `turnutils_uclient`
allocates a relay with them and sends data through it to the peer and back. Wrong, forged and expired
credentials are refused by coturn (expired ones come from the server's test clock set back by two days)."""
import asyncio
import base64
import datetime
import hashlib
import hmac
import os
import random
import shutil
import socket
import time

import component_util
import harness
from harness import ET, check

NS = "urn:xmpp:extdisco:2"
SECRET = "turn-rest-" + "".join(random.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(16))
TOOLS = ("turnserver", "turnutils_uclient", "turnutils_peer")
COMPONENT, COMPONENT_SECRET = "bot.localhost", "bot-secret"


def udp_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports(count):
    """`count` consecutive ports below 32768, free for UDP and TCP on loopback."""
    for _ in range(200):
        base = random.randint(12000, 32000 - count)
        if all(udp_free(p) for p in range(base, base + count)):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base))
                except OSError:
                    continue
            return base
    raise RuntimeError("no free ports found")


TURN_PORT = free_ports(1)
PEER_PORT = free_ports(1)
RELAY_MIN = free_ports(16)  # coturn's relay endpoints: loopback, below 32768 like every port here

HOST_TOML = f"""
[[host.external_service]]
type = "stun"
host = "127.0.0.1"
port = {TURN_PORT}

[[host.external_service]]
type = "turn"
host = "127.0.0.1"
port = {TURN_PORT}
transport = "udp"
secret = "{SECRET}"

[[host.external_service]]
type = "turn"
host = "127.0.0.1"
port = {TURN_PORT}
transport = "tcp"
secret = "{SECRET}"
lifetime = 600
name = "Relay over TCP"
"""


def q(name):
    return f"{{{NS}}}{name}"


async def ask(client, payload):
    """Sends <iq type='get'> with `payload` to the user's server; returns the answer's child element."""
    iq = client.Iq(stype="get", sto=client.boundjid.domain)
    iq.append(ET.fromstring(payload))
    res = await iq.send(timeout=10)
    return res.xml[0]


async def ask_error(client, payload):
    try:
        await ask(client, payload)
    except harness.IqError as e:
        return e.iq["error"]["condition"]
    raise AssertionError(f"{payload} should have failed")


def expiry(service):
    return datetime.datetime.fromisoformat(service.get("expires").replace("Z", "+00:00")).timestamp()


async def set_clock(client, seconds):
    iq = client.Iq(stype="set", sto=client.boundjid.domain)
    iq.append(ET.fromstring(f"<advance xmlns='urn:causerie:testing:clock' seconds='{seconds}'/>"))
    await iq.send(timeout=10)


class Turn(harness.LogWatch):
    """coturn's turnserver, run in the foreground on loopback with its own command line (no config file,
    no database of users: the REST API secret is all it needs), and turnutils_peer for the relay's far
    end."""

    def __init__(self, env):
        self.output = env.output
        self.log_path = os.path.join(env.output, "turnserver.log")
        self.server = harness.Process("turnserver", os.path.join(env.output, "turnserver-stdout.log"))
        self.peer = harness.Process("turnutils_peer", os.path.join(env.output, "turnutils_peer.log"))
        self.runs = 0

    async def start(self):
        if os.path.exists(self.log_path):
            os.remove(self.log_path)
        # Its log goes to the file; stdout says only what comes before the file is open.
        await self.server.start(
            "turnserver", "-n", "-v", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={TURN_PORT}", f"--min-port={RELAY_MIN}", f"--max-port={RELAY_MIN + 15}",
            "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=localhost",
            "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
            f"--log-file={self.log_path}", "--simple-log", "--no-stdout-log",
            f"--pidfile={os.path.join(self.output, 'turnserver.pid')}",
            f"--db={os.path.join(self.output, 'turndb')}")
        await self.wait(f"UDP listener opened on: 127.0.0.1:{TURN_PORT}")
        # The auth threads open the (empty) database last: after that, requests are checked.
        await self.wait("SQLite DB connection success")
        await self.peer.start("turnutils_peer", "-v", "-L", "127.0.0.1", "-p", str(PEER_PORT))
        await self.peer.wait_for("udp_create_server_socket:98:end")

    async def wait(self, text, since=0):
        def found():
            if self.server.proc.returncode is not None:
                raise AssertionError(f"turnserver exited ({self.server.proc.returncode}); see {self.log_path}")
            if not os.path.exists(self.log_path):
                return None
            return text in self.log_since(since)
        return await harness.wait_until(found, f"{text!r} in turnserver's log", timeout=20, interval=0.05)

    async def uclient(self, username, password, transport="udp"):
        """Runs turnutils_uclient against the server: allocate, permission and channel to the peer, 3
        messages through the relay and back. Returns (exit code, output)."""
        self.runs += 1
        argv = ["turnutils_uclient", "-u", username, "-w", password, "-p", str(TURN_PORT), "-e", "127.0.0.1",
                "-r", str(PEER_PORT), "-n", "3", "-c", "-X"]
        if transport == "tcp":
            argv.append("-t")
        proc = await asyncio.create_subprocess_exec(*argv, "127.0.0.1", stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"turnutils_uclient did not finish: {' '.join(argv)}") from None
        text = out.decode(errors="replace")
        with open(os.path.join(self.output, f"uclient-{self.runs}.log"), "w") as f:
            f.write(" ".join(argv) + "\n" + text)
        return proc.returncode, text

    async def stop(self):
        await self.peer.stop()
        await self.server.stop()


async def test_services_listed_with_credentials(env):
    jid, pw = env.user("alice")
    alice = await env.connect(jid, pw, ["xep_0030"])
    info = await alice["xep_0030"].get_info(jid=env.host)
    check(NS in info["disco_info"]["features"], "urn:xmpp:extdisco:2 in the host's disco#info")

    before = time.time()
    services = await ask(alice, f"<services xmlns='{NS}'/>")
    items = services.findall(q("service"))
    check([(s.get("type"), s.get("transport")) for s in items] == [("stun", "udp"), ("turn", "udp"), ("turn", "tcp")],
          f"every configured service, in order: {[s.attrib for s in items]}")
    stun, turn_udp, turn_tcp = items
    check(stun.get("host") == "127.0.0.1" and stun.get("port") == str(TURN_PORT), f"STUN address: {stun.attrib}")
    check(stun.get("username") is None and stun.get("restricted") is None, "no credentials for STUN")
    check(turn_tcp.get("name") == "Relay over TCP", "the configured name")
    for s, lifetime in ((turn_udp, 86400), (turn_tcp, 600)):
        check(s.get("restricted") == "1", "TURN needs credentials")
        stamp, _, user = s.get("username").partition(":")
        check(user == jid, f"username '<expiry>:<bare JID>': {s.get('username')}")
        check(int(stamp) == expiry(s), "the username's expiry is the 'expires' attribute")
        check(before + lifetime - 5 <= expiry(s) <= time.time() + lifetime + 5, f"valid for {lifetime} s: {s.attrib}")
        mac = hmac.new(SECRET.encode(), s.get("username").encode(), hashlib.sha1).digest()
        check(s.get("password") == base64.b64encode(mac).decode(), "password = base64(HMAC-SHA1(secret, username))")

    only_turn = await ask(alice, f"<services xmlns='{NS}' type='turn'/>")
    check(only_turn.get("type") == "turn" and len(only_turn.findall(q("service"))) == 2, "filtered by type")
    none = await ask(alice, f"<services xmlns='{NS}' type='ftp'/>")
    check(len(none) == 0, "no service of an unknown type")


async def test_credentials_and_their_errors(env):
    jid, pw = env.user("bob")
    bob = await env.connect(jid, pw)
    creds = await ask(bob, f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='turn'/></credentials>")
    got = creds.findall(q("service"))
    check(len(got) == 2 and all(s.get("password") for s in got), f"both TURN services' credentials: {creds}")
    one = await ask(bob, f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='turn' transport='tcp'/></credentials>")
    check([s.get("transport") for s in one.findall(q("service"))] == ["tcp"], "narrowed by transport")
    for bad, condition in (
            (f"<credentials xmlns='{NS}'/>", "bad-request"),
            (f"<credentials xmlns='{NS}'><service type='turn'/></credentials>", "bad-request"),
            (f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='turn' port='x'/></credentials>", "bad-request"),
            (f"<credentials xmlns='{NS}'><service host='turn.example' type='turn'/></credentials>", "item-not-found"),
            (f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='turn' port='1'/></credentials>", "item-not-found"),
            (f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='stun'/></credentials>", "item-not-found")):
        got = await ask_error(bob, bad)
        check(got == condition, f"{bad}: {got}, expected {condition}")


async def test_only_for_the_hosts_accounts(env):
    # Not an account of the host (here an external component's domain): no services, no credentials.
    comp = await component_util.RawComponent.connect(env.server.extra_ports["component"])
    try:
        await comp.open(COMPONENT)
        check(await comp.handshake(COMPONENT_SECRET) is None, "component handshake")
        comp.send(f"<iq type='get' id='x1' from='{COMPONENT}' to='{env.host}'><services xmlns='{NS}'/></iq>")
        el = await comp.next(lambda e: e.get("id") == "x1")
        check(el.get("type") == "error" and component_util.stanza_error_condition(el) == "forbidden",
              f"forbidden: {ET.tostring(el)!r}")
    finally:
        await comp.close()


async def test_coturn_accepts_them_and_refuses_others(env):
    missing = [t for t in TOOLS if not shutil.which(t)]
    check(not missing, f"{missing} not installed (scripts/deps.sh test installs coturn)")
    jid, pw = env.user("carol")
    carol = await env.connect(jid, pw)
    turn = Turn(env)
    try:
        await turn.start()
        services = await ask(carol, f"<services xmlns='{NS}' type='turn'/>")
        udp, tcp = services.findall(q("service"))

        # Allocation, permission, channel and data through the relay to the peer and back, over UDP and TCP.
        for s in (udp, tcp):
            user, password = s.get("username"), s.get("password")
            mark = turn.log_mark()
            rc, out = await turn.uclient(user, password, s.get("transport"))
            check(rc == 0, f"turnutils_uclient over {s.get('transport')} exited {rc}: {out[-400:]}")
            check("tot_recv_msgs=3" in out, f"the peer's echoes came back through the relay: {out[-400:]}")
            await turn.wait(f"user <{user}>: incoming packet ALLOCATE processed, success", since=mark)

        user, password = udp.get("username"), udp.get("password")
        stamp, _, who = user.partition(":")
        refused = [
            ("a wrong password", user, base64.b64encode(b"x" * 20).decode()),
            # A later expiry with the same password: the HMAC covers the whole username.
            ("a forged expiry", f"{int(stamp) + 86400}:{who}", password),
        ]
        # Credentials that expired: the server's clock set back two days issues them valid until a day ago.
        await set_clock(carol, -2 * 86400)
        try:
            old = await ask(carol, f"<credentials xmlns='{NS}'><service host='127.0.0.1' type='turn' transport='udp'/></credentials>")
        finally:
            await set_clock(carol, 2 * 86400)
        old = old.find(q("service"))
        check(expiry(old) < time.time() - 86400 + 60, f"issued already expired: {old.attrib}")
        refused.append(("expired credentials", old.get("username"), old.get("password")))
        for what, u, p in refused:
            mark = turn.log_mark()
            rc, out = await turn.uclient(u, p)
            check(rc != 0 and "Cannot complete Allocation" in out, f"{what} accepted: exit {rc}, {out[-400:]}")
            await turn.wait(f"user <{u}>: incoming packet message processed, error 401", since=mark)
    finally:
        await turn.stop()


if __name__ == "__main__":
    harness.main(globals(), host_toml=HOST_TOML, listeners=[("component", "component", "none")],
                 extra_toml=f'[testing]\nmanual_clock = true\n\n[[component]]\ndomain = "{COMPONENT}"\n'
                            f'secret = "{COMPONENT_SECRET}"\n')
