"""Helpers shared by the XEP-0045 tests (test_muc_*.py): joining with slixmpp's xep_0045 plugin, creating
and configuring rooms, reading status codes, and raw stanzas where the plugin has no API."""
import asyncio
import time

from slixmpp.exceptions import IqError, PresenceError
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import harness
from harness import check

PLUGINS = ["xep_0030", "xep_0004", "xep_0045", "xep_0082", "xep_0203", "xep_0199", "xep_0249", "xep_0092"]
MUC = "http://jabber.org/protocol/muc"
USER = MUC + "#user"
ADMIN = MUC + "#admin"
OWNER = MUC + "#owner"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
OCCUPANT_ID = "urn:xmpp:occupant-id:0"
DELAY = "urn:xmpp:delay"


async def connect(env, jid, password, extra_plugins=(), **kw):
    """A connected client whose next_presence/next_message/drain see every presence and message.

    slixmpp's own "presence" event skips occupant JIDs once its xep_0045 plugin has seen them, and errors
    come as "message_error": the harness queues would miss both, so these queues are fed by raw handlers.
    """
    c = await env.connect(jid, password, PLUGINS + list(extra_plugins), **kw)
    c.mp, c.mm = asyncio.Queue(), asyncio.Queue()
    c.received = []  # every presence and message since the last drain, in arrival order
    c.arrival = asyncio.Event()

    def on(queue):
        def handle(s):
            c.received.append(s)
            queue.put_nowait(s)
            c.arrival.set()
        return handle
    c.register_handler(Callback("muc-test-presence", MatchXPath("{jabber:client}presence"), on(c.mp)))
    c.register_handler(Callback("muc-test-message", MatchXPath("{jabber:client}message"), on(c.mm)))

    def drain():
        c.received.clear()
        for q in (c.mp, c.mm):
            while not q.empty():
                q.get_nowait()
    c.drain = drain
    c.next_presence = lambda pred=lambda p: True, timeout=harness.DEFAULT_TIMEOUT: harness._next(c.mp, pred, timeout)
    c.next_message = lambda pred=lambda m: True, timeout=harness.DEFAULT_TIMEOUT: harness._next(c.mm, pred, timeout)
    return c


async def users(env, *names, extra_plugins=()):
    """Accounts made with the CLI, each connected (resource "r") and available."""
    out = []
    for n in names:
        jid, pw = env.user(n)
        out.append(await connect(env, jid + "/r", pw, extra_plugins))
    return out


def service(env):
    return f"conference.{env.host}"


def room_jid(env, name):
    return f"{name}@{service(env)}"


def codes(stanza):
    """Status codes of the muc#user <x/> of a presence or message."""
    return {int(s.get("code")) for s in stanza.xml.findall(f"{{{USER}}}x/{{{USER}}}status")}


def item(stanza):
    """The muc#user <item/> as a dict of its attributes (plus actor/reason), or {}."""
    it = stanza.xml.find(f"{{{USER}}}x/{{{USER}}}item")
    if it is None:
        return {}
    d = dict(it.attrib)
    actor = it.find(f"{{{USER}}}actor")
    if actor is not None:
        d["actor"] = actor.get("nick")
    reason = it.find(f"{{{USER}}}reason")
    if reason is not None:
        d["reason"] = reason.text or ""
    return d


def form_values(stanza):
    """The values of the first jabber:x:data form in a stanza (disco#info extension…): var -> value or list."""
    out = {}
    x = stanza.xml.find(".//{jabber:x:data}x")
    if x is None:
        return out
    for f in x.findall("{jabber:x:data}field"):
        vals = [v.text or "" for v in f.findall("{jabber:x:data}value")]
        out[f.get("var")] = vals[0] if len(vals) == 1 else vals
    return out


def occupant_id(stanza):
    el = stanza.xml.find(f"{{{OCCUPANT_ID}}}occupant-id")
    return None if el is None else el.get("id")


def error_condition(stanza):
    err = stanza.xml.find("{jabber:client}error")
    if err is None:
        return None
    for child in err:
        if child.tag.startswith(f"{{{STANZAS}}}") and not child.tag.endswith("}text"):
            return child.tag.split("}")[1]
    return None


