"""Issue 14 item 2: XEP-0388 SASL2 with XEP-0386 Bind 2, XEP-0198 inline, XEP-0484 FAST tokens and XEP-0474
downgrade protection. Debian's slixmpp (1.8.3) has no SASL2, so the client here is raw XML over direct TLS,
computing SCRAM (RFC 5802/7677, with tls-server-end-point channel binding) and HT-SHA-256 itself; slixmpp
plays the other users."""
import asyncio
import base64
import hashlib
import hmac
import os
import ssl
import uuid
import xml.etree.ElementTree as ET

import harness
from harness import check, RawClient

SASL2 = "urn:xmpp:sasl:2"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND2 = "urn:xmpp:bind:0"
FAST = "urn:xmpp:fast:0"
SM = "urn:xmpp:sm:3"
SASL_CB = "urn:xmpp:sasl-cb:0"
STREAM = "http://etherx.jabber.org/streams"
CLIENT = "jabber:client"


def q(ns, name):
    return f"{{{ns}}}{name}"


def b64(data):
    return base64.b64encode(data).decode()


class Sasl2Stream:
    """One client stream over direct TLS, read as a sequence of top-level elements (SASL2 has no restart, so
    one parser serves the whole stream). Blocking: run it in a thread."""

    def __init__(self, env, source=None):
        self.env = env
        self.raw = RawClient(env.server, direct_tls=True, source=source)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.ready = []
        self.closed = False
        self.raw.send(f"<stream:stream to='{env.host}' version='1.0' xmlns='jabber:client' "
                      f"xmlns:stream='{STREAM}'>")
        self.features = self.next()
        check(self.features.tag == q(STREAM, "features"), f"features first: {self.features.tag}")

    def channel_binding(self):
        # RFC 5929 §4.1: the hash of the server's certificate (signed with SHA-256 in the test CA).
        return hashlib.sha256(self.raw.sock.getpeercert(binary_form=True)).digest()

    def send(self, data):
        self.raw.send(data)

    def next(self, timeout=10):
        """The next top-level element; None once the server closed the stream."""
        sock = self.raw.sock
        while not self.ready:
            if self.closed:
                return None
            sock.settimeout(timeout)
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, OSError):
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.parser.feed(chunk)
            for event, el in self.parser.read_events():
                if event == "start":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == 1:
                        self.ready.append(el)
                    elif self.depth == 0:
                        self.closed = True
        return self.ready.pop(0)

    def next_matching(self, pred, timeout=10):
        while True:
            el = self.next(timeout)
            check(el is not None, "the stream ended before the expected element")
            if pred(el):
                return el

    def close(self):
        try:
            self.send("</stream:stream>")
            self.raw.closed_by_peer()
        finally:
            self.raw.sock.close()

    def cut(self):
        """The connection drops without a stream close (XEP-0198: the session waits to be resumed)."""
        self.raw.sock.close()

    # --- what the server advertised ---
    def mechanisms(self):
        auth = self.features.find(q(SASL2, "authentication"))
        check(auth is not None, "SASL2 <authentication/> advertised")
        return [m.text for m in auth.findall(q(SASL2, "mechanism"))]

    def cb_types(self):
        cb = self.features.find(q(SASL_CB, "sasl-channel-binding"))
        return None if cb is None else [c.get("type") for c in cb.findall(q(SASL_CB, "channel-binding"))]

    def fast_mechanisms(self):
        fast = self.features.find(f"{q(SASL2, 'authentication')}/{q(SASL2, 'inline')}/{q(FAST, 'fast')}")
        return [] if fast is None else [m.text for m in fast.findall(q(FAST, "mechanism"))]


def ssdp_hash(mechanisms, cb_types):
    """XEP-0474 §"Client Verifies The Downgrade Protection Hash", computed from what the client saw."""
    s = "\x1e".join(sorted(mechanisms))
    if cb_types is not None:
        s += "\x1f" + "\x1e".join(sorted(cb_types))
    return b64(hashlib.sha256(s.encode()).digest())


