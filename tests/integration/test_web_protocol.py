"""Issue 5: the HTTP listener at the protocol level, with the small stdlib clients of web_client.py —
WebSocket framing (RFC 7395) and its errors, an oversized message, BOSH (XEP-0124/0206) rid ordering,
retransmission and the window, inactivity clean-up, 200 concurrent BOSH sessions, host-meta (XEP-0156),
CORS, security headers and the HTTP limits."""
import asyncio
import json
import time
import xml.etree.ElementTree as ET

import harness
from harness import check
from web_client import (BIND, CLIENT, FRAMING, HTTPBIND, SASL, STREAMS, BoshSession, HttpConnection, WebSocket,
                        plain_auth, q, ws_login)

STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
INACTIVITY = 3  # seconds: [http] bosh_inactivity for this server, on its test clock


def web(env):
    return env.server.extra_ports["web"]


def stream_error_condition(el):
    check(el.tag in (q(STREAMS, "error"),), f"expected a stream error, got {ET.tostring(el)}")
    return [c.tag.split("}")[1] for c in el if c.tag.startswith("{" + STREAM_ERRORS) and not c.tag.endswith("text")][0]


async def test_websocket_session_talks_to_a_tcp_client(env):
    a_jid, a_pw = env.user("wsalice")
    b_jid, b_pw = env.user("tcpbob")
    tcp = await env.connect(b_jid + "/tcp", b_pw)
    status, headers, ws = await WebSocket.connect(web(env))
    check(status == 101 and headers.get("sec-websocket-protocol") == "xmpp", f"upgrade: {status} {headers}")
    check(headers.get("x-content-type-options") == "nosniff", "security headers on the upgrade response")
    ws.close()
    mark = env.server.log_mark()
    ws, full = await ws_login(web(env), a_jid, a_pw)
    check(full == a_jid + "/ws", f"bound {full}")
    # Quiet for a whole sweep period (2 s), the session's parser gives its memory back (its log line is
    # the sign), and wakes for the next message.
    await env.server.wait_log(f": {full} quiet, parser released", since=mark, timeout=20)
    await ws.send(f"<message xmlns='{CLIENT}' to='{b_jid}/tcp' type='chat'><body>over a WebSocket</body></message>")
    m = await tcp.next_message(lambda m: m["body"] == "over a WebSocket")
    check(str(m["from"]) == full, "from stamped with the WebSocket session's JID")
    tcp.send_message(mto=full, mbody="back over TCP", mtype="chat")
    el = await ws.recv_xml()
    check(el.tag == q(CLIENT, "message") and el.findtext(q(CLIENT, "body")) == "back over TCP",
          f"each stanza is a standalone jabber:client element: {ET.tostring(el)}")
    # RFC 7395 §3.6: <close/> is answered with <close/>, then the WebSocket closing handshake.
    await ws.send(f"<close xmlns='{FRAMING}'/>")
    rest, code = await ws.recv_until_closed()
    check([e.tag for e in rest] == [q(FRAMING, "close")] and code == 1000, f"close: {rest} {code}")
    ws.close()


async def test_websocket_stream_features_have_no_starttls(env):
    status, _, ws = await WebSocket.connect(web(env))
    await ws.send(f"<open xmlns='{FRAMING}' to='{env.host}' version='1.0'/>")
    opened = await ws.recv_xml()
    check(opened.tag == q(FRAMING, "open") and opened.get("from") == env.host and opened.get("id"), "open answered")
    features = await ws.recv_xml()
    check(features.tag == q(STREAMS, "features"), "features carry their stream prefix declaration")
    check(features.find("{urn:ietf:params:xml:ns:xmpp-tls}starttls") is None, "no STARTTLS (RFC 7395 §3.9)")
    # WebSocket pings are answered (RFC 6455 §5.5.2), with the same application data.
    ws.send_frame(0x9, b"are you there")
    await ws.writer.drain()
    op, fin, data = await ws.recv_frame()
    check(op == 0xA and data == b"are you there", f"pong: {op} {data}")
    ws.close()
    # Over wss://, SCRAM -PLUS is offered with the TLS connection's channel bindings (XEP-0440).
    import ssl
    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    status, headers, ws = await WebSocket.connect(env.server.extra_ports["webtls"], ssl=ctx)
    check(status == 101 and headers.get("strict-transport-security"), f"wss upgrade: {status}")
    await ws.send(f"<open xmlns='{FRAMING}' to='{env.host}' version='1.0'/>")
    await ws.recv_xml()
    features = await ws.recv_xml()
    mechs = [m.text for m in features.iter(q(SASL, "mechanism"))]
    check("SCRAM-SHA-256-PLUS" in mechs and "PLAIN" in mechs, f"mechanisms over wss: {mechs}")
    bindings = [c.get("type") for c in features.iter("{urn:xmpp:sasl-cb:0}channel-binding")]
    check("tls-exporter" in bindings or "tls-server-end-point" in bindings, f"channel bindings: {bindings}")
    ws.close()


