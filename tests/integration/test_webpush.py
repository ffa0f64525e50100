"""Issue 15 item 3: Web Push (docs/protocol/webpush.md), with python3-slixmpp and a push service the test
runs itself: a small HTTP server on 127.0.0.1 that, for each push, DECRYPTS the payload with the
subscription's private key and auth secret (RFC 8291, aes128gcm of RFC 8188, python3-cryptography) and
VERIFIES the VAPID token (RFC 8292) with the public key the server gave over XMPP: its ES256 signature,
its aud (the push service's origin), exp (within 24 h) and sub. The server reaches it through its outbound
HTTP client, allow-listed for loopback by [http_client] allow.

Scenarios: the VAPID key and bad subscriptions (stanza errors); a direct message to an offline account
arrives as the right JSON with TTL, Urgency and Topic; a disabled kind sends nothing, proved by a later
enabled event (a new follower) being the next push of that subscription; a 410 answer removes the
subscription; a 503 answer is retried, after the backoff, on the server's clock (moved by the test), and
the retry's 201 ends it. A message to an account whose only session waits detached (XEP-0198) is pushed,
not while another session is attached. A mention in a room the account is not in, a comment and a Movim like
on its post, arrive too."""
import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

import harness
import muc_util
import pubsub_util
from harness import check
from pubsub_util import ps, ATOM, MICROBLOG, publish_options, send

NS = "urn:causerie:webpush:0"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
PUSH_PORT = harness.free_port()
ORIGIN = f"http://127.0.0.1:{PUSH_PORT}"

