"""Issue 10, items 1 and 2: RFC 6121 presence rules seen by real clients (python3-slixmpp).
- Removing a contact who could see us (§2.5.2, §3.2.2) first sends them unavailable from each of our
  available resources, then "unsubscribed": their client must not go on showing us online.
- A resource that becomes available hears the current presence of the account's other available
  resources (the implicit self-subscription of §4.2.2), as Prosody and ejabberd do."""
import harness
from harness import check


async def befriend(env, a, b):
    """Mutual subscription through slixmpp's roster (it approves requests and subscribes back); returns
    once each side has seen the other's available presence, which the server sends on approval (§3.1.5)."""
    a.client_roster.subscribe(b.boundjid.bare)
    await a.next_presence(lambda p: p["from"] == b.boundjid and p["type"] == "available")
    await b.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "available")


async def test_roster_remove_sends_unavailable_before_unsubscribed(env):
    a_jid, a_pw = env.user("remover")
    b_jid, b_pw = env.user("removed")
    a_home = await env.connect(a_jid + "/home", a_pw)
    b = await env.connect(b_jid + "/desk", b_pw)
    await befriend(env, a_home, b)
    a_phone = await env.connect(a_jid + "/phone", a_pw)
    await b.next_presence(lambda p: p["from"] == a_phone.boundjid and p["type"] == "available")

    seen = []
    b.add_event_handler("presence", lambda p: p["from"].bare == a_jid and seen.append((str(p["from"]), p["type"])))
    iq = a_home.Iq(stype="set")
    iq["roster"]["items"] = {b_jid: {"subscription": "remove"}}
    await iq.send(timeout=10)

    await b.next_presence(lambda p: p["from"].bare == a_jid and p["type"] == "unsubscribed")
    kinds = [t for _, t in seen]
    check("unsubscribed" in kinds, f"bob got unsubscribed: {seen}")
    cut = kinds.index("unsubscribed")
    gone_first = {f for f, t in seen[:cut] if t == "unavailable"}
    check(gone_first == {str(a_home.boundjid), str(a_phone.boundjid)},
          f"unavailable from each of alice's resources before 'unsubscribed': {seen}")
    # Bob's stored roster (the server's, not slixmpp's view): the subscription ended both ways.
    iq = b.Iq(stype="get")
    iq.enable("roster")
    items = (await iq.send(timeout=10))["roster"]["items"]
    sub = items[a_jid]["subscription"] if a_jid in items else "none"
    check(sub == "none", f"bob's subscription with alice after her removal: {sub}")


async def test_new_resource_hears_the_accounts_other_resources(env):
    jid, pw = env.user("multi")
    phone = await env.connect(jid + "/phone", pw, presence=False)
    phone.send_presence(pshow="away", pstatus="on the bus")
    await phone.next_presence(lambda p: p["from"] == phone.boundjid and p["status"] == "on the bus")
    # Connected but never available: not to be reported as online (§4.2.2 is about available resources).
    quiet = await env.connect(jid + "/quiet", pw, presence=False)

    laptop = await env.connect(jid + "/laptop", pw)
    p = await laptop.next_presence(lambda p: p["from"] == phone.boundjid)
    check(p["type"] == "away" and p["status"] == "on the bus", f"the phone's current presence: {p}")
    # The phone hears of the laptop as before (the broadcast to the account's own resources).
    await phone.next_presence(lambda p: p["from"] == laptop.boundjid and p["type"] == "available")

    # The quiet resource becomes available now: the first presence the laptop sees from it must be this one,
    # so nothing claimed it was online before (the read lane answers presence jobs in order).
    quiet.send_presence(pstatus="now here")
    p = await laptop.next_presence(lambda p: p["from"] == quiet.boundjid)
    check(p["status"] == "now here", f"no earlier presence from a resource that was not available: {p}")

    # And a resource going away is seen by the others as before.
    phone.send_presence(ptype="unavailable")
    await laptop.next_presence(lambda p: p["from"] == phone.boundjid and p["type"] == "unavailable")


if __name__ == "__main__":
    harness.main(globals())