def scram_attrs(msg):
    return dict(part.split("=", 1) for part in msg.split(","))


def user_agent(ua_id, software="CauserieTest", device="test bench"):
    return f"<user-agent id='{ua_id}'><software>{software}</software><device>{device}</device></user-agent>"


def authenticate_scram(s, user, password, inline="", plus=True, seen_mechanisms=None, seen_cb=None):
    """SCRAM-SHA-256(-PLUS) in SASL2. Returns the server's last element (success or failure), after checking
    the XEP-0474 hash against what the client saw (the real features unless a test says otherwise) and the
    server's signature. Raises AssertionError('downgrade …') on a hash mismatch, as a client must stop."""
    mech = "SCRAM-SHA-256-PLUS" if plus else "SCRAM-SHA-256"
    gs2 = "p=tls-server-end-point,," if plus else "n,,"
    cb_data = s.channel_binding() if plus else b""
    nonce = b64(os.urandom(18))
    bare = f"n={user},r={nonce}"
    s.send(f"<authenticate xmlns='{SASL2}' mechanism='{mech}'><initial-response>{b64((gs2 + bare).encode())}"
           f"</initial-response>{inline}</authenticate>")
    el = s.next()
    if el.tag != q(SASL2, "challenge"):
        return el
    server_first = base64.b64decode(el.text).decode()
    attrs = scram_attrs(server_first)
    expected = ssdp_hash(seen_mechanisms if seen_mechanisms is not None else s.mechanisms(),
                         seen_cb if seen_cb is not None else s.cb_types())
    if attrs.get("h") != expected:
        s.send(f"<abort xmlns='{SASL2}'/>")
        raise AssertionError(f"downgrade detected: h={attrs.get('h')} expected {expected}")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    without_proof = f"c={b64(gs2.encode() + cb_data)},r={attrs['r']}"
    auth = f"{bare},{server_first},{without_proof}".encode()
    proof = bytes(a ^ b for a, b in zip(client_key, hmac.new(stored, auth, hashlib.sha256).digest()))
    s.send(f"<response xmlns='{SASL2}'>{b64((without_proof + ',p=' + b64(proof)).encode())}</response>")
    el = s.next()
    if el.tag == q(SASL2, "success"):
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        v = "v=" + b64(hmac.new(server_key, auth, hashlib.sha256).digest())
        got = base64.b64decode(el.findtext(q(SASL2, "additional-data")).strip()).decode()
        check(got == v, f"server signature: {got} != {v}")
    return el


def authenticate_ht(s, user, token, ua_id, mech="HT-SHA-256-ENDP", inline="", fast_attrs=""):
    """FAST: the HT mechanism with a token (draft-schmaus-kitten-sasl-ht). Returns success or failure,
    after checking the server's responder hash."""
    cb_data = s.channel_binding() if mech.endswith("ENDP") else b""
    key = token.encode()
    initiator = hmac.new(key, b"Initiator" + cb_data, hashlib.sha256).digest()
    initial = b64(user.encode() + b"\x00" + initiator)
    s.send(f"<authenticate xmlns='{SASL2}' mechanism='{mech}'><initial-response>"
           f"{initial}</initial-response>{user_agent(ua_id)}"
           f"<fast xmlns='{FAST}'{fast_attrs}/>{inline}</authenticate>")
    el = s.next()
    if el.tag == q(SASL2, "success"):
        responder = hmac.new(key, b"Responder" + cb_data, hashlib.sha256).digest()
        got = base64.b64decode(el.findtext(q(SASL2, "additional-data")).strip())
        check(got == responder, "the server proved it knows the token")
    return el


