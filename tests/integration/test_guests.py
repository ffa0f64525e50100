"""Issue 14, item 5: guest access the IRC way (SASL ANONYMOUS, RFC 4505; XEP-0175). guest.localhost is an
anonymous host: Debian's poezio, a curses client, connects to it with no account (its `server` option and
no `jid`), joins a room of localhost with a nickname, talks there and is refused when it writes to another
server. poezio runs in a pseudo-terminal (the standard library's pty), typed into like a person would; what
it sends and receives is read from its debug log (slixmpp's SEND/RECV lines). The limits, the refusals and
the deletion of a guest's data when it leaves are checked with slixmpp's ANONYMOUS mechanism, which gives
the test the stanzas themselves."""
import ast
import asyncio
import base64
import fcntl
import os
import pty
import shutil
import signal
import sqlite3
import struct
import subprocess
import tempfile
import termios

from slixmpp.exceptions import IqError, PresenceError
from slixmpp.xmlstream import ET

import harness
import muc_util
from harness import check

GUEST_HOST = "guest.localhost"
RATE = 10      # [limits] guest_stanzas_per_second
MAX_ROOMS = 2  # [limits] guest_max_rooms
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


async def guest(env, plugins=()):
    """A slixmpp client logged in with SASL ANONYMOUS on the guest host, available."""
    c = await muc_util.connect(env, GUEST_HOST, "", extra_plugins=plugins, mech="ANONYMOUS")
    check(c.boundjid.domain == GUEST_HOST and c.boundjid.user, f"a random guest JID, got {c.boundjid}")
    return c


def error_of(e):
    """Condition and text of an IqError, read from the XML: slixmpp 1.8 does not know RFC 6120's
    policy-violation and reports it as no condition."""
    return muc_util.error_condition(e.iq), e.iq["error"]["text"]


async def test_only_anonymous_on_the_guest_host(env):
    raw = harness.RawClient(env.server, host=GUEST_HOST)
    try:
        features = await harness.in_thread(raw.starttls)
        check("<mechanism>ANONYMOUS</mechanism>" in features, f"ANONYMOUS offered: {features}")
        check("SCRAM" not in features and "PLAIN" not in features, f"nothing but ANONYMOUS: {features}")
        check("jabber.org/features/iq-register" not in features, f"no registration on a guest host: {features}")
        # RFC 4505 §3: the trace is at most 255 characters.
        raw.buffer = b""
        trace = base64.b64encode(("x" * 256).encode()).decode()
        raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>{trace}</auth>")
        got = await harness.in_thread(raw.read_until, "</failure>")
        check("<malformed-request/>" in got, f"a too long trace refused: {got}")
    finally:
        raw.close()
    raw = harness.RawClient(env.server, host=env.host)
    try:
        features = await harness.in_thread(raw.starttls)
        check("ANONYMOUS" not in features and "SCRAM-SHA-256" in features, f"accounts only on {env.host}: {features}")
    finally:
        raw.close()


async def test_guests_stay_local_and_cannot_register(env):
    g = await guest(env)
    alice, _ = env.user("alice")
    a = await muc_util.connect(env, alice + "/r", "pw-" + "x" * 8)
    # A local user gets messages; another server is out of reach, in every stanza kind.
    g.send_message(mto=alice, mbody="hello from a guest")
    m = await a.next_message(lambda m: m["body"] == "hello from a guest")
    check(m["from"].domain == GUEST_HOST, "the guest's message arrived")
    g.send_message(mto="someone@remote.example", mbody="out")
    err = await g.next_message(lambda m: m["type"] == "error")
    check(muc_util.error_condition(err) == "not-allowed", f"not-allowed for a remote JID: {err}")
    ping = g.Iq(stype="get", sto="remote.example")
    ping.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
    try:
        await ping.send(timeout=10)
        raise AssertionError("a guest reached another server")
    except IqError as e:
        check(error_of(e)[0] == "not-allowed", f"not-allowed: {error_of(e)}")
    # XEP-0077: neither the registration form nor a password change.
    for itype, payload in (("get", "<query xmlns='jabber:iq:register'/>"),
                           ("set", "<query xmlns='jabber:iq:register'><username>x</username><password>secret-pw-1</password></query>")):
        iq = g.Iq(stype=itype, sto=GUEST_HOST)
        iq.append(ET.fromstring(payload))
        try:
            await iq.send(timeout=10)
            raise AssertionError(f"a guest's registration {itype} was answered")
        except IqError as e:
            check(error_of(e)[0] == "not-allowed", f"registration refused: {error_of(e)}")


