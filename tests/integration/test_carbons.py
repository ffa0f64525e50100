"""Issue 12, item 2: XEP-0280 message carbons with XEP-0334 hints, seen by python3-slixmpp (xep_0280,
xep_0334). Romeo is online from three places: the garden and home clients enable carbons, the old one does
not. Received copies (§7) reach the enabled resources a message was not addressed to, sent copies (§8) the
enabled resources other than the sender; <private/> and <no-copy/> stop them, disabling stops them, and
messages from an external component (routed like those from a remote server) are copied too.

Every message a client gets goes into one queue (`inbox`), so that "nothing else arrived" is checked by
a marker sent after it along the same path being the next thing there."""
import asyncio

import harness
from harness import check
from component_util import RawComponent, q, ACCEPT_NS
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

CARBONS = "urn:xmpp:carbons:2"
FORWARD = "urn:xmpp:forward:0"
CLIENT = "jabber:client"
PLUGINS = ["xep_0030", "xep_0199", "xep_0280", "xep_0334"]
GW = "gw.localhost"
GW_SECRET = "carbons-gateway"

COMPONENTS = f"""
[[component]]
domain = "{GW}"
secret = "{GW_SECRET}"
"""


def inbox(client):
    """Every <message/> the client receives from now on, in order (slixmpp's own 'message' event only
    fires for messages with a body, and carbons have none at the top)."""
    queue = asyncio.Queue()
    client.register_handler(Callback("carbons test inbox", MatchXPath(f"{{{CLIENT}}}message"), queue.put_nowait))
    return queue


def carbon(m, kind):
    """The message carried by a <received/> or <sent/> carbon, or None."""
    wrapper = m.xml.find(f"{{{CARBONS}}}{kind}")
    if wrapper is None:
        return None
    return wrapper.find(f"{{{FORWARD}}}forwarded/{{{CLIENT}}}message")


def body(el):
    return el.findtext(f"{{{CLIENT}}}body") if el is not None else None


async def next_in(queue, pred):
    """The next message in `queue`, which must match `pred`: nothing else may come first."""
    m = await harness._next(queue, lambda _: True, harness.DEFAULT_TIMEOUT)
    check(pred(m), f"unexpected message first: {m}")
    return m


def is_plain(text):
    return lambda m: m["body"] == text and carbon(m, "received") is None and carbon(m, "sent") is None


def is_carbon(kind, text):
    return lambda m: body(carbon(m, kind)) == text


async def romeo_everywhere(env):
    """romeo/garden and romeo/home with carbons enabled, romeo/old without, and juliet/balcony."""
    r_jid, r_pw = env.user("romeo")
    j_jid, j_pw = env.user("juliet")
    romeo = {}
    boxes = {}
    for res in ("garden", "home", "old"):
        c = await env.connect(f"{r_jid}/{res}", r_pw, PLUGINS)
        romeo[res] = c
        boxes[res] = inbox(c)
        if res != "old":
            await c["xep_0280"].enable(timeout=10)
    juliet = await env.connect(f"{j_jid}/balcony", j_pw, PLUGINS)
    boxes["juliet"] = inbox(juliet)
    return r_jid, romeo, juliet, boxes


async def test_enable_is_advertised_and_repeatable(env):
    r_jid, r_pw = env.user("mercutio")
    c = await env.connect(r_jid + "/a", r_pw, PLUGINS)
    for target in (env.host, r_jid):
        info = await c["xep_0030"].get_info(jid=target, timeout=10)
        check("urn:xmpp:carbons:2" in info["disco_info"]["features"], f"carbons in {target}'s disco#info")
    # §10.1: enabling twice, or disabling twice, is answered with a result each time.
    for _ in range(2):
        await c["xep_0280"].enable(timeout=10)
    for _ in range(2):
        await c["xep_0280"].disable(timeout=10)
    # Not for another account (§4.1, §5.1).
    iq = c.Iq(stype="set", sto=f"tybalt@{env.host}")
    iq.append(ET.fromstring(f"<enable xmlns='{CARBONS}'/>"))
    try:
        await iq.send(timeout=10)
        raise AssertionError("enabling carbons for another account must fail")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "not-allowed", f"error: {e.iq['error']['condition']}")


