"""Issue 6: one client flooding a room (and the service) with joins and leaves does not disturb a
conversation between two others: every message arrives, once, in order, promptly; afterwards the room
holds exactly who it should."""
import asyncio
import time

import harness
from harness import check
from muc_util import MUC, form_values, join, create, presence_from, room_jid, users

ROUNDS = 300
MESSAGES = 60


async def test_join_leave_flood_does_not_disturb_a_chat(env):
    alice, bob, carol = await users(env, "f_alice", "f_bob", "f_carol")
    room = room_jid(env, "calm")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")

    async def flood():
        # Raw presences as fast as the socket takes them: join, change nick, leave; and the same on
        # rooms of their own, which are created (locked) and destroyed each time.
        for i in range(ROUNDS):
            carol.send_raw(f"<presence to='{room}/Carol{i}'><x xmlns='{MUC}'/></presence>")
            carol.send_raw(f"<presence to='{room}/Carol{i}x'/>")
            carol.send_raw(f"<presence to='{room}/Carol{i}x' type='unavailable'/>")
            other = room_jid(env, f"churn{i % 20}")
            carol.send_raw(f"<presence to='{other}/C'><x xmlns='{MUC}'/></presence>")
            carol.send_raw(f"<presence to='{other}/C' type='unavailable'/>")
            if i % 25 == 0:
                await asyncio.sleep(0)

    async def chat():
        for i in range(MESSAGES):
            (alice if i % 2 == 0 else bob).send_message(mto=room, mbody=f"line {i}", mtype="groupchat")
            await asyncio.sleep(0.005)

    t0 = time.monotonic()
    await asyncio.gather(flood(), chat())
    for c in (alice, bob):
        got = []
        while len(got) < MESSAGES:
            m = await c.next_message(lambda m: m["type"] == "groupchat" and m["body"].startswith("line "),
                                     timeout=20)
            got.append(m["body"])
        check(got == [f"line {i}" for i in range(MESSAGES)], f"{c.boundjid.bare}: all lines, in order")
    elapsed = time.monotonic() - t0
    check(elapsed < 15, f"the conversation was not held up ({elapsed:.1f}s)")
    # Carol's last leave went through: the room is back to two occupants, and answers at once.
    carol.send_presence(pto=f"{room}/Carol-final", ptype="unavailable")
    for _ in range(100):
        info = await alice["xep_0030"].get_info(jid=room)
        if form_values(info)["muc#roominfo_occupants"] == "2":
            break
        await asyncio.sleep(0.1)
    check(form_values(info)["muc#roominfo_occupants"] == "2", f"two occupants left, got {form_values(info)}")
    # Alice saw Carol's visits begin and end, the last one included.
    await alice.next_presence(presence_from(room, f"Carol{ROUNDS - 1}x", unavailable=True))
    alice.send_message(mto=room, mbody="still fine?", mtype="groupchat")
    await bob.next_message(lambda m: m["body"] == "still fine?")


harness.main(globals())
