"""Issue 13: acknowledged means saved. Messages to an offline account, then a request the server answers
(an iq, or a XEP-0198 <r/>) on the same stream; the server is killed with SIGKILL the moment the answer
arrives, restarted, and every message must be there. Before the fix, 9 runs in 10 lost the last ones.
Also: offline messages leave storage only once a client with stream management acknowledges them.
Raw sockets (harness.RawClient) so that 500 messages go out in one write and the kill follows the answer
within microseconds."""
import re
import socket
import sqlite3

import harness
from harness import RawClient, check, in_thread

SM = "urn:xmpp:sm:3"
ROUNDS = 8
COUNT = 500


def kill_and_restart(server):
    server.proc.kill()  # SIGKILL: no shutdown, no flush
    server.proc.wait()
    server.log.close()
    server.start()


def offline_rows(server, owner):
    db = sqlite3.connect(f"file:{server.data_dir}/causerie.db?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM offline WHERE owner = ?", (owner,)).fetchone()[0]
    finally:
        db.close()


def flood_then_ask(server, user, pw, to, tag, stream_management):
    """Sends COUNT messages then a request in one write; returns as soon as its answer is read."""
    c = RawClient(server)
    try:
        c.login(user, pw)
        if stream_management:
            c.send(f"<enable xmlns='{SM}'/>")
            c.read_until("<enabled")
        c.buffer = b""
        msgs = "".join(f"<message to='{to}' type='chat' id='{tag}-{i}'><body>{tag}-{i}</body></message>"
                       for i in range(COUNT))
        if stream_management:
            c.send(msgs + f"<r xmlns='{SM}'/>")
            got = c.read_until(f"h='{COUNT}'")
            check(f"h='{COUNT}'" in got, f"no <a h='{COUNT}'/>: {got[-300:]}")
        else:
            c.send(msgs + f"<iq type='get' id='ask-{tag}'><ping xmlns='urn:xmpp:ping'/></iq>")
            got = c.read_until(f"ask-{tag}")
            check(f"ask-{tag}" in got, f"no answer to the ping: {got[-300:]}")
        # The answer is here: kill now, before anything else can happen.
        kill_and_restart(server)
    finally:
        c.close()


def read_offline(server, user, pw, tag, stream_management=False):
    """Logs in, comes online and returns the numbers of this round's messages, once the last one is here
    (or the peer is done sending), and the client, still connected."""
    c = RawClient(server)
    c.login(user, pw, resource="reader")
    if stream_management:
        c.send(f"<enable xmlns='{SM}'/>")
        c.read_until("<enabled")
    c.buffer = b""
    c.send("<presence/>")
    try:
        got = c.read_until(f"<body>{tag}-{COUNT - 1}</body>", timeout=20)
        if "<presence" not in got:
            got = c.read_until("<presence")  # our own presence (RFC 6121 §4.2.2), counted in acknowledgements
    except TimeoutError:  # the last ones never come: report how many did
        got = c.buffer.decode(errors="replace")
    return sorted(int(n) for n in re.findall(rf"<body>{tag}-(\d+)</body>", got)), c, got


async def kill_rounds(env, sender, recipient, stream_management):
    alice, apw = env.user(sender)
    bob, bpw = env.user(recipient)
    for r in range(ROUNDS):
        tag = f"{sender}{r}"
        await in_thread(flood_then_ask, env.server, alice.split("@")[0], apw, bob, tag, stream_management)
        got, c, _ = await in_thread(read_offline, env.server, bob.split("@")[0], bpw, tag)
        c.close()
        check(got == list(range(COUNT)), f"round {r}: {len(got)} of {COUNT} offline messages after the kill")


async def test_iq_answer_after_offline_messages_survives_sigkill(env):
    await kill_rounds(env, "alice", "bob", stream_management=False)


async def test_sm_ack_after_offline_messages_survives_sigkill(env):
    await kill_rounds(env, "carol", "dave", stream_management=True)


def count_stanzas(text):
    return len(re.findall(r"<(?:message|presence|iq)[\s>/]", text))


