"""Issue 11, federation policy ([s2s]) and what each s2s connection logs: the allow and deny lists (both
directions, stream header, SASL EXTERNAL and dialback), the stanza-size limit, the streams-per-domain
limit, idle close and the link coming back, remote-server-timeout bounces (DNS that never answers, a
connection that never completes, a peer that never speaks), max_queue overflow, and TLS required (a raw
peer in the clear, a peer that offers no STARTTLS). Each refused peer gets the right stream, dialback or
SASL error, nothing it sends reaches a user, and local users go on being served.

Timeouts under test are configured short (s2s timers are real ones, not the injected clock) and the tests
wait for what they cause: a bounce, a log line.

  a.test  denies c.test; connect_timeout 1 s, queue_timeout 6 s, max_queue 3
  b.test  max_stanza_size 4096, max_incoming_per_domain 1
  c.test  defaults (refused by a.test's deny list and d.test's allow list)
  d.test  allows a.test only; idle_timeout 2 s
  n.test  its s2s listener offers no STARTTLS (require_encryption off)
  slow.test  DNS questions forwarded to a resolver that never answers
  hang.test  SRV to a listener whose accept queue is full: connections never complete
  silent.test  SRV to a listener nobody reads: TCP connects, no stream ever comes
"""
import re
import socket

import federation
import harness
from harness import check, in_thread

A, B, C, D, N = "a.test", "b.test", "c.test", "d.test", "n.test"
PLUGINS = ["xep_0199"]

# Sockets of the unreachable domains, held for the life of the bed (the process exits after the tests).
_held = []


def _listener(address, backlog):
    """A TCP listener on `address`, on a port below 32768, that nobody accepts on."""
    for _ in range(50):
        s = socket.socket()
        try:
            s.bind((address, federation.free_port()))
        except OSError:
            s.close()
            continue
        s.listen(backlog)
        _held.append(s)
        return s.getsockname()[1]
    raise RuntimeError(f"no free port on {address}")


def make_bed(bed, binary):
    servers = (
        (A, "127.0.0.2", f'deny = ["{C}"]\nconnect_timeout = 1\nqueue_timeout = 6\nmax_queue = 3', "starttls"),
        (B, "127.0.0.3", "max_stanza_size = 4096\nmax_incoming_per_domain = 1", "starttls"),
        (C, "127.0.0.4", "", "starttls"),
        (D, "127.0.0.5", f'allow = ["{A}"]\nidle_timeout = 2', "starttls"),
        (N, "127.0.0.6", "require_encryption = false", "none"),
    )
    for domain, address, s2s_toml, s2s_tls in servers:
        s = federation.FedServer(binary, f"{bed.workdir}/{domain}", f"{bed.output}/{domain}.log", domain, address,
                                 bed.ca, bed.dns.port, s2s_toml=s2s_toml, s2s_tls=s2s_tls)
        s.publish(bed.dns)
        bed.servers[domain] = s
    # slow.test: dnsmasq forwards its questions to a UDP socket nobody reads (no answer, no ICMP error).
    silent_dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent_dns.bind(("127.0.0.1", 0))
    _held.append(silent_dns)
    bed.dns.records.append(f"--server=/slow.test/127.0.0.1#{silent_dns.getsockname()[1]}")
    # hang.test: a listener with a backlog of 0 and one connection waiting in it: the kernel drops every
    # further SYN, so connecting never completes (and never fails).
    hang_port = _listener("127.0.0.7", 0)
    filler = socket.create_connection(("127.0.0.7", hang_port))
    _held.append(filler)
    bed.dns.host("xmpp.hang.test", "127.0.0.7")
    bed.dns.srv("_xmpp-server", "hang.test", "xmpp.hang.test", hang_port)
    # silent.test: the kernel completes the connection, nobody ever reads or writes on it.
    silent_port = _listener("127.0.0.8", 16)
    bed.dns.host("xmpp.silent.test", "127.0.0.8")
    bed.dns.srv("_xmpp-server", "silent.test", "xmpp.silent.test", silent_port)
    bed.dns.start()
    for domain, s in bed.servers.items():
        s.start()
        bed.envs[domain] = harness.Env(s, bed.output)