async def test_rooms_and_rate_are_limited(env):
    alice, _ = env.user("alice")
    a = await muc_util.connect(env, alice + "/r", "pw-" + "x" * 8)
    rooms = [muc_util.room_jid(env, f"limit{i}") for i in range(MAX_ROOMS + 1)]
    for r in rooms:
        await muc_util.create(a, r, "alice")
    g = await guest(env)
    for r in rooms[:MAX_ROOMS]:
        await muc_util.join(g, r, "visitor")
    try:
        await muc_util.join(g, rooms[MAX_ROOMS], "visitor")
        raise AssertionError("a guest joined a room past its limit")
    except PresenceError as e:
        g["xep_0045"].rooms.pop(rooms[MAX_ROOMS], None)
        cond = muc_util.error_condition(e.presence)
    check(cond == "policy-violation", f"a room past the limit refused: {cond}")
    # Leaving one makes room for another.
    await muc_util.leave(g, rooms[0], "visitor")
    await muc_util.join(g, rooms[MAX_ROOMS], "visitor")
    # A burst far past twice the rate: the first ones are answered, the rest refused with policy-violation.
    async def ping():
        iq = g.Iq(stype="get", sto=GUEST_HOST)
        iq.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
        try:
            await iq.send(timeout=10)
            return "ok"
        except IqError as e:
            return error_of(e)[0]
    results = await asyncio.gather(*(ping() for _ in range(10 * RATE)))
    check(results.count("ok") >= 1 and results.count("policy-violation") >= 5 * RATE,
          f"the burst was cut: {results.count('ok')} answered, {results.count('policy-violation')} refused")
    check(set(results) <= {"ok", "policy-violation"}, f"only answers or refusals: {set(results)}")


def db_rows(env, bare):
    """How many rows the server's database holds for a guest, per kind of data (read-only, beside the
    running server: WAL lets a reader in)."""
    path = os.path.join(env.server.data_dir, "causerie.db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        q = {
            "account": "SELECT COUNT(*) FROM accounts WHERE jid = ?",
            "roster": "SELECT COUNT(*) FROM roster WHERE owner = ?",
            "kv (vCard, private XML)": "SELECT COUNT(*) FROM kv WHERE owner = ?",
            "offline": "SELECT COUNT(*) FROM offline WHERE owner = ?",
            # The owner's entries, and the messages whose entries are not filed yet (archive schema v4).
            "archive": "WITH o(id) AS (SELECT id FROM archive_jids WHERE jid = ?) "
                       "SELECT (SELECT COUNT(*) FROM archive WHERE owner = (SELECT id FROM o)) + "
                       "(SELECT COUNT(*) FROM archive_messages WHERE id > (SELECT mark FROM archive_entry_state) "
                       "AND (owner = (SELECT id FROM o) OR owner2 = (SELECT id FROM o)))",
            "PEP nodes": "SELECT COUNT(*) FROM pubsub_nodes WHERE service = ?",
        }
        return {k: db.execute(sql, (bare,)).fetchone()[0] for k, sql in q.items()}
    finally:
        db.close()


