"""MUC moderation and PEP together, with python3-slixmpp (xep_0045, xep_0060, xep_0115, xep_0163): a room
kicking (XEP-0045 §8.2) or banning (§9.1) an occupant sends "unavailable" presence to the occupant's full
JID. That is the room's presence, not the occupant's own: the occupant's session stays available, and
its XEP-0115 "+notify" interests (XEP-0163 §4.3) still hold, so a contact's vCard4 (XEP-0292, node
urn:xmpp:vcard4) changes keep reaching it afterwards: kick then ban, kick, rejoin, ban and a refused
rejoin (the web app's browser test's order), ban only, kick only. (Written for a report from the web
app's browser test, where a kicked and banned contact saw no more vCard4 notifications; it did not
reproduce with slixmpp, and guards the server's side of it.)"""
import harness
from harness import check
from muc_util import codes, create, join, join_error, admin_iq, presence_from, room_jid
from muc_util import connect as muc_connect
from pubsub_util import (PEP_PLUGINS, ps, send, watch, next_event, is_event, event_items, make_contacts, caps_known,
                         drain)

VCARD4 = "urn:xmpp:vcard4"
VCARD = "urn:ietf:params:xml:ns:vcard-4.0"


async def pep_muc_client(env, name, interests=()):
    """A client with the MUC test queues (muc_util) and PEP event queue (pubsub_util), whose first presence
    carries caps asking "+notify" for `interests`; returns once the server knows them."""
    jid, pw = env.user(name)

    def setup(c):
        watch(c)
        for ns in interests:
            c["xep_0163"].add_interest(ns)
    c = await muc_connect(env, jid + "/web", pw, PEP_PLUGINS, setup=setup)
    await caps_known(c)
    # slixmpp's first 'ver' predates the interests (it does not verify, XEP-0115 §5.4, and is used for
    # this resource only); announce the true one, as the web app does, so that the server caches it by
    # verification string and the cached path is the one under test.
    await c["xep_0115"].update_caps(broadcast=False)
    c.send_presence()
    await caps_known(c)
    return c


async def publish_name(client, name):
    await send(client, None, ps(f"<publish node='{VCARD4}'><item id='current'><vcard xmlns='{VCARD}'>"
                                f"<fn><text>{name}</text></fn></vcard></item></publish>"))


async def name_reaches(client, name):
    m = await next_event(client, is_event("item", VCARD4, "current"))
    got = event_items(m, VCARD4)[0][3].find(f"{{{VCARD}}}fn/{{{VCARD}}}text").text
    check(got == name, f"{client.boundjid.bare} got the vCard4 name {name!r}: {got!r}")
    check(m["to"] == client.boundjid.full, "to the interested resource (XEP-0163 §4.3)")


async def setup(env, prefix):
    alice = await pep_muc_client(env, f"{prefix}_alice")
    bob = await pep_muc_client(env, f"{prefix}_bob", [VCARD4])
    await make_contacts(alice, bob)
    room = room_jid(env, prefix)
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    await alice.next_presence(presence_from(room, "Bob", unavailable=False))
    # PEP works before any moderation.
    drain(bob)
    await publish_name(alice, "Alice Before")
    await name_reaches(bob, "Alice Before")
    for c in (alice, bob):
        c.drain()
    return room, alice, bob


async def kicked(bob, room):
    p = await bob.next_presence(presence_from(room, "Bob", unavailable=True))
    check(p["to"] == bob.boundjid.full and {110, 307} <= codes(p), f"§8.2 kick reached Bob: {codes(p)}")


async def banned(bob, room):
    p = await bob.next_presence(presence_from(room, "Bob", unavailable=True))
    check(p["to"] == bob.boundjid.full and {110, 301} <= codes(p), f"§9.1 ban reached Bob: {codes(p)}")


async def test_kick_then_ban_keeps_pep(env):
    room, alice, bob = await setup(env, "kickban")
    await alice["xep_0045"].set_role(room, "Bob", "none", reason="out")
    await kicked(bob, room)
    # Bob is no longer an occupant: the ban changes his affiliation only.
    await admin_iq(alice, room, [{"affiliation": "outcast", "jid": bob.boundjid.bare, "reason": "and stay out"}])
    await publish_name(alice, "Alice After")
    await name_reaches(bob, "Alice After")


async def test_kick_rejoin_ban_refused_rejoin_keeps_pep(env):
    # The web app's browser test's order: kicked, back in, banned while present, refused on the way back.
    room, alice, bob = await setup(env, "webflow")
    await alice["xep_0045"].set_role(room, "Bob", "none")
    await kicked(bob, room)
    await join(bob, room, "Bob")
    await admin_iq(alice, room, [{"affiliation": "outcast", "jid": bob.boundjid.bare}])
    await banned(bob, room)
    check(await join_error(bob, room, "Bob") == "forbidden", "§7.2.8: the banned cannot enter")
    await publish_name(alice, "Alice Once More")
    await name_reaches(bob, "Alice Once More")


async def test_ban_keeps_pep(env):
    room, alice, bob = await setup(env, "banonly")
    await admin_iq(alice, room, [{"affiliation": "outcast", "jid": bob.boundjid.bare}])
    await banned(bob, room)
    await publish_name(alice, "Alice Banned Him")
    await name_reaches(bob, "Alice Banned Him")


async def test_kick_keeps_pep(env):
    room, alice, bob = await setup(env, "kickonly")
    await alice["xep_0045"].set_role(room, "Bob", "none")
    await kicked(bob, room)
    await publish_name(alice, "Alice Kicked Him")
    await name_reaches(bob, "Alice Kicked Him")


harness.main(globals())