def failure_condition(el):
    check(el is not None and el.tag == q(SASL2, "failure"), f"a SASL2 failure, got {None if el is None else el.tag}")
    for c in el:
        if c.tag.startswith("{" + SASL + "}"):
            return c.tag.split("}")[1]
    raise AssertionError("failure without an RFC 6120 condition")


def bind_request(tag="CauserieTest", extra=""):
    return f"<bind xmlns='{BIND2}'><tag>{tag}</tag>{extra}</bind>"


def token_of(success):
    t = success.find(q(FAST, "token"))
    return None if t is None else (t.get("token"), t.get("expiry"))


def after_success_features(s):
    f = s.next()
    check(f is not None and f.tag == q(STREAM, "features"), f"features right after <success/> (no restart): {f}")
    return f


def ping(s, iq_id="p1"):
    s.send(f"<iq type='get' id='{iq_id}' to='{s.env.host}'><ping xmlns='urn:xmpp:ping'/></iq>")
    return s.next_matching(lambda e: e.tag == q(CLIENT, "iq") and e.get("id") == iq_id)


def advance_clock(env, user, password, seconds):
    """Moves the server's test clock, from a session that logs in with SASL2 and binds the RFC 6120 way."""
    s = Sasl2Stream(env)
    check(authenticate_scram(s, user, password).tag == q(SASL2, "success"), "password login")
    after_success_features(s)
    s.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    s.next_matching(lambda e: e.get("id") == "b")
    s.send(f"<iq type='set' id='clk' to='{env.host}'><advance xmlns='urn:causerie:testing:clock' "
           f"seconds='{seconds}'/></iq>")
    r = s.next_matching(lambda e: e.tag == q(CLIENT, "iq") and e.get("id") == "clk")
    check(r.get("type") == "result", "the test clock moved")
    s.close()


def sasl2_login_with_token(env, user, password, ua_id, tag="CauserieTest", mech="HT-SHA-256-ENDP"):
    """A password login that asks for a token; returns (jid, token) and closes the stream."""
    s = Sasl2Stream(env)
    ok = authenticate_scram(s, user, password, user_agent(ua_id) + bind_request(tag) +
                            f"<request-token xmlns='{FAST}' mechanism='{mech}'/>")
    check(ok.tag == q(SASL2, "success"), f"password login: {ET.tostring(ok)}")
    after_success_features(s)
    token = token_of(ok)
    check(token is not None, "a token was issued")
    jid = ok.findtext(q(SASL2, "authorization-identifier"))
    s.close()
    return jid, token[0]


_sources = iter(range(1, 250))


def fresh_source():
    """A loopback address of its own, so that the refusals a test expects do not add up in the server's
    per-address AuthThrottle (test_every_refusal_has_its_condition proves the throttle)."""
    return f"127.0.1.{next(_sources)}"


def refused_with(env, user, token, ua_id, mech="HT-SHA-256-ENDP"):
    s = Sasl2Stream(env, fresh_source())
    cond = failure_condition(authenticate_ht(s, user, token, ua_id, mech))
    s.close()
    return cond


async def test_features_advertise_sasl2_bind2_fast(env):
    s = await asyncio.to_thread(Sasl2Stream, env)
    mechs = s.mechanisms()
    check({"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1"} <= set(mechs), f"mechanisms: {mechs}")
    check("tls-server-end-point" in (s.cb_types() or []), f"XEP-0440 types: {s.cb_types()}")
    inline = s.features.find(f"{q(SASL2, 'authentication')}/{q(SASL2, 'inline')}")
    vars_ = {f.get("var") for f in inline.iter(q(BIND2, "feature"))}
    check({"urn:xmpp:carbons:2", "urn:xmpp:csi:0", SM} <= vars_, f"Bind 2 inline features: {vars_}")
    check(inline.find(q(SM, "sm")) is not None, "XEP-0198 resumption inline")
    check({"HT-SHA-256-ENDP", "HT-SHA-256-NONE"} <= set(s.fast_mechanisms()), f"FAST: {s.fast_mechanisms()}")
    await asyncio.to_thread(s.close)