async def framing_case(env, messages, expect_condition, expect_code, binary=False):
    jid, pw = env.framing_user
    ws, _ = await ws_login(web(env), jid, pw)
    for m in messages:
        if binary:
            ws.send_frame(0x2, m)
            await ws.writer.drain()
        else:
            await ws.send(m)
    got, code = await ws.recv_until_closed()
    tags = [e.tag for e in got]
    check(tags[-2:] == [q(STREAMS, "error"), q(FRAMING, "close")], f"error then <close/>, got {tags}")
    cond = stream_error_condition(got[-2])
    check(cond == expect_condition, f"condition {cond}, expected {expect_condition}")
    check(code == expect_code, f"WebSocket close code {code}, expected {expect_code}")
    ws.close()


async def test_websocket_framing_errors(env):
    env.framing_user = env.user("framer")
    iq = f"<iq xmlns='{CLIENT}' type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>"
    # Two elements in one message, half an element, text before the element (RFC 7395 §3.3.3).
    await framing_case(env, [iq + iq], "bad-format", 1002)
    await framing_case(env, [f"<iq xmlns='{CLIENT}' type='get' id='x'>"], "bad-format", 1002)
    await framing_case(env, [" " + iq], "bad-format", 1002)
    # Not XML at all, and a binary message (RFC 7395 §3.2).
    await framing_case(env, ["<iq <<"], "not-well-formed", 1000)
    await framing_case(env, [iq.encode()], "bad-format", 1002, binary=True)
    # <open/> outside the framing namespace (RFC 7395 §3.3.2).
    status, _, ws = await WebSocket.connect(web(env))
    await ws.send(f"<open xmlns='jabber:client' to='{env.host}' version='1.0'/>")
    got, code = await ws.recv_until_closed()
    check([e.tag for e in got][:1] == [q(FRAMING, "open")], "the error follows an <open/> (RFC 7395 §3.5)")
    check(stream_error_condition(got[1]) == "invalid-namespace", f"got {[ET.tostring(e) for e in got]}")
    ws.close()
    # Without the 'xmpp' subprotocol there is no XMPP WebSocket (RFC 7395 §3.1).
    status, _, ws = await WebSocket.connect(web(env), protocol="chat, superchat")
    check(status == 400 and ws is None, f"no subprotocol: HTTP {status}")
    # A plain GET on the endpoint is told to upgrade.
    c = await HttpConnection.open(web(env))
    status, headers, _ = await c.request("GET", "/xmpp-websocket")
    check(status == 426, f"GET without upgrade: {status}")
    c.close()


async def test_websocket_one_mebibyte_message_refused(env):
    jid, pw = env.user("bigsender")
    ws, full = await ws_login(web(env), jid, pw)
    body = "x" * (1 << 20)
    t0 = time.monotonic()
    try:
        await ws.send(f"<message xmlns='{CLIENT}' to='{jid}'><body>{body}</body></message>")
    except ConnectionError:
        pass  # the server may stop reading once it has refused the message
    got, code = await ws.recv_until_closed(timeout=15)
    tags = [e.tag for e in got]
    check(tags[-2:] == [q(STREAMS, "error"), q(FRAMING, "close")], f"got {tags}")
    check(stream_error_condition(got[-2]) == "policy-violation", "policy-violation for an oversized stanza")
    check(code == 1009, f"close code 1009 (message too big), got {code}")
    check(time.monotonic() - t0 < 10, "refused promptly")
    ws.close()