async def user(bed, domain, name):
    jid, pw = bed.env(domain).user(name)
    return await bed.env(domain).connect(jid + "/r", pw, PLUGINS)


def send(client, to, body, msg_id):
    """A chat message with an id, to find its bounce by."""
    m = client.make_message(mto=to, mbody=body, mtype="chat")
    m["id"] = msg_id
    m.send()


async def bounce(client, msg_id, timeout=20):
    m = await client.next_message(lambda m: m["type"] == "error" and m["id"] == msg_id, timeout=timeout)
    return m["error"]["condition"], m["error"]["text"]


def raw(bed, domain, from_domain, cert_domain=None):
    s = bed.servers[domain]
    cert, key = bed.ca.issue(cert_domain) if cert_domain else (None, None)
    return federation.RawS2s(s.address, s.s2s_port, ca=bed.ca.cert, cert=cert, key=key, from_domain=from_domain,
                             to_domain=domain)


def knock(peer, victim, body):
    """What a refused c.test peer tries, in turn: SASL EXTERNAL, dialback, then a stanza anyway. Returns
    the SASL answer, the dialback answer and the rest of the stream (which the stanza must end)."""
    peer.buffer = b""
    peer.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>Yy50ZXN0</auth>")  # c.test
    sasl = peer.read_until("</failure>")
    peer.buffer = b""
    peer.send(f"<db:result from='{C}' to='{peer.to_domain}'>0123456789abcdef</db:result>")
    db = peer.read_until("</db:result>")
    peer.send(f"<message from='x@{C}' to='{victim}'><body>{body}</body></message>")
    return sasl, db, peer.read_to_close()


def last_line(log):
    return log.splitlines()[-1]


def address_in(line):
    """The peer address a causerie log line names in parentheses."""
    m = re.search(r"\(([0-9.]+)\)", line)
    check(m is not None, f"an address in {line}")
    return m.group(1)


# ---------------------------------------------------------------- stanza size (first: a.test -> b.test is new)

async def test_stanza_over_max_stanza_size_ends_the_stream(bed):
    a, b = bed.servers[A], bed.servers[B]
    alice, bob = await user(bed, A, "salice"), await user(bed, B, "sbob")
    mark_a, mark_b = a.log_mark(), b.log_mark()
    big = "x" * 6000
    alice.send_message(mto=bob.boundjid.bare, mbody=big, mtype="chat")
    refused = last_line(await b.wait_log("stanza exceeds the size limit of 4096 bytes", since=mark_b))
    check(f"s2s incoming {A}" in refused and "policy-violation" in refused, f"b.test ends the stream: {refused}")
    line = last_line(await a.wait_log(f"s2s {A} -> {B}: stream error from the peer", since=mark_a))
    check("policy-violation" in line, f"a.test is told why (RFC 6120 §4.9.3.14): {line}")
    await a.wait_log(f"s2s {A} -> {B}: closed", since=mark_a)
    # b.test takes one stream per domain (max_incoming_per_domain = 1): the next waits for this one to go.
    await b.wait_log(f"s2s incoming {A} -> {B} ({address_in(refused)}): closed", since=mark_b)
    # The link connects again for the next stanza; the big one was never delivered.
    mark_a = a.log_mark()
    alice.send_message(mto=bob.boundjid.bare, mbody="small enough", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "small enough", timeout=20, refuse=lambda m: m["body"] == big)
    await a.wait_log(f"s2s outgoing {A} -> {B} (", since=mark_a)


# ---------------------------------------------------------------- idle close, reconnection, what is logged

