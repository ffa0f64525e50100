"""Issue 12, XEP-0198 stream management with a real client (python3-slixmpp's xep_0198): acks, a TCP
connection cut mid-conversation and resumed with nothing lost or duplicated (the resumed stream may land on
either of the server's two workers: several rounds), and a session left to expire (the server's clock is
a test clock, moved by an admin command instead of waiting five minutes) whose unacknowledged messages are
then found in offline storage with their original time, and whose iq requests are answered with an error."""
import asyncio
import re

import harness
import web_client as wc
from harness import check
from slixmpp.xmlstream import ET

SM = "urn:xmpp:sm:3"

PLUGINS = ["xep_0030", "xep_0198", "xep_0199", "xep_0203"]


async def connect_sm(env, jid, pw, resource):
    loop = asyncio.get_event_loop()
    state = {}

    def setup(cl):
        state["enabled"] = loop.create_future()
        cl.add_event_handler("sm_enabled", lambda _: state["enabled"].done() or state["enabled"].set_result(True))
    c = await env.connect(jid + "/" + resource, pw, PLUGINS, setup=setup)
    await asyncio.wait_for(state["enabled"], 10)
    check(c["xep_0198"].sm_id, "the server allows resumption (an id in <enabled/>)")
    return c


async def cut(env, client):
    """Drops the TCP connection without closing the stream, as a phone changing networks does, and waits
    until the server has noticed and keeps the session for resumption."""
    mark = env.server.log_mark()
    client.transport.abort()
    await env.server.wait_log(f"{client.boundjid} detached, resumable", since=mark)


async def resume(env, client):
    loop = asyncio.get_event_loop()
    resumed = loop.create_future()
    client.add_event_handler("session_resumed", lambda _: resumed.done() or resumed.set_result(True))
    client.connect(("127.0.0.1", env.server.c2s_port))
    await asyncio.wait_for(resumed, 10)


async def test_cut_and_resume_loses_and_repeats_nothing(env):
    a_jid, a_pw = env.user("alice")
    alice = await env.connect(a_jid + "/desk", a_pw)
    bob_jid, bob_pw = env.user("bob")
    bob = await connect_sm(env, bob_jid, bob_pw, "phone")
    received = []
    bob.add_event_handler("message", lambda m: m["body"] and received.append(m["body"]))
    n = 0
    for round_ in range(4):
        # Some messages while connected...
        for _ in range(5):
            n += 1
            alice.send_message(mto=bob.boundjid, mbody=f"m{n}", mtype="chat")
        await bob.next_message(lambda m: m["body"] == f"m{n}")
        # ...then the connection goes, and more arrive while it is away.
        await cut(env, bob)
        for _ in range(5):
            n += 1
            alice.send_message(mto=bob.boundjid, mbody=f"m{n}", mtype="chat")
        await harness.round_trip(alice)  # the server has routed them into bob's detached session
        await resume(env, bob)
        await bob.next_message(lambda m: m["body"] == f"m{n}")
    expected = [f"m{i}" for i in range(1, n + 1)]
    check(received == expected, f"every message once, in order: {received}")


async def test_clean_close_ends_a_resumable_session(env):
    """A client that closes its stream (</stream:stream>) is done: its session is not kept for resumption,
    and a message that arrives next goes to offline storage (XEP-0198 §5)."""
    a_jid, a_pw = env.user("gina")
    gina = await env.connect(a_jid + "/desk", a_pw)
    h_jid, h_pw = env.user("hugo")
    hugo = await connect_sm(env, h_jid, h_pw, "phone")
    full = str(hugo.boundjid)
    mark = env.server.log_mark()
    hugo.disconnect()  # closes the stream cleanly
    log = await env.server.wait_log(f"{full} disconnected", since=mark)
    check(f"{full} detached" not in log, "a cleanly closed session is not kept for resumption")
    gina.send_message(mto=h_jid, mbody="après ton départ", mtype="chat")
    await harness.round_trip(gina)
    hugo2 = await env.connect(h_jid + "/laptop", h_pw, ["xep_0203"])
    m = await hugo2.next_message(lambda m: m["body"] == "après ton départ")
    check(m["delay"]["stamp"] is not None, "delivered from offline storage")


