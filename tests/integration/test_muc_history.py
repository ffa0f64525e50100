"""Issue 6, XEP-0045 discussion history and persistence with python3-slixmpp against the real server:
history on join with maxstanzas / maxchars / seconds / since and the room's own limit, subject after
history; persistent rooms (configuration, affiliations, subject, history) survive a restart, occupants
are told of the shutdown (332), temporary rooms do not survive."""
import datetime

import harness
from harness import check
from muc_util import (DELAY, codes, item, form_values, join, join_error, create, configure, leave, admin_iq,
                      admin_list, presence_from, room_jid, users, connect)


async def history_of(client, room, nick, **kw):
    _, subject, _, history = await join(client, room, nick, **kw)
    await leave(client, room, nick)
    return [m["body"] for m in history], subject


async def test_history_limits(env):
    alice, bob = await users(env, "h_alice", "h_bob")
    room = room_jid(env, "hist")
    await create(alice, room, "Alice")
    alice["xep_0045"].set_subject(room, "Chatter")
    # Every message about 1300 characters as sent (1000 in the body), so maxchars counts whole stanzas.
    old = [("x" * 1000) + f" old {i}" for i in range(3)]
    for body in old:
        alice.send_message(mto=room, mbody=body, mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == old[2])
    # 'seconds' is counted by the room's clock, the server's test clock: the old messages are 0 s old
    # until it moves 3 s, and then out of a two-second window, which the new ones fall in.
    got, _ = await history_of(bob, room, "Bob", seconds=2)
    check(got == old, f"seconds=2 before the clock moves: {len(got)}")
    await harness.advance_clock(alice, 3)
    got, _ = await history_of(bob, room, "Bob", seconds=2)
    check(got == [], f"seconds=2, 3 s later: {len(got)}")
    got, _ = await history_of(bob, room, "Bob", seconds=4)
    check(got == old, f"seconds=4, 3 s later: {len(got)}")
    # 'since' between the old messages' time (their delay stamp) and now, by the same clock.
    _, _, _, history = await join(bob, room, "Bob", maxstanzas=1)
    await leave(bob, room, "Bob")
    since = history[0]["delay"]["stamp"] + datetime.timedelta(seconds=2)
    for i in range(2):
        alice.send_message(mto=room, mbody=("x" * 1000) + f" new {i}", mtype="groupchat")
    await alice.next_message(lambda m: m["body"].endswith("new 1"))
    new = [("x" * 1000) + " new 0", ("x" * 1000) + " new 1"]
    got, _ = await history_of(bob, room, "Bob", seconds=2)
    check(got == new, f"seconds=2: {len(got)}")

    everything, subject = await history_of(bob, room, "Bob")
    check(everything == old + new, f"all history by default: {len(everything)}")
    check(subject["subject"] == "Chatter", "the subject comes after the history")
    got, _ = await history_of(bob, room, "Bob", maxstanzas=2)
    check(got == new, f"maxstanzas=2: {got}")
    got, _ = await history_of(bob, room, "Bob", maxchars=0)
    check(got == [], f"maxchars=0: {got}")
    got, _ = await history_of(bob, room, "Bob", maxchars=3000)
    check(got == new, f"maxchars=3000 fits the two long ones, whole stanzas only: {len(got)}")
    got, _ = await history_of(bob, room, "Bob", since=since)
    check(got == new, f"since: {len(got)}")
    # History stanzas are stamped by the room (§7.2.14).
    _, _, _, history = await join(bob, room, "Bob", maxstanzas=1)
    check(history[0].xml.find(f"{{{DELAY}}}delay").get("from") == room, "delay from the room")
    await leave(bob, room, "Bob")
    # The room's own limit (muc#maxhistoryfetch).
    await configure(alice, room, {"muc#maxhistoryfetch": "4"})
    got, _ = await history_of(bob, room, "Bob")
    check(len(got) == 4, f"maxhistoryfetch=4: {len(got)}")
    got, _ = await history_of(bob, room, "Bob", maxstanzas=10)
    check(len(got) == 4, f"the room's limit wins over a larger request: {len(got)}")


async def test_restart_keeps_persistent_rooms(env):
    alice, bob, carol, eve = await users(env, "r_alice", "r_bob", "r_carol", "r_eve")
    kept, temp = room_jid(env, "kept"), room_jid(env, "passing")
    await create(alice, kept, "Alice", {"muc#roomconfig_persistentroom": True, "muc#roomconfig_roomname": "Kept",
                                        "muc#roomconfig_passwordprotectedroom": True,
                                        "muc#roomconfig_roomsecret": "pw", "muc#roomconfig_whois": "anyone"})
    await create(alice, temp, "Alice")
    await admin_iq(alice, kept, [{"affiliation": "member", "jid": bob.boundjid.bare, "nick": "Bobby"},
                                 {"affiliation": "admin", "jid": carol.boundjid.bare},
                                 {"affiliation": "outcast", "jid": eve.boundjid.bare, "reason": "spam"}])
    alice["xep_0045"].set_subject(kept, "Survives")
    for i in range(3):
        alice.send_message(mto=kept, mbody=f"before restart {i}", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "before restart 2")

    # §12.2: the occupants hear of the shutdown (332) before the connection closes.
    env.server.stop()
    p = await alice.next_presence(lambda p: p["from"] == f"{kept}/Alice" and 332 in codes(p))
    check(110 in codes(p) and p["type"] == "unavailable", f"332 self-presence: {codes(p)}")
    env.server.start()

    jid = alice.boundjid.bare
    a2 = await connect(env, jid + "/again", "pw-" + "x" * 8)
    b2 = await connect(env, bob.boundjid.bare + "/again", "pw-" + "x" * 8)
    e2 = await connect(env, eve.boundjid.bare + "/again", "pw-" + "x" * 8)
    info = await b2["xep_0030"].get_info(jid=kept)
    check(("conference", "text", None, "Kept") in info["disco_info"]["identities"], "configuration kept")
    check("muc_passwordprotected" in info["disco_info"]["features"], "still password-protected")
    check(await join_error(b2, kept, "Bobby") == "not-authorized", "still needs the password")
    pres, subject, occupants, history = await join(b2, kept, "Bobby", password="pw")
    check(item(pres)["affiliation"] == "member", "membership kept")
    check(100 in codes(pres), "still non-anonymous")
    check(subject["subject"] == "Survives", "subject kept")
    check([m["body"] for m in history] == [f"before restart {i}" for i in range(3)], "history kept")
    check(await join_error(e2, kept, "Eve", password="pw") == "forbidden", "ban kept")
    pres, *_ = await join(a2, kept, "Alice", password="pw")
    check(item(pres)["affiliation"] == "owner", "ownership kept")
    admins = await admin_list(a2, kept, affiliation="admin")
    check([a["jid"] for a in admins] == [carol.boundjid.bare], f"admins kept: {admins}")
    bans = await admin_list(a2, kept, affiliation="outcast")
    check(bans and bans[0]["jid"] == eve.boundjid.bare, f"ban list kept: {bans}")
    # The temporary room did not survive.
    err = None
    try:
        await b2["xep_0030"].get_info(jid=temp)
    except harness.IqError as e:
        err = e.condition
    check(err == "item-not-found", f"temporary room gone after restart: {err}")


harness.main(globals(), extra_toml=harness.MANUAL_CLOCK)
