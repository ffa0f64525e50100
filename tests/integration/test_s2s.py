"""Issue 11: federation between two Causerie servers (a.test and b.test), each on its own loopback address,
found through DNS (dnsmasq serving SRV and A records), with certificates from a test CA: subscriptions,
presence, chat, iq, offline messages, MUC and PEP across servers, errors for a domain with no server,
and a restart of one side. Clients are python3-slixmpp."""
import asyncio

import federation
import harness
import muc_util
import pubsub_util as pu
from harness import check, IqError

A, B, C = "a.test", "b.test", "c.test"
PLUGINS = ["xep_0030", "xep_0092", "xep_0199", "xep_0203"]


def make_bed(bed, binary):
    # c.test's certificate comes from a CA nobody else trusts: b.test lets it in with dialback
    # (s2s.insecure_domains), a.test (secure_auth, the default) does not. a.test listens for direct TLS
    # (XEP-0368) besides STARTTLS, so its peers reach it through _xmpps-server first.
    other_ca = federation.TestCA(f"{bed.workdir}/other-ca", name="Unknown CA")
    for domain, address, s2s_toml, issuer, direct in (
            (A, "127.0.0.2", "", None, federation.free_port()),
            (B, "127.0.0.3", f'insecure_domains = ["{C}"]', None, None),
            (C, "127.0.0.4", "", other_ca, None)):
        s = federation.FedServer(binary, f"{bed.workdir}/{domain}", f"{bed.output}/{domain}.log", domain, address,
                                 bed.ca, bed.dns.port, s2s_toml=s2s_toml, issuer=issuer, direct_tls_port=direct)
        s.publish(bed.dns)
        bed.servers[domain] = s
    bed.dns.start()
    for domain, s in bed.servers.items():
        s.start()
        bed.envs[domain] = harness.Env(s, bed.output)


async def pair(bed, a_name="alice", b_name="bob"):
    a_env, b_env = bed.env(A), bed.env(B)
    a_jid, a_pw = a_env.user(a_name)
    b_jid, b_pw = b_env.user(b_name)
    a = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    b = await b_env.connect(b_jid + "/home", b_pw, PLUGINS)
    return a, b


async def befriend(a, b):
    a.client_roster.subscribe(b.boundjid.bare)
    await a.next_presence(lambda p: p["from"] == b.boundjid and p["type"] == "available", timeout=20)
    await b.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "available", timeout=20)


async def test_direct_tls_first_contact(bed):
    # a.test publishes _xmpps-server records: b.test's first link to it starts with TLS (XEP-0368). This test
    # runs first, so that no earlier stream (bidirectional ones included) can carry it.
    b_env, a_env = bed.env(B), bed.env(A)
    b_jid, b_pw = b_env.user("tbob")
    a_jid, a_pw = a_env.user("talice")
    bob = await b_env.connect(b_jid + "/r", b_pw, PLUGINS)
    alice = await a_env.connect(a_jid + "/r", a_pw, PLUGINS)
    mark, mark_b = bed.servers[A].log_mark(), bed.servers[B].log_mark()
    bob.send_message(mto=alice.boundjid, mbody="over direct TLS", mtype="chat")
    await alice.next_message(lambda m: m["body"] == "over direct TLS", timeout=20)
    line = (await bed.servers[A].wait_log(f"s2s incoming {B} -> {A}", since=mark)).splitlines()[-1]
    check("(direct TLS)" in line, f"the link came over direct TLS: {line}")
    check("authenticated by SASL EXTERNAL" in line, f"b.test proved itself with its certificate (XEP-0178): {line}")
    out = (await bed.servers[B].wait_log(f"s2s outgoing {B} -> {A}", since=mark_b)).splitlines()[-1]
    check("authenticated by SASL EXTERNAL" in out and "bidirectional" in out, f"XEP-0178 and XEP-0288: {out}")
    # Alice's answer takes the same stream back (XEP-0288): a.test opens no connection of its own. The
    # stream announced itself to a.test's link before it carried Bob's message, so before this answer.
    mark = bed.servers[A].log_mark()
    alice.send_message(mto=bob.boundjid, mbody="back the same way", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "back the same way", timeout=20)
    check(f"s2s outgoing {A} -> {B}" not in bed.servers[A].log_since(mark), "no second connection for the answer")


async def test_subscription_presence_and_chat_both_ways(bed):
    a, b = await pair(bed)
    await befriend(a, b)
    a.send_message(mto=b.boundjid, mbody="bonjour de a.test", mtype="chat")
    m = await b.next_message(lambda m: m["body"] == "bonjour de a.test")
    check(m["from"] == a.boundjid, f"from alice's full JID: {m['from']}")
    b.send_message(mto=a.boundjid.bare, mbody="hello from b.test", mtype="chat")
    await a.next_message(lambda m: m["body"] == "hello from b.test")
    b.send_presence(pstatus="busy", pshow="dnd")
    p = await a.next_presence(lambda p: p["from"] == b.boundjid and p["status"] == "busy")
    check(p["show"] == "dnd", "show crosses servers")