CONFIG = harness.MANUAL_CLOCK + f"""
[http_client]
allow = ["127.0.0.1/32"]

[modules.webpush]
insecure_hosts = ["127.0.0.1"]
max_subscriptions = 3
subject = "mailto:ops@localhost"
"""


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hmac256(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


class Browser:
    """A user agent's push subscription: its P-256 key pair and auth secret (RFC 8291 §3.1, §3.2)."""

    def __init__(self, path):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.auth = bytes(range(16))
        self.endpoint = f"{ORIGIN}/push/{path}"
        self.path = f"/push/{path}"

    def decrypt(self, body):
        """The user agent's side of RFC 8291 §3.4 and RFC 8188 §2, written from the RFCs."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        check(idlen == 65, "the key id is the server's ephemeral public key (RFC 8291 §4)")
        as_public = body[21:21 + idlen]
        record = body[21 + idlen:]
        check(len(record) <= rs, "a single record (RFC 8291 §4)")
        check(len(body) <= 4096, "at most 4096 octets (RFC 8291 §4)")
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
        secret = self.key.exchange(ec.ECDH(), peer)
        prk_key = hmac256(self.auth, secret)
        ikm = hmac256(prk_key, b"WebPush: info\x00" + self.public + as_public + b"\x01")
        prk = hmac256(salt, ikm)
        cek = hmac256(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = hmac256(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        plain = AESGCM(cek).decrypt(nonce, record, None).rstrip(b"\x00")
        check(plain.endswith(b"\x02"), "the last record's padding delimiter is 2 (RFC 8188 §2)")
        return json.loads(plain[:-1].decode())


class PushService:
    """RFC 8030 §5 push resources under /push/<name>: records each POST, answers 201 unless told to
    answer otherwise (a list of statuses per path, used up in order)."""

    def __init__(self):
        self.requests = {}  # path → asyncio.Queue of (headers, body)
        self.script = {}    # path → [status, …]
        self.server = None

    def queue(self, path):
        return self.requests.setdefault(path, asyncio.Queue())

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", PUSH_PORT)

    async def handle(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, _ = line.decode().split(" ", 2)
                headers = {}
                while True:
                    h = (await reader.readline()).decode()
                    if h in ("\r\n", "\n", ""):
                        break
                    name, value = h.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                statuses = self.script.get(path, [])
                status = statuses.pop(0) if statuses else 201
                self.queue(path).put_nowait((method, headers, body, status))
                reason = {201: "Created", 410: "Gone", 503: "Service Unavailable"}.get(status, "Whatever")
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
                await writer.drain()
                break
        finally:
            writer.close()

    async def next(self, browser, timeout=harness.DEFAULT_TIMEOUT):
        return await asyncio.wait_for(self.queue(browser.path).get(), timeout)


PUSH = PushService()
VAPID = {}


async def push_service():
    if PUSH.server is None:
        await PUSH.start()
    return PUSH


def iq(client, itype, xml):
    i = client.Iq(stype=itype)
    i.append(ET.fromstring(xml))
    return i


async def vapid_key(client):
    r = await iq(client, "get", f"<vapid xmlns='{NS}'/>").send()
    key = r.xml.find(f"{{{NS}}}vapid").get("public-key")
    VAPID["key"] = key
    return key


async def subscribe(client, browser, kinds=None, p256dh=None, auth=None, endpoint=None):
    k = "".join(f"<kind>{x}</kind>" for x in kinds or ())
    xml = (f"<subscribe xmlns='{NS}' endpoint='{endpoint or browser.endpoint}' "
           f"p256dh='{p256dh or b64u(browser.public)}' auth='{auth or b64u(browser.auth)}'>{k}</subscribe>")
    r = await iq(client, "set", xml).send()
    return r.xml.find(f"{{{NS}}}subscription")


async def subscriptions(client):
    r = await iq(client, "get", f"<subscriptions xmlns='{NS}'/>").send()
    return [(s.get("id"), s.get("endpoint"), [k.text for k in s.findall(f"{{{NS}}}kind")])
            for s in r.xml.find(f"{{{NS}}}subscriptions").findall(f"{{{NS}}}subscription")]


async def refused(request, condition):
    try:
        await request.send()
    except IqError as e:
        err = e.iq.xml.find("{jabber:client}error")
        got = [c.tag.split("}")[1] for c in err if c.tag.startswith("{" + STANZAS)]
        check(condition in got, f"expected {condition}, got {got}")
        return
    raise AssertionError(f"expected {condition}, the request succeeded")


def verify_vapid(headers):
    """RFC 8292 §3: Authorization: vapid t=<JWT>, k=<key>; the JWT signed by that key, the key the one the
    server publishes, aud our origin, exp in the next 24 h, sub a contact."""
    auth = headers.get("authorization", "")
    check(auth.startswith("vapid "), f"a vapid Authorization header: {auth!r}")
    params = dict(p.strip().split("=", 1) for p in auth[len("vapid "):].split(","))
    check(params["k"] == VAPID["key"], "k is the server's VAPID public key")
    head, claims, sig = params["t"].split(".")
    check(json.loads(unb64u(head)) == {"typ": "JWT", "alg": "ES256"}, "an ES256 JWT")
    raw = unb64u(sig)
    check(len(raw) == 64, "an r || s signature (RFC 7518 §3.4)")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(params["k"]))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when it does not verify
    c = json.loads(unb64u(claims))
    check(c["aud"] == ORIGIN, f"aud is the push resource's origin: {c}")
    now = time.time()
    check(now < c["exp"] <= now + 24 * 3600 + 60, f"exp within 24 hours: {c}")
    check(c["sub"] == "mailto:ops@localhost", f"sub from the configuration: {c}")


async def receive(service, browser):
    """The next push for `browser`, checked (POST, headers, VAPID) and decrypted: (payload, headers)."""
    method, headers, body, _ = await service.next(browser)
    check(method == "POST", "pushes are POSTs (RFC 8030 §5)")
    check(headers.get("content-encoding") == "aes128gcm", "aes128gcm content coding")
    check(int(headers.get("ttl", "-1")) > 0, "a TTL header (RFC 8030 §5.2)")
    verify_vapid(headers)
    return browser.decrypt(body), headers


async def subscribed(env, name, kinds, script=None):
    """A push service, and an account whose browser subscribed to it for `kinds` (the service answering
    the browser's pushes with the statuses of `script` first): (service, jid, client, browser). The caller
    disconnects the client once the account has done what it needs online."""
    service = await push_service()
    jid, pw = env.user(name)
    client = await env.connect(jid + "/web", pw)
    await vapid_key(client)
    browser = Browser(name.removeprefix("wp_"))
    if script:
        service.script[browser.path] = script
    await subscribe(client, browser, kinds=kinds)
    return service, jid, client, browser


async def chat_to(env, sender, to, body):
    """`sender` (a new account) sends `to` a chat message: (its client, the server log's mark before it)."""
    jid, pw = env.user(sender)
    client = await env.connect(jid + "/web", pw)
    mark = env.server.log_mark()
    client.send_message(mto=to, mbody=body, mtype="chat")
    return client, mark


async def test_vapid_key_and_bad_subscriptions(env):
    jid, pw = env.user("wp_checks")
    c = await env.connect(jid + "/web", pw)
    key = await vapid_key(c)
    check(len(unb64u(key)) == 65 and unb64u(key)[0] == 4, "an uncompressed P-256 point")
    check(await vapid_key(c) == key, "one key")
    b = Browser("checks")
    good_key, good_auth = b64u(b.public), b64u(b.auth)
    def sub(endpoint=b.endpoint, p256dh=good_key, auth=good_auth, kinds=""):
        return iq(c, "set", f"<subscribe xmlns='{NS}' endpoint='{endpoint}' p256dh='{p256dh}' auth='{auth}'>{kinds}</subscribe>")
    await refused(sub(endpoint="http://push.example.net/x"), "not-acceptable")
    await refused(sub(endpoint="ftp://127.0.0.1/x"), "bad-request")
    await refused(sub(p256dh=b64u(b"\x04" + b"\x01" * 64)), "bad-request")
    await refused(sub(p256dh=b64u(b.public[:33])), "bad-request")
    await refused(sub(auth=b64u(b"short")), "bad-request")
    await refused(sub(kinds="<kind>everything</kind>"), "bad-request")
    for i in range(3):
        await subscribe(c, Browser(f"many{i}"))
    await refused(sub(), "resource-constraint")
    # Subscribing an endpoint again changes its settings, keeping its id.
    many0 = Browser("many0")
    first = [s for s in await subscriptions(c) if s[1] == many0.endpoint][0]
    check(first[2] == ["messages", "mentions", "comments", "likes", "followers"], f"every kind by default: {first}")
    again = await subscribe(c, many0, kinds=["likes"])
    check(again.get("id") == first[0], "same endpoint, same subscription")
    listed = await subscriptions(c)
    check(len(listed) == 3 and (first[0], first[1], ["likes"]) in listed, f"listed: {listed}")
    await refused(iq(c, "set", f"<unsubscribe xmlns='{NS}' id='nope'/>"), "item-not-found")
    await iq(c, "set", f"<unsubscribe xmlns='{NS}' id='{first[0]}'/>").send()
    check(len(await subscriptions(c)) == 2, "one removed")
    jid2, pw2 = env.user("wp_other")
    other = await env.connect(jid2 + "/web", pw2)
    r = iq(other, "get", f"<subscriptions xmlns='{NS}'/>")
    r["to"] = jid
    await refused(r, "forbidden")


async def test_direct_message_to_an_offline_account(env):
    service, juliet, jc, browser = await subscribed(env, "wp_juliet", ["messages"])
    await env.disconnect(jc)
    romeo_jid, pw = env.user("wp_romeo")
    romeo = await env.connect(romeo_jid + "/orchard", pw)
    romeo.send_message(mto=juliet, mbody="Art thou not Romeo, and a Montague?", mtype="chat")
    payload, headers = await receive(service, browser)
    check(payload == {"type": "message", "account": juliet, "from": romeo_jid + "/orchard",
                      "body": "Art thou not Romeo, and a Montague?"}, f"payload: {payload}")
    check(headers.get("urgency") == "high", "messages are urgent (RFC 8030 §5.3)")
    check(len(headers.get("topic", "")) == 32, "a Topic (RFC 8030 §5.4)")


async def test_a_disabled_kind_sends_nothing(env):
    service, nurse, nc, browser = await subscribed(env, "wp_nurse", ["followers"])
    await send(nc, None, ps(f"<publish node='{MICROBLOG}'><item id='hello'><entry xmlns='{ATOM}'><title>Hello</title>"
                            f"<id>tag:hello</id></entry></item></publish>{publish_options(access_model='open')}"))
    await env.disconnect(nc)
    fan_jid, pw = env.user("wp_fan")
    fan = await env.connect(fan_jid + "/web", pw)
    # A message (disabled kind), then a follow (enabled): the follow must be the first push.
    fan.send_message(mto=nurse, mbody="a message nobody should push", mtype="chat")
    await harness.round_trip(fan)
    await send(fan, nurse, ps(f"<subscribe node='{MICROBLOG}' jid='{fan_jid}'/>"))
    payload, headers = await receive(service, browser)
    check(payload == {"type": "follower", "account": nurse, "from": fan_jid, "service": nurse, "node": MICROBLOG},
          f"the first push is the follower: {payload}")
    check(headers.get("urgency") == "low", "followers are not urgent")


async def test_gone_removes_the_subscription(env):
    service, tybalt, tc, browser = await subscribed(env, "wp_tybalt", ["messages"], script=[410])
    await env.disconnect(tc)
    _, mark = await chat_to(env, "wp_mercutio", tybalt, "A plague o' both your houses")
    _, _, _, status = await service.next(browser)
    check(status == 410, "answered 410 Gone")
    await env.server.wait_log(f"webpush: removed the subscription", since=mark, what="the subscription removed")
    tc = await env.connect(tybalt + "/web2", "pw-" + "x" * 8)
    check(await subscriptions(tc) == [], "410 removed it (RFC 8030 §7.2)")


async def test_server_errors_are_retried(env):
    service, benvolio, bc, browser = await subscribed(env, "wp_benvolio", ["messages"], script=[503])
    await env.disconnect(bc)
    f, mark = await chat_to(env, "wp_friar", benvolio, "Wisely and slow")
    _, _, first, status = await service.next(browser)
    check(status == 503, "the first attempt answered 503")
    # Once the server has the answer, the retry waits for the backoff on the server's clock: move it.
    await env.server.wait_log("retrying later", since=mark, what="the 503 to be taken as retryable")
    await harness.advance_clock(f, 2)
    payload, _ = await receive(service, browser)
    check(payload["body"] == "Wisely and slow", f"the retry carries the same message: {payload}")


async def test_detached_sessions_are_pushed_live_ones_not(env):
    """XEP-0198: a session whose connection went waits, detached, to be resumed; nothing shows it a
    message meanwhile, so it is pushed. While another session of the account is attached, it is not:
    the later message for the account, pushed once that session has gone too, comes first."""
    service = await push_service()
    jid, pw = env.user("wp_rosaline")
    enabled = asyncio.get_event_loop().create_future()

    def setup(cl):
        cl.add_event_handler("sm_enabled", lambda _: enabled.done() or enabled.set_result(True))
    phone = await env.connect(jid + "/phone", pw, ["xep_0030", "xep_0198"], setup=setup)
    await asyncio.wait_for(enabled, harness.DEFAULT_TIMEOUT)
    check(phone["xep_0198"].sm_id, "resumption allowed")
    await vapid_key(phone)
    browser = Browser("rosaline")
    await subscribe(phone, browser, kinds=["messages"])
    desk = await env.connect(jid + "/desk", pw)
    mark = env.server.log_mark()
    phone.transport.abort()
    await env.server.wait_log(f"{jid}/phone detached, resumable", since=mark)
    sender, spw = env.user("wp_peter")
    s = await env.connect(sender + "/web", spw)
    s.send_message(mto=jid, mbody="the desk shows this one", mtype="chat")
    await desk.next_message(lambda m: m["body"] == "the desk shows this one")
    await env.disconnect(desk)
    s.send_message(mto=jid, mbody="nobody shows this one", mtype="chat")
    payload, _ = await receive(service, browser)
    check(payload["body"] == "nobody shows this one", f"only the message no live session showed: {payload}")


async def test_mentions_and_comments(env):
    service, paris, pc, browser = await subscribed(env, "wp_paris", ["mentions", "comments", "likes"])
    # Paris posts, with a comments node for it on pubsub.localhost (XEP-0277 §6), then leaves.
    comments = "urn:xmpp:microblog:0:comments/wp1"
    await send(pc, f"pubsub.{env.host}", ps(f"<create node='{comments}'/>"))
    link = (f"<link rel='replies' title='comments' "
            f"href='xmpp:pubsub.{env.host}?;node={urllib.parse.quote(comments, safe='')}'/>")
    await send(pc, None, ps(f"<publish node='{MICROBLOG}'><item id='wp1'><entry xmlns='{ATOM}'><title>Verona</title>"
                            f"{link}<id>tag:wp1</id></entry></item></publish>{publish_options(access_model='open')}"))
    await env.disconnect(pc)
    # A room where Paris is a member (by its JID's localpart, "wp_paris": no reserved nick).
    cap_jid, pw = env.user("wp_capulet")
    cap = await muc_util.connect(env, cap_jid + "/web", pw)
    room = muc_util.room_jid(env, "wpverona")
    await muc_util.create(cap, room, "capulet")
    await muc_util.admin_iq(cap, room, [{"jid": paris, "affiliation": "member"}])
    # A message naming someone else, then one naming Paris: only the second is pushed.
    cap.send_message(mto=room, mbody="Where is wp_romeo?", mtype="groupchat")
    cap.send_message(mto=room, mbody="Ask WP_Paris, he knows", mtype="groupchat")
    payload, headers = await receive(service, browser)
    check(payload == {"type": "mention", "account": paris, "from": f"{room}/capulet", "room": room,
                      "body": "Ask WP_Paris, he knows"}, f"the mention: {payload}")
    check(headers.get("urgency") == "high", "mentions are urgent")
    # A comment on Paris's post.
    await send(cap, f"pubsub.{env.host}", ps(f"<publish node='{comments}'><item id='c1'><entry xmlns='{ATOM}'>"
                                             f"<title>Fair Verona</title><id>tag:c1</id></entry></item></publish>"))
    payload, _ = await receive(service, browser)
    check(payload == {"type": "comment", "account": paris, "from": cap_jid, "service": f"pubsub.{env.host}",
                      "node": comments, "item": "c1", "body": "Fair Verona"}, f"the comment: {payload}")
    # A Movim like: a comment whose title is "♥".
    await send(cap, f"pubsub.{env.host}", ps(f"<publish node='{comments}'><item id='c2'><entry xmlns='{ATOM}'>"
                                             f"<title>\u2665</title><id>tag:c2</id></entry></item></publish>"))
    payload, headers = await receive(service, browser)
    check(payload == {"type": "like", "account": paris, "from": cap_jid, "service": f"pubsub.{env.host}",
                      "node": comments, "item": "c2"}, f"the like: {payload}")
    check(headers.get("urgency") == "low", "likes are not urgent")


if __name__ == "__main__":
    harness.main(globals(), extra_toml=CONFIG)