async def join(client, room, nick, **kw):
    """Joins; returns (self-presence, subject message, occupant presences, history)."""
    return await client["xep_0045"].join_muc_wait(room, nick, timeout=10, **kw)


async def join_error(client, room, nick, **kw):
    """Tries to join and expects a presence error; returns its condition."""
    try:
        await join(client, room, nick, **kw)
    except PresenceError as e:
        client["xep_0045"].rooms.pop(room, None)
        return e.condition
    raise AssertionError(f"{client.boundjid} joined {room} as {nick} but should have been refused")


async def configure(client, room, config):
    """Fetches the muc#roomconfig form, sets the given fields and submits it."""
    form = await client["xep_0045"].get_room_config(room)
    fields = form.get_fields()
    for var, value in config.items():
        check(var in fields, f"the form has {var}")
        fields[var]["value"] = value
    await client["xep_0045"].set_room_config(room, form)


async def create(client, room, nick, config=None):
    """Creates a room: an instant room (empty form, §10.1.2) or a reserved one with `config` (§10.1.3)."""
    pres, *_ = await join(client, room, nick)
    check(201 in codes(pres), f"{room} was created (201), got {codes(pres)}")
    if config:
        await configure(client, room, config)
    else:
        await client["xep_0045"].set_room_config(room, client["xep_0004"].make_form("submit"))
    return pres


async def leave(client, room, nick):
    client["xep_0045"].leave_muc(room, nick)
    await client.next_presence(lambda p: p["from"] == f"{room}/{nick}" and p["type"] == "unavailable"
                               and 110 in codes(p))


async def admin_iq(client, room, items, itype="set"):
    """A muc#admin iq with raw <item/> attribute dicts; returns the result (raises IqError)."""
    iq = client.Iq()
    iq["type"] = itype
    iq["to"] = room
    q = ET.Element(f"{{{ADMIN}}}query")
    for attrs in items:
        reason = attrs.pop("reason", None)
        el = ET.SubElement(q, f"{{{ADMIN}}}item", {k: str(v) for k, v in attrs.items()})
        if reason:
            ET.SubElement(el, f"{{{ADMIN}}}reason").text = reason
    iq.append(q)
    return await iq.send(timeout=10)


async def admin_list(client, room, **attr):
    """Items of a muc#admin list (affiliation=… or role=…) as dicts."""
    res = await admin_iq(client, room, [attr], itype="get")
    return [dict(i.attrib) for i in res.xml.findall(f"{{{ADMIN}}}query/{{{ADMIN}}}item")]


async def iq_error(coro):
    """Awaits an iq that must fail; returns the error condition."""
    try:
        await coro
    except IqError as e:
        return e.condition
    raise AssertionError("the request succeeded but should have failed")


def presence_from(room, nick, unavailable=None, code=None):
    def pred(p):
        if p["from"] != f"{room}/{nick}":
            return False
        if unavailable is not None and (p["type"] == "unavailable") != unavailable:
            return False
        return code is None or code in codes(p)
    return pred


async def wait_received(client, pred, timeout=harness.DEFAULT_TIMEOUT):
    """The first presence or message the client got since its last drain that matches `pred`, waiting for
    it if it has not come yet. Nothing is consumed: next_message and next_presence still see it."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        for s in client.received[seen:]:
            if pred(s):
                return s
        seen = len(client.received)
        client.arrival.clear()
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{client.boundjid}: timed out waiting for a matching stanza")
        try:
            await asyncio.wait_for(client.arrival.wait(), left)
        except asyncio.TimeoutError:
            pass


def none_received(client, pred, what, before=None):
    """Asserts that nothing matching `pred` reached `client` since its last drain (or, with `before`, ahead
    of that stanza). Call it after a marker that took the same way later: a stanza the same room sent
    after (one room decides in order), or a round trip of the client's (harness.round_trip) once
    the test has seen the room finish the step in question (an answer it sent after that step's
    broadcast)."""
    for s in client.received:
        if s is before:
            return
        if pred(s):
            raise AssertionError(f"{what}: {s}")