async def test_iq_both_ways(bed):
    a, b = await pair(bed, "ivy", "ian")
    # The remote server itself answers ping and version; a remote client answers ping.
    await a["xep_0199"].ping(jid=B, timeout=20)
    version = await a["xep_0092"].get_version(B, timeout=20)
    check(version["software_version"]["name"] == "Causerie", f"remote version: {version}")
    await b["xep_0199"].ping(jid=a.boundjid, timeout=20)
    info = await a["xep_0030"].get_info(jid=B, timeout=20)
    check("urn:xmpp:ping" in info["disco_info"]["features"], "remote disco#info")


async def test_carbons_of_messages_to_and_from_a_remote_server(bed):
    """XEP-0280 §7 and §8 across servers: a message from a remote user to one of alice's resources is
    copied to her other carbons-enabled resource, and so is what she sends to that remote user."""
    a_env, b_env = bed.env(A), bed.env(B)
    a_jid, a_pw = a_env.user("cara")
    b_jid, b_pw = b_env.user("carl")
    plugins = PLUGINS + ["xep_0280"]
    home = await a_env.connect(a_jid + "/home", a_pw, plugins)
    phone = await a_env.connect(a_jid + "/phone", a_pw, plugins)
    carl = await b_env.connect(b_jid + "/home", b_pw, PLUGINS)
    copies = asyncio.Queue()
    for kind in ("received", "sent"):
        phone.add_event_handler(f"carbon_{kind}", lambda m, kind=kind: copies.put_nowait(
            (kind, m[f"carbon_{kind}"]["body"], str(m[f"carbon_{kind}"]["from"]))))
    for c in (home, phone):
        await c["xep_0280"].enable(timeout=20)
    carl.send_message(mto=home.boundjid, mbody="from b.test", mtype="chat")
    await home.next_message(lambda m: m["body"] == "from b.test", timeout=20)
    got = await asyncio.wait_for(copies.get(), 20)
    check(got == ("received", "from b.test", str(carl.boundjid)), f"received copy at the phone: {got}")
    home.send_message(mto=carl.boundjid, mbody="to b.test", mtype="chat")
    await carl.next_message(lambda m: m["body"] == "to b.test", timeout=20)
    got = await asyncio.wait_for(copies.get(), 20)
    check(got == ("sent", "to b.test", str(home.boundjid)), f"sent copy at the phone: {got}")


async def test_offline_message_from_a_remote_sender(bed):
    a_env, b_env = bed.env(A), bed.env(B)
    a_jid, a_pw = a_env.user("olga")
    b_jid, b_pw = b_env.user("oscar")
    a = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    a.send_message(mto=b_jid, mbody="while you were away", mtype="chat")
    # A ping to Oscar's account, answered by b.test after the message on the same link: b.test has taken
    # the message (and queued it for storage) before Oscar logs in.
    await a["xep_0199"].ping(jid=b_jid, timeout=20)
    b = await b_env.connect(b_jid + "/home", b_pw, PLUGINS)
    m = await b.next_message(lambda m: m["body"] == "while you were away", timeout=20)
    check(m["delay"]["stamp"] is not None, "delivered later, with a delay stamp")