async def test_sasl2_bind2_fast_login_and_token_reuse(env):
    jid, pw = env.user("sasl2user")
    user = jid.split("@")[0]
    friend_jid, friend_pw = env.user("sasl2friend")
    other_jid, other_pw = env.user("sasl2other")
    ua_id = str(uuid.uuid4())

    # Password login with everything inline: bind with carbons, CSI inactive and SM; a token asked for.
    s = await asyncio.to_thread(Sasl2Stream, env)
    inline = (user_agent(ua_id) + bind_request(extra="<enable xmlns='urn:xmpp:carbons:2'/>"
                                               "<inactive xmlns='urn:xmpp:csi:0'/>"
                                               f"<enable xmlns='{SM}' resume='true'/>") +
              f"<request-token xmlns='{FAST}' mechanism='HT-SHA-256-ENDP'/>")
    ok = await asyncio.to_thread(authenticate_scram, s, user, pw, inline)
    check(ok.tag == q(SASL2, "success"), f"SCRAM-SHA-256-PLUS over SASL2: {ET.tostring(ok)}")
    full = ok.findtext(q(SASL2, "authorization-identifier"))
    check(full.startswith(jid + "/CauserieTest/"), f"a full JID with the tag: {full}")
    check(ua_id not in full, "the user-agent id does not show")
    enabled = ok.find(f"{q(BIND2, 'bound')}/{q(SM, 'enabled')}")
    check(enabled is not None and enabled.get("resume") == "true", "SM enabled inside <bound/>")
    token, expiry = token_of(ok)
    check(len(token) >= 64 and expiry.endswith("Z"), f"token and XEP-0082 expiry: {expiry}")
    f = await asyncio.to_thread(after_success_features, s)
    check(f.find(q("urn:ietf:params:xml:ns:xmpp-bind", "bind")) is None, "no legacy bind offered once bound")
    r = await asyncio.to_thread(ping, s)
    check(r.get("type") == "result", "the session works without a restart or a bind iq")
    s.send("<presence/>")  # available, so that a chat state to this resource is delivered, not dropped

    # Carbons were enabled inline: a message the account sends from another resource is copied here.
    other_res = await env.connect(jid + "/desk", pw)
    friend = await env.connect(friend_jid + "/home", friend_pw)
    other_res.send_message(mto=friend_jid, mbody="carbon copy please", mtype="chat")
    sent = await asyncio.to_thread(
        s.next_matching, lambda e: e.tag == q(CLIENT, "message") and e.find(q("urn:xmpp:carbons:2", "sent")) is not None)
    check("carbon copy please" in ET.tostring(sent).decode(), "the <sent/> carbon")

    # CSI was set inactive inline: a standalone chat state waits until <active/>.
    cs = friend.make_message(mto=full, mtype="chat")
    cs.append(ET.fromstring("<composing xmlns='http://jabber.org/protocol/chatstates'/>"))
    cs.send()
    await harness.round_trip(friend)

    def ack_seeing_no_chat_state():
        # A stanza would flush what CSI holds (it matters); an SM acknowledgement is a nonza and does not.
        s.send(f"<r xmlns='{SM}'/>")
        while True:
            el = s.next()
            check(el is not None, "stream open")
            check(el.find(q("http://jabber.org/protocol/chatstates", "composing")) is None,
                  "the chat state is held while inactive")
            if el.tag == q(SM, "a"):
                return
    await asyncio.to_thread(ack_seeing_no_chat_state)
    s.send("<active xmlns='urn:xmpp:csi:0'/>")
    await asyncio.to_thread(s.next_matching, lambda e: e.tag == q(CLIENT, "message") and
                            e.find(q("http://jabber.org/protocol/chatstates", "composing")) is not None)
    await asyncio.to_thread(s.close)

    # Token reuse: one round trip, the same (stable) resource for the same client, no password.
    s = await asyncio.to_thread(Sasl2Stream, env)
    ok = await asyncio.to_thread(authenticate_ht, s, user, token, ua_id, "HT-SHA-256-ENDP", bind_request())
    check(ok.tag == q(SASL2, "success"), f"FAST login: {ET.tostring(ok)}")
    check(ok.findtext(q(SASL2, "authorization-identifier")) == full, "the same resource for the same client")
    check(token_of(ok) is None, "no new token long before expiry")
    await asyncio.to_thread(after_success_features, s)
    other = await env.connect(other_jid + "/x", other_pw)
    other.send_message(mto=full, mbody="after FAST", mtype="chat")
    await asyncio.to_thread(s.next_matching, lambda e: e.tag == q(CLIENT, "message") and
                            e.findtext(q(CLIENT, "body")) == "after FAST")
    await asyncio.to_thread(s.close)
    # The token is bound to the mechanism it was issued for (XEP-0484): not usable without channel binding.
    cond = await asyncio.to_thread(refused_with, env, user, token, ua_id, "HT-SHA-256-NONE")
    check(cond == "not-authorized", f"token with another mechanism: {cond}")
    # Nor by another client.
    cond = await asyncio.to_thread(refused_with, env, user, token, str(uuid.uuid4()))
    check(cond == "not-authorized", f"token from another client: {cond}")


