"""Issue 12 items 3 and 10, the XEP-0313 room archive and XEP-0425 moderation, driven by python3-slixmpp
(xep_0045, xep_0313, xep_0359): groupchat messages archived under the room's JID with the archive's
<stanza-id/> on the live broadcast, a later joiner paging through the room archive, members-only rooms
refusing non-members, the muc#roomconfig_enablearchiving switch, and moderation leaving a tombstone."""
from slixmpp.xmlstream import ET

import harness
from harness import check
from muc_util import codes, configure, create, iq_error, join, users, room_jid

MAM_PLUGINS = ["xep_0059", "xep_0297", "xep_0313", "xep_0359"]
MAM = "urn:xmpp:mam:2"
SID = "urn:xmpp:sid:0"
RETRACT = "urn:xmpp:message-retract:1"
MODERATE = "urn:xmpp:message-moderate:1"
CLIENT = "jabber:client"


def stanza_id(msg, by):
    for el in msg.xml.findall(f"{{{SID}}}stanza-id"):
        if el.get("by") == by:
            return el.get("id")
    return None


async def archive(client, room, page=None):
    """Every message of the room's archive, paged forward `page` at a time with slixmpp's MAM iterator:
    [(archive id, result message, forwarded message)], and the number of pages."""
    out, pages = [], 0
    async for p in client["xep_0313"].retrieve(jid=room, iterator=True, rsm={"max": page or 50}):
        pages += 1
        for r in p["mam"]["results"]:
            out.append((r["mam_result"]["id"], r, r["mam_result"]["forwarded"]["stanza"]))
    return out, pages


async def moderate(client, room, sid, reason=None):
    iq = client.Iq(stype="set", sto=room)
    xml = f"<moderate xmlns='{MODERATE}' id='{sid}'><retract xmlns='{RETRACT}'/>"
    if reason:
        xml += f"<reason>{reason}</reason>"
    iq.append(ET.fromstring(xml + "</moderate>"))
    return await iq.send(timeout=10)


async def features(client, room):
    info = await client["xep_0030"].get_info(jid=room)
    return info["disco_info"]["features"]


async def test_room_archive_paged_by_a_later_joiner(env):
    alice, bob, carol = await users(env, "a_alice", "a_bob", "a_carol", extra_plugins=MAM_PLUGINS)
    room = room_jid(env, "archived")
    await create(alice, room, "Alice")
    check(MAM in await features(alice, room), "the room advertises urn:xmpp:mam:2")
    await join(bob, room, "Bob")
    n = 25
    for i in range(n):
        alice.send_message(mto=room, mbody=f"m{i}", mtype="groupchat")
    live = []
    for i in range(n):
        m = await bob.next_message(lambda m, i=i: m["body"] == f"m{i}")
        live.append(stanza_id(m, room))
    check(all(live) and len(set(live)) == n, f"each broadcast carries a unique stanza-id by the room: {live[:3]}")
    # A private message is no groupchat message: never in the room archive (§"MUC Archives").
    alice.send_message(mto=f"{room}/Bob", mbody="psst", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "psst")

    await join(carol, room, "Carol")
    got, pages = await archive(carol, room, page=10)
    check([m["body"] for _, _, m in got] == [f"m{i}" for i in range(n)], f"all {n} in order: {len(got)}")
    check(pages == 3, f"paged 10 at a time: {pages} pages")
    check([i for i, _, _ in got] == live, "archive ids are the stanza-ids of the live messages")
    check(all(r["from"] == room for _, r, _ in got), "results come from the room's bare JID")
    check(all(m["from"] == f"{room}/Alice" for _, _, m in got), "forwarded messages keep the occupant JID")
    check(all(stanza_id(m, room) == i for i, _, m in got), "the archived copy carries its stanza-id")


async def test_members_only_archive_refuses_non_members(env):
    alice, bob, eve = await users(env, "b_alice", "b_bob", "b_eve", extra_plugins=MAM_PLUGINS)
    room = room_jid(env, "private")
    await create(alice, room, "Alice", {"muc#roomconfig_membersonly": True})
    alice.send_message(mto=room, mbody="members only", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "members only")
    cond = await iq_error(eve["xep_0313"].retrieve(jid=room, timeout=10))
    check(cond == "forbidden", f"a non-member cannot read a members-only room's archive: {cond}")
    cond = await iq_error(bob["xep_0313"].retrieve(jid=room, timeout=10))
    check(cond == "forbidden", f"nor can anyone before being made a member: {cond}")
    await alice["xep_0045"].set_affiliation(room, "member", jid=bob.boundjid.bare)  # answered once stored
    got, _ = await archive(bob, room)
    check([m["body"] for _, _, m in got] == ["members only"], f"a member reads it without being in the room: {got}")


