"""Issue 11, item 5: external components (XEP-0114) and gateways through them (XEP-0100, XEP-0077,
XEP-0144). A byte-level component (component_util.RawComponent) covers the handshake and its failures,
forged addresses, routing both ways, bounces while disconnected and reconnection; slixmpp's own
ComponentXMPP exchanges messages and iqs with a slixmpp client; the gateway flow checks that the
subscription state machine treats a gateway and its legacy contacts like any contact."""
import asyncio
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import slixmpp

import harness
from harness import check, IqError
from component_util import RawComponent, q, short, stanza_error_condition, ACCEPT_NS

GW = "gw.localhost"
GW_SECRET = "gateway-secret"
ECHO = "echo.localhost"
ECHO_SECRET = "echo-secret"
PLUGINS = ["xep_0030", "xep_0199"]
REGISTER = "jabber:iq:register"
ROSTERX = "http://jabber.org/protocol/rosterx"
DISCO_INFO = "http://jabber.org/protocol/disco#info"

COMPONENTS = f"""
[[component]]
domain = "{GW}"
secret = "{GW_SECRET}"
name = "Legacy gateway"

[[component]]
domain = "{ECHO}"
secret = "{ECHO_SECRET}"
"""


def port(env):
    return env.server.extra_ports["component"]


OPENED = []  # every raw component of the current test, closed before the next one starts


async def raw(env):
    comp = await RawComponent.connect(port(env))
    OPENED.append(comp)
    return comp


async def close_leftovers():
    """Ends the streams a failed test left open (cleanly: the domain is free once the server's closing
    tag arrives), so that one failure does not fail the tests after it with <conflict/>."""
    while OPENED:
        comp = OPENED.pop()
        try:
            await comp.close()
        except Exception:  # noqa: BLE001 - already gone
            comp.abort()


async def gateway(env, domain=GW, secret=GW_SECRET):
    comp = await raw(env)
    header = await comp.open(domain)
    check(header.get("from") == domain and header.get("id"), f"the server's header: {header}")
    check("version" not in header, "no version: a component stream has no features")
    error = await comp.handshake(secret)
    check(error is None, f"handshake refused: {error}")
    return comp


async def test_handshake_failures(env):
    await close_leftovers()
    comp = await raw(env)
    await comp.open(GW)
    check(await comp.handshake("not-the-secret") == "not-authorized", "wrong secret")
    await comp.wait_closed()

    comp = await raw(env)
    header = await comp.open("nowhere.localhost")
    check(await comp.stream_error() == "host-unknown", "unknown domain")
    check(header.get("from") != "nowhere.localhost", "the server does not speak for a domain it does not serve")

    # A host is not a component, even with a component's secret.
    comp = await raw(env)
    await comp.open(env.host)
    check(await comp.stream_error() == "host-unknown", "a host's name")

    comp = await raw(env)
    await comp.open(GW, ns="jabber:client")
    check(await comp.stream_error() == "invalid-namespace", "jabber:client on the component port")

    # A stanza instead of the handshake.
    comp = await raw(env)
    await comp.open(GW)
    comp.send(f"<message from='x@{GW}' to='a@{env.host}'><body>early</body></message>")
    check(await comp.stream_error() == "not-authorized", "a stanza before the handshake")


