"""Issue 10: XEP-0191 blocking, driven by python3-slixmpp (xep_0191): disco, block / unblock / unblock-all
and the blocklist, pushes to the resources that asked for it, stanzas from a blocked JID dropped or
answered, the user's presence vanishing for the blocked contact and coming back on unblock, the error a
user gets when writing to a blocked JID, and the blocklist surviving a restart.

"Not delivered" is never waited for with a clock: each check first sees a later stanza of the same
sender answered (the server handles a sender's stanzas in order), then makes a round trip on the
receiving connection, so anything delivered would already be queued there."""
import asyncio

import harness
from harness import check
from muc_util import iq_error
from pubsub_util import event_items, next_event, ps, send, watch
from slixmpp.xmlstream import ET

PLUGINS = ["xep_0030", "xep_0191", "xep_0199"]
BLOCKING = "urn:xmpp:blocking"
BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
MOOD = "urn:test:mood"


async def connect(env, name, resource="r", pushes=True):
    """A client with queues for blocklist pushes; with `pushes`, it asks for the blocklist (§3.2)."""
    jid, pw = env.user(name)
    c = await env.connect(f"{jid}/{resource}", pw, PLUGINS)
    c.pushes = asyncio.Queue()
    c.add_event_handler("blocked", lambda iq: c.pushes.put_nowait(("block", iq)))
    c.add_event_handler("unblocked", lambda iq: c.pushes.put_nowait(("unblock", iq)))
    if pushes:
        await c["xep_0191"].get_blocked()
    return c


async def blocklist(c):
    r = await c["xep_0191"].get_blocked()
    return sorted(str(j) for j in r["blocklist"]["items"])


async def next_push(c, timeout=10):
    kind, iq = await asyncio.wait_for(c.pushes.get(), timeout)
    return kind, sorted(str(j) for j in iq[kind]["items"])


async def round_trip(c):
    """A ping to the server, answered: what the server delivered to `c` before is now in its queues."""
    await c["xep_0199"].send_ping(c.boundjid.host)


def stanza_error(stanza):
    """(condition, [application conditions]) of an error stanza."""
    err = stanza.xml.find("{jabber:client}error")
    conds = [c.tag.split("}")[1] for c in err if c.tag.startswith("{" + STANZAS)]
    apps = [c.tag for c in err if not c.tag.startswith("{" + STANZAS)]
    return conds[0] if conds else None, apps


def queued(queue):
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def nothing_from(c, sender, what):
    """Nothing from `sender` (bare JID) waits in c's message or presence queues, after a round trip."""
    await round_trip(c)
    for s in queued(c.messages) + queued(c.presences):
        check(s["from"].bare != sender, f"{what}: got {s}")


async def make_contacts(a, b):
    """Mutual subscription: each sees the other's presence once it is subscribed to it."""
    a.client_roster.subscribe(b.boundjid.bare)
    await a.next_presence(lambda p: p["from"] == b.boundjid and p["type"] == "available")
    await b.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "available")


async def test_disco_advertises_blocking(env):
    c = await connect(env, "disco", pushes=False)
    info = await c["xep_0030"].get_info(jid=env.host)
    check(BLOCKING in info["disco_info"]["features"], "the server advertises urn:xmpp:blocking (§3.1)")
    iq = c.Iq(stype="get", sto=c.boundjid.bare)
    iq.append(ET.fromstring("<query xmlns='http://jabber.org/protocol/disco#info'/>"))
    r = await iq.send()
    feats = [f.get("var") for f in r.xml.iter("{http://jabber.org/protocol/disco#info}feature")]
    check(BLOCKING in feats, "and so does the account")


