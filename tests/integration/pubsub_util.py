"""Helpers for the pubsub, PEP and microblog integration tests: raw XEP-0060 requests built from XML text
(so each test says exactly what goes on the wire), event capture, and error assertions."""
import asyncio
import http.client

import harness
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

PUBSUB = "http://jabber.org/protocol/pubsub"
OWNER = "http://jabber.org/protocol/pubsub#owner"
EVENT = "http://jabber.org/protocol/pubsub#event"
ERRORS = "http://jabber.org/protocol/pubsub#errors"
DATA = "jabber:x:data"
ATOM = "http://www.w3.org/2005/Atom"
RSM = "http://jabber.org/protocol/rsm"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MICROBLOG = "urn:xmpp:microblog:0"


PEP_PLUGINS = ["xep_0030", "xep_0060", "xep_0163", "xep_0115", "xep_0004"]


async def connect(env, name, interests=(), plugins=PEP_PLUGINS, resource="res", create=True):
    """A logged-in client that records every message from before its first presence, with XEP-0163
    interests ("+notify") in the caps of that presence. `create` makes the account first."""
    jid, pw = env.user(name) if create else (f"{name}@{env.host}", "pw-xxxxxxxx")

    def setup(c):
        watch(c)  # before connecting: events sent at login are not missed
        for ns in interests:
            c["xep_0163"].add_interest(ns)
    c = await env.connect(jid + "/" + resource, pw, plugins, setup=setup)
    await caps_known(c)
    return c


async def caps_known(client):
    """Returns once the server knows the caps of the client's last presence (so which nodes it wants).

    The server asks a disco#info question about caps it has not seen while it handles the presence, on
    the session's own worker: a round trip after the presence brings that question to the client first.
    If it came, wait until slixmpp's answer has left (the outgoing filter of `watch`), then one more
    round trip: the server handles the answer, and learns the interests, before it answers that."""
    await harness.round_trip(client)
    asked = [f for f in client.caps_answered.values() if not f.done()]
    if asked:
        await asyncio.wait_for(asyncio.gather(*asked), 10)
        await harness.round_trip(client)


def ps(body, ns=PUBSUB):
    return f"<pubsub xmlns='{ns}'>{body}</pubsub>"


def q(ns, tag):
    return "{%s}%s" % (ns, tag)


def form(form_type, fields, ftype="submit"):
    """A jabber:x:data form as XML text; values may be strings or lists."""
    out = [f"<x xmlns='{DATA}' type='{ftype}'><field var='FORM_TYPE' type='hidden'><value>{form_type}</value></field>"]
    for var, value in fields.items():
        values = value if isinstance(value, list) else [value]
        out.append(f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in values) + "</field>")
    out.append("</x>")
    return "".join(out)


def node_config(**fields):
    return form(PUBSUB + "#node_config", {"pubsub#" + k: v for k, v in fields.items()})


def publish_options(**fields):
    return "<publish-options>" + form(PUBSUB + "#publish-options", {"pubsub#" + k: v for k, v in fields.items()}) + \
        "</publish-options>"


async def send(client, to, payload, itype="set", timeout=10):
    """Sends an iq with `payload` (XML text) and returns the result's payload element (or None)."""
    iq = client.Iq(stype=itype)
    if to:
        iq["to"] = to
    iq.append(ET.fromstring(payload))
    r = await iq.send(timeout=timeout)
    children = list(r.xml)
    return children[0] if children else None


async def get(client, to, payload, timeout=10):
    return await send(client, to, payload, "get", timeout)


async def fails(client, to, payload, condition, app=None, itype="set"):
    """Sends the request and checks it fails with `condition` (and pubsub#errors `app` when given)."""
    try:
        await send(client, to, payload, itype)
    except IqError as e:
        err = e.iq.xml.find("{jabber:client}error")
        got = [c.tag.split("}")[1] for c in err if c.tag.startswith("{" + STANZAS)]
        apps = [c.tag.split("}")[1] for c in err if c.tag.startswith("{" + ERRORS)]
        if condition not in got:
            raise AssertionError(f"expected {condition}, got {got} {apps}")
        if app and app not in apps:
            raise AssertionError(f"expected <{app}/>, got {apps}")
        text = err.find("{%s}text" % STANZAS)
        return text.text if text is not None else ""
    raise AssertionError(f"expected {condition}, but the request succeeded")