async def test_idle_close_and_reconnect(bed):
    a, d = bed.servers[A], bed.servers[D]
    alice, dora = await user(bed, A, "ialice"), await user(bed, D, "idora")
    mark_a, mark_d = a.log_mark(), d.log_mark()
    dora.send_message(mto=alice.boundjid.bare, mbody="first contact", mtype="chat")
    await alice.next_message(lambda m: m["body"] == "first contact", timeout=20)
    # Logged once per connection: direction, peer, authentication method, TLS version, and on the incoming
    # side that it became bidirectional (XEP-0288).
    line = last_line(await a.wait_log(f"s2s incoming {D} -> {A} (", since=mark_a))
    check(re.search(r"authenticated by SASL EXTERNAL, TLSv1\.[23], bidirectional", line) is not None, line)
    closed = f"s2s incoming {D} -> {A} ({address_in(line)}): closed"
    line = last_line(await d.wait_log(f"s2s outgoing {D} -> {A} (", since=mark_d))
    check(re.search(r"authenticated by SASL EXTERNAL, TLSv1\.[23], bidirectional", line) is not None, line)
    alice.send_message(mto=dora.boundjid.bare, mbody="answer", mtype="chat")
    await dora.next_message(lambda m: m["body"] == "answer", timeout=20)
    log = a.log_since(mark_a)
    check(log.count(f"s2s incoming {D} -> {A} (") == 1 and f"s2s outgoing {A} -> {D}" not in log,
          f"one connection, logged once, carried both ways: {log}")
    # Nothing more: d.test closes it after s2s.idle_timeout, cleanly (RFC 6120 §4.4).
    await d.wait_log(f"s2s {D} -> {A}: idle, closing", since=mark_d)
    await a.wait_log(closed, since=mark_a)
    check("stream error" not in a.log_since(mark_a), "closed without a stream error")
    # Both sides connect again when they have something to send.
    mark_a, mark_d = a.log_mark(), d.log_mark()
    alice.send_message(mto=dora.boundjid.bare, mbody="after the idle close", mtype="chat")
    await dora.next_message(lambda m: m["body"] == "after the idle close", timeout=20)
    await a.wait_log(f"s2s outgoing {A} -> {D} (", since=mark_a)
    dora.send_message(mto=alice.boundjid.bare, mbody="me too", mtype="chat")
    await alice.next_message(lambda m: m["body"] == "me too", timeout=20)


# ---------------------------------------------------------------- allow and deny lists

async def test_deny_list_refuses_both_directions(bed):
    a, c = bed.servers[A], bed.servers[C]
    alice, carl = await user(bed, A, "dalice"), await user(bed, C, "dcarl")
    mark_a = a.log_mark()
    # Outgoing: bounced at once, no connection tried.
    send(alice, carl.boundjid.bare, "to a denied domain", "deny-out")
    condition, text = await bounce(alice, "deny-out")
    check(condition == "remote-server-not-found" and "does not federate" in text, f"{condition}: {text}")
    # Incoming: c.test's stream is refused at its header (RFC 6120 §4.9.3.14 policy-violation), and its
    # user gets the bounce; alice receives nothing.
    send(carl, alice.boundjid.bare, "from a denied domain", "deny-in")
    condition, _ = await bounce(carl, "deny-in")
    check(condition == "remote-server-not-found", f"carl's message bounced: {condition}")
    line = last_line(await a.wait_log(f"s2s incoming {C} (", since=mark_a))
    check("policy-violation" in line and f"does not federate with {C}" in line, f"refused at the header: {line}")
    log = a.log_since(mark_a)
    check(not [l for l in log.splitlines() if C in l and "authenticated by" in l],
          f"no stream with c.test authenticated: {log}")
    # The same domain without a 'from' in its header: SASL EXTERNAL and dialback refused too, each logged.
    peer = raw(bed, A, None, cert_domain=C)

    def attack():
        peer.starttls()
        return knock(peer, alice.boundjid.bare, "sneaking in")
    mark_a = a.log_mark()
    sasl, db, end = await in_thread(attack)
    check("<not-authorized" in sasl, f"SASL EXTERNAL refused: {sasl}")
    check("type='error'" in db and "<forbidden" in db, f"dialback refused with forbidden (XEP-0220 §2.4): {db}")
    check("<not-authorized" in end, f"stanzas from it end the stream: {end}")
    line = last_line(await a.wait_log("SASL EXTERNAL refused (not-authorized)", since=mark_a))
    check(f"does not federate with {C}" in line, f"the SASL refusal is logged with its reason: {line}")
    line = last_line(await a.wait_log(f"s2s incoming {C} -> {A} (", since=mark_a))
    check("dialback error forbidden" in line, f"the dialback refusal is logged: {line}")
    log = a.log_since(mark_a)
    check(log.count("SASL EXTERNAL refused") == 1 and log.count("dialback error") == 1, f"each logged once: {log}")
    # alice is still reachable from an allowed domain, and got nothing from c.test.
    bob = await user(bed, B, "dbob")
    bob.send_message(mto=alice.boundjid.bare, mbody="from an allowed domain", mtype="chat")
    await alice.next_message(lambda m: m["body"] == "from an allowed domain", timeout=20,
                             refuse=lambda m: m["from"].domain == C)


