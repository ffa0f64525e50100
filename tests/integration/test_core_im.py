"""Issue 2: a real client (python3-slixmpp) registers, logs in, subscribes, chats, and everything it
stored survives a restart."""
import asyncio
import harness
from harness import check, IqError

PLUGINS = ["xep_0030", "xep_0092", "xep_0199", "xep_0202", "xep_0054", "xep_0203"]


async def test_in_band_registration(env):
    c = await env.connect(f"newcomer@{env.host}", "s3cret-pass", register=True)
    check(c.boundjid.bare == f"newcomer@{env.host}", "registered account logs in")
    # The same name again is a conflict (XEP-0077 §3.1).
    err = await env.connect(f"newcomer@{env.host}", "other", register=True, expect_failure=True)
    check(isinstance(err, IqError) and err.condition == "conflict", f"conflict expected, got {err!r}")
    listed = env.server.cli("user", "list", env.host).stdout.split()
    check(f"newcomer@{env.host}" in listed, "the CLI sees the registered account")


async def test_scram_sha256_over_starttls_and_direct_tls(env):
    jid, pw = env.user("scram")
    # slixmpp binds the channel (tls-unique) with the -PLUS variant: the strongest we offer.
    for direct in (False, True):
        c = await env.connect(jid + "/r", pw, mech="SCRAM-SHA-256-PLUS", direct_tls=direct)
        check(c.is_connected(), "logged in")
        c.disconnect()
    c = await env.connect(jid + "/r", pw, mech="SCRAM-SHA-1-PLUS")
    c.disconnect()
    c = await env.connect(jid + "/r", pw, mech="PLAIN", direct_tls=True)
    c.disconnect()
    # RFC 5802 §6: a client that could bind but says "y" on a server offering -PLUS is a downgrade.
    await env.connect(jid + "/r", pw, mech="SCRAM-SHA-256", expect_failure=True)
    await env.connect(jid + "/r", "wrong-password", mech="SCRAM-SHA-256-PLUS", expect_failure=True)


async def test_subscription_presence_and_chat(env):
    a_jid, a_pw = env.user("alice")
    b_jid, b_pw = env.user("bob")
    a = await env.connect(a_jid + "/home", a_pw, PLUGINS)
    b = await env.connect(b_jid + "/work", b_pw, PLUGINS)
    # slixmpp's roster approves incoming requests and subscribes back: the full handshake, both ways.
    a.client_roster.subscribe(b_jid)
    await wait_subscription(a, b_jid, "both")
    await wait_subscription(b, a_jid, "both")

    # Presence broadcast: a status change reaches the contact.
    b.drain()
    a.send_presence(pstatus="in the garden", pshow="away")
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "in the garden")
    check(p["show"] == "away", "show travels with presence")

    # Chat both ways.
    a.send_message(mto=b.boundjid, mbody="Wherefore art thou?", mtype="chat")
    m = await b.next_message(lambda m: m["body"] == "Wherefore art thou?")
    check(m["from"] == a.boundjid, "message comes from alice's full JID")
    b.send_message(mto=a_jid, mbody="Here!", mtype="chat")
    m = await a.next_message(lambda m: m["body"] == "Here!")
    check(m["type"] == "chat", "type kept")

    # Disconnecting without unavailable: the server tells the contact (RFC 6121 §4.5.2).
    b.drain()
    a.disconnect()
    await b.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "unavailable")


async def wait_subscription(client, contact, state, timeout=10):
    """Polls the server's stored roster (the authority, not the client's view) for a contact's state."""
    seen = []

    async def reached():
        roster = await fetch_roster(client)
        item = roster["roster"]["items"].get(slixmpp_jid(contact))
        seen.append(item["subscription"] if item else None)
        return seen[-1] == state
    await harness.wait_until(reached, lambda: f"{client.boundjid.bare} -> {contact}: subscription {state} "
                                              f"(last seen {seen[-1:]})", timeout)


async def fetch_roster(client):
    """The whole roster, without a version (client.get_roster() sends one and may get an empty answer)."""
    iq = client.Iq(stype="get")
    iq.enable("roster")
    return await iq.send(timeout=5)


def slixmpp_jid(s):
    import slixmpp
    return slixmpp.JID(s)


async def test_offline_message_delivered_on_next_login(env):
    s_jid, s_pw = env.user("sender")
    r_jid, r_pw = env.user("receiver")
    s = await env.connect(s_jid + "/x", s_pw)
    s.send_message(mto=r_jid, mbody="while you were out", mtype="chat")
    s.send_message(mto=r_jid, mbody="second note", mtype="normal")
    await harness.storage_barrier(s)  # both are stored once a later write of the sender's is
    r = await env.connect(r_jid + "/y", r_pw, ["xep_0203"])
    m1 = await r.next_message(lambda m: m["body"] == "while you were out")
    check(m1["delay"]["stamp"] is not None, "offline message carries a XEP-0203 delay")
    await r.next_message(lambda m: m["body"] == "second note")
    # Delivered once: a second login gets only what was stored since, in order, the old ones being gone.
    await env.disconnect(r)
    s.send_message(mto=r_jid, mbody="since then", mtype="chat")
    await harness.storage_barrier(s)
    r2 = await env.connect(r_jid + "/z", r_pw)
    await r2.next_message(lambda m: m["body"] == "since then",
                          refuse=lambda m: m["body"] in ("while you were out", "second note"))