async def test_routing_both_ways_and_disco(env):
    await close_leftovers()
    a_jid, a_pw = env.user("alice")
    alice = await env.connect(a_jid + "/home", a_pw, PLUGINS)
    comp = await gateway(env)

    # Client to component: a message to a JID under the component's domain, with its sender's full JID.
    alice.send_message(mto=f"Bob@{GW}", mbody="hello legacy world", mtype="chat")
    m = await comp.next(lambda e: e.tag == q(ACCEPT_NS, "message"))
    check(m.get("from") == str(alice.boundjid) and m.get("to") == f"bob@{GW}", short(m))
    check(m.findtext(q(ACCEPT_NS, "body")) == "hello legacy world", short(m))

    # Component to client, from any JID of its domain, to a bare JID (delivered as RFC 6121 §8.5 says).
    comp.send(f"<message from='bob@{GW}/irc' to='{a_jid}' type='chat'><body>hi from afar</body></message>")
    got = await alice.next_message(lambda m: m["body"] == "hi from afar")
    check(got["from"] == f"bob@{GW}/irc" and got["type"] == "chat", str(got))

    # disco#info to the component's domain is the component's to answer.
    async def answer_disco():
        iq = await comp.next(lambda e: e.tag == q(ACCEPT_NS, "iq") and e.find(q(DISCO_INFO, "query")) is not None)
        check(iq.get("to") == GW and iq.get("from") == str(alice.boundjid), short(iq))
        comp.send(f"<iq type='result' id='{iq.get('id')}' from='{GW}' to='{iq.get('from')}'>"
                  f"<query xmlns='{DISCO_INFO}'><identity category='gateway' type='irc' name='Legacy'/>"
                  f"<feature var='{REGISTER}'/></query></iq>")
    answering = asyncio.ensure_future(answer_disco())
    info = await alice["xep_0030"].get_info(jid=GW, cached=False)
    await answering
    check(("gateway", "irc", None, "Legacy") in info["disco_info"]["identities"], str(info))
    check(REGISTER in info["disco_info"]["features"], str(info))

    # The component is listed in its host's disco#items, with its configured name; the one without a
    # name is listed too.
    items = await alice["xep_0030"].get_items(jid=env.host)
    listed = {(i[0], i[2]) for i in items["disco_items"]["items"]}
    check((GW, "Legacy gateway") in listed, f"items: {listed}")
    check(any(j == ECHO for j, _ in listed), f"items: {listed}")

    # Component to server: an iq to the host is answered by the server, back to the component.
    comp.send(f"<iq type='get' id='ping1' from='{GW}' to='{env.host}'><ping xmlns='urn:xmpp:ping'/></iq>")
    r = await comp.next(lambda e: e.get("id") == "ping1")
    check(r.get("type") == "result" and r.get("to") == GW and r.get("from") == env.host, short(r))
    await comp.close()


async def test_forged_from_ends_the_stream(env):
    await close_leftovers()
    a_jid, a_pw = env.user("alice")
    b_jid, b_pw = env.user("bob")
    alice = await env.connect(a_jid + "/home", a_pw, PLUGINS)
    bob = await env.connect(b_jid + "/work", b_pw, PLUGINS)
    comp = await gateway(env)
    comp.send(f"<message from='{b_jid}/work' to='{a_jid}' type='chat'><body>forged</body></message>")
    check(await comp.stream_error() == "invalid-from", "a 'from' outside the component's domain")
    # A subdomain is another domain (possibly another component's).
    comp = await gateway(env)
    comp.send(f"<message from='x@sub.{GW}' to='{a_jid}' type='chat'><body>forged too</body></message>")
    check(await comp.stream_error() == "invalid-from", "a 'from' in a subdomain")
    comp = await gateway(env)
    comp.send(f"<message to='{a_jid}' type='chat'><body>no from</body></message>")
    check(await comp.stream_error() == "improper-addressing", "no 'from' (XEP-0114 §3)")
    # Nothing of it reached alice: a message from bob sent afterwards is the first she gets.
    bob.send_message(mto=a_jid, mbody="marker", mtype="chat")
    m = await alice.next_message()
    check(m["body"] == "marker", f"alice got {m['body']!r} before the marker")


