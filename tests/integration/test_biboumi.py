"""Issue 11, item 5: an IRC gateway as an external component. biboumi (Debian's) connects to our component
listener (XEP-0114) and ngircd (Debian's) is the IRC server, both started here on loopback with their own
configuration in a temporary directory. A Causerie user (slixmpp) joins an IRC channel through biboumi as
a MUC room (#channel%server@biboumi-domain) and talks with a plain IRC client."""
import asyncio
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET

import harness
import muc_util
from harness import check

BIBOUMI = "irc.localhost"
SECRET = "biboumi-secret"
COMMANDS = "http://jabber.org/protocol/commands"
DATA = "jabber:x:data"
CHANNEL = "#causerie"
IRC_SERVER = "127.0.0.1"  # biboumi's name for the IRC server: its address, so no name resolution is involved


def parse_irc(line):
    """An IRC line as [prefix, command, params..., trailing] (prefix "" when absent)."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    middle, sep, trailing = line.partition(" :")
    return [prefix] + middle.split() + ([trailing] if sep else [])


class IrcClient:
    """A plain IRC client (RFC 2812): registers, joins, says things, and collects what it reads."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.lines = asyncio.Queue()
        self.pump = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, port, nick):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        c = cls(reader, writer)
        c.send(f"NICK {nick}")
        c.send(f"USER {nick} 0 * :Plain IRC user")
        await c.wait(lambda parts: len(parts) > 1 and parts[1] == "001")  # RPL_WELCOME
        return c

    def send(self, line):
        self.writer.write((line + "\r\n").encode())

    async def _read(self):
        while True:
            raw = await self.reader.readline()
            if not raw:
                break
            line = raw.decode(errors="replace").rstrip("\r\n")
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
                continue
            self.lines.put_nowait(line)

    async def wait(self, pred, timeout=20):
        """The next line (split into words, the trailing parameter as one) for which pred is true."""
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            line = await asyncio.wait_for(self.lines.get(), max(0.01, deadline - loop.time()))
            parts = parse_irc(line)
            if pred(parts):
                return parts

    def close(self):
        self.writer.close()
        self.pump.cancel()


def ngircd_config(path, port):
    with open(path, "w") as f:
        f.write(f"""[Global]
	Name = ngircd.localhost
	Info = Causerie test IRC server
	AdminInfo1 = test
	AdminInfo2 = test
	AdminEMail = test@localhost
	Listen = 127.0.0.1
	Ports = {port}
	MotdPhrase = "Causerie test"
[Limits]
	MaxConnectionsIP = 0
[Options]
	DNS = no
	Ident = no
	PAM = no
""")


def biboumi_config(path, workdir, component_port):
    with open(path, "w") as f:
        f.write(f"""hostname={BIBOUMI}
password={SECRET}
xmpp_server_ip=127.0.0.1
port={component_port}
db_name={workdir}/biboumi.sqlite
identd_port=0
policy_directory={workdir}
log_level=0
realname_customization=true
""")


async def configure_irc_server(client, irc_port):
    """XEP-0050 'configure' on the IRC server's JID (biboumi's per-user server settings): its one plain
    port is ngircd's, and no TLS port (biboumi tries 6697 with TLS by default)."""
    server_jid = f"{IRC_SERVER}@{BIBOUMI}"
    iq = client.Iq(stype="set", sto=server_jid)
    cmd = ET.Element(f"{{{COMMANDS}}}command", node="configure", action="execute")
    iq.append(cmd)
    r = await iq.send(timeout=20)
    command = r.xml.find(f"{{{COMMANDS}}}command")
    form = command.find(f"{{{DATA}}}x")
    check(form is not None, f"a configuration form: {r}")
    fields = {f.get("var"): f for f in form.findall(f"{{{DATA}}}field")}
    check("ports" in fields and "tls_ports" in fields, f"ports in the form: {sorted(fields)}")
    submit = ET.Element(f"{{{DATA}}}x", type="submit")
    for var, field in fields.items():
        if var is None or field.get("type") == "fixed":
            continue
        out = ET.SubElement(submit, f"{{{DATA}}}field", var=var)
        if var == "ports":
            values = [str(irc_port)]
        elif var == "tls_ports":
            values = []
        else:
            values = [v.text or "" for v in field.findall(f"{{{DATA}}}value")]
        for v in values:
            ET.SubElement(out, f"{{{DATA}}}value").text = v
    iq = client.Iq(stype="set", sto=server_jid)
    done = ET.Element(f"{{{COMMANDS}}}command", node="configure", sessionid=command.get("sessionid"), action="complete")
    done.append(submit)
    iq.append(done)
    r = await iq.send(timeout=20)
    status = r.xml.find(f"{{{COMMANDS}}}command").get("status")
    check(status == "completed", f"configure: {r}")