async def test_forged_expired_revoked_and_invalidated_tokens(env):
    jid, pw = env.user("fastrefused")
    user = jid.split("@")[0]
    ua_id = str(uuid.uuid4())
    # Forged: a token the server never issued.
    forged = base64.urlsafe_b64encode(os.urandom(72)).decode()
    cond = await asyncio.to_thread(refused_with, env, user, forged, ua_id)
    check(cond == "not-authorized", f"forged token: {cond}")

    # Revoked from the command line, after listing it.
    _, token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, ua_id)
    listing = env.server.cli("user", "tokens", jid).stdout.strip().splitlines()
    check(len(listing) == 1 and "HT-SHA-256-ENDP" in listing[0] and "CauserieTest" in listing[0],
          f"one token listed: {listing}")
    check(token not in listing[0] and ua_id not in listing[0], "the listing shows neither the token nor the client id")
    env.server.cli("user", "tokens", jid, "--revoke", listing[0].split()[0])
    cond = await asyncio.to_thread(refused_with, env, user, token, ua_id)
    check(cond == "not-authorized", f"revoked token: {cond}")
    check(env.server.cli("user", "tokens", jid).stdout.strip() == "", "nothing listed after revocation")

    # <fast invalidate='true'/>: the login works once, then the token is gone.
    _, token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, ua_id)

    def invalidate():
        s = Sasl2Stream(env)
        ok = authenticate_ht(s, user, token, ua_id, fast_attrs=" invalidate='true'")
        check(ok.tag == q(SASL2, "success") and token_of(ok) is None, "invalidating login succeeds, no new token")
        s.close()
    await asyncio.to_thread(invalidate)
    cond = await asyncio.to_thread(refused_with, env, user, token, ua_id)
    check(cond == "not-authorized", f"invalidated token: {cond}")

    # Rotation and expiry on the server's clock (30 days by default).
    _, token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, ua_id)

    def rotate():
        advance_clock(env, user, pw, 16 * 86400)  # past half the lifetime
        s = Sasl2Stream(env)
        ok = authenticate_ht(s, user, token, ua_id)
        check(ok.tag == q(SASL2, "success"), "a token past half its life still works")
        new = token_of(ok)
        check(new is not None and new[0] != token, "and is rotated")
        s.close()
        # Until the new token is used, the old one still works (XEP-0484 §"Server initiates token rotation").
        s = Sasl2Stream(env)
        ok = authenticate_ht(s, user, token, ua_id)
        check(ok.tag == q(SASL2, "success"), "the old token works until the new one is used")
        newer = token_of(ok)
        s.close()
        s = Sasl2Stream(env)
        check(authenticate_ht(s, user, newer[0], ua_id).tag == q(SASL2, "success"), "the new token works")
        s.close()
        return newer[0]
    newest = await asyncio.to_thread(rotate)
    cond = await asyncio.to_thread(refused_with, env, user, token, ua_id)
    check(cond == "not-authorized", f"the older token is gone once the newer is used: {cond}")

    await asyncio.to_thread(advance_clock, env, user, pw, 31 * 86400)
    cond = await asyncio.to_thread(refused_with, env, user, newest, ua_id)
    check(cond == "credentials-expired", f"expired token: {cond}")

    # A password change (here from the command line, beside the running server) revokes every token.
    _, token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, ua_id)
    env.server.cli("user", "passwd", jid, "--password", pw + "-changed")
    cond = await asyncio.to_thread(refused_with, env, user, token, ua_id)
    check(cond == "not-authorized", f"token after a password change: {cond}")