async def test_bounces_while_disconnected_and_reconnection(env):
    await close_leftovers()
    a_jid, a_pw = env.user("alice")
    alice = await env.connect(a_jid + "/home", a_pw, PLUGINS)

    async def bounced():
        """A message and an iq to the gateway come back service-unavailable; presence is dropped."""
        alice.drain()
        alice.send_presence(pto=f"x@{GW}")  # directed presence: dropped, no error
        alice.send_message(mto=f"x@{GW}", mbody="anyone there?", mtype="chat")
        m = await alice.next_message(lambda m: m["body"] == "anyone there?")
        check(m["type"] == "error" and m["error"]["condition"] == "service-unavailable", str(m))
        check(m["from"] == f"x@{GW}", "the error comes from the address tried")
        iq = alice.Iq(stype="get", sto=GW)
        iq.append(ET.Element(q(REGISTER, "query")))
        try:
            await iq.send(timeout=10)
            raise AssertionError("the iq was answered")
        except IqError as e:
            check(e.condition == "service-unavailable", f"iq error: {e.condition}")
        errors = []
        while not alice.presences.empty():
            p = alice.presences.get_nowait()
            if p["type"] == "error":
                errors.append(p)
        check(not errors, f"presence bounced: {errors}")

    await bounced()  # never connected

    comp = await gateway(env)
    # A second connection for a connected domain is refused; the first keeps working.
    second = await raw(env)
    await second.open(GW)
    check(await second.handshake(GW_SECRET) == "conflict", "a second component for the same domain")
    await second.wait_closed()
    alice.send_message(mto=f"x@{GW}", mbody="still there?", mtype="chat")
    m = await comp.next(lambda e: e.findtext(q(ACCEPT_NS, "body")) == "still there?")
    check(m.get("from") == str(alice.boundjid), short(m))

    # The component ends its stream: stanzas bounce again, and it can come back.
    await comp.close()
    await bounced()
    comp = await gateway(env)
    alice.send_message(mto=f"x@{GW}", mbody="welcome back", mtype="chat")
    await comp.next(lambda e: e.findtext(q(ACCEPT_NS, "body")) == "welcome back")
    # A component that vanishes without closing its stream frees its domain too.
    comp.abort()
    comp = await gateway(env)
    await comp.close()


async def wait_roster_item(client, jid, subscription, timeout=10):
    """Waits until the server's roster (pushes, after one fetch) has `jid` with `subscription`."""
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    while True:
        while not client.roster_pushes.empty():
            client.roster_pushes.get_nowait()
        iq = await client.Iq(stype="get").append(ET.Element("{jabber:iq:roster}query")).send(timeout=10)
        items = iq.xml.findall("{jabber:iq:roster}query/{jabber:iq:roster}item")
        for item in items:
            if item.get("jid") == jid and item.get("subscription") == subscription and not item.get("ask"):
                return item
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"{jid}: {[(i.get('jid'), i.get('subscription'), i.get('ask')) for i in items]}")
        # Something changes in the roster only with a push: wait for the next one, then look again.
        await asyncio.wait_for(client.roster_pushes.get(), left)


async def connect_gateway_user(env, jid, pw):
    c = await env.connect(jid + "/home", pw, PLUGINS)
    c.roster_pushes = asyncio.Queue()
    c.add_event_handler("roster_update", lambda iq: c.roster_pushes.put_nowait(iq))
    await c.get_roster()  # an interested resource gets roster pushes (RFC 6121 §2.1.6)
    return c