async def test_irc_channel_through_biboumi(env):
    for tool in ("biboumi", "ngircd"):
        check(shutil.which(tool), f"{tool} is not installed (scripts/deps.sh test installs it)")
    workdir = tempfile.mkdtemp(prefix="causerie-biboumi-")
    irc_port = harness.free_port()
    ngircd = harness.Process("ngircd", os.path.join(env.output, "ngircd.log"))
    biboumi = harness.Process("biboumi", os.path.join(env.output, "biboumi.log"))
    irc = None
    try:
        ngircd_config(os.path.join(workdir, "ngircd.conf"), irc_port)
        await ngircd.start("ngircd", "--nodaemon", "--config", os.path.join(workdir, "ngircd.conf"))
        await ngircd.wait_for("ready")
        biboumi_config(os.path.join(workdir, "biboumi.cfg"), workdir, env.server.extra_ports["component"])
        await biboumi.start("biboumi", os.path.join(workdir, "biboumi.cfg"), cwd=workdir)
        await biboumi.wait_for("Authenticated with the XMPP server")

        jid, pw = env.user("alice")
        alice = await muc_util.connect(env, jid + "/laptop", pw)  # sees every presence and message
        # The gateway is listed by its host and answers disco itself (through the component stream).
        items = await alice["xep_0030"].get_items(jid=env.host)
        check(any(i[0] == BIBOUMI for i in items["disco_items"]["items"]), f"items: {items}")
        info = await alice["xep_0030"].get_info(jid=BIBOUMI, cached=False)
        check(any(i[0] == "conference" and i[1] == "irc" for i in info["disco_info"]["identities"]), str(info))
        await configure_irc_server(alice, irc_port)

        irc = await IrcClient.connect(irc_port, "ircbob")
        irc.send(f"JOIN {CHANNEL}")
        await irc.wait(lambda p: len(p) > 2 and p[1] == "366")  # RPL_ENDOFNAMES: in the channel

        room = f"{CHANNEL}%{IRC_SERVER}@{BIBOUMI}"
        alice.plugin["xep_0045"].join_muc(room, "alice")
        # The room's self-presence (XEP-0045 status 110) says the IRC JOIN went through.
        self_presence = await alice.next_presence(
            lambda p: p["from"] == f"{room}/alice" and (110 in muc_util.codes(p) or p["type"] == "error"), timeout=30)
        check(self_presence["type"] != "error", str(self_presence))
        await irc.wait(lambda p: len(p) > 2 and p[0].startswith("alice!") and p[1] == "JOIN")

        # XMPP → IRC.
        alice.send_message(mto=room, mbody="Hello from XMPP", mtype="groupchat")
        said = await irc.wait(lambda p: len(p) > 3 and p[1] == "PRIVMSG" and p[2] == CHANNEL)
        check(said[0].startswith("alice!") and said[3] == "Hello from XMPP", str(said))

        # IRC → XMPP, from the IRC user's in-room JID.
        irc.send(f"PRIVMSG {CHANNEL} :Hello from IRC")
        m = await alice.next_message(lambda m: m["body"] == "Hello from IRC", timeout=20)
        check(m["type"] == "groupchat" and m["from"] == f"{room}/ircbob", str(m))
    finally:
        if irc:
            irc.close()
        await biboumi.stop()
        await ngircd.stop()
        shutil.rmtree(workdir, ignore_errors=True)


harness.main(globals(), extra_toml=f'[[component]]\ndomain = "{BIBOUMI}"\nsecret = "{SECRET}"\nname = "IRC"\n',
             listeners=[("component", "component", "none")])