async def test_message_to_unknown_account_bounces(env):
    jid, pw = env.user("lonely")
    c = await env.connect(jid + "/x", pw)
    c.send_message(mto=f"nobody@{env.host}", mbody="hello?", mtype="chat")
    m = await c.next_message(lambda m: m["type"] == "error")
    check(m["error"]["condition"] == "service-unavailable", f"got {m['error']['condition']}")


async def test_basic_services(env):
    jid, pw = env.user("curious")
    c = await env.connect(jid + "/x", pw, PLUGINS)
    info = await c["xep_0030"].get_info(jid=env.host)
    features = info["disco_info"]["features"]
    for f in ("urn:xmpp:ping", "jabber:iq:version", "urn:xmpp:time", "vcard-temp", "msgoffline"):
        check(f in features, f"server advertises {f}")
    ids = info["disco_info"]["identities"]
    check(any(i[0] == "server" and i[1] == "im" for i in ids), "server/im identity")
    # XEP-0128 / XEP-0157: the contact addresses from the config, as a serverinfo form.
    forms = info["disco_info"].xml.findall("{jabber:x:data}x")
    serverinfo = [f for f in forms if any(v.text == "http://jabber.org/network/serverinfo"
                                          for v in f.findall("{jabber:x:data}field/{jabber:x:data}value"))]
    check(len(serverinfo) == 1, "one serverinfo form")
    fields = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
              for f in serverinfo[0].findall("{jabber:x:data}field")}
    check(fields.get("abuse-addresses") == ["mailto:abuse@localhost"], f"abuse addresses: {fields}")
    check(fields.get("admin-addresses") == ["xmpp:admin@localhost", "mailto:admin@localhost"], f"admin: {fields}")
    v = await c["xep_0092"].get_version(env.host)
    check(v["software_version"]["name"] == "Causerie", "software version name")
    rtt = await c["xep_0199"].ping(env.host)
    check(rtt is not None, "ping answered")
    iq = c.Iq(stype="get", sto=env.host)
    iq.append(slixmpp_xml("<time xmlns='urn:xmpp:time'/>"))
    t = await iq.send(timeout=5)
    # Read the raw text: slixmpp 1.8 appends its own 'Z' to <utc/> and then cannot parse XEP-0082 times.
    utc = t.xml.find("{urn:xmpp:time}time/{urn:xmpp:time}utc").text
    import datetime
    when = datetime.datetime.fromisoformat(utc.replace("Z", "+00:00"))
    check(abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 60, f"utc {utc} is now")
    # An unknown namespace gets service-unavailable (RFC 6120 §8.4).
    iq = c.Iq(stype="get", sto=env.host)
    iq.append(slixmpp_xml("<query xmlns='urn:example:unknown'/>"))
    try:
        await iq.send(timeout=5)
        raise AssertionError("unknown namespace answered with a result")
    except IqError as e:
        check(e.condition == "service-unavailable", f"got {e.condition}")


def slixmpp_xml(text):
    from slixmpp.xmlstream import ET
    return ET.fromstring(text)


async def test_vcard_set_and_get(env):
    jid, pw = env.user("carded")
    other_jid, other_pw = env.user("reader")
    c = await env.connect(jid + "/x", pw, PLUGINS)
    vcard = c["xep_0054"].make_vcard()
    vcard["FN"] = "Juliet Capulet"
    vcard["NICKNAME"] = "jc"
    await c["xep_0054"].publish_vcard(vcard)
    got = await c["xep_0054"].get_vcard(jid, cached=False)
    check(got["vcard_temp"]["FN"] == "Juliet Capulet", "own vCard read back")
    o = await env.connect(other_jid + "/x", other_pw, PLUGINS)
    got = await o["xep_0054"].get_vcard(jid, cached=False)
    check(got["vcard_temp"]["FN"] == "Juliet Capulet", f"another user reads it: {got}")


async def test_restart_keeps_accounts_rosters_and_offline(env):
    a_jid, a_pw = env.user("persist_a")
    b_jid, b_pw = env.user("persist_b")
    a = await env.connect(a_jid + "/1", a_pw)
    b = await env.connect(b_jid + "/1", b_pw)
    a.client_roster.subscribe(b_jid)
    await wait_subscription(a, b_jid, "both")
    a.drain()
    b.disconnect()
    # The server tells a of b's departure once b's session is gone: the message goes to offline storage.
    await a.next_presence(lambda p: p["from"] == b.boundjid and p["type"] == "unavailable")
    a.send_message(mto=b_jid, mbody="survive the restart", mtype="chat")
    await harness.storage_barrier(a)
    await env.restart()
    a = await env.connect(a_jid + "/2", a_pw)
    roster = await fetch_roster(a)
    check(roster["roster"]["items"][slixmpp_jid(b_jid)]["subscription"] == "both", "roster survived")
    b = await env.connect(b_jid + "/2", b_pw)
    await b.next_message(lambda m: m["body"] == "survive the restart")