async def test_received_and_sent_copies(env):
    r_jid, romeo, juliet, box = await romeo_everywhere(env)

    # §7: a message to one resource: the original there, a <received/> copy to the other enabled one.
    juliet.send_message(mto=romeo["garden"].boundjid, mbody="what man art thou", mtype="chat")
    await next_in(box["garden"], is_plain("what man art thou"))
    m = await next_in(box["home"], is_carbon("received", "what man art thou"))
    check(m["from"] == r_jid and m["to"] == romeo["home"].boundjid and m["type"] == "chat",
          f"the copy comes from the bare JID, to the full one, with the original's type: {m}")
    inner = carbon(m, "received")
    check(inner.get("from") == str(juliet.boundjid) and inner.get("to") == str(romeo["garden"].boundjid),
          "the original's addresses are kept")
    # A normal message with a body is eligible too (§6.1).
    juliet.send_message(mto=romeo["home"].boundjid, mbody="a normal one", mtype="normal")
    await next_in(box["home"], is_plain("a normal one"))
    await next_in(box["garden"], is_carbon("received", "a normal one"))

    # §8: what home sends, garden sees as <sent/>; home itself gets no copy of its own message.
    romeo["home"].send_message(mto=juliet.boundjid, mbody="neither, fair saint", mtype="chat")
    await next_in(box["juliet"], is_plain("neither, fair saint"))
    m = await next_in(box["garden"], is_carbon("sent", "neither, fair saint"))
    check(carbon(m, "sent").get("from") == str(romeo["home"].boundjid), "the sent copy shows the sending resource")
    # A client without carbons sends: the enabled ones see it (§8, "irrespective").
    romeo["old"].send_message(mto=juliet.boundjid, mbody="from the old client", mtype="chat")
    await next_in(box["juliet"], is_plain("from the old client"))
    await next_in(box["garden"], is_carbon("sent", "from the old client"))
    await next_in(box["home"], is_carbon("sent", "from the old client"))

    # A message to the bare JID reaches every available resource (RFC 6121 §8.5.2.1.1): no copies.
    juliet.send_message(mto=r_jid, mbody="to all of you", mtype="chat")
    for res in ("garden", "home", "old"):
        await next_in(box[res], is_plain("to all of you"))

    # Groupchat-typed messages are never copied; the marker after it is the next thing at garden.
    juliet.send_message(mto=romeo["home"].boundjid, mbody="not a conversation", mtype="groupchat")
    await next_in(box["home"], lambda m: m["body"] == "not a conversation")
    juliet.send_message(mto=romeo["home"].boundjid, mbody="marker 1", mtype="chat")
    await next_in(box["home"], is_plain("marker 1"))
    await next_in(box["garden"], is_carbon("received", "marker 1"))

    # The client that did not enable carbons got nothing but what was addressed to it (or its account).
    juliet.send_message(mto=romeo["old"].boundjid, mbody="marker for old", mtype="chat")
    await next_in(box["old"], is_plain("marker for old"))


async def test_private_and_no_copy_hints(env):
    r_jid, romeo, juliet, box = await romeo_everywhere(env)

    async def marker(text):
        # Sent by juliet to home: received by home, copied to garden.
        juliet.send_message(mto=romeo["home"].boundjid, mbody=text, mtype="chat")
        await next_in(box["home"], is_plain(text))
        await next_in(box["garden"], is_carbon("received", text))

    # §9: the sender marks a message <private/> with <no-copy/>: no sent copy at garden.
    m = romeo["home"].make_message(mto=juliet.boundjid, mbody="secret", mtype="chat")
    m.append(ET.fromstring(f"<private xmlns='{CARBONS}'/>"))
    m.enable("no-copy")
    m.send()
    got = await next_in(box["juliet"], is_plain("secret"))
    # Kept in the message as it travels (the XEP no longer has servers remove it).
    check(got.xml.find(f"{{{CARBONS}}}private") is not None, "the <private/> element reaches the recipient")
    await marker("after private sent")

    # Inbound, each of the two alone stops the received copy.
    for text, extra in (("private only", f"<private xmlns='{CARBONS}'/>"),
                        ("no-copy only", "<no-copy xmlns='urn:xmpp:hints'/>")):
        m = juliet.make_message(mto=romeo["home"].boundjid, mbody=text, mtype="chat")
        m.append(ET.fromstring(extra))
        m.send()
        await next_in(box["home"], is_plain(text))
        await marker("after " + text)

    # Storage hints have nothing to say about copies.
    m = juliet.make_message(mto=romeo["home"].boundjid, mbody="off the record", mtype="chat")
    m.enable("no-permanent-store")
    m.send()
    await next_in(box["home"], is_plain("off the record"))
    await next_in(box["garden"], is_carbon("received", "off the record"))


async def test_disable_stops_copies(env):
    r_jid, romeo, juliet, box = await romeo_everywhere(env)
    await romeo["home"]["xep_0280"].disable(timeout=10)
    juliet.send_message(mto=romeo["garden"].boundjid, mbody="home will not see this", mtype="chat")
    await next_in(box["garden"], is_plain("home will not see this"))
    romeo["garden"].send_message(mto=juliet.boundjid, mbody="nor this", mtype="chat")
    await next_in(box["juliet"], is_plain("nor this"))
    juliet.send_message(mto=romeo["home"].boundjid, mbody="marker for home", mtype="chat")
    await next_in(box["home"], is_plain("marker for home"))
    # Enabled again, copies come back.
    await romeo["home"]["xep_0280"].enable(timeout=10)
    juliet.send_message(mto=romeo["garden"].boundjid, mbody="home sees this", mtype="chat")
    await next_in(box["home"], is_carbon("received", "home sees this"))


async def test_messages_from_a_component_are_copied(env):
    """A stanza from outside (here an XEP-0114 component; a remote server's stanzas take the same path
    from Router::route) is copied like a local one, and what romeo sends to it too."""
    r_jid, romeo, juliet, box = await romeo_everywhere(env)
    comp = await RawComponent.connect(env.server.extra_ports["component"])
    try:
        await comp.open(GW)
        check(await comp.handshake(GW_SECRET) is None, "component handshake")
        comp.send(f"<message from='friar@{GW}/cell' to='{romeo['garden'].boundjid}' type='chat'>"
                  "<body>from the gateway</body></message>")
        await next_in(box["garden"], is_plain("from the gateway"))
        m = await next_in(box["home"], is_carbon("received", "from the gateway"))
        check(carbon(m, "received").get("from") == f"friar@{GW}/cell", "the component's sender is kept")
        romeo["garden"].send_message(mto=f"friar@{GW}", mbody="to the gateway", mtype="chat")
        got = await comp.next(lambda e: e.tag == q(ACCEPT_NS, "message"))
        check(got.findtext(q(ACCEPT_NS, "body")) == "to the gateway", "the component gets the message")
        await next_in(box["home"], is_carbon("sent", "to the gateway"))
    finally:
        await comp.close()


if __name__ == "__main__":
    harness.main(globals(), extra_toml=COMPONENTS, listeners=[("component", "component", "none")])