async def test_gateway_registration_subscriptions_and_probes(env):
    await close_leftovers()
    a_jid, a_pw = env.user("gwuser")
    alice = await connect_gateway_user(env, a_jid, a_pw)
    comp = await gateway(env)
    is_iq = lambda e: e.tag == q(ACCEPT_NS, "iq")  # noqa: E731

    # XEP-0100 §4.1.1 / XEP-0077: registration with the legacy service is an iq to the gateway, passed through.
    async def registrar():
        iq = await comp.next(lambda e: is_iq(e) and e.get("type") == "get")
        comp.send(f"<iq type='result' id='{iq.get('id')}' from='{GW}' to='{iq.get('from')}'>"
                  f"<query xmlns='{REGISTER}'><instructions>Your legacy account</instructions>"
                  "<username/><password/></query></iq>")
        iq = await comp.next(lambda e: is_iq(e) and e.get("type") == "set")
        query = iq.find(q(REGISTER, "query"))
        check(query.findtext(q(REGISTER, "username")) == "alice-legacy", short(iq))
        comp.send(f"<iq type='result' id='{iq.get('id')}' from='{GW}' to='{iq.get('from')}'/>")
    serving = asyncio.ensure_future(registrar())
    form = await alice.Iq(stype="get", sto=GW).append(ET.Element(q(REGISTER, "query"))).send(timeout=10)
    check(form.xml.find(f"{q(REGISTER, 'query')}/{q(REGISTER, 'username')}") is not None, str(form))
    reg = ET.Element(q(REGISTER, "query"))
    ET.SubElement(reg, q(REGISTER, "username")).text = "alice-legacy"
    ET.SubElement(reg, q(REGISTER, "password")).text = "legacy-pass"
    await alice.Iq(stype="set", sto=GW).append(reg).send(timeout=10)
    await serving

    # §4.1.1: the gateway subscribes to the user's presence; the user's client approves and subscribes
    # back (slixmpp does both by itself); the gateway approves. The domain JID is a roster contact.
    comp.send(f"<presence type='subscribe' from='{GW}' to='{a_jid}'/>")
    sub = await comp.next(lambda e: e.get("type") == "subscribed" and e.get("to") == GW)
    check(sub.get("from") == a_jid, "approval from the user's bare JID (RFC 6121 §3.1.5)")
    # Having approved, the gateway gets the user's current presence (RFC 6121 §3.1.5): its cue to log in.
    p = await comp.next(lambda e: e.tag == q(ACCEPT_NS, "presence") and e.get("type") is None)
    check(p.get("from") == str(alice.boundjid) and p.get("to") == GW, short(p))
    await comp.next(lambda e: e.get("type") == "subscribe" and e.get("to") == GW)
    comp.send(f"<presence type='subscribed' from='{GW}' to='{a_jid}'/>")
    await wait_roster_item(alice, GW, "both")

    # XEP-0144 roster item exchange from the gateway reaches the user as sent.
    comp.send(f"<message from='{GW}' to='{a_jid}'><body>Your legacy contacts</body>"
              f"<x xmlns='{ROSTERX}'><item action='add' jid='carol@{GW}' name='Carol'><group>Legacy</group></item>"
              "</x></message>")
    m = await alice.next_message(lambda m: m["body"] == "Your legacy contacts")
    item = m.xml.find(f"{{{ROSTERX}}}x/{{{ROSTERX}}}item")
    check(item is not None and item.get("jid") == f"carol@{GW}" and item.findtext(f"{{{ROSTERX}}}group") == "Legacy",
          str(m))

    # A legacy contact subscribes (XEP-0100 §4.1.1: legacy roster → subscription requests); same dance.
    carol = f"carol@{GW}"
    comp.send(f"<presence type='subscribe' from='{carol}' to='{a_jid}'><nick xmlns='http://jabber.org/protocol/nick'>"
              "Carol</nick></presence>")
    await comp.next(lambda e: e.get("type") == "subscribe" and e.get("to") == carol)
    comp.send(f"<presence type='subscribed' from='{carol}' to='{a_jid}'/>")
    await wait_roster_item(alice, carol, "both")
    # The contact comes online; the user sees it.
    comp.send(f"<presence from='{carol}/legacy' to='{a_jid}'><show>away</show></presence>")
    p = await alice.next_presence(lambda p: p["from"] == f"{carol}/legacy")
    check(p["show"] == "away", str(p))

    # The user's presence changes reach the gateway's contact (RFC 6121 §4.4.2)...
    alice.send_presence(pstatus="at the gate", pshow="dnd")
    changed = lambda e: e.get("to") == carol and e.findtext(q(ACCEPT_NS, "status")) == "at the gate"  # noqa: E731
    p = await comp.next(changed)
    check(p.get("from") == str(alice.boundjid) and p.findtext(q(ACCEPT_NS, "show")) == "dnd", short(p))
    # ...and the gateway may probe the user on the contact's behalf (RFC 6121 §4.3): the server answers
    # with each available resource's presence, the same one again.
    comp.send(f"<presence type='probe' from='{carol}' to='{a_jid}'/>")
    p = await comp.next(changed)
    check(p.get("from") == str(alice.boundjid) and p.get("type") is None, short(p))
    # A new session probes the gateway's contacts (RFC 6121 §4.2.2), which the gateway answers.
    phone = await env.connect(a_jid + "/phone", a_pw, PLUGINS)
    probe = await comp.next(lambda e: e.get("type") == "probe" and e.get("to") == carol)
    check(probe.get("from") == a_jid, short(probe))
    comp.send(f"<presence from='{carol}/legacy' to='{probe.get('from')}'><show>away</show></presence>")
    p = await phone.next_presence(lambda p: p["from"] == f"{carol}/legacy")
    check(p["show"] == "away", str(p))
    await comp.close()