async def test_archiving_switched_off(env):
    alice, bob = await users(env, "c_alice", "c_bob", extra_plugins=MAM_PLUGINS)
    room = room_jid(env, "unlogged")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    alice.send_message(mto=room, mbody="kept", mtype="groupchat")
    m = await bob.next_message(lambda m: m["body"] == "kept")
    check(stanza_id(m, room), "archived while archiving is on")
    await configure(alice, room, {"muc#roomconfig_enablearchiving": False})
    await bob.next_message(lambda m: 104 in codes(m))  # the configuration change is announced (§10.2.1)
    check(MAM not in await features(bob, room), "no urn:xmpp:mam:2 once archiving is off")
    alice.send_message(mto=room, mbody="not kept", mtype="groupchat")
    m = await bob.next_message(lambda m: m["body"] == "not kept")
    check(stanza_id(m, room) is None, "no stanza-id on a message the room does not archive")
    got, _ = await archive(bob, room)
    check([m["body"] for _, _, m in got] == ["kept"], f"only what came before the switch: {got}")
    await configure(alice, room, {"muc#roomconfig_enablearchiving": True})
    await bob.next_message(lambda m: 104 in codes(m))
    alice.send_message(mto=room, mbody="kept again", mtype="groupchat")
    await bob.next_message(lambda m: m["body"] == "kept again")
    got, _ = await archive(bob, room)
    check([m["body"] for _, _, m in got] == ["kept", "kept again"], f"archiving back on: {got}")


async def test_moderation_leaves_a_tombstone(env):
    alice, bob, carol, dave = await users(env, "d_alice", "d_bob", "d_carol", "d_dave", extra_plugins=MAM_PLUGINS)
    room = room_jid(env, "moderated")
    await create(alice, room, "Alice", {"muc#roomconfig_persistentroom": True})
    check(MODERATE in await features(alice, room), "the room advertises urn:xmpp:message-moderate:1")
    await join(bob, room, "Bob")
    await join(carol, room, "Carol")
    bob.send_message(mto=room, mbody="spam spam spam", mtype="groupchat")
    m = await carol.next_message(lambda m: m["body"] == "spam spam spam")
    spam = stanza_id(m, room)
    alice.send_message(mto=room, mbody="welcome", mtype="groupchat")
    m = await carol.next_message(lambda m: m["body"] == "welcome")
    welcome = stanza_id(m, room)

    cond = await iq_error(moderate(bob, room, welcome))
    check(cond == "forbidden", f"a participant cannot moderate: {cond}")
    cond = await iq_error(moderate(alice, room, "no-such-id"))
    check(cond == "item-not-found", f"an unknown stanza id: {cond}")

    carol.drain()
    await moderate(alice, room, spam, reason="Spam")

    def is_retraction(m):
        r = m.xml.find(f"{{{RETRACT}}}retract")
        return r is not None and r.get("id") == spam
    for c in (carol, bob):
        ann = await c.next_message(is_retraction)
        check(ann["from"] == room and ann["type"] == "groupchat", "the room announces the retraction")
        mod = ann.xml.find(f"{{{RETRACT}}}retract/{{{MODERATE}}}moderated")
        check(mod is not None and mod.get("by") == f"{room}/Alice", "moderated by the moderator's occupant JID")
        check(ann.xml.findtext(f"{{{RETRACT}}}retract/{{{RETRACT}}}reason") == "Spam", "with the reason")

    # The moderated message is no longer given to those who join (§"Business Rules": no further distribution).
    _, _, _, history = await join(dave, room, "Dave")
    check([m["body"] for m in history] == ["welcome"], f"the join history lost it: {[m['body'] for m in history]}")

    got, _ = await archive(carol, room)
    by_id = {i: m.xml for i, _, m in got}
    check(spam in by_id and welcome in by_id, "the moderated message keeps its place and id")
    tomb = by_id[spam]
    check(tomb.find(f"{{{CLIENT}}}body") is None, "the tombstone has no body")
    retracted = tomb.find(f"{{{RETRACT}}}retracted")
    check(retracted is not None and retracted.get("stamp"), "it carries <retracted stamp/>")
    check(retracted.find(f"{{{MODERATE}}}moderated").get("by") == f"{room}/Alice", "and who moderated it")
    check(tomb.get("from") == f"{room}/Bob", "the tombstone keeps the author's occupant JID")
    check(by_id[welcome].findtext(f"{{{CLIENT}}}body") == "welcome", "other messages are untouched")
    check(any(m.xml.find(f"{{{RETRACT}}}retract") is not None for _, _, m in got),
          "the announcement is archived, for clients catching up")


harness.main(globals())
