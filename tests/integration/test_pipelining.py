"""RFC 6120 §10.1, in-order processing, for a client that pipelines: a request and the request after it,
sent in ONE write, are handled in the same turn (their answers wait in the session's output gate until
stored, issue 13), and the second still sees the first's effect — though its storage write is not
committed when the second is handled, and reads run on another database connection than writes.
Raw sockets (harness.RawClient) so that both requests reach the server in one TCP write. Each pair is
repeated for several rounds, each round with new values, to catch a read that overtakes the write."""
import re

import harness
from harness import RawClient, check, in_thread

ROUNDS = 12
PUBSUB = "http://jabber.org/protocol/pubsub"
NODE = "urn:causerie:test:pipelined"


def answer(c, iq_id, timeout=10):
    """Reads until the iq answer with this id is complete (or fails after `timeout` s without data)."""
    pattern = re.compile(rf"<iq\b[^>]*\bid=['\"]{re.escape(iq_id)}['\"][^>]*?(?:/>|>.*?</iq>)", re.S)
    while True:
        m = pattern.search(c.buffer.decode(errors="replace"))
        if m:
            return m.group(0)
        c.sock.settimeout(timeout)
        chunk = c.sock.recv(65536)
        check(chunk, f"connection closed before the answer to {iq_id}: {c.buffer[-300:]!r}")
        c.buffer += chunk


async def rounds(env, name, make):
    """`make(r)` gives (first, second, second_id, expected): `expected` must be in the second's answer."""
    jid, pw = env.user(name)
    await in_thread(send_rounds, env.server, jid.split("@")[0], pw, make)


def send_rounds(server, user, pw, make):
    c = RawClient(server)
    try:
        c.login(user, pw)
        for r in range(ROUNDS):
            first, second, second_id, expected = make(r)
            c.buffer = b""
            c.send(first + second)
            got = answer(c, second_id)
            check("type='result'" in got or 'type="result"' in got, f"round {r}: {got}")
            check(expected in got, f"round {r}: the second request did not see the first: {got}")
    finally:
        c.close()


async def test_items_get_sees_the_publish_before_it(env):
    def make(r):
        publish = (f"<iq type='set' id='pub{r}'><pubsub xmlns='{PUBSUB}'><publish node='{NODE}'>"
                   f"<item id='item{r}'><entry xmlns='urn:causerie:test'>round {r}</entry></item>"
                   f"</publish></pubsub></iq>")
        get = (f"<iq type='get' id='items{r}'><pubsub xmlns='{PUBSUB}'><items node='{NODE}'>"
               f"<item id='item{r}'/></items></pubsub></iq>")
        return publish, get, f"items{r}", f"round {r}</entry>"

    await rounds(env, "pipe-pub", make)


async def test_roster_get_sees_the_roster_set_before_it(env):
    def make(r):
        contact = f"contact{r}@{env.host}"
        set_ = (f"<iq type='set' id='rset{r}'><query xmlns='jabber:iq:roster'>"
                f"<item jid='{contact}' name='Contact {r}'/></query></iq>")
        get = f"<iq type='get' id='rget{r}'><query xmlns='jabber:iq:roster'/></iq>"
        return set_, get, f"rget{r}", contact

    await rounds(env, "pipe-roster", make)


async def test_blocklist_get_sees_the_block_before_it(env):
    # Answered from memory that the block's write completion updates.
    def make(r):
        blocked = f"spammer{r}@{env.host}"
        block = (f"<iq type='set' id='block{r}'><block xmlns='urn:xmpp:blocking'><item jid='{blocked}'/>"
                 f"</block></iq>")
        get = f"<iq type='get' id='blist{r}'><blocklist xmlns='urn:xmpp:blocking'/></iq>"
        return block, get, f"blist{r}", blocked

    await rounds(env, "pipe-block", make)


async def test_archive_prefs_get_sees_the_set_before_it(env):
    # Answered from memory that the set's write completion updates.
    def make(r):
        default = ["always", "never", "roster"][r % 3]
        set_ = f"<iq type='set' id='pset{r}'><prefs xmlns='urn:xmpp:mam:2' default='{default}'/></iq>"
        get = f"<iq type='get' id='pget{r}'><prefs xmlns='urn:xmpp:mam:2'/></iq>"
        return set_, get, f"pget{r}", f"default='{default}'"

    await rounds(env, "pipe-mam", make)


async def test_a_get_sees_every_set_pipelined_before_it(env):
    """Sixteen roster sets and a roster get in one write (the sets are handled in one turn, their writes
    share commits): every set is answered with a result and the get sees all sixteen items."""
    jid, pw = env.user("pipe-burst")

    def run():
        c = RawClient(env.server)
        try:
            c.login(jid.split("@")[0], pw)
            c.send("".join(f"<iq type='set' id='burst{i}'><query xmlns='jabber:iq:roster'>"
                           f"<item jid='burst{i}@{env.host}'/></query></iq>" for i in range(16)) +
                   "<iq type='get' id='burst-get'><query xmlns='jabber:iq:roster'/></iq>")
            got = answer(c, "burst-get")
            for i in range(16):
                set_answer = answer(c, f"burst{i}")
                check("type='result'" in set_answer, f"set {i}: {set_answer}")
                check(f"burst{i}@{env.host}" in got, f"the get did not see set {i}: {got}")
        finally:
            c.close()

    await in_thread(run)


if __name__ == "__main__":
    harness.main(globals(), require_encryption=False)