async def test_websocket_see_other_uri(env):
    # A server told to send WebSocket clients elsewhere answers <open/> with <close see-other-uri/>
    # (RFC 7395 §3.6.1) and closes.
    import os
    import tempfile
    workdir = tempfile.mkdtemp(prefix="causerie-it-redirect-")
    other = harness.Server(env.server.binary, workdir, os.path.join(env.output, "redirect-server.log"),
                           listeners=[("web", "http", "none")],
                           extra_toml='[http]\nwebsocket_see_other_uri = "wss://otherendpoint.example/xmpp-bind"')
    other.start()
    try:
        status, _, ws = await WebSocket.connect(other.extra_ports["web"])
        await ws.send(f"<open xmlns='{FRAMING}' to='{env.host}' version='1.0'/>")
        got, code = await ws.recv_until_closed()
        check(len(got) == 1 and got[0].tag == q(FRAMING, "close"), f"got {[ET.tostring(e) for e in got]}")
        check(got[0].get("see-other-uri") == "wss://otherendpoint.example/xmpp-bind", "see-other-uri")
        check(code == 1000, f"close code {code}")
        ws.close()
    finally:
        other.stop()


async def burst_with_ping(ws, n):
    """Sends n iq pings in one TCP write with a WebSocket ping frame in the middle; returns the ids of the
    results in arrival order and whether the pong came."""
    for i in range(n):
        ws.send_frame(0x1, f"<iq xmlns='{CLIENT}' type='get' id='p{i}'><ping xmlns='urn:xmpp:ping'/></iq>")
        if i == n // 2:
            ws.send_frame(0x9, b"still there?")
    await ws.writer.drain()
    ids, pong = [], False
    while len(ids) < n:
        op, fin, data = await ws.recv_frame()
        if op == 0xA:
            pong = data == b"still there?"
            continue
        check(op == 0x1 and fin, f"one text frame a message, got opcode {op} fin {fin}")
        el = ET.fromstring(data.decode())  # each message is one whole element
        check(el.tag == q(CLIENT, "iq") and el.get("type") == "result", f"got {data!r}")
        ids.append(el.get("id"))
    return ids, pong


async def test_websocket_burst_keeps_order_beside_control_frames(env):
    # Answers to many stanzas of one read leave in one write, still one message each (RFC 7395 §3.3.3),
    # in order, and Beast's pong travels in the same buffer: plain and over TLS.
    import ssl
    jid, pw = env.user("burster")
    ws, _ = await ws_login(web(env), jid, pw)
    ids, pong = await burst_with_ping(ws, 200)
    check(ids == [f"p{i}" for i in range(200)], f"results out of order: {ids[:10]}...")
    check(pong, "the ping was answered")
    await ws.send(f"<close xmlns='{FRAMING}'/>")
    rest, code = await ws.recv_until_closed()
    check([e.tag for e in rest] == [q(FRAMING, "close")] and code == 1000, f"close: {rest} {code}")
    ws.close()

    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    status, _, ws = await WebSocket.connect(env.server.extra_ports["webtls"], ssl=ctx)
    check(status == 101, f"wss upgrade: {status}")
    open_ = f"<open xmlns='{FRAMING}' to='{env.host}' version='1.0'/>"
    await ws.send(open_)
    await ws.recv_xml()
    await ws.recv_xml()
    await ws.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain_auth(jid, pw)}</auth>")
    check((await ws.recv_xml()).tag == q(SASL, "success"), "PLAIN over wss")
    await ws.send(open_)
    await ws.recv_xml()
    await ws.recv_xml()
    await ws.send(f"<iq xmlns='{CLIENT}' type='set' id='b1'><bind xmlns='{BIND}'/></iq>")
    await ws.recv_xml()
    ids, pong = await burst_with_ping(ws, 200)
    check(ids == [f"p{i}" for i in range(200)] and pong, "order and pong over wss")
    # The client closes the WebSocket: Beast's answering close frame goes out before the TLS shutdown.
    ws.send_frame(0x8, b"\x03\xe8")
    await ws.writer.drain()
    op, _, data = await ws.recv_frame()
    check(op == 0x8 and data[:2] == b"\x03\xe8", f"close answered: {op} {data!r}")
    ws.close()