async def test_sign_out_everywhere(env):
    """Causerie's ad-hoc command for the user himself (sign_out_everywhere.cpp): every FAST token of the
    account revoked, its other sessions ended with <not-authorized/>, the caller's session kept."""
    jid, pw = env.user("everywhere")
    user = jid.split("@")[0]
    bystander_jid, bystander_pw = env.user("bystander")
    phone, laptop = str(uuid.uuid4()), str(uuid.uuid4())
    _, phone_token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, phone)
    _, laptop_token = await asyncio.to_thread(sasl2_login_with_token, env, user, pw, laptop)
    await asyncio.to_thread(sasl2_login_with_token, env, "bystander", bystander_pw, phone)

    # The phone is online with its token; the desk (slixmpp, password) runs the command.
    s = await asyncio.to_thread(Sasl2Stream, env)
    ok = await asyncio.to_thread(authenticate_ht, s, user, phone_token, phone, "HT-SHA-256-ENDP", bind_request("Phone"))
    check(ok.tag == q(SASL2, "success"), f"FAST login: {ET.tostring(ok)}")
    await asyncio.to_thread(after_success_features, s)
    desk = await env.connect(jid + "/desk", pw, ["xep_0030", "xep_0004", "xep_0050"])
    r = await desk["xep_0050"].send_command(desk.boundjid.domain, "urn:causerie:account#sign-out-everywhere", timeout=10)
    check(r["command"]["status"] == "completed", f"completed at once: {r}")
    note = r["command"].xml.findtext("{http://jabber.org/protocol/commands}note")
    check(note == "2 login token(s) revoked, 1 other session(s) ended", f"the note: {note}")

    def stream_error():
        el = s.next()
        check(el is not None and el.tag == q(STREAM, "error"), f"a stream error: {el}")
        check(el.find(q("urn:ietf:params:xml:ns:xmpp-streams", "not-authorized")) is not None, ET.tostring(el))
    await asyncio.to_thread(stream_error)
    await harness.round_trip(desk)  # the caller stays
    for ua, token in ((phone, phone_token), (laptop, laptop_token)):
        cond = await asyncio.to_thread(refused_with, env, user, token, ua)
        check(cond == "not-authorized", f"a revoked token: {cond}")
    check(env.server.cli("user", "tokens", jid).stdout.strip() == "", "no token left")
    # Another account's token is not touched.
    listing = env.server.cli("user", "tokens", bystander_jid).stdout.strip().splitlines()
    check(len(listing) == 1, f"the bystander keeps his token: {listing}")