async def test_block_unblock_list_and_pushes(env):
    chamber = await connect(env, "juliet", "chamber")
    balcony = await connect(env, "juliet", "balcony")
    garden = await connect(env, "juliet", "garden", pushes=False)  # never asked: no pushes (§3.3)
    h = env.host
    check(await blocklist(chamber) == [], "an empty blocklist")
    await chamber["xep_0191"].block([f"romeo@{h}", f"iago@{h}"])
    for c in (chamber, balcony):
        check(await next_push(c) == ("block", [f"iago@{h}", f"romeo@{h}"]), "block push to each interested resource")
    check(await blocklist(balcony) == [f"iago@{h}", f"romeo@{h}"], "the blocklist (§3.2)")
    # A JID already blocked is no error; the list stays a set.
    await balcony["xep_0191"].block(f"romeo@{h}")
    for c in (chamber, balcony):
        check(await next_push(c) == ("block", [f"romeo@{h}"]), "block push")
    check(await blocklist(chamber) == [f"iago@{h}", f"romeo@{h}"], "no duplicate")

    await chamber["xep_0191"].unblock(f"romeo@{h}")
    for c in (chamber, balcony):
        check(await next_push(c) == ("unblock", [f"romeo@{h}"]), "unblock push (§3.4)")
    check(await blocklist(chamber) == [f"iago@{h}"], "romeo unblocked")

    # Unblock all: an empty <unblock/> (§3.5).
    iq = chamber.Iq(stype="set")
    iq.append(ET.fromstring(f"<unblock xmlns='{BLOCKING}'/>"))
    await iq.send()
    for c in (chamber, balcony):
        check(await next_push(c) == ("unblock", []), "unblock-all push")
    check(await blocklist(chamber) == [], "everyone unblocked")
    await round_trip(garden)
    pushes = queued(garden.pushes)
    check(pushes == [], f"no pushes to a resource that never asked for the blocklist: {pushes}")

    # Errors (§3.3): no item, a bad JID, oneself; and only one's own blocklist.
    for payload, cond in ((f"<block xmlns='{BLOCKING}'/>", "bad-request"),
                          (f"<block xmlns='{BLOCKING}'><item jid='a@b@c'/></block>", "jid-malformed"),
                          (f"<block xmlns='{BLOCKING}'><item/></block>", "bad-request"),
                          (f"<block xmlns='{BLOCKING}'><item jid='juliet@{h}/other'/></block>", "not-acceptable")):
        iq = chamber.Iq(stype="set")
        iq.append(ET.fromstring(payload))
        check(await iq_error(iq.send()) == cond, f"{payload}: {cond}")
    env.user("nurse")
    iq = chamber.Iq(stype="get", sto=f"nurse@{h}")
    iq.append(ET.fromstring(f"<blocklist xmlns='{BLOCKING}'/>"))
    check(await iq_error(iq.send()) == "forbidden", "another account's blocklist is not ours to read")
    check(await blocklist(chamber) == [], "nothing was blocked by the failed requests")