async def test_offline_messages_leave_storage_only_when_acknowledged(env):
    alice, apw = env.user("erin")
    bob, bpw = env.user("frank")
    tag = "ack"
    await in_thread(flood_then_ask, env.server, alice.split("@")[0], apw, bob, tag, False)
    check(offline_rows(env.server, bob) == COUNT, "stored before delivery")
    # Frank, with stream management, receives them all and goes away without acknowledging them.
    mark = env.server.log_mark()
    got, c, _ = await in_thread(read_offline, env.server, bob.split("@")[0], bpw, tag, True)
    check(got == list(range(COUNT)), f"first delivery: {len(got)}")
    c.close()
    await env.server.wait_log(f"{bob}/reader disconnected", since=mark)
    kill_and_restart(env.server)
    check(offline_rows(env.server, bob) == COUNT, "unacknowledged messages are still stored")
    # He comes back, receives them again, acknowledges everything he got and asks for our count: its
    # answer waits for the deletions to be committed.
    got, c, text = await in_thread(read_offline, env.server, bob.split("@")[0], bpw, tag, True)
    check(got == list(range(COUNT)), f"second delivery: {len(got)}")

    def ack_everything():
        c.buffer = b""
        c.send(f"<a xmlns='{SM}' h='{count_stanzas(text)}'/><r xmlns='{SM}'/>")
        c.read_until(f"<a xmlns='{SM}'")
    await in_thread(ack_everything)
    kill_and_restart(env.server)
    c.close()
    check(offline_rows(env.server, bob) == 0, f"{offline_rows(env.server, bob)} acknowledged messages still stored")


def offline_bodies(server, owner, tag):
    db = sqlite3.connect(f"file:{server.data_dir}/causerie.db?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT xml FROM offline WHERE owner = ?", (owner,)).fetchall()
    finally:
        db.close()
    return sorted(int(n) for (xml,) in rows for n in re.findall(rf"<body>{tag}-(\d+)</body>", xml))


def cut_and_resume(server, user, pw, to, tag):
    """Sends COUNT messages, a ping and one more message in one write and drops the connection (no
    </stream:stream>); a second connection, authenticated beforehand, resumes the session as soon as the
    server has closed the first one: the ping and the last message are then still held behind the
    storage of the messages, unless it is already committed. The server is killed the moment <resumed/>
    arrives; returns its h."""
    c, r = RawClient(server), RawClient(server)
    try:
        c.login(user, pw)
        c.send(f"<enable xmlns='{SM}' resume='true'/>")
        got = c.read_until("max=")
        previd = re.search(r"<enabled[^>]* id='([^']+)'", got).group(1)
        r.authenticate(user, pw)
        c.send("".join(f"<message to='{to}' type='chat' id='{tag}-{i}'><body>{tag}-{i}</body></message>"
                       for i in range(COUNT)) +
               f"<iq type='get' id='ping-{tag}'><ping xmlns='urn:xmpp:ping'/></iq>" +
               f"<message to='{to}' type='chat' id='{tag}-{COUNT}'><body>{tag}-{COUNT}</body></message>")
        c.sock.shutdown(socket.SHUT_WR)
        check(c.closed_by_peer(), "the server closed the dropped connection")
        r.send(f"<resume xmlns='{SM}' previd='{previd}' h='0'/>")
        got = r.read_until("previd=")
        m = re.search(r"<resumed[^>]* h='(\d+)'", got)
        check(m is not None, f"no <resumed/>: {got[-300:]}")
        kill_and_restart(server)
        return int(m.group(1))
    finally:
        c.close()
        r.close()


def send_again(server, user, pw, to, tag, h):
    """What a client does when its resumption failed (the server was restarted): sends again, on a new
    session, the stanzas the last h did not acknowledge, and waits for the answer to a ping."""
    c = RawClient(server)
    try:
        c.login(user, pw)
        # Stanzas 1..COUNT are messages 0..COUNT-1, COUNT+1 the ping, COUNT+2 message COUNT.
        again = "".join(f"<message to='{to}' type='chat' id='{tag}-{i}'><body>{tag}-{i}</body></message>"
                        for i in range(h, COUNT))
        if h < COUNT + 2:
            again += f"<message to='{to}' type='chat' id='{tag}-{COUNT}'><body>{tag}-{COUNT}</body></message>"
        c.send(again + f"<iq type='get' id='again-{tag}'><ping xmlns='urn:xmpp:ping'/></iq>")
        c.read_until(f"again-{tag}")
    finally:
        c.close()


async def test_resumed_counts_only_what_is_stored(env):
    """XEP-0198 <resumed h='…'/> acknowledges like <a/>: what it counts survives a SIGKILL right after
    it, and what it does not count is sent again by the client and must not arrive twice."""
    alice, apw = env.user("gina")
    for r in range(ROUNDS):
        bob, _ = env.user(f"hank{r}")  # a recipient per round: offline storage keeps 1 000 messages each
        tag = f"resume{r}"
        h = await in_thread(cut_and_resume, env.server, alice.split("@")[0], apw, bob, tag)
        check(0 <= h <= COUNT + 2, f"round {r}: h={h}")
        await in_thread(send_again, env.server, alice.split("@")[0], apw, bob, tag, h)
        got = offline_bodies(env.server, bob, tag)
        check(got == list(range(COUNT + 1)),
              f"round {r}: <resumed h='{h}'/>, then {len(got)} messages stored for {COUNT + 1} sent, "
              f"{len(set(got))} distinct")


if __name__ == "__main__":
    harness.main(globals(), require_encryption=False)