async def test_websocket_client_that_stops_reading_is_disconnected(env):
    # DESIGN §1 back-pressure: what waits in the connection's output buffer counts against
    # limits.output_queue (8 MiB here). The client sends itself 40 MB and reads nothing.
    jid, pw = env.user("nonreader")
    ws, full = await ws_login(web(env), jid, pw)
    body = "y" * 100_000
    stanza = f"<message xmlns='{CLIENT}' to='{full}' type='chat'><body>{body}</body></message>"
    mark = env.server.log_mark()
    cut = False
    try:
        for _ in range(400):
            await asyncio.wait_for(ws.send(stanza), 10)
    except (ConnectionError, asyncio.TimeoutError):
        cut = True
    await env.server.wait_log("output queue over", since=mark,
                              what=f"the server to disconnect the session for its output queue (send cut: {cut})")
    ws.close()


async def test_bosh_session_creation_and_features(env):
    s = BoshSession(web(env))
    created = await s.connect()
    for attr in ("sid", "wait", "requests", "hold", "inactivity", "polling", "ver", "from", "authid"):
        check(created.get(attr), f"session creation response has '{attr}'")
    check(created.get("requests") == "2" and created.get("hold") == "1", "requests = hold + 1")
    check(created.get(f"{{{'urn:xmpp:xbosh'}}}version") == "1.0", "xmpp:version")
    features = created.find(q(STREAMS, "features"))
    check(features is not None and "PLAIN" in [m.text for m in features.iter(q(SASL, "mechanism"))],
          "features in the creation response")
    # An unknown sid is item-not-found (XEP-0124 §14.2), a malformed wrapper bad-request.
    c = await HttpConnection.open(web(env))
    _, _, data = await c.request("POST", "/http-bind", f"<body xmlns='{HTTPBIND}' sid='nope' rid='5'/>")
    el = ET.fromstring(data)
    check(el.get("type") == "terminate" and el.get("condition") == "item-not-found", data)
    _, _, data = await c.request("POST", "/http-bind", "<body xmlns='wrong'/>")
    check(ET.fromstring(data).get("condition") == "bad-request", data)
    status, headers, _ = await c.request("GET", "/http-bind")
    check(status == 405 and "POST" in headers.get("allow", ""), "GET on BOSH is 405 with Allow")
    c.close()
    await s.request(type="terminate")
    await s.close()
    # A client that asks for acknowledgements gets them (XEP-0124 §9): the creation response acks its rid.
    c = await HttpConnection.open(web(env))
    _, _, data = await c.request("POST", "/http-bind", (
        f"<body xmlns='{HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='4242' to='{env.host}' wait='5' hold='1' "
        f"ack='1' ver='1.11' xmpp:version='1.0'/>"))
    check(ET.fromstring(data).get("ack") == "4242", f"ack: {data}")
    # And a session for a host we do not serve ends at once, the stream error inside (XEP-0206 §8).
    _, _, data = await c.request("POST", "/http-bind", (
        f"<body xmlns='{HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='99' to='elsewhere.example' wait='5' hold='1' "
        f"ver='1.11' xmpp:version='1.0'/>"))
    el = ET.fromstring(data)
    check(el.get("type") == "terminate" and el.get("condition") == "remote-stream-error", f"{data}")
    check(stream_error_condition(el.find(q(STREAMS, "error"))) == "host-unknown", f"{data}")
    c.close()


