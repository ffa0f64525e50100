"""Issue 2, bad input on purpose: every abuse gets the right stream or stanza error, and two other clients
keep chatting, unaffected, throughout."""
import asyncio
import harness
from harness import check, RawClient, in_thread


class Bystanders:
    """Two logged-in users exchanging messages while the abuse goes on."""

    async def start(self, env):
        a_jid, a_pw = env.user("bystander_a")
        b_jid, b_pw = env.user("bystander_b")
        self.a = await env.connect(a_jid + "/x", a_pw)
        self.b = await env.connect(b_jid + "/x", b_pw)
        self.n = 0

    async def still_chatting(self):
        self.n += 1
        body = f"still here {self.n}"
        self.a.send_message(mto=self.b.boundjid, mbody=body, mtype="chat")
        await self.b.next_message(lambda m: m["body"] == body, timeout=5)
        self.b.send_message(mto=self.a.boundjid, mbody=body + " too", mtype="chat")
        await self.a.next_message(lambda m: m["body"] == body + " too", timeout=5)


async def stream_error_after(env, payload, condition, login=None):
    """Sends `payload` on a fresh connection (after logging in, if asked) and expects <condition/>."""
    def run():
        c = RawClient(env.server)
        try:
            if login:
                c.login(*login)
            else:
                c.open_stream()
            c.buffer = b""
            c.send(payload)
            text = c.read_until("</stream:stream>")
            check(f"<{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text,
                  f"expected stream error {condition}, got {text[-400:]}")
            check(c.closed_by_peer(), "the server closes the connection after the stream error")
        finally:
            c.close()
    await in_thread(run)


async def test_malformed_xml(env):
    by = Bystanders()
    await by.start(env)
    jid, pw = env.user("mallory")
    for payload in ["<message><body>unclosed</message>", "<message to='a@b'>&undefined;</message>",
                    "\xff\xfe<garbage", "<a:b xmlns='jabber:client'/>"]:
        await stream_error_after(env, payload, "not-well-formed", login=(jid.split("@")[0], pw))
        await by.still_chatting()


async def test_huge_stanza(env):
    by = Bystanders()
    await by.start(env)
    jid, pw = env.user("bigmouth")
    body = "x" * (1024 * 1024)
    await stream_error_after(env, f"<message to='{by.a.boundjid}'><body>{body}</body></message>", "policy-violation",
                             login=(jid.split("@")[0], pw))
    await by.still_chatting()
    # Nothing of it reached the intended recipient.
    check(by.a.messages.empty(), "the oversized message was not delivered")


async def test_deep_nesting(env):
    by = Bystanders()
    await by.start(env)
    jid, pw = env.user("nester")
    await stream_error_after(env, "<message>" + "<a>" * 10000, "policy-violation", login=(jid.split("@")[0], pw))
    await by.still_chatting()