async def test_a_guests_data_disappears_when_it_leaves(env):
    alice, _ = env.user("alice")
    a = await muc_util.connect(env, alice + "/r", "pw-" + "x" * 8)
    g = await guest(env, plugins=("xep_0054", "xep_0049", "xep_0163", "xep_0172"))
    bare = g.boundjid.bare
    # Something of every kind: a contact, a vCard, private XML, a PEP node, archived and offline messages.
    await g.update_roster(alice, name="Alice")
    g.send_presence(pto=alice, ptype="subscribe")
    await a.next_presence(lambda p: p["type"] == "subscribe" and p["from"].bare == bare)
    a.send_presence(pto=bare, ptype="subscribed")  # alice's presence now goes to the guest (state 'from')
    await g.next_presence(lambda p: p["type"] == "subscribed" and p["from"].bare == alice)
    vcard = g["xep_0054"].make_vcard()
    vcard["FN"] = "A guest"
    await g["xep_0054"].publish_vcard(vcard)
    priv = g.Iq(stype="set")
    priv.append(ET.fromstring("<query xmlns='jabber:iq:private'><note xmlns='urn:test:note'>kept?</note></query>"))
    await priv.send(timeout=10)
    await g["xep_0172"].publish_nick("visitor")
    g.send_message(mto=alice, mbody="archived on both sides")
    await a.next_message(lambda m: m["body"] == "archived on both sides")
    # An offline message: the guest's only session is gone from the registry while it is unavailable.
    g.send_presence(ptype="unavailable")
    await harness.round_trip(g)
    a.send_message(mto=bare, mbody="for later")
    await harness.round_trip(a)
    await harness.storage_barrier(g)
    before = db_rows(env, bare)
    check(all(n > 0 for n in before.values()), f"the guest has data of every kind: {before}")

    mark = env.server.log_mark()
    await env.disconnect(g)
    env.clients.remove(g)
    await env.server.wait_log(f"guests: {bare} left; its data is deleted", since=mark)
    after = db_rows(env, bare)
    check(all(n == 0 for n in after.values()), f"nothing left of the guest: {after}")
    # Its contact is told (XEP-0077 §3.2's cancellation), and its address no longer exists.
    await a.next_presence(lambda p: p["type"] == "unsubscribe" and p["from"].bare == bare)
    a.send_message(mto=bare, mbody="anyone?")
    err = await a.next_message(lambda m: m["type"] == "error" and m["from"].bare == bare)
    check(muc_util.error_condition(err) == "service-unavailable", f"the guest is gone: {err}")


# --- poezio ---

POEZIO_CONFIG = """[Poezio]
server = {host}
custom_host = 127.0.0.1
custom_port = {port}
ca_cert_path = {ca}
ignore_certificate = true
force_encryption = true
default_nick = visitor
rooms =
use_bookmarks_method = local
use_remote_bookmarks = false
plugins_autoload =
enable_user_nick = false
enable_vcard = false
send_initial_presence = true
log_dir = {dir}/logs
connection_check_interval = 0
whitespace_interval = 0
"""