async def test_bosh_out_of_order_and_replayed_rid(env):
    a_jid, a_pw = env.user("boshorder")
    b_jid, b_pw = env.user("tcporder")
    tcp = await env.connect(b_jid + "/tcp", b_pw)
    s = BoshSession(web(env), wait=5)
    full = await s.login(a_jid, a_pw)
    c1, c2 = await HttpConnection.open(web(env)), await HttpConnection.open(web(env))
    base = s.rid
    msg = lambda n: f"<message xmlns='{CLIENT}' to='{b_jid}/tcp' type='chat'><body>m{n}</body></message>"
    # rid base+2 arrives before base+1: it waits for the gap, then both are processed in rid order.
    mark = env.server.log_mark()
    later = asyncio.ensure_future(c2.request("POST", "/http-bind", s.body(msg(2), rid=base + 2)))
    await env.server.wait_log(f"session {s.sid} holds rid {base + 2} until rid {base + 1}", since=mark)
    check(not later.done(), "an early rid is held until the gap is filled")
    first = await c1.request("POST", "/http-bind", s.body(msg(1), rid=base + 1))
    m1 = await tcp.next_message(lambda m: m["body"].startswith("m"))
    m2 = await tcp.next_message(lambda m: m["body"].startswith("m"))
    check((m1["body"], m2["body"]) == ("m1", "m2"), f"payloads forwarded in rid order: {m1['body']}, {m2['body']}")
    check(first[0] == 200, "answered")
    # Something for the session, so that the held request is answered with a payload.
    tcp.send_message(mto=full, mbody="reply-1", mtype="chat")
    second = await asyncio.wait_for(later, 10)
    answered = second[2]
    check(b"reply-1" in answered, f"the early request was held, then answered with what came: {answered!r}")
    # A replayed rid gets the very same response again (XEP-0124 §14.3).
    tcp.drain()
    status, _, again = await c1.request("POST", "/http-bind", s.body(msg(2), rid=base + 2))
    check(again == answered, f"retransmission: {again!r} vs {answered!r}")
    # The replay did not deliver the payload a second time: the next request's payload, sent after it by
    # the same session, arrives with nothing before it.
    third = asyncio.ensure_future(c1.request("POST", "/http-bind", s.body(msg(3), rid=base + 3)))  # then held
    await tcp.next_message(lambda m: m["body"] == "m3", refuse=lambda m: m["body"] == "m2")
    # A rid beyond the window ends the session with item-not-found (§14.2), and the held request is answered.
    _, _, data = await c2.request("POST", "/http-bind", s.body("", rid=base + 11))
    el = ET.fromstring(data)
    check(el.get("type") == "terminate" and el.get("condition") == "item-not-found", f"outside the window: {data}")
    await asyncio.wait_for(third, 10)
    _, _, data = await c2.request("POST", "/http-bind", s.body("", rid=base + 4))
    check(ET.fromstring(data).get("condition") == "item-not-found", "the session is gone")
    c1.close()
    c2.close()
    await s.close()


async def test_bosh_abandoned_session_cleaned_up(env):
    a_jid, a_pw = env.user("watcher")
    b_jid, b_pw = env.user("leaver")
    watcher = await env.connect(a_jid + "/w", a_pw, ["xep_0199"])
    s = BoshSession(web(env), wait=2)
    full = await s.login(b_jid, b_pw)
    s.start_polling()

    async def answer_ping():
        iq = await s.next(lambda e: e.tag == q(CLIENT, "iq") and e.get("type") == "get")
        await s.request(f"<iq xmlns='{CLIENT}' type='result' id='{iq.get('id')}' to='{iq.get('from')}'/>")
    answering = asyncio.ensure_future(answer_ping())
    await watcher["xep_0199"].send_ping(full, timeout=5)  # the session is alive and answers
    await answering
    # The client vanishes: no terminate, no more requests once the poll in flight has come back (the
    # server then holds none, and counts its inactivity from that answer).
    await s.stop_polling()
    await s.close()
    mark = env.server.log_mark()
    # While the session waits for its client, a ping to it goes unanswered (it waits in the session's
    # queue); once the server has freed the session (inactivity, XEP-0124 §10: its log says so), the
    # resource is gone and a ping bounces at once. The inactivity is timed by the server's clock, a test
    # clock here: nothing happens until it has moved INACTIVITY seconds.
    waiting = asyncio.ensure_future(watcher["xep_0199"].send_ping(full, timeout=30))
    waiting.add_done_callback(lambda f: f.cancelled() or f.exception())  # it times out after this test
    await harness.advance_clock(watcher, INACTIVITY - 1)  # answered after every worker has swept
    check(f"session {s.sid} inactive" not in env.server.log_since(mark), "freed before its inactivity")
    await harness.advance_clock(watcher, 1)
    await env.server.wait_log(f"session {s.sid} inactive for {INACTIVITY}s, closing", since=mark)
    await env.server.wait_log(f": {full} disconnected", since=mark)
    try:
        await watcher["xep_0199"].send_ping(full, timeout=5)
        raise AssertionError("nobody should answer this ping")
    except harness.IqError as e:
        check(e.condition == "service-unavailable", f"bounce: {e.condition}")
    check(not waiting.done() or waiting.exception() is not None,
          "the ping sent while the session waited for its client got no answer")
    c = await HttpConnection.open(web(env))
    _, _, data = await c.request("POST", "/http-bind", s.body(""))
    check(ET.fromstring(data).get("condition") == "item-not-found", f"the sid no longer exists: {data}")
    c.close()