async def test_blocked_contact_is_cut_off_and_unblock_restores(env):
    juliet = await connect(env, "juliet2", "chamber")
    romeo = await connect(env, "romeo2", "orchard")
    nurse = await connect(env, "nurse2", "kitchen")
    await make_contacts(juliet, romeo)
    await make_contacts(juliet, nurse)
    juliet.send_presence(pstatus="before the block")
    await romeo.next_presence(lambda p: p["from"] == juliet.boundjid and p["status"] == "before the block")
    romeo.drain()
    juliet.drain()

    await juliet["xep_0191"].block(romeo.boundjid.bare)
    # §3.3: romeo, who may see juliet's presence, sees her go.
    await romeo.next_presence(lambda p: p["from"] == juliet.boundjid and p["type"] == "unavailable")

    # A message from romeo: an error to him, nothing to her.
    romeo.send_message(mto=juliet.boundjid.bare, mbody="Can you hear me?", mtype="chat")
    m = await romeo.next_message(lambda m: m["type"] == "error")
    check(stanza_error(m)[0] == "service-unavailable", f"message bounced service-unavailable: {m}")
    await nothing_from(juliet, romeo.boundjid.bare, "a message from a blocked JID")

    # IQs from romeo, to her full JID (her client would answer a ping) and to her bare JID.
    check(await iq_error(romeo["xep_0199"].send_ping(juliet.boundjid)) == "service-unavailable", "iq to full JID")
    iq = romeo.Iq(stype="get", sto=juliet.boundjid.bare)
    iq.append(ET.fromstring("<query xmlns='http://jabber.org/protocol/disco#info'/>"))
    check(await iq_error(iq.send()) == "service-unavailable", "iq to bare JID answered for her")

    # Presence from romeo (broadcast, directed, a probe): not delivered, not answered.
    romeo.send_presence(pstatus="romeo's broadcast")
    romeo.send_presence(pto=juliet.boundjid, pstatus="romeo's directed")
    romeo.send_presence(pto=juliet.boundjid.bare, ptype="probe")
    check(await iq_error(romeo["xep_0199"].send_ping(juliet.boundjid)) == "service-unavailable", "a later iq")
    await nothing_from(juliet, romeo.boundjid.bare, "presence from a blocked JID")
    await nothing_from(romeo, juliet.boundjid.bare, "an answer to a blocked JID's probe")

    # Her presence no longer reaches him.
    juliet.send_presence(pstatus="while blocking")
    await juliet.next_presence(lambda p: p["from"] == juliet.boundjid and p["status"] == "while blocking")
    await nothing_from(romeo, juliet.boundjid.bare, "the user's presence to a blocked contact")

    # Writing to him: not-acceptable with <blocked/>, and nothing reaches him.
    juliet.send_message(mto=romeo.boundjid, mbody="Are you there?", mtype="chat")
    m = await juliet.next_message(lambda m: m["type"] == "error")
    cond, apps = stanza_error(m)
    check(cond == "not-acceptable" and f"{{{BLOCKING_ERRORS}}}blocked" in apps, f"blocked error (§3.3): {m}")
    check(m["from"] == romeo.boundjid and m["body"] == "Are you there?", "the error names the blocked JID, keeps the body")
    iq = juliet.Iq(stype="get", sto=romeo.boundjid)
    iq.enable("ping")
    check(await iq_error(iq.send()) == "not-acceptable", "an iq to the blocked JID")
    await nothing_from(romeo, juliet.boundjid.bare, "the user's stanzas to a blocked JID")

    # Offline: a blocked message is not kept for her either.
    juliet.disconnect()
    await nurse.next_presence(lambda p: p["from"] == juliet.boundjid and p["type"] == "unavailable")
    nurse.send_message(mto=juliet.boundjid.bare, mbody="first note", mtype="chat")
    romeo.send_message(mto=juliet.boundjid.bare, mbody="offline attempt", mtype="chat")
    await romeo.next_message(lambda m: m["type"] == "error")
    nurse.send_message(mto=juliet.boundjid.bare, mbody="second note", mtype="chat")
    # A write of nurse's own, answered after its COMMIT: the storage lane has stored the notes before it.
    await nurse["xep_0191"].unblock(f"nobody@{env.host}")
    juliet = await connect(env, "juliet2", "chamber")
    bodies = []
    while "second note" not in bodies:
        bodies.append((await juliet.next_message())["body"])
    check(bodies == ["first note", "second note"], f"offline messages, without the blocked one: {bodies}")
    juliet.send_presence(pstatus="back, still blocking")
    await juliet.next_presence(lambda p: p["from"] == juliet.boundjid and p["status"] == "back, still blocking")
    await nothing_from(romeo, juliet.boundjid.bare, "a new session's presence to a blocked contact")

    # Unblock (§3.4): he gets her current presence; she gets his (the server probes him for her).
    romeo.drain()
    juliet.drain()
    await juliet["xep_0191"].unblock(romeo.boundjid.bare)
    await romeo.next_presence(lambda p: p["from"] == juliet.boundjid and p["status"] == "back, still blocking")
    await juliet.next_presence(lambda p: p["from"] == romeo.boundjid and p["type"] == "available")
    romeo.send_message(mto=juliet.boundjid.bare, mbody="Again?", mtype="chat")
    await juliet.next_message(lambda m: m["body"] == "Again?")
    juliet.send_message(mto=romeo.boundjid, mbody="Again.", mtype="chat")
    await romeo.next_message(lambda m: m["body"] == "Again.")
    check(await romeo["xep_0199"].send_ping(juliet.boundjid) is not None, "her client answers his ping again")


async def test_full_jid_and_domain_items(env):
    juliet = await connect(env, "juliet3")
    orchard = await connect(env, "romeo3", "orchard")
    garden = await connect(env, "romeo3", "garden")
    # Only one resource (§6: user@domain/resource).
    await juliet["xep_0191"].block(f"romeo3@{env.host}/orchard")
    orchard.send_message(mto=juliet.boundjid, mbody="from the orchard", mtype="chat")
    check(stanza_error(await orchard.next_message(lambda m: m["type"] == "error"))[0] == "service-unavailable",
          "the blocked resource is refused")
    garden.send_message(mto=juliet.boundjid, mbody="from the garden", mtype="chat")
    m = await juliet.next_message()
    check(m["body"] == "from the garden", f"only the blocked resource is cut off, got {m['body']!r}")
    # The whole domain (§6: domain): everyone there, but never the user's own resources or server.
    await juliet["xep_0191"].block(env.host)
    garden.send_message(mto=juliet.boundjid, mbody="domain", mtype="chat")
    check(stanza_error(await garden.next_message(lambda m: m["type"] == "error"))[0] == "service-unavailable",
          "a user of a blocked domain is refused")
    other = await connect(env, "juliet3", "other")
    other.send_message(mto=juliet.boundjid, mbody="from myself", mtype="chat")
    await juliet.next_message(lambda m: m["body"] == "from myself")
    await round_trip(juliet)  # the server, her own, still answers
    check(await blocklist(juliet) == [env.host, f"romeo3@{env.host}/orchard"], "both items listed")