async def test_entity_declaration_and_restricted_xml(env):
    by = Bystanders()
    await by.start(env)
    def run():
        c = RawClient(env.server)
        try:
            c.send("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY lol 'lol'>]><stream:stream to='localhost' "
                   "version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
            text = c.read_until("</stream:stream>")
            check("<restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text, text)
            check("<stream:stream" in text, "a stream header comes before the error (RFC 6120 §4.9.1.1)")
        finally:
            c.close()
    await in_thread(run)
    await by.still_chatting()
    jid, pw = env.user("commenter")
    for payload in ["<!-- a comment -->", "<?pi target?>"]:
        await stream_error_after(env, payload, "restricted-xml", login=(jid.split("@")[0], pw))
    await by.still_chatting()


async def test_invalid_jids(env):
    by = Bystanders()
    await by.start(env)
    jid, pw = env.user("typo")
    def run():
        c = RawClient(env.server)
        try:
            me = c.login(jid.split("@")[0], pw)
            # A malformed 'to' is a stanza error, and the stream goes on (RFC 6120 §8.3.3.8).
            for bad in ["@localhost", "a@b@c..d", "user@exa mple.com", "x@localhost/"]:
                c.buffer = b""
                c.send(f"<message to='{bad}' id='m1'><body>hi</body></message>")
                text = c.read_until("</message>")
                check("<jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" in text, f"{bad}: {text}")
            c.buffer = b""
            c.send("<iq to='bad@@host' type='get' id='q1'><ping xmlns='urn:xmpp:ping'/></iq>")
            text = c.read_until("</iq>")
            check("jid-malformed" in text and "id='q1'" in text, text)
            # Still usable: a ping to the server works.
            c.buffer = b""
            c.send("<iq to='localhost' type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>")
            text = c.read_until("id='p2'")
            check("type='result'" in text, text)
            # A forged 'from' is a stream error (RFC 6120 §8.1.2.1).
            c.buffer = b""
            c.send(f"<message from='someone@else.example' to='{me}'><body>x</body></message>")
            text = c.read_until("</stream:stream>")
            check("<invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text, text)
        finally:
            c.close()
    await in_thread(run)
    await by.still_chatting()


async def test_wrong_passwords_are_refused_and_slowed_down(env):
    by = Bystanders()
    await by.start(env)
    jid, pw = env.user("victim")
    import time
    durations = []
    for i in range(6):
        t0 = time.monotonic()
        await env.connect(jid + "/x", f"wrong-{i}", expect_failure=True, timeout=20)
        durations.append(time.monotonic() - t0)
    # The first failures are answered at once; later ones wait longer and longer.
    check(durations[-1] > durations[0] + 0.2, f"repeated failures slow down: {durations}")
    def raw_failure():
        c = RawClient(env.server)
        try:
            c.starttls()
            import base64
            token = base64.b64encode(b"\0victim\0nope").decode()
            c.buffer = b""
            c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
            text = c.read_until("</failure>", timeout=20)
            check("<not-authorized/>" in text, text)
        finally:
            c.close()
    await in_thread(raw_failure)
    await by.still_chatting()
    # The right password still works.
    c = await env.connect(jid + "/x", pw, timeout=20)
    check(c.is_connected(), "the account still works")


async def test_stanzas_before_authentication(env):
    by = Bystanders()
    await by.start(env)
    def run(tls):
        c = RawClient(env.server)
        try:
            if tls:
                c.starttls()
            else:
                c.open_stream()
            c.buffer = b""
            c.send(f"<message to='{by.a.boundjid}'><body>sneaky</body></message>")
            text = c.read_until("</stream:stream>")
            check("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text, text)
        finally:
            c.close()
    await in_thread(run, False)
    await in_thread(run, True)
    # Plaintext SASL is refused when TLS is required.
    def plain_auth():
        c = RawClient(env.server)
        try:
            c.open_stream()
            c.buffer = b""
            c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>")
            text = c.read_until("</failure>")
            check("<encryption-required/>" in text, text)
        finally:
            c.close()
    await in_thread(plain_auth)
    await by.still_chatting()
    check(by.a.messages.empty(), "nothing sent before authentication was delivered")


async def test_bad_stream_headers(env):
    def run(header, condition):
        c = RawClient(env.server)
        try:
            c.send(header)
            text = c.read_until("</stream:stream>")
            check(f"<{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text, f"{condition}: {text}")
        finally:
            c.close()
    ns = "xmlns:stream='http://etherx.jabber.org/streams'"
    await in_thread(run, f"<stream:stream to='unknown.example' version='1.0' xmlns='jabber:client' {ns}>",
                    "host-unknown")
    await in_thread(run, f"<stream:stream to='localhost' version='1.0' xmlns='jabber:server' {ns}>",
                    "invalid-namespace")
    await in_thread(run, f"<stream:stream to='localhost' xmlns='jabber:client' {ns}>", "unsupported-version")
    await in_thread(run, "<stream to='localhost' version='1.0' xmlns='jabber:client'>", "invalid-namespace")


async def test_resource_conflict_replaces_old_session(env):
    jid, pw = env.user("twin")
    first = await env.connect(jid + "/same", pw)
    disconnected = asyncio.get_event_loop().create_future()
    first.add_event_handler("stream_error", lambda e: disconnected.done() or disconnected.set_result(e["condition"]))
    second = await env.connect(jid + "/same", pw)
    cond = await asyncio.wait_for(disconnected, 10)
    check(cond == "conflict", f"old session got {cond}")
    check(second.boundjid.resource == "same", "new session holds the resource")
    # Several different resources at once are fine.
    third = await env.connect(jid + "/other", pw)
    third.send_message(mto=second.boundjid, mbody="sibling", mtype="chat")
    await second.next_message(lambda m: m["body"] == "sibling")


async def test_unknown_iq_and_exactly_one_reply(env):
    jid, pw = env.user("asker")
    def run():
        c = RawClient(env.server)
        try:
            c.login("asker", pw)
            # RFC 6120 §8.2.3: a get with two payloads is a bad request; an unknown payload service-unavailable.
            c.send("<iq type='get' id='two'><ping xmlns='urn:xmpp:ping'/><query xmlns='jabber:iq:version'/></iq>"
                   "<iq type='get' id='unk'><query xmlns='urn:example:nothing'/></iq>"
                   "<iq type='set' id='noid-type'/>"
                   "<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>"
                   "<iq type='get' id='last' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
            text = c.read_until("id='last'")
            import re
            text = c.read_until("</iq>", timeout=2) if "id='last'" not in text else text
            ids = re.findall(r"<iq[^>]*id='([^']*)'", text)
            check(ids.count("two") == 1 and ids.count("unk") == 1 and ids.count("last") == 1, f"one reply each: {ids}")
            check("bad-request" in text and "service-unavailable" in text, text)
        finally:
            c.close()
    await in_thread(run)


if __name__ == "__main__":
    harness.main(globals())