async def test_bosh_pause_and_terminate(env):
    jid, pw = env.user("pauser")
    s = BoshSession(web(env), wait=5)
    await s.login(jid, pw)
    check(s.created.get("maxpause"), "maxpause advertised")
    resp = await s.request(pause="1")
    check(len(resp) == 0 and resp.get("type") is None, "a pause request is answered at once, empty")
    resp = await s.request(f"<presence xmlns='{CLIENT}' type='unavailable'/>", type="terminate")
    check(resp.get("type") == "terminate", f"terminate acknowledged: {ET.tostring(resp)}")
    await s.close()


async def test_bosh_payload_over_stanza_limit_ends_session(env):
    jid, pw = env.user("boshbig")
    s = BoshSession(web(env), wait=5)
    await s.login(jid, pw)
    big = "y" * (300 * 1024)  # over limits.max_stanza_size (256 KiB), under http.max_body_size
    resp = await s.request(f"<message xmlns='{CLIENT}' to='{jid}'><body>{big}</body></message>")
    check(resp.get("type") == "terminate" and resp.get("condition") == "policy-violation", ET.tostring(resp)[:200])
    resp = await s.request()
    check(resp.get("condition") == "item-not-found", "the session ended")
    await s.close()


async def test_200_concurrent_bosh_sessions(env):
    n = 200
    users = [env.user(f"many{i:03d}", "pw-many") for i in range(n)]
    sessions = [BoshSession(web(env), wait=10) for _ in range(n)]
    t0 = time.monotonic()
    fulls = await asyncio.gather(*(s.login(jid, pw) for s, (jid, pw) in zip(sessions, users)))
    login_time = time.monotonic() - t0
    for s in sessions:
        s.start_polling()
    # Each session sends one message to the next one round the ring; each must receive exactly its own.
    t1 = time.monotonic()
    await asyncio.gather(*(
        s.request(f"<message xmlns='{CLIENT}' to='{fulls[(i + 1) % n]}' type='chat'><body>ring {i}</body></message>")
        for i, s in enumerate(sessions)))
    got = await asyncio.gather(*(
        s.next(lambda e: e.tag == q(CLIENT, "message"), timeout=30) for s in sessions))
    exchange_time = time.monotonic() - t1
    for i, m in enumerate(got):
        expect = f"ring {(i - 1) % n}"
        check(m.findtext(q(CLIENT, "body")) == expect and m.get("from") == fulls[(i - 1) % n],
              f"session {i} got {ET.tostring(m)}")
    print(f"  200 BOSH sessions: logged in in {login_time:.1f}s, ring of messages in {exchange_time:.1f}s")
    await asyncio.gather(*(s.request(type="terminate") for s in sessions), return_exceptions=True)
    for s in sessions:
        await s.close()


async def test_host_meta(env):
    c = await HttpConnection.open(web(env))
    status, headers, data = await c.request("GET", "/.well-known/host-meta", headers={"Host": "chat.example:5280"})
    check(status == 200 and headers["content-type"].startswith("application/xrd+xml"), f"{status} {headers}")
    links = {l.get("rel"): l.get("href") for l in ET.fromstring(data)}
    check(links == {"urn:xmpp:alt-connections:xbosh": "http://chat.example:5280/http-bind",
                    "urn:xmpp:alt-connections:websocket": "ws://chat.example:5280/xmpp-websocket"}, f"{links}")
    status, headers, data = await c.request("GET", "/.well-known/host-meta.json", headers={"Host": "chat.example"})
    links = {l["rel"]: l["href"] for l in json.loads(data)["links"]}
    check(links["urn:xmpp:alt-connections:websocket"] == "ws://chat.example/xmpp-websocket", f"{links}")
    # A Host header we would not echo falls back to our own name.
    status, _, data = await c.request("GET", "/.well-known/host-meta.json", headers={"Host": "evil\"><x"})
    check(f"http://{env.host}:" in data.decode(), f"fallback host: {data}")
    c.close()