def watch(client):
    """Queues every message the client receives (slixmpp's 'message' event wants a <body/>), and notes
    the server's disco#info questions about the client's caps until slixmpp's answer leaves (caps_known)."""
    if not hasattr(client, "events"):
        client.events = asyncio.Queue()
        client.register_handler(Callback("all messages " + str(id(client)), MatchXPath("{jabber:client}message"),
                                         lambda m: client.events.put_nowait(m)))
        client.caps_answered = {}  # id of a disco#info get from a service -> future done once answered

        def asked(iq):
            if "@" not in str(iq["from"]):  # from a service domain, not from another account
                client.caps_answered.setdefault(iq["id"], asyncio.get_event_loop().create_future())
        client.register_handler(Callback("caps questions " + str(id(client)),
                                         MatchXPath("{jabber:client}iq/{http://jabber.org/protocol/disco#info}query"),
                                         lambda iq: iq["type"] == "get" and asked(iq)))

        def answered(stanza):
            if stanza.name == "iq" and stanza["type"] in ("result", "error"):
                f = client.caps_answered.get(stanza["id"])
                if f and not f.done():
                    f.set_result(True)
            return stanza
        client.add_filter("out", answered)
    return client


async def next_event(client, pred=lambda m: True, timeout=10, refuse=None):
    """The next message matching `pred`. With `refuse`: none of the messages before it may match that (the
    awaited one must be a later event of the same node to the same session: one worker serves a node's
    events in order, and one session's deliveries keep theirs)."""
    return await harness._next(client.events, pred, timeout, refuse)


async def no_event(client, pred):
    """Asserts that `client` holds no message matching `pred`. Call it once the test has seen a later event
    of the same node reach someone: the notifier serves a node's fan-outs one after the other on one
    worker, so the fan-out in question has been handed to every recipient's worker by then. A round trip
    of the client's then comes back after anything handed to its session (harness.round_trip)."""
    await harness.round_trip(client)
    for m in harness.queued(client.events):
        if pred(m):
            raise AssertionError("unexpected event: " + str(m))


def drain(client):
    while not client.events.empty():
        client.events.get_nowait()


def event_items(msg, node=None):
    """[(kind, id, publisher, payload element)] of an event message, kind 'item' or 'retract'."""
    ev = msg.xml.find(q(EVENT, "event"))
    if ev is None:
        return []
    out = []
    for items in ev.findall(q(EVENT, "items")):
        if node and items.get("node") != node:
            continue
        for child in items:
            kind = child.tag.split("}")[1]
            payload = list(child)[0] if len(child) else None
            out.append((kind, child.get("id"), child.get("publisher"), payload))
    return out


def is_event(kind, node=None, item_id=None):
    """A predicate on event messages: an <items/> event with an item (or retraction) for the node."""
    def pred(m):
        for k, i, _, _ in event_items(m, node):
            if k == kind and (item_id is None or i == item_id):
                return True
        return False
    return pred


def item_ids(result):
    items = result.find(q(PUBSUB, "items"))
    return [i.get("id") for i in items.findall(q(PUBSUB, "item"))]


async def roster_item(client, contact):
    r = await get(client, None, "<query xmlns='jabber:iq:roster'/>")
    for item in r.findall("{jabber:iq:roster}item"):
        if item.get("jid") == contact:
            return item
    return None


async def make_contacts(a, b, timeout=10):
    """Mutual presence subscription between two connected clients (slixmpp approves and subscribes back)."""
    a.client_roster.subscribe(b.boundjid.bare)

    async def both():
        ia = await roster_item(a, b.boundjid.bare)
        ib = await roster_item(b, a.boundjid.bare)
        return ia is not None and ib is not None and ia.get("subscription") == "both" and ib.get("subscription") == "both"
    await harness.wait_until(both, f"{a.boundjid.bare} and {b.boundjid.bare} to become contacts", timeout)


async def set_groups(client, contact, groups):
    await send(client, None, f"<query xmlns='jabber:iq:roster'><item jid='{contact}'>" +
               "".join(f"<group>{g}</group>" for g in groups) + "</item></query>")


def http_get(env, path):
    """(status, content type, body, headers) of a GET over the server's HTTP listener ("http" listener)."""
    port = env.server.extra_ports["http"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": f"{env.host}:{port}"})
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type", ""), r.read().decode("utf-8"), dict(r.getheaders())


async def walk_pages(fetch, max, **kw):
    """Every entry of a newest-first XEP-0059 list, page by page from the newest (`after`), then back from
    the oldest (`before`), checking that both walks give the same entries. `fetch(max=, after=, before=,
    **kw)` returns (entries, complete, first, last), each entry a tuple starting with its result id."""
    forward, after = [], None
    while True:
        page, complete, _, last = await fetch(max=max, after=after, **kw)
        harness.check(len(page) <= max, "pages are bounded")
        forward += page
        if complete:
            break
        after = last
    backward, before = [], ""
    while True:
        page, complete, first, _ = await fetch(max=max, before=before, **kw)
        backward = page + backward
        if complete:
            break
        before = first
    ids = [e[0] for e in forward]
    harness.check(ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), "newest first, no repeats")
    harness.check([e[0] for e in backward] == ids, "paging back from the oldest gives the same entries")
    return forward