async def test_downgrade_detected_by_ssdp(env):
    jid, pw = env.user("ssdp")
    user = jid.split("@")[0]

    def run():
        # A man in the middle removed the -PLUS mechanisms and the XEP-0440 list from the features: the
        # client, seeing no channel binding, uses SCRAM-SHA-256 with 'n', and the h= of the server-first
        # message (over what the server really offered) does not match what it saw.
        s = Sasl2Stream(env, fresh_source())
        seen = [m for m in s.mechanisms() if not m.endswith("-PLUS")]
        try:
            authenticate_scram(s, user, pw, plus=False, seen_mechanisms=seen, seen_cb=None)
            raise AssertionError("the downgrade went unnoticed")
        except AssertionError as e:
            check(str(e).startswith("downgrade detected"), str(e))
        check(failure_condition(s.next()) == "aborted", "the client's abort is answered")
        s.close()
        # The same client with the features as sent: the hash matches, and the login works.
        s = Sasl2Stream(env)
        check(authenticate_scram(s, user, pw, plus=False).tag == q(SASL2, "success"), "untouched lists match")
        s.close()
        # RFC 5802's own check: 'y' (client could bind, thinks the server cannot) is refused by a server
        # that offered binding.
        s = Sasl2Stream(env, fresh_source())
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><initial-response>"
               f"{b64(b'y,,n=' + user.encode() + b',r=abcdefgh')}</initial-response></authenticate>")
        check(failure_condition(s.next()) == "not-authorized", "'y' refused")
        s.close()
        # SASL1 carries the same hash.
        s = RawClient(env.server, direct_tls=True)
        s.open_stream()
        s.buffer = b""
        s.send(f"<auth xmlns='{SASL}' mechanism='SCRAM-SHA-256'>{b64(b'n,,n=' + user.encode() + b',r=abcdefgh')}</auth>")
        got = s.read_until("</challenge>")
        first = base64.b64decode(got.split(">")[-2].split("<")[0]).decode()
        check(",h=" in first, f"SASL1 server-first has h=: {first}")
        s.sock.close()
    await asyncio.to_thread(run)


async def test_inline_sm_enable_and_resume(env):
    jid, pw = env.user("sminline")
    user = jid.split("@")[0]
    friend_jid, friend_pw = env.user("smfriend")
    friend = await env.connect(friend_jid + "/f", friend_pw)
    ua_id = str(uuid.uuid4())
    s = await asyncio.to_thread(Sasl2Stream, env)
    ok = await asyncio.to_thread(authenticate_scram, s, user, pw,
                                 user_agent(ua_id) + bind_request(extra=f"<enable xmlns='{SM}' resume='true'/>"))
    full = ok.findtext(q(SASL2, "authorization-identifier"))
    previd = ok.find(f"{q(BIND2, 'bound')}/{q(SM, 'enabled')}").get("id")
    await asyncio.to_thread(after_success_features, s)
    friend.send_message(mto=full, mbody="kept for resumption", mtype="chat")
    await asyncio.to_thread(s.next_matching, lambda e: e.tag == q(CLIENT, "message"))
    mark = env.server.log_mark()
    await asyncio.to_thread(s.cut)  # never acknowledged
    await env.server.wait_log(f"{full} detached", since=mark)

    # A bogus previd: <failed/> in <success/>, and a new session is bound instead.
    s2 = await asyncio.to_thread(Sasl2Stream, env)
    ok = await asyncio.to_thread(authenticate_scram, s2, user, pw,
                                 user_agent(str(uuid.uuid4())) + f"<resume xmlns='{SM}' previd='nope' h='0'/>" +
                                 bind_request("Other"))
    check(ok.find(q(SM, "failed")) is not None and ok.find(q(BIND2, "bound")) is not None,
          f"failed resumption, then Bind 2: {ET.tostring(ok)}")
    check(ok.findtext(q(SASL2, "authorization-identifier")).startswith(jid + "/Other/"), "a new resource")
    await asyncio.to_thread(s2.close)

    # The real one: <resumed/> inside <success/>, the bind ignored, the unacknowledged message again.
    s3 = await asyncio.to_thread(Sasl2Stream, env)
    ok = await asyncio.to_thread(authenticate_scram, s3, user, pw,
                                 user_agent(ua_id) + f"<resume xmlns='{SM}' previd='{previd}' h='0'/>" + bind_request())
    resumed = ok.find(q(SM, "resumed"))
    check(resumed is not None and resumed.get("previd") == previd, f"resumed inline: {ET.tostring(ok)}")
    check(ok.find(q(BIND2, "bound")) is None, "the bind request is ignored when resuming")
    check(ok.findtext(q(SASL2, "authorization-identifier")) == full, "the resumed session's JID")
    await asyncio.to_thread(after_success_features, s3)
    again = await asyncio.to_thread(s3.next_matching, lambda e: e.tag == q(CLIENT, "message"))
    check(again.findtext(q(CLIENT, "body")) == "kept for resumption", "sent again after resumption")
    await asyncio.to_thread(s3.close)