async def test_messages_across_servers_are_archived_on_both_sides(bed):
    """XEP-0313 across servers: a chat message from b.test is in the recipient's archive on a.test under the
    stanza id it was delivered with (XEP-0359, by her account), and in the sender's archive on b.test as
    outgoing; the answer likewise the other way. Each archive names the messages its own way."""
    import test_mam as mam
    a_env, b_env = bed.env(A), bed.env(B)
    a_jid, a_pw = a_env.user("maud")
    b_jid, b_pw = b_env.user("marc")
    plugins = PLUGINS + [p for p in mam.PLUGINS if p not in PLUGINS]
    maud = await a_env.connect(a_jid + "/home", a_pw, plugins)
    marc = await b_env.connect(b_jid + "/home", b_pw, plugins)
    marc.send_message(mto=maud.boundjid, mbody="kept on a.test", mtype="chat")
    m = await maud.next_message(lambda m: m["body"] == "kept on a.test", timeout=20)
    maud_id = mam.stanza_id(m, a_jid)
    check(maud_id, "delivered with a stanza id of maud's archive")
    maud.send_message(mto=marc.boundjid, mbody="and on b.test", mtype="chat")
    m = await marc.next_message(lambda m: m["body"] == "and on b.test", timeout=20)
    marc_id = mam.stanza_id(m, b_jid)
    check(marc_id, "delivered with a stanza id of marc's archive")
    for client in (maud, marc):
        await harness.storage_barrier(client)  # each server's archive writes queued before it are committed

    def page(results):
        return [(r[0], r[2].get("from").split("/")[0], r[2].findtext(f"{{{mam.CLIENT}}}body")) for r in results]
    got, fin = await mam.query(maud, {"with": b_jid})
    check(fin.get("complete") == "true", "maud's archive: one complete page")
    check(page(got)[0] == (maud_id, b_jid, "kept on a.test"), f"the incoming message under its id: {page(got)}")
    check([p[1:] for p in page(got)] == [(b_jid, "kept on a.test"), (a_jid, "and on b.test")],
          f"maud's archive holds both, in order: {page(got)}")
    got, _ = await mam.query(marc, {"with": a_jid})
    check([p[1:] for p in page(got)] == [(b_jid, "kept on a.test"), (a_jid, "and on b.test")],
          f"marc's archive holds both, in order: {page(got)}")
    check(page(got)[1][0] == marc_id, f"the incoming message under marc's id: {page(got)}")
    check(page(got)[0][0] != maud_id, "marc's archive does not use maud's id for his own message")


async def test_domain_without_server_bounces(bed):
    a_env = bed.env(A)
    a_jid, a_pw = a_env.user("lost")
    a = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    a.send_message(mto="someone@nowhere.test", mbody="anyone?", mtype="chat")
    m = await a.next_message(lambda m: m["type"] == "error", timeout=20)
    check(m["error"]["condition"] == "remote-server-not-found", f"error: {m['error']}")


async def test_muc_with_remote_occupants(bed):
    # Alice (a.test) joins a room of b.test where Bob is; both ways, messages and presence cross servers.
    b_env, a_env = bed.env(B), bed.env(A)
    b_jid, b_pw = b_env.user("mbob")
    a_jid, a_pw = a_env.user("malice")
    bob = await muc_util.connect(b_env, b_jid + "/r", b_pw)
    alice = await muc_util.connect(a_env, a_jid + "/r", a_pw)
    room = f"salon@conference.{B}"
    await muc_util.create(bob, room, "bob")
    pres, *_ = await muc_util.join(alice, room, "alice")
    check(110 in muc_util.codes(pres), "alice gets her own presence from the remote room")
    await bob.next_presence(lambda p: p["from"] == f"{room}/alice")
    alice.send_message(mto=room, mbody="salut le salon", mtype="groupchat")
    await bob.next_message(lambda m: m["body"] == "salut le salon" and m["from"] == f"{room}/alice")
    bob.send_message(mto=room, mbody="bienvenue", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "bienvenue" and m["from"] == f"{room}/bob", timeout=20)
    # And the other way: Bob in a room of a.test.
    room_a = f"cafe@conference.{A}"
    await muc_util.create(alice, room_a, "alice")
    await muc_util.join(bob, room_a, "bob")
    bob.send_message(mto=room_a, mbody="depuis b.test", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "depuis b.test" and m["from"] == f"{room_a}/bob", timeout=20)