class EchoComponent(slixmpp.ComponentXMPP):
    """A slixmpp component: echoes messages, answers pings and disco (slixmpp's plugins)."""

    def __init__(self, jid, secret, port):
        super().__init__(jid, secret, "127.0.0.1", port)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.add_event_handler("message", self.echo)

    def echo(self, msg):
        if msg["type"] in ("chat", "normal"):
            msg.reply("echo: " + msg["body"]).send()


async def test_slixmpp_component(env):
    await close_leftovers()
    a_jid, a_pw = env.user("alice")
    alice = await env.connect(a_jid + "/home", a_pw, PLUGINS + ["xep_0092"])
    comp = EchoComponent(ECHO, ECHO_SECRET, port(env))
    started = asyncio.get_event_loop().create_future()
    comp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
    comp.connect()
    await asyncio.wait_for(started, 10)
    try:
        alice.send_message(mto=f"robot@{ECHO}", mbody="ping pong", mtype="chat")
        m = await alice.next_message(lambda m: m["body"] == "echo: ping pong")
        check(m["from"] == f"robot@{ECHO}", str(m))
        # Client → component iq (XEP-0199) and disco#info, answered by slixmpp's plugins.
        await alice["xep_0199"].ping(jid=ECHO, timeout=10)
        info = await alice["xep_0030"].get_info(jid=ECHO, cached=False)
        check(DISCO_INFO in info["disco_info"]["features"], str(info))
        # Component → client iq, answered by the client (XEP-0092).
        disco = await comp["xep_0030"].get_info(jid=alice.boundjid, ifrom=ECHO, timeout=10)
        check(disco["from"] == alice.boundjid and DISCO_INFO in disco["disco_info"]["features"], str(disco))
        iq = comp.Iq(stype="get", sto=alice.boundjid, sfrom=f"robot@{ECHO}")
        iq.append(ET.Element("{jabber:iq:version}query"))
        r = await iq.send(timeout=10)
        check(r.xml.findtext("{jabber:iq:version}query/{jabber:iq:version}name"), str(r))
    finally:
        comp.disconnect()


async def test_component_domain_taken_by_a_service_is_refused(env):
    """A component named like the MUC service would leave one of them unreachable: refused at startup."""
    await close_leftovers()
    workdir = tempfile.mkdtemp(prefix="causerie-clash-")
    config = os.path.join(workdir, "causerie.toml")
    with open(config, "w") as f:
        f.write(f'[server]\ndata_dir = "{workdir}/data"\n[[host]]\nname = "localhost"\n'
                '[[component]]\ndomain = "conference.localhost"\nsecret = "s"\n'
                f'[[listener]]\ntype = "component"\nport = {harness.free_port()}\n')
    r = subprocess.run([env.server.binary, "run", "--config", config], capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, "the server must not start")
    check("conference.localhost" in r.stderr, f"the error names the domain: {r.stderr!r}")


if __name__ == "__main__":
    harness.main(globals(), extra_toml=COMPONENTS, listeners=[("component", "component", "none")])