class Poezio:
    """poezio in a pseudo-terminal of 40×120, as an unprivileged user when the test runs as root (poezio
    refuses root). Its screen is read and dropped; its debug log is what the test looks at."""

    def __init__(self, env):
        self.dir = tempfile.mkdtemp(prefix="causerie-poezio-")
        os.chmod(self.dir, 0o777)
        self.debug = os.path.join(self.dir, "debug.log")
        ca = os.path.join(self.dir, "ca.pem")
        shutil.copy(env.server.cert_path, ca)
        config = os.path.join(self.dir, "poezio.cfg")
        with open(config, "w") as f:
            f.write(POEZIO_CONFIG.format(host=GUEST_HOST, port=env.server.c2s_port, ca=ca, dir=self.dir))
        for p in (ca, config):
            os.chmod(p, 0o666)
        argv = ["poezio", "-f", config, "-d", self.debug]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        envvars = {"HOME": self.dir, "XDG_CONFIG_HOME": self.dir + "/config", "XDG_DATA_HOME": self.dir + "/data",
                   "XDG_CACHE_HOME": self.dir + "/cache", "TERM": "xterm", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                   "PATH": "/usr/bin:/bin"}
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=envvars,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.screen = open(os.path.join(env.output, "poezio-screen.bin"), "wb")
        asyncio.get_event_loop().add_reader(self.master, self._drain)

    def _drain(self):
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            asyncio.get_event_loop().remove_reader(self.master)
            return
        self.screen.write(data)

    def keys_read(self, since):
        """The keys poezio has read since `since` (a position in its debug log), in order."""
        keys = []
        for line in self.log()[since:].splitlines():
            at = line.find("Got from keyboard: ")
            if at >= 0:
                keys += ast.literal_eval(line[at + len("Got from keyboard: "):])[0]
        return keys

    async def type(self, text):
        """Types `text`, then Enter once poezio has read it: keys that arrive together are a paste to
        poezio, whose final Enter it drops (poezio/keyboard.py)."""
        # The first key alone: in the contact list, '/' opens the command line, which a paste would not reach.
        for part in (text[:1], text[1:]):
            since = len(self.log())
            os.write(self.master, part.encode())
            await harness.wait_until(lambda: len(self.keys_read(since)) >= len(part), f"poezio to read {part!r}",
                                     timeout=30)
        since = len(self.log())
        os.write(self.master, b"\r")
        await harness.wait_until(lambda: "^M" in self.keys_read(since), "poezio to read Enter", timeout=30)

    def log(self):
        try:
            with open(self.debug, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    async def wait_log(self, text, since=0, what=None):
        async def found():
            log = self.log()
            return log.find(text, since) >= 0 and log
        return await harness.wait_until(found, what or f"{text!r} in poezio's debug log", timeout=30)

    async def stop(self):
        if self.proc.poll() is None:
            try:
                await self.type("/quit")
            except AssertionError:
                pass
            try:
                await asyncio.wait_for(asyncio.get_event_loop().run_in_executor(None, self.proc.wait), 10)
            except asyncio.TimeoutError:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            asyncio.get_event_loop().remove_reader(self.master)
        except (ValueError, OSError):
            pass
        os.close(self.master)
        self.screen.close()
        shutil.copy(self.debug, os.path.join(os.path.dirname(self.screen.name), "poezio-debug.log"))
        shutil.rmtree(self.dir, ignore_errors=True)


async def test_poezio_joins_a_room_as_a_guest(env):
    if not shutil.which("poezio"):
        raise AssertionError("poezio is not installed (scripts/deps.sh test)")
    alice, _ = env.user("alice")
    a = await muc_util.connect(env, alice + "/r", "pw-" + "x" * 8)
    room = muc_util.room_jid(env, "lobby")
    await muc_util.create(a, room, "alice")
    mark = env.server.log_mark()
    p = Poezio(env)
    try:
        line = await env.server.wait_log(f"@{GUEST_HOST} with ANONYMOUS", since=mark)
        guest_bare = line.rsplit(" authenticated ", 1)[1].split(" ")[0]
        await p.wait_log("session_start")
        await p.type(f"/join {room}/visitor")
        pres = await a.next_presence(muc_util.presence_from(room, "visitor", unavailable=False))
        check(muc_util.item(pres).get("jid", "").startswith(guest_bare),
              f"the occupant is the guest {guest_bare}: {muc_util.item(pres)}")
        # poezio focuses the room it joined: what is typed next goes there.
        await p.wait_log('code="110"')
        await p.type("hello from poezio")
        m = await a.next_message(lambda m: m["body"] == "hello from poezio")
        check(m["from"] == f"{room}/visitor" and m["type"] == "groupchat", f"from the guest in the room: {m}")
        a.send_message(mto=room, mbody="welcome, visitor", mtype="groupchat")
        await p.wait_log("welcome, visitor")
        # Another server: poezio's message comes back as an error, which poezio receives.
        since = len(p.log())
        await p.type("/message someone@remote.example are you there?")
        log = await p.wait_log("guests cannot reach other servers", since=since)
        check("not-allowed" in log[since:], "refused with not-allowed")
        mark = env.server.log_mark()
    finally:
        await p.stop()
    # Leaving: the room sees the guest go, and the guest's account and data are deleted.
    await a.next_presence(muc_util.presence_from(room, "visitor", unavailable=True))
    await env.server.wait_log(f"guests: {guest_bare} left; its data is deleted", since=mark)
    check(db_rows(env, guest_bare)["account"] == 0, "the guest account is gone")


if __name__ == "__main__":
    harness.main(globals(), hosts=("localhost",), anonymous_hosts=(GUEST_HOST,),
                 extra_toml=f"[limits]\nguest_stanzas_per_second = {RATE}\nguest_max_rooms = {MAX_ROOMS}")
