"""Issue 11, bad input on server-to-server streams: a peer claiming a domain it cannot prove, a forged
'from', a certificate naming another domain, malformed XML, a flood. Each ends in the right stream or
dialback error, nothing from the offender reaches a user, and a well-behaved peer (a.test, a Causerie
server) goes on being served. The offenders are raw TLS peers with certificates from the test CA."""
import asyncio

import federation
import harness
from harness import check, in_thread

A, B = "a.test", "b.test"


def make_bed(bed, binary):
    for domain, address, extra in ((A, "127.0.0.2", ""), (B, "127.0.0.3", "stanzas_per_second = 20")):
        s = federation.FedServer(binary, f"{bed.workdir}/{domain}", f"{bed.output}/{domain}.log", domain, address,
                                 bed.ca, bed.dns.port, s2s_toml=extra)
        s.publish(bed.dns)
        bed.servers[domain] = s
    bed.dns.start()
    for domain, s in bed.servers.items():
        s.start()
        bed.envs[domain] = harness.Env(s, bed.output)


async def users(bed):
    """bob@b.test, the target of every attack, and alice@a.test, a legitimate remote contact."""
    b_jid, b_pw = bed.env(B).user("bob")
    a_jid, a_pw = bed.env(A).user("alice")
    bob = await bed.env(B).connect(b_jid + "/desk", b_pw)
    alice = await bed.env(A).connect(a_jid + "/desk", a_pw)
    return alice, bob


async def marker_arrives_first(alice, bob, text):
    """The legitimate peer still reaches bob, and nothing from the offender came before (RFC 6120 order)."""
    alice.send_message(mto=bob.boundjid.bare, mbody=text, mtype="chat")
    await bob.next_message(lambda m: m["body"] == text, timeout=20,
                           refuse=lambda m: m["from"].bare != alice.boundjid.bare)


def raw(bed, from_domain, cert_domain=None):
    s = bed.servers[B]
    cert, key = bed.ca.issue(cert_domain) if cert_domain else (None, None)
    return federation.RawS2s(s.address, s.s2s_port, ca=bed.ca.cert, cert=cert, key=key, from_domain=from_domain,
                             to_domain=B)


async def test_claim_without_proof_is_refused(bed):
    alice, bob = await users(bed)
    peer = raw(bed, "evil.test")

    def attack():
        features = peer.starttls()
        assert "EXTERNAL" not in features, "no EXTERNAL without a certificate"
        peer.buffer = b""
        peer.send("<db:result from='evil.test' to='b.test'>0123456789abcdef</db:result>")
        got = peer.read_until("</db:result>")
        assert "type='error'" in got and "not-authorized" in got, f"dialback refused: {got}"
        peer.send(f"<message from='mallory@evil.test' to='{bob.boundjid.bare}'><body>trust me</body></message>")
        return peer.read_to_close()
    got = await in_thread(attack)
    check("<not-authorized" in got, f"stanzas before authentication end the stream: {got}")
    await marker_arrives_first(alice, bob, "marker 1")


async def test_forged_from_ends_the_stream(bed):
    alice, bob = await users(bed)
    peer = raw(bed, "c.test", cert_domain="c.test")

    def attack():
        peer.starttls()
        got = peer.sasl_external()
        assert "</stream:features>" in got, f"SASL EXTERNAL with a valid certificate: {got}"
        peer.buffer = b""
        peer.send(f"<message from='{alice.boundjid}' to='{bob.boundjid.bare}'><body>forged</body></message>")
        return peer.read_to_close()
    got = await in_thread(attack)
    check("<invalid-from" in got, f"a 'from' not proven on the stream: {got}")
    await marker_arrives_first(alice, bob, "marker 2")


