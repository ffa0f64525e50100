"""Issue 12, item 4: XEP-0352 client state indication with python3-slixmpp (xep_0352, xep_0085, and
xep_0198 on the phone: the held queue belongs to the session, and what is finally sent is counted for
stream management). While bob's phone says <inactive/>, presence updates (the latest per sender) and
standalone chat states wait; a message with a body, an iq answer, <active/> or a resumed stream sends
them, in order, first.

That something was held (and not merely delivered in the same order) shows in what never arrives: a
presence replaced, while held, by a newer one from the same sender. Alice and carol send bob directed
presence (RFC 6121 §4.6), routed at once like their messages; what the two do is ordered with round
trips: what alice's session hands to bob's is in bob's inbox before alice's next ping is answered."""
import asyncio

import harness
from harness import check, round_trip
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from test_stream_management import cut, resume

CLIENT = "jabber:client"
PLUGINS = ["xep_0030", "xep_0085", "xep_0199"]
PHONE_PLUGINS = ["xep_0030", "xep_0085", "xep_0198", "xep_0199", "xep_0352"]


def inbox(client):
    """Every message and presence the client receives from now on, in one queue, in order."""
    queue = asyncio.Queue()
    for kind in ("message", "presence"):
        client.register_handler(Callback(f"csi test {kind}", MatchXPath(f"{{{CLIENT}}}{kind}"), queue.put_nowait))
    return queue


def describe(st):
    """What a test compares: sender's resource, and the presence show, chat state or body."""
    who = st["from"].resource
    if st.name == "presence":
        return f"{who}:{st['type']}" if st["type"] in ("unavailable",) else f"{who}:{st['show'] or 'available'}"
    if st["body"]:
        return f"{who}:body:{st['body']}"
    return f"{who}:state:{st['chat_state']}"


async def expect(queue, senders, expected):
    """The next len(expected) stanzas from `senders` (full JIDs) are exactly `expected`, in order."""
    got = []
    while len(got) < len(expected):
        st = await harness._next(queue, lambda s: str(s["from"]) in senders, harness.DEFAULT_TIMEOUT)
        got.append(describe(st))
    check(got == expected, f"expected {expected}, got {got}")


async def phone(env, jid, pw):
    """A client with CSI and resumable stream management enabled."""
    loop = asyncio.get_event_loop()
    sm, csi = loop.create_future(), loop.create_future()

    def on_setup(c):
        c.add_event_handler("sm_enabled", lambda _: sm.done() or sm.set_result(True))
        # slixmpp handles the <csi/> stream feature (§3.1) after stream management's.
        c.add_event_handler("csi_enabled", lambda _: csi.done() or csi.set_result(True))
    c = await env.connect(jid + "/phone", pw, PHONE_PLUGINS, setup=on_setup)
    await asyncio.wait_for(sm, harness.DEFAULT_TIMEOUT)
    check(c["xep_0198"].sm_id, "resumable")
    await asyncio.wait_for(csi, harness.DEFAULT_TIMEOUT)
    return c


async def setup(env, names):
    b_jid, b_pw = env.user("bob" + names)
    bob = await phone(env, b_jid, b_pw)
    a_jid, a_pw = env.user("alice" + names)
    alice = await env.connect(a_jid + "/alice", a_pw, PLUGINS)
    c_jid, c_pw = env.user("carol" + names)
    carol = await env.connect(c_jid + "/carol", c_pw, PLUGINS)
    return bob, alice, carol, inbox(bob), {str(alice.boundjid), str(carol.boundjid)}


async def go_inactive(bob):
    bob["xep_0352"].send_inactive()
    await round_trip(bob)  # processed in order: the server knows before the answer comes


async def chat_state(sender, to, state):
    m = sender.make_message(mto=to, mtype="chat")
    m["chat_state"] = state
    m.send()
    await round_trip(sender)


async def show(sender, to, value):
    """Directed presence to `to`, returned once the server has handed it to the recipient's session."""
    sender.send_presence(pto=to, pshow=value)
    await round_trip(sender)


async def test_inactive_holds_until_a_message_with_a_body(env):
    bob, alice, carol, box, senders = await setup(env, "1")
    await go_inactive(bob)
    await show(alice, bob.boundjid, "xa")
    await chat_state(alice, bob.boundjid, "composing")
    await show(alice, bob.boundjid, "away")  # replaces "xa", after the chat state
    await show(carol, bob.boundjid, "dnd")
    await show(carol, bob.boundjid, "chat")
    alice.send_message(mto=bob.boundjid, mbody="wake up", mtype="chat")
    await expect(box, senders, ["alice:state:composing", "alice:away", "carol:chat", "alice:body:wake up"])


async def test_active_sends_what_was_held_and_then_nothing_waits(env):
    bob, alice, carol, box, senders = await setup(env, "2")
    await go_inactive(bob)
    await show(carol, bob.boundjid, "xa")
    await chat_state(alice, bob.boundjid, "composing")
    await show(carol, bob.boundjid, "away")
    bob["xep_0352"].send_active()
    await expect(box, senders, ["alice:state:composing", "carol:away"])
    # Active: each goes out as it comes, the first presence too.
    await show(carol, bob.boundjid, "dnd")
    await chat_state(alice, bob.boundjid, "paused")
    await show(carol, bob.boundjid, "chat")
    await expect(box, senders, ["carol:dnd", "alice:state:paused", "carol:chat"])


async def test_an_iq_answer_sends_what_was_held_first(env):
    bob, alice, carol, box, senders = await setup(env, "3")
    await go_inactive(bob)
    await show(carol, bob.boundjid, "xa")
    await show(carol, bob.boundjid, "away")
    await round_trip(bob)  # the pong goes out after the held presence
    held = [describe(s) for s in harness.queued(box) if str(s["from"]) in senders]
    check(held == ["carol:away"], f"the held presence arrived before the answer: {held}")


async def test_resumed_stream_starts_active(env):
    """§4.2: the state is not restored on resumption. What the detached session held goes out on the
    resumed stream, and stream management keeps counting right: more messages, acknowledged as they
    go, keep the stream up."""
    bob, alice, carol, box, senders = await setup(env, "4")
    await go_inactive(bob)
    await show(carol, bob.boundjid, "xa")
    await cut(env, bob)
    await show(carol, bob.boundjid, "away")
    await resume(env, bob)
    await expect(box, senders, ["carol:away"])
    for i in range(20):  # past the server's <r/> every 8 stanzas
        alice.send_message(mto=bob.boundjid, mbody=f"m{i}", mtype="chat")
    await expect(box, senders, [f"alice:body:m{i}" for i in range(20)])
    await round_trip(bob)


if __name__ == "__main__":
    harness.main(globals())