async def test_allow_list_refuses_other_domains(bed):
    c, d = bed.servers[C], bed.servers[D]
    carl, dora = await user(bed, C, "acarl"), await user(bed, D, "adora")
    mark_d, mark_c = d.log_mark(), c.log_mark()
    send(carl, dora.boundjid.bare, "not on the list", "allow-in")
    condition, _ = await bounce(carl, "allow-in")
    check(condition == "remote-server-not-found", f"bounced to carl: {condition}")
    line = last_line(await d.wait_log(f"s2s incoming {C} (", since=mark_d))
    check("policy-violation" in line, f"d.test refuses c.test at its header: {line}")
    line = last_line(await c.wait_log(f"s2s {C} -> {D}: stream error from the peer", since=mark_c))
    check("policy-violation" in line, f"c.test hears why: {line}")
    send(dora, carl.boundjid.bare, "nor this way", "allow-out")
    condition, text = await bounce(dora, "allow-out")
    check(condition == "remote-server-not-found" and "does not federate" in text, f"{condition}: {text}")
    # a.test is on the list.
    alice = await user(bed, A, "aalice")
    alice.send_message(mto=dora.boundjid.bare, mbody="on the list", mtype="chat")
    await dora.next_message(lambda m: m["body"] == "on the list", timeout=20, refuse=lambda m: m["from"].domain == C)


# ---------------------------------------------------------------- streams per remote domain

async def test_max_incoming_per_domain(bed):
    b = bed.servers[B]
    bob = await user(bed, B, "mbob")

    async def authenticated_stream(body):
        """A c.test stream that authenticates and delivers `body` to bob."""
        peer = raw(bed, B, C, cert_domain=C)

        def run():
            peer.starttls()
            got = peer.sasl_external()
            assert "</stream:features>" in got, f"the stream authenticates: {got}"
            peer.send(f"<message from='x@{C}' to='{bob.boundjid.bare}' type='chat'><body>{body}</body></message>")
        await in_thread(run)
        await bob.next_message(lambda m: m["body"] == body, timeout=20, refuse=lambda m: m["body"] == "second stream")
        return peer

    first = await authenticated_stream("first stream")
    second = raw(bed, B, C, cert_domain=C)

    def second_stream():
        second.starttls()
        second.buffer = b""
        # The authentication, the restarted stream and a stanza in one go: nothing after the refusal counts.
        second.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>Yy50ZXN0</auth>"
                    f"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                    f"to='{B}' from='{C}' version='1.0'>"
                    f"<message from='y@{C}' to='{bob.boundjid.bare}' type='chat'><body>second stream</body></message>")
        return second.read_to_close()
    mark_b = b.log_mark()
    got = await in_thread(second_stream)
    check("<policy-violation" in got and "<success" not in got, f"a second stream from c.test is refused: {got}")
    line = last_line(await b.wait_log(f"too many streams from {C}", since=mark_b))
    check(f"s2s incoming {C}" in line, f"logged with the peer: {line}")
    closed = f"s2s incoming {C} -> {B} ({address_in(line)}): closed"
    await b.wait_log(closed, since=mark_b)  # the refused stream is gone
    # The place comes back when the first stream ends.
    mark_b = b.log_mark()
    await in_thread(lambda: (first.send("</stream:stream>"), first.read_to_close()))
    await b.wait_log(closed, since=mark_b)
    third = await authenticated_stream("third stream")
    third.close()


# ---------------------------------------------------------------- TLS required (RFC 7590)