async def test_every_refusal_has_its_condition(env):
    jid, pw = env.user("sasl2bad")
    user = jid.split("@")[0]

    source = fresh_source()

    def run():
        s = Sasl2Stream(env, source)
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='CRAM-MD5'><initial-response>AA==</initial-response></authenticate>")
        check(failure_condition(s.next()) == "invalid-mechanism", "unknown mechanism")
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><initial-response>***</initial-response></authenticate>")
        check(failure_condition(s.next()) == "malformed-request", "bad base64")
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>AA==</initial-response>"
               f"<fast xmlns='{FAST}'/></authenticate>")
        check(failure_condition(s.next()) == "malformed-request", "FAST without a user-agent id")
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><request-token xmlns='{FAST}' "
               f"mechanism='HT-MD5-NONE'/>{user_agent(str(uuid.uuid4()))}</authenticate>")
        check(failure_condition(s.next()) == "invalid-mechanism", "a token for a mechanism not offered")
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'/>")
        check(s.next().tag == q(SASL2, "challenge"), "no initial response: an empty challenge")
        s.send(f"<abort xmlns='{SASL2}'/>")
        check(failure_condition(s.next()) == "aborted", "abort")
        s.close()
        # Wrong passwords: not-authorized, answered later and later (AuthThrottle: three free failures
        # per address, this one's fourth to sixth wait), and after five failures on one stream it ends.
        s = Sasl2Stream(env, source)
        for i in range(5):
            el = authenticate_scram(s, user, "wrong password", plus=False)
            check(failure_condition(el) == "not-authorized", f"wrong password {i}")
        err = s.next()
        check(err is not None and err.tag == q(STREAM, "error") and
              err.find(q("urn:ietf:params:xml:ns:xmpp-streams", "policy-violation")) is not None,
              "too many attempts end the stream")
        s.raw.sock.close()
        # A stanza before authentication ends the stream (RFC 6120 §4.9.3.12).
        s = Sasl2Stream(env)
        s.send("<message to='x@localhost'><body>early</body></message>")
        err = s.next()
        check(err.tag == q(STREAM, "error") and err.find(q("urn:ietf:params:xml:ns:xmpp-streams", "not-authorized")) is not None,
              "not-authorized stream error")
        s.raw.sock.close()
    mark = env.server.log_mark()
    await asyncio.to_thread(run)
    await env.server.wait_log(f"c2s {source}:", since=mark)
    await env.server.wait_log("authentication failed, answering in 1000 ms", since=mark)


async def test_sasl2_not_offered_before_tls(env):
    def run():
        s = RawClient(env.server)
        got = s.open_stream()
        check("urn:xmpp:sasl:2" not in got, "no SASL2 before STARTTLS")
        s.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'/>")
        got = s.read_until("</failure>")
        check("<encryption-required" in got, f"encryption-required: {got}")
        s.sock.close()
    await asyncio.to_thread(run)


if __name__ == "__main__":
    harness.main(globals(), extra_toml="[testing]\nmanual_clock = true")