async def test_certificate_for_another_domain_proves_nothing(bed):
    alice, bob = await users(bed)
    peer = raw(bed, "c.test", cert_domain="d.test")

    def attack():
        features = peer.starttls()
        assert "EXTERNAL" not in features, f"no EXTERNAL for a certificate of d.test claiming c.test: {features}"
        peer.buffer = b""
        peer.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>Yy50ZXN0</auth>")
        got = peer.read_until("</failure>")
        assert "<failure" in got, f"EXTERNAL refused: {got}"
        peer.buffer = b""
        peer.send("<db:result from='c.test' to='b.test'>0123456789abcdef</db:result>")
        got = peer.read_until("</db:result>")
        assert "type='error'" in got, f"dialback refused too: {got}"
        peer.send(f"<message from='x@c.test' to='{bob.boundjid.bare}'><body>nope</body></message>")
        return peer.read_to_close()
    got = await in_thread(attack)
    check("<not-authorized" in got, f"nothing accepted: {got}")
    await marker_arrives_first(alice, bob, "marker 3")


async def test_malformed_xml_on_an_authenticated_stream(bed):
    alice, bob = await users(bed)
    peer = raw(bed, "c.test", cert_domain="c.test")

    def attack():
        peer.starttls()
        peer.sasl_external()
        peer.buffer = b""
        peer.send(f"<message from='x@c.test' to='{bob.boundjid.bare}'><body>half</message>")
        return peer.read_to_close()
    got = await in_thread(attack)
    check("<not-well-formed" in got, f"not-well-formed: {got}")
    await marker_arrives_first(alice, bob, "marker 4")


async def test_flood_from_one_domain(bed):
    alice, bob = await users(bed)
    peer = raw(bed, "c.test", cert_domain="c.test")

    def attack():
        peer.starttls()
        peer.sasl_external()
        peer.buffer = b""
        try:
            for i in range(2000):
                peer.send(f"<message from='x@c.test' to='{bob.boundjid.bare}' type='chat'><body>flood {i}</body></message>")
        except OSError:
            pass  # the server closed on us
        return peer.read_to_close()
    got = await in_thread(attack)
    check("<policy-violation" in got, f"the flood ends the stream: {got[-300:]}")
    # bob got at most the burst the limit allows, and alice's messages still arrive.
    alice.send_message(mto=bob.boundjid.bare, mbody="marker 5", mtype="chat")
    flood = 0
    while True:
        m = await bob.next_message(timeout=20)
        if m["body"] == "marker 5":
            break
        flood += 1
    check(flood <= 60, f"at most the allowed burst of the flood got through: {flood}")


async def test_stream_limit_counts_per_domain_pair(bed):
    # s2s.max_incoming_per_domain (4 by default) bounds the streams one remote domain has authenticated to one
    # of our domains: a fifth from limit.test to b.test ends in policy-violation. Each of our domains counts
    # apart (RFC 6120 §4.2: one stream per pair of domains), so limit.test still gets a stream to
    # conference.b.test, as a peer whose users are in b.test's rooms needs.
    s = bed.servers[B]
    cert, key = bed.ca.issue("limit.test")

    def stream(to):
        return federation.RawS2s(s.address, s.s2s_port, ca=bed.ca.cert, cert=cert, key=key, from_domain="limit.test",
                                 to_domain=to)
    streams = [stream(B) for _ in range(5)] + [stream(f"conference.{B}")]

    def open_all():
        got = []
        for p in streams:
            p.starttls()
            got.append(p.sasl_external())
        return got
    try:
        got = await in_thread(open_all)
        for i in range(4):
            check("</stream:features>" in got[i], f"stream {i + 1} to {B} authenticated: {got[i][-300:]}")
        check("<policy-violation" in got[4], f"a fifth stream to {B} is one too many: {got[4][-300:]}")
        check("</stream:features>" in got[5], f"a stream to conference.{B} counts apart: {got[5][-300:]}")
    finally:
        for p in streams:
            p.close()


if __name__ == "__main__":
    federation.main(globals(), make_bed)
