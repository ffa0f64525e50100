"""Issue 6: one client flooding a room (and the service) with joins and leaves does not disturb a
conversation between two others: every message arrives, once, in order, promptly; afterwards the room
holds exactly who it should."""
import asyncio
import time

import harness
from harness import check
from muc_util import MUC, form_values, join, create, presence_from, room_jid, users, wait_received

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
                await asyncio.sleep(0)  # a yield, not a pause: the chat starts meanwhile

    def line(i):
        return lambda m: m.name == "message" and m["type"] == "groupchat" and m["body"] == f"line {i}"

    async def chat():
        # Alice and Bob take turns; each speaks once the room has passed the other's last line on to it.
        # (The room orders what comes from two connections as it arrives: a turn is what keeps the
        # conversation's order, as it does between people.)
        for i in range(MESSAGES):
            speaker, next_speaker = (alice, bob) if i % 2 == 0 else (bob, alice)
            speaker.send_message(mto=room, mbody=f"line {i}", mtype="groupchat")
            await wait_received(next_speaker, line(i), timeout=20)

    t0 = time.monotonic()
    await asyncio.gather(flood(), chat())
    for c in (alice, bob):
        await wait_received(c, line(MESSAGES - 1), timeout=20)
        got = [m["body"] for m in c.received
               if m.name == "message" and m["type"] == "groupchat" and m["body"].startswith("line ")]
        check(got == [f"line {i}" for i in range(MESSAGES)], f"{c.boundjid.bare}: all lines, once, in order")
    elapsed = time.monotonic() - t0
    check(elapsed < 15, f"the conversation was not held up ({elapsed:.1f}s)")
    # Carol's last leave went through: the room is back to two occupants, and answers at once.
    carol.send_presence(pto=f"{room}/Carol-final", ptype="unavailable")
    seen = []

    async def two_left():
        seen.append(form_values(await alice["xep_0030"].get_info(jid=room)))
        return seen[-1]["muc#roominfo_occupants"] == "2"
    await harness.wait_until(two_left, lambda: f"two occupants left (last seen {seen[-1:]})")
    # Alice saw Carol's visits begin and end, the last one included.
    await alice.next_presence(presence_from(room, f"Carol{ROUNDS - 1}x", unavailable=True))
    alice.send_message(mto=room, mbody="still fine?", mtype="groupchat")
    await bob.next_message(lambda m: m["body"] == "still fine?")


harness.main(globals())