async def test_peer_without_tls_is_refused(bed):
    b = bed.servers[B]
    alice, bob = await user(bed, A, "talice"), await user(bed, B, "tbob")
    peer = raw(bed, B, C)

    def cleartext():
        header = peer.header()
        features = header[header.index("<stream:features>"):]
        return (features, *knock(peer, bob.boundjid.bare, "in the clear"))
    mark_b = b.log_mark()
    features, sasl, db, end = await in_thread(cleartext)
    check("<required/>" in features and "mechanisms" not in features and "dialback" not in features,
          f"only STARTTLS, required, is offered in the clear: {features}")
    check("<invalid-mechanism" in sasl, f"no SASL without TLS: {sasl}")
    check("type='error'" in db and "<policy-violation" in db, f"no dialback without TLS (XEP-0220 §2.4): {db}")
    check("<not-authorized" in end, f"a stanza ends the unauthenticated stream: {end}")
    line = last_line(await b.wait_log("dialback error policy-violation", since=mark_b))
    check(f"s2s incoming {C} -> {B}" in line and "TLS is required" in line, f"logged: {line}")
    await b.wait_log("SASL EXTERNAL refused (invalid-mechanism)", since=mark_b)
    # Outgoing: n.test offers no STARTTLS, so a.test does not talk to it (RFC 7590 §3.1).
    a, n = bed.servers[A], bed.servers[N]
    nina = await user(bed, N, "tnina")
    mark_a, mark_n = a.log_mark(), n.log_mark()
    send(alice, nina.boundjid.bare, "not without TLS", "notls")
    condition, _ = await bounce(alice, "notls")
    check(condition == "remote-server-not-found", f"bounced: {condition}")
    await a.wait_log(f"s2s {A} -> {N}: TLS is required", since=mark_a)
    line = last_line(await n.wait_log(f"s2s incoming {A} (", since=mark_n))
    check("stream error from the peer: policy-violation" in line, f"n.test hears why: {line}")
    # Local users are unaffected.
    alice.send_message(mto=bob.boundjid.bare, mbody="still fine", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "still fine", timeout=20,
                           refuse=lambda m: m["body"] == "in the clear")


# ---------------------------------------------------------------- unreachable domains

async def timeout_bounce(bed, name, domain, cause, what):
    """A message to `domain` comes back with remote-server-timeout (RFC 6120 §8.3.3.16), and a.test's log
    shows `cause` (a regex), not the queue deadline."""
    a = bed.servers[A]
    client = await user(bed, A, name)
    mark = a.log_mark()
    send(client, f"someone@{domain}", "anyone?", name)
    condition, _ = await bounce(client, name)
    check(condition == "remote-server-timeout", f"{what}: {condition}")
    log = a.log_since(mark)
    check(re.search(cause, log) is not None, f"{what}: {log}")
    check("queue_timeout" not in log, f"{what}, before the queue deadline: {log}")


async def test_dns_timeout_bounces_remote_server_timeout(bed):
    await timeout_bounce(bed, "nalice", "slow.test", r"s2s a\.test -> slow\.test: no address for slow\.test: DNS timeout",
                         "the lookup timed out")


async def test_connect_timeout_bounces_remote_server_timeout(bed):
    await timeout_bounce(bed, "halice", "hang.test",
                         r"s2s a\.test -> hang\.test: connecting to 127\.0\.0\.7:\d+ failed: timed out",
                         "the connection timed out (s2s.connect_timeout)")


async def test_queue_timeout_and_max_queue(bed):
    a = bed.servers[A]
    alice = await user(bed, A, "qalice")
    mark = a.log_mark()
    for i in range(1, 5):
        send(alice, "someone@silent.test", f"queued {i}", f"q{i}")
    # The fourth does not fit (max_queue 3): bounced at once, before the others time out.
    first = await alice.next_message(lambda m: m["type"] == "error", timeout=20)
    check(first["id"] == "q4" and first["error"]["condition"] == "resource-constraint",
          f"the overflow is bounced first with resource-constraint: {first['id']} {first['error']['condition']}")
    for i in range(1, 4):
        condition, text = await bounce(alice, f"q{i}")
        check(condition == "remote-server-timeout", f"q{i} after s2s.queue_timeout: {condition} {text}")
    line = last_line(await a.wait_log("no authenticated stream within s2s.queue_timeout", since=mark))
    check("(3 stanzas bounced)" in line, f"the three queued ones: {line}")
    # The link to that domain is usable again: a new stanza waits again rather than bouncing at once.
    send(alice, "someone@silent.test", "again", "q5")
    condition, _ = await bounce(alice, "q5")
    check(condition == "remote-server-timeout", f"a new attempt, timed out again: {condition}")


if __name__ == "__main__":
    federation.main(globals(), make_bed)