async def test_expired_session_goes_to_offline_storage(env):
    a_jid, a_pw = env.user("carol")
    carol = await env.connect(a_jid + "/desk", a_pw, ["xep_0199"])
    d_jid, d_pw = env.user("dave")
    dave = await connect_sm(env, d_jid, d_pw, "phone")
    full = str(dave.boundjid)
    await cut(env, dave)
    carol.send_message(mto=full, mbody="while you sleep", mtype="chat")
    # An iq to the detached resource: answered once the session is given up.
    ping = asyncio.ensure_future(carol["xep_0199"].send_ping(full, timeout=30))
    await harness.round_trip(carol)
    # Five minutes later (the default window), on the server's test clock.
    mark = env.server.log_mark()
    iq = carol.Iq(stype="set", sto=env.host)
    iq.append(ET.fromstring("<advance xmlns='urn:causerie:testing:clock' seconds='301'/>"))
    await iq.send(timeout=10)
    await env.server.wait_log(f"{full} not resumed within 300s", since=mark)
    try:
        await ping
        raise AssertionError("the ping to an expired session must fail")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "recipient-unavailable", f"iq answered: {e.iq['error']['condition']}")
    # A new session of dave gets the message from offline storage, with the time it first failed.
    dave2 = await env.connect(d_jid + "/laptop", d_pw, ["xep_0203"])
    m = await dave2.next_message(lambda m: m["body"] == "while you sleep")
    check(m["delay"]["stamp"] is not None, "stamped with its original delivery time")


async def ws_authenticated(env, jid, pw):
    """A WebSocket stream authenticated (PLAIN) and restarted, not bound: ready to bind or resume."""
    status, _, ws = await wc.WebSocket.connect(env.server.extra_ports["web"])
    check(status == 101, "upgrade")
    open_ = f"<open xmlns='{wc.FRAMING}' to='{env.host}' version='1.0'/>"
    await ws.send(open_)
    await ws.recv_xml()
    await ws.recv_xml()
    await ws.send(f"<auth xmlns='{wc.SASL}' mechanism='PLAIN'>{wc.plain_auth(jid, pw)}</auth>")
    check((await ws.recv_xml()).tag == wc.q(wc.SASL, "success"), "authenticated")
    await ws.send(open_)
    await ws.recv_xml()
    features = await ws.recv_xml()
    check(features.find(wc.q(SM, "sm")) is not None, "stream management is offered")
    return ws


async def ws_next(ws, tag):
    while True:
        el = await ws.recv_xml()
        if el is None:
            raise AssertionError(f"closed while waiting for {tag}")
        if el.tag == tag:
            return el


async def test_resume_over_websocket(env):
    a_jid, a_pw = env.user("wsender")
    alice = await env.connect(a_jid + "/desk", a_pw)
    jid, pw = env.user("wbob")
    ws = await ws_authenticated(env, jid, pw)
    await ws.send(f"<iq xmlns='{wc.CLIENT}' type='set' id='b'><bind xmlns='{wc.BIND}'><resource>tab</resource></bind></iq>")
    await ws_next(ws, wc.q(wc.CLIENT, "iq"))
    await ws.send(f"<enable xmlns='{SM}' resume='true'/>")
    enabled = await ws_next(ws, wc.q(SM, "enabled"))
    previd = enabled.get("id")
    check(previd and enabled.get("resume") == "true", "resumable")
    full = f"{jid}/tab"
    for i in range(3):
        alice.send_message(mto=full, mbody=f"w{i}", mtype="chat")
    for i in range(3):
        m = await ws_next(ws, wc.q(wc.CLIENT, "message"))
        check(m.findtext(wc.q(wc.CLIENT, "body")) == f"w{i}", "in order")
    # The tab loses its connection (no close frame), having handled the three.
    mark = env.server.log_mark()
    ws.close()
    await env.server.wait_log(f"{full} detached, resumable", since=mark)
    for i in range(3, 5):
        alice.send_message(mto=full, mbody=f"w{i}", mtype="chat")
    await harness.round_trip(alice)
    ws2 = await ws_authenticated(env, jid, pw)
    await ws2.send(f"<resume xmlns='{SM}' previd='{previd}' h='3'/>")
    resumed = await ws_next(ws2, wc.q(SM, "resumed"))
    check(resumed.get("previd") == previd, "resumed the same session")
    got = []
    for _ in range(2):
        m = await ws_next(ws2, wc.q(wc.CLIENT, "message"))
        got.append(m.findtext(wc.q(wc.CLIENT, "body")))
    check(got == ["w3", "w4"], f"only what the tab had not handled, in order: {got}")
    # The resumed stream goes on as the same session.
    alice.send_message(mto=full, mbody="after", mtype="chat")
    m = await ws_next(ws2, wc.q(wc.CLIENT, "message"))
    check(m.findtext(wc.q(wc.CLIENT, "body")) == "after", "live again")
    ws2.close()