async def test_directed_presence_recipient_sees_the_user_go(env):
    juliet = await connect(env, "juliet5")
    # Neither is a contact: they see her only through directed presence (RFC 6121 §4.6).
    tybalt = await connect(env, "tybalt5")
    zara = await connect(env, "zara5")
    for c in (tybalt, zara):
        juliet.send_presence(pto=c.boundjid, pstatus="directed")
        await c.next_presence(lambda p: p["from"] == juliet.boundjid and p["status"] == "directed")
    await juliet["xep_0191"].block(tybalt.boundjid.bare)
    await tybalt.next_presence(lambda p: p["from"] == juliet.boundjid and p["type"] == "unavailable")
    # Her going offline later says nothing more to him. Her session's unavailable presence goes to the
    # directed recipients in JID order, so once zara has it, his was dropped or is queued for him.
    juliet.disconnect()
    await zara.next_presence(lambda p: p["from"] == juliet.boundjid and p["type"] == "unavailable")
    await nothing_from(tybalt, juliet.boundjid.bare, "the user's unavailable presence after the block")


async def test_pep_notifications_respect_the_blocklist(env):
    """PEP notifications are delivered by the pubsub module itself: its fan-out asks the router's
    delivery filters, where blocking applies the same two rules as its hooks."""
    juliet = watch(await connect(env, "juliet6"))
    romeo = watch(await connect(env, "romeo6"))
    nurse = watch(await connect(env, "nurse6"))
    for a, b in ((juliet, romeo), (juliet, nurse), (romeo, nurse)):
        await make_contacts(a, b)

    def mood(text):
        return ps(f"<publish node='{MOOD}'><item><mood xmlns='{MOOD}'>{text}</mood></item></publish>")

    def has_mood(publisher, text):
        return lambda m: m["from"] == publisher.boundjid.bare and any(
            p is not None and p.text == text for _, _, _, p in event_items(m, MOOD))

    # Explicit subscriptions to each other's node (no caps needed), after a first publication creates it.
    for publisher, subscribers in ((romeo, (juliet, nurse)), (juliet, (romeo, nurse))):
        await send(publisher, None, mood("created"))
        for s in subscribers:
            await send(s, publisher.boundjid.bare, ps(f"<subscribe node='{MOOD}' jid='{s.boundjid.bare}'/>"))
    await send(romeo, None, mood("before"))
    await next_event(juliet, has_mood(romeo, "before"))

    await juliet["xep_0191"].block(romeo.boundjid.bare)
    # His notifications no longer reach her; hers no longer reach him. Each fan-out serves its local
    # subscribers in one batch: once nurse has a notification, a copy for the other would be queued too.
    await send(romeo, None, mood("his, while blocked"))
    await next_event(nurse, has_mood(romeo, "his, while blocked"))
    await send(juliet, None, mood("hers, while blocking"))
    await next_event(nurse, has_mood(juliet, "hers, while blocking"))
    for c, other, text in ((juliet, romeo, "his, while blocked"), (romeo, juliet, "hers, while blocking")):
        await round_trip(c)
        got = [m for m in queued(c.events) if has_mood(other, text)(m)]
        check(got == [], f"no PEP notification between a user and a JID she blocks: {got}")

    await juliet["xep_0191"].unblock(romeo.boundjid.bare)
    await send(romeo, None, mood("after"))
    await next_event(juliet, has_mood(romeo, "after"))


async def test_blocklist_survives_restart(env):
    juliet = await connect(env, "juliet4")
    await juliet["xep_0191"].block(f"iago4@{env.host}")
    await env.restart()
    juliet = await connect(env, "juliet4")
    check(await blocklist(juliet) == [f"iago4@{env.host}"], "the blocklist after a restart")
    iago = await connect(env, "iago4", pushes=False)
    iago.send_message(mto=juliet.boundjid.bare, mbody="still there?", mtype="chat")
    check(stanza_error(await iago.next_message(lambda m: m["type"] == "error"))[0] == "service-unavailable",
          "and it is applied")
    await nothing_from(juliet, iago.boundjid.bare, "a message after the restart")


if __name__ == "__main__":
    harness.main(globals())