async def test_pep_notification_and_remote_comment(bed):
    a_env, b_env = bed.env(A), bed.env(B)
    alice = await pu.connect(a_env, "palice", interests=(pu.MICROBLOG,))
    bob = await pu.connect(b_env, "pbob", interests=(pu.MICROBLOG,))
    await pu.make_contacts(alice, bob, timeout=20)
    # Bob's comments node on b.test, open to anyone who may read the post.
    service = f"pubsub.{B}"
    comments = pu.MICROBLOG + ":comments/p1"
    await pu.send(bob, service, pu.ps(f"<create node='{comments}'/><configure>" +
                                     pu.node_config(access_model="open", publish_model="open") + "</configure>"))
    await pu.send(bob, service, pu.ps(f"<subscribe node='{comments}' jid='{bob.boundjid.bare}'/>"))
    entry = (f"<item id='p1'><entry xmlns='{pu.ATOM}'><title>Du b.test</title><id>p1</id>"
             f"<link rel='replies' title='comments' href='xmpp:{service}?;node={comments}'/></entry></item>")
    await pu.send(bob, None, pu.ps(f"<publish node='{pu.MICROBLOG}'>{entry}</publish>" +
                                   pu.publish_options(access_model="open")))
    # Alice, a remote contact asking microblog+notify (her caps learnt by b.test over s2s), is notified.
    m = await pu.next_event(alice, pu.is_event("item", pu.MICROBLOG, "p1"), timeout=20)
    check(pu.event_items(m, pu.MICROBLOG)[0][2] == bob.boundjid.bare, "the post carries its publisher")
    # She comments on it: a publish from a.test to b.test's pubsub service.
    comment = f"<item id='c1'><entry xmlns='{pu.ATOM}'><title>Joli !</title></entry></item>"
    await pu.send(alice, service, pu.ps(f"<publish node='{comments}'>{comment}</publish>"), timeout=20)
    m = await pu.next_event(bob, pu.is_event("item", comments, "c1"))
    check(pu.event_items(m, comments)[0][2] == alice.boundjid.bare, "the comment carries its remote publisher")
    # And she reads the remote post list herself.
    r = await pu.get(alice, bob.boundjid.bare, pu.ps(f"<items node='{pu.MICROBLOG}'/>"), timeout=20)
    check(pu.item_ids(r) == ["p1"], f"remote items: {pu.item_ids(r)}")
    # Explicit remote subscriptions (XEP-0060 §6.1): Carol on a.test, not Bob's contact, subscribes to his
    # open microblog (PEP) and to the comments node (b.test's pubsub service); both notify her across servers.
    carol = await pu.connect(a_env, "pcarol")
    for to, node in ((bob.boundjid.bare, pu.MICROBLOG), (service, comments)):
        r = await pu.send(carol, to, pu.ps(f"<subscribe node='{node}' jid='{carol.boundjid.bare}'/>"), timeout=20)
        check(r.find(f"{{{pu.PUBSUB}}}subscription").get("subscription") == "subscribed",
              f"remote subscription to {node}")
    entry2 = f"<item id='p2'><entry xmlns='{pu.ATOM}'><title>Encore</title><id>p2</id></entry></item>"
    await pu.send(bob, None, pu.ps(f"<publish node='{pu.MICROBLOG}'>{entry2}</publish>"))
    await pu.next_event(carol, pu.is_event("item", pu.MICROBLOG, "p2"), timeout=20)
    await pu.send(bob, service, pu.ps(f"<publish node='{comments}'><item id='c2'><entry xmlns='{pu.ATOM}'>"
                                      f"<title>Merci</title></entry></item></publish>"))
    await pu.next_event(carol, pu.is_event("item", comments, "c2"), timeout=20)


async def test_dialback_where_certificates_do_not_verify(bed):
    c_env, b_env, a_env = bed.env(C), bed.env(B), bed.env(A)
    c_jid, c_pw = c_env.user("carol")
    b_jid, b_pw = b_env.user("dbob")
    a_jid, a_pw = a_env.user("dalice")
    carol = await c_env.connect(c_jid + "/home", c_pw, PLUGINS)
    bob = await b_env.connect(b_jid + "/home", b_pw, PLUGINS)
    alice = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    mark_b = bed.servers[B].log_mark()
    carol.send_message(mto=bob.boundjid, mbody="par dialback", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "par dialback", timeout=20)
    await bed.servers[B].wait_log(f"s2s incoming {C} -> {B}", since=mark_b)
    check("authenticated by dialback" in bed.servers[B].log_since(mark_b),
          "b.test authenticated c.test by dialback (its certificate does not verify)")
    bob.send_message(mto=carol.boundjid, mbody="bien reçu", mtype="chat")
    await carol.next_message(lambda m: m["body"] == "bien reçu", timeout=20)
    # a.test requires certificates that verify: carol's messages to it bounce.
    carol.send_message(mto=alice.boundjid, mbody="refusé", mtype="chat")
    m = await carol.next_message(lambda m: m["type"] == "error", timeout=30)
    check(m["error"]["condition"] == "remote-server-not-found", f"bounced: {m['error']}")


async def test_restart_of_one_side(bed):
    a, b = await pair(bed, "ralice", "rbob")
    await befriend(a, b)
    a.send_message(mto=b.boundjid, mbody="before", mtype="chat")
    await b.next_message(lambda m: m["body"] == "before")
    # b.test stops: its users' unavailable presence still reaches a.test, over the link about to close.
    b_env = bed.env(B)
    await b_env.restart()
    await a.next_presence(lambda p: p["from"].bare == b.boundjid.bare and p["type"] == "unavailable", timeout=20)
    b2 = await b_env.connect(b.boundjid.bare + "/again", "pw-" + "x" * 8, PLUGINS)
    await a.next_presence(lambda p: p["from"] == b2.boundjid and p["type"] == "available", timeout=20)
    a.send_message(mto=b2.boundjid, mbody="after", mtype="chat")
    await b2.next_message(lambda m: m["body"] == "after", timeout=20)
    b2.send_message(mto=a.boundjid, mbody="back", mtype="chat")
    await a.next_message(lambda m: m["body"] == "back", timeout=20)


if __name__ == "__main__":
    federation.main(globals(), make_bed)