async def test_bad_resumptions_fail(env):
    jid, pw = env.user("mallet")
    other, other_pw = env.user("victim")
    victim = await connect_sm(env, other, other_pw, "phone")
    previd = victim["xep_0198"].sm_id
    await cut(env, victim)
    # Another account may not resume it, nor may anyone resume an unknown id.
    ws = await ws_authenticated(env, jid, pw)
    await ws.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
    f = await ws_next(ws, wc.q(SM, "failed"))
    check(f.find(wc.q("urn:ietf:params:xml:ns:xmpp-stanzas", "item-not-found")) is not None,
          "item-not-found for someone else's session")
    await ws.send(f"<resume xmlns='{SM}' previd='nope' h='0'/>")
    await ws_next(ws, wc.q(SM, "failed"))
    # Enabling before binding is refused (XEP-0198 §3); the stream goes on and may bind.
    await ws.send(f"<enable xmlns='{SM}'/>")
    await ws_next(ws, wc.q(SM, "failed"))
    ws.close()
    # The owner resumes it with an impossible h: refused, the session is untouched.
    ws2 = await ws_authenticated(env, other, other_pw)
    await ws2.send(f"<resume xmlns='{SM}' previd='{previd}' h='1000'/>")
    await ws_next(ws2, wc.q(SM, "failed"))
    await ws2.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
    await ws_next(ws2, wc.q(SM, "resumed"))
    ws2.close()


def sm(el, name):
    return el.tag == wc.q(SM, name)


def body_of(el):
    return el.findtext(wc.q(wc.CLIENT, "body")) if el.tag == wc.q(wc.CLIENT, "message") else None


async def bosh_messages(s, count):
    """The bodies of the next `count` messages on BOSH session `s`, and any <r/> seen among them."""
    got, asked = [], 0
    while len(got) < count:
        el = await s.next(lambda e: body_of(e) is not None or sm(e, "r"))
        if sm(el, "r"):
            asked += 1
        else:
            got.append(body_of(el))
    return got, asked


async def tab_says(s, alice, body, expect_h, before=""):
    """BOSH session `s` sends alice a message (after `before`, e.g. an <a/>) and asks for an ack, which
    must count `expect_h` stanzas handled; alice receives the message."""
    await s.request(f"{before}<message xmlns='{wc.CLIENT}' to='{alice.boundjid.bare}' type='chat'>"
                    f"<body>{body}</body></message><r xmlns='{SM}'/>")
    a = await s.next(lambda e: sm(e, "a"))
    check(a.get("h") == expect_h, f"<a h='{expect_h}'/> expected: {ET.tostring(a)}")
    await alice.next_message(lambda m: m["body"] == body)


async def bosh_vanishes(env, s, full, mover):
    """The client behind BOSH session `s` goes away without terminating it: once its last long poll has
    come back it sends nothing more, and the server ends the BOSH session when its inactivity has passed
    on the test clock; the XMPP session stays, detached, waiting to be resumed."""
    await s.stop_polling()
    await s.close()
    mark = env.server.log_mark()
    inactivity = int(s.created.get("inactivity"))
    await harness.advance_clock(mover, inactivity)
    await env.server.wait_log(f"session {s.sid} inactive for {inactivity}s, closing", since=mark)
    await env.server.wait_log(f"{full} detached, resumable", since=mark)