async def test_private_xml_storage(env):
    jid, pw = env.user("secretive")
    other_jid, other_pw = env.user("snoop")
    c = await env.connect(jid + "/x", pw)
    iq = c.Iq(stype="set")
    iq.append(slixmpp_xml("<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'><color>green</color>"
                          "</prefs></query>"))
    await iq.send(timeout=5)
    get = c.Iq(stype="get")
    get.append(slixmpp_xml("<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>"))
    r = await get.send(timeout=5)
    color = r.xml.find("{jabber:iq:private}query/{urn:example:prefs}prefs/{urn:example:prefs}color")
    check(color is not None and color.text == "green", "stored fragment read back")
    # XEP-0049: only the account reads its own storage; reserved namespaces are refused.
    o = await env.connect(other_jid + "/x", other_pw)
    spy = o.Iq(stype="get", sto=jid)
    spy.append(slixmpp_xml("<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>"))
    try:
        await spy.send(timeout=5)
        raise AssertionError("another account read private storage")
    except IqError as e:
        check(e.condition == "forbidden", e.condition)
    bad = c.Iq(stype="set")
    bad.append(slixmpp_xml("<query xmlns='jabber:iq:private'><x xmlns='jabber:iq:private'/></query>"))
    try:
        await bad.send(timeout=5)
        raise AssertionError("reserved namespace stored")
    except IqError as e:
        check(e.condition == "not-acceptable", e.condition)


async def test_last_activity(env):
    a_jid, a_pw = env.user("idler")
    b_jid, b_pw = env.user("watcher")
    s_jid, s_pw = env.user("stranger")
    a = await env.connect(a_jid + "/x", a_pw, ["xep_0012"])
    b = await env.connect(b_jid + "/x", b_pw, ["xep_0012"])
    b.client_roster.subscribe(a_jid)
    await wait_subscription(b, a_jid, "both")
    up = await b["xep_0012"].get_last_activity(env.host)
    check(int(up["last_activity"]["seconds"]) >= 0, "server uptime")
    online = await b["xep_0012"].get_last_activity(a_jid)
    check(int(online["last_activity"]["seconds"]) == 0, "online contact: 0 seconds")
    b.drain()
    a.send_presence(ptype="unavailable", pstatus="gone fishing")
    await b.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "unavailable")
    await env.disconnect(a)
    # The logout was recorded (a storage write queued as the unavailable presence was handled, before it
    # was broadcast): a write of B's, answered after COMMIT, comes after it on the write lane.
    await harness.storage_barrier(b)
    # The server's clock is the test's: it has not moved, then moves 90 s.
    at_once = await b["xep_0012"].get_last_activity(a_jid)
    check(int(at_once["last_activity"]["seconds"]) == 0, f"just gone: {at_once['last_activity']['seconds']}")
    await harness.advance_clock(b, 90)
    last = [await b["xep_0012"].get_last_activity(a_jid)]
    check(int(last[-1]["last_activity"]["seconds"]) == 90, f"90 s later: {last[-1]['last_activity']['seconds']}")
    off = last[-1]
    check(off["last_activity"]["status"] == "gone fishing", f"status kept: {off['last_activity']['status']!r}")
    s = await env.connect(s_jid + "/x", s_pw, ["xep_0012"])
    try:
        await s["xep_0012"].get_last_activity(a_jid)
        raise AssertionError("a stranger saw last activity")
    except IqError as e:
        check(e.condition == "forbidden", e.condition)


async def test_password_change_and_account_removal(env):
    jid, pw = env.user("leaver", "first-password")
    c = await env.connect(jid + "/x", pw)
    iq = c.Iq(stype="set", sto=env.host)
    iq.append(slixmpp_xml("<query xmlns='jabber:iq:register'><username>leaver</username>"
                          "<password>second-password</password></query>"))
    await iq.send(timeout=5)
    c.disconnect()
    await env.connect(jid + "/x", "first-password", expect_failure=True)
    c = await env.connect(jid + "/x", "second-password")
    closed = asyncio.get_event_loop().create_future()
    c.add_event_handler("stream_error", lambda e: closed.done() or closed.set_result(e["condition"]))
    rm = c.Iq(stype="set")
    rm.append(slixmpp_xml("<query xmlns='jabber:iq:register'><remove/></query>"))
    await rm.send(timeout=5)
    check(await asyncio.wait_for(closed, 5) == "not-authorized", "sessions end after removal (XEP-0077 §3.2)")
    listed = env.server.cli("user", "list", env.host).stdout.split()
    check(jid not in listed, "the account is gone")
    await env.connect(jid + "/x", "second-password", expect_failure=True)


if __name__ == "__main__":
    harness.main(globals(), extra_toml=harness.MANUAL_CLOCK, host_toml='[host.contact]\nabuse = ["mailto:abuse@localhost"]\n'
                                      'admin = ["xmpp:admin@localhost", "mailto:admin@localhost"]')