async def test_cors_and_security_headers(env):
    c = await HttpConnection.open(web(env))
    status, headers, _ = await c.request("OPTIONS", "/http-bind", headers={
        "Origin": "https://webclient.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    check(status == 204, f"preflight: {status}")
    check(headers.get("access-control-allow-origin") == "https://webclient.example", f"{headers}")
    check("POST" in headers.get("access-control-allow-methods", ""), f"{headers}")
    status, headers, _ = await c.request("OPTIONS", "/http-bind", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    check(status == 403 and "access-control-allow-origin" not in headers, f"foreign origin refused: {status}")
    status, headers, _ = await c.request("GET", "/no/such/page", headers={"Origin": "https://webclient.example"})
    check(status == 404, f"404: {status}")
    for h, v in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                 ("referrer-policy", "no-referrer")):
        check(headers.get(h) == v, f"{h}: {headers.get(h)}")
    check("frame-ancestors 'none'" in headers.get("content-security-policy", ""), "CSP frame-ancestors")
    check("strict-transport-security" not in headers, "no HSTS over plain HTTP")
    c.close()
    # Over TLS, HSTS too.
    import ssl
    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    r, w = await asyncio.open_connection("127.0.0.1", env.server.extra_ports["webtls"], ssl=ctx,
                                         server_hostname="localhost")
    tls = HttpConnection(r, w)
    status, headers, data = await tls.request("GET", "/.well-known/host-meta.json")
    check(status == 200 and headers.get("strict-transport-security", "").startswith("max-age="), f"{headers}")
    check("wss://" in data.decode() and "https://" in data.decode(), "TLS endpoints advertised over TLS")
    tls.close()
    # Same-origin WebSocket clients only: a foreign Origin is refused at the upgrade.
    status, _, ws = await WebSocket.connect(web(env), origin="https://evil.example")
    check(status == 403, f"WebSocket from a foreign origin: {status}")


async def test_http_limits(env):
    c = await HttpConnection.open(web(env))
    status, _, _ = await c.request("GET", "/.well-known/host-meta", headers={"X-Big": "y" * 9000})
    check(status == 431, f"oversized header: {status}")
    c = await HttpConnection.open(web(env))
    c.writer.write(b"POST /http-bind HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000000\r\n\r\n")
    await c.writer.drain()
    status, _, _ = await asyncio.wait_for(c.read_response(), 10)
    check(status == 413, f"oversized body: {status}")
    c.close()
    # Keep-alive: many requests on one connection, until the per-connection rate limit answers 429.
    c = await HttpConnection.open(web(env))
    statuses = []
    for _ in range(300):
        try:
            status, headers, _ = await c.request("GET", "/.well-known/host-meta")
        except (ConnectionError, asyncio.IncompleteReadError):
            break
        statuses.append(status)
        if status != 200:
            break
    check(statuses.count(200) >= 20 and statuses[-1] == 429, f"rate limit: {len(statuses)} answers, last {statuses[-1:]}")
    c.close()


async def test_websocket_and_bosh_over_tls(env):
    import ssl
    jid, pw = env.user("tlsbosh")
    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    r, w = await asyncio.open_connection("127.0.0.1", env.server.extra_ports["webtls"], ssl=ctx,
                                         server_hostname="localhost")
    conn = HttpConnection(r, w)
    rid = 777000
    _, _, data = await conn.request("POST", "/http-bind", (
        f"<body xmlns='{HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='{rid}' to='{env.host}' wait='5' hold='1' "
        f"ver='1.11' xmpp:version='1.0'/>"))
    created = ET.fromstring(data)
    check(created.get("secure") == "true", "secure session over TLS")
    sid = created.get("sid")
    _, _, data = await conn.request("POST", "/http-bind", (
        f"<body xmlns='{HTTPBIND}' sid='{sid}' rid='{rid + 1}'><auth xmlns='{SASL}' mechanism='PLAIN'>"
        f"{plain_auth(jid, pw)}</auth></body>"))
    check(ET.fromstring(data).find(q(SASL, "success")) is not None, f"PLAIN over TLS: {data}")
    conn.close()


if __name__ == "__main__":
    harness.main(globals(),
                 listeners=[("web", "http", "none"), ("webtls", "http", "direct")],
                 extra_toml=harness.MANUAL_CLOCK +
                 f'\n[http]\nbosh_inactivity = {INACTIVITY}\ncors_origins = ["https://webclient.example"]')