async def test_stream_management_over_bosh(env):
    """XEP-0198 over BOSH (XEP-0206): enable, acks both ways, a BOSH session that times out resumed on a
    new BOSH session and then on TCP, each time with nothing lost or repeated; a terminated BOSH session
    cannot be resumed."""
    a_jid, a_pw = env.user("bsender")
    alice = await env.connect(a_jid + "/desk", a_pw)
    jid, pw = env.user("bbob")
    s = wc.BoshSession(env.server.extra_ports["web"], wait=2)
    full = await s.login(jid, pw, resource="tab")
    s.start_polling()
    await s.request(f"<enable xmlns='{SM}' resume='true'/>")
    enabled = await s.next(lambda e: sm(e, "enabled") or sm(e, "failed"))
    check(sm(enabled, "enabled") and enabled.get("resume") == "true", f"resumable: {ET.tostring(enabled)}")
    previd = enabled.get("id")
    # Acks from the server: 10 messages, an <r/> after the 8th; the client answers it.
    for i in range(10):
        alice.send_message(mto=full, mbody=f"b{i}", mtype="chat")
    got, asked = await bosh_messages(s, 10)
    check(got == [f"b{i}" for i in range(10)], f"in order: {got}")
    check(asked >= 1, "the server asks for an acknowledgement every 8 stanzas")
    await s.request(f"<a xmlns='{SM}' h='8'/>")
    # Acks to the client: the one stanza it sent is counted.
    await tab_says(s, alice, "from the tab", "1")

    # The tab goes away having handled the ten messages (it acknowledged eight); the BOSH session times out.
    await bosh_vanishes(env, s, full, alice)
    for i in range(10, 12):
        alice.send_message(mto=full, mbody=f"b{i}", mtype="chat")
    await harness.round_trip(alice)
    s2 = wc.BoshSession(env.server.extra_ports["web"], wait=2)
    features = await s2.authenticate(jid, pw)
    check(features.find(wc.q(SM, "sm")) is not None, "stream management offered over BOSH")
    s2.start_polling()
    await s2.request(f"<resume xmlns='{SM}' previd='{previd}' h='10'/>")
    resumed = await s2.next(lambda e: sm(e, "resumed") or sm(e, "failed"))
    check(sm(resumed, "resumed") and resumed.get("previd") == previd, f"resumed: {ET.tostring(resumed)}")
    check(resumed.get("h") == "1", f"<resumed h='1'/>: the server handled one stanza: {ET.tostring(resumed)}")
    alice.send_message(mto=full, mbody="live", mtype="chat")
    got, _ = await bosh_messages(s2, 3)
    check(got == ["b10", "b11", "live"], f"only what the tab had not handled, once, then live: {got}")
    # Counting goes on across the resumption.
    await tab_says(s2, alice, "resumed tab", "2", before=f"<a xmlns='{SM}' h='13'/>")

    # Again, and this time the session comes back over TCP.
    await bosh_vanishes(env, s2, full, alice)
    alice.send_message(mto=full, mbody="b13", mtype="chat")
    await harness.round_trip(alice)

    def resume_over_tcp():
        c = harness.RawClient(env.server)
        c.authenticate(jid.split("@")[0], pw)
        c.send(f"<resume xmlns='{SM}' previd='{previd}' h='13'/><r xmlns='{SM}'/>")
        return c, c.read_until("<a xmlns")
    c, text = await harness.in_thread(resume_over_tcp)
    mark = env.server.log_mark()
    try:
        check(f"previd='{previd}'" in text and "h='2'" in text, f"resumed over TCP: {text[-400:]}")
        bodies = re.findall(r"<body>([^<]*)</body>", text)
        check(bodies == ["b13"], f"over TCP, only what was not acknowledged: {bodies}")
    finally:
        c.close()
    await env.server.wait_log(f"{full} detached, resumable", since=mark)

    # A BOSH session the client terminates ends the XMPP session: nothing to resume, messages go offline.
    s3 = wc.BoshSession(env.server.extra_ports["web"], wait=2)
    await s3.authenticate(jid, pw)
    s3.start_polling()
    await s3.request(f"<resume xmlns='{SM}' previd='{previd}' h='14'/>")
    check(sm(await s3.next(lambda e: sm(e, "resumed") or sm(e, "failed")), "resumed"), "resumed once more")
    mark = env.server.log_mark()
    await s3.request(type="terminate")
    await env.server.wait_log(f"{full} disconnected", since=mark)
    await s3.close()
    s4 = wc.BoshSession(env.server.extra_ports["web"], wait=2)
    await s4.authenticate(jid, pw)
    s4.start_polling()
    await s4.request(f"<resume xmlns='{SM}' previd='{previd}' h='14'/>")
    check(sm(await s4.next(lambda e: sm(e, "resumed") or sm(e, "failed")), "failed"),
          "a terminated session is not resumed")
    await s4.stop_polling()
    await s4.close()


if __name__ == "__main__":
    harness.main(globals(), extra_toml="[testing]\nmanual_clock = true", listeners=[("web", "http", "none")])
