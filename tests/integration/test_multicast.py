"""Issue 14, item 6: XEP-0033 extended stanza addressing. The host is the multicast service: alice (slixmpp)
sends one message to localhost with to, cc and bcc addresses; each recipient gets one copy from alice with
the header as §4 says (delivered='true', the bcc only in the bcc recipient's own copy). Presence multicast,
the §8 errors and the recipient limit ([modules.multicast] max_addresses) are checked as well."""
from slixmpp.exceptions import IqError  # noqa: F401
from slixmpp.xmlstream import ET

import harness
import muc_util
from harness import check

ADDRESS = "http://jabber.org/protocol/address"
MAX = 25


def addresses(stanza):
    """The <address/> elements of a stanza as (type, jid, delivered) tuples."""
    return [(a.get("type"), a.get("jid"), a.get("delivered"))
            for a in stanza.xml.findall(f"{{{ADDRESS}}}addresses/{{{ADDRESS}}}address")]


async def clients(env, *names):
    return [await muc_util.connect(env, env.user(n)[0] + "/r", "pw-" + "x" * 8) for n in names]


def multicast(sender, kind, addrs, body=None, ptype=None):
    el = ET.Element(f"{{jabber:client}}{kind}", {"to": sender.boundjid.domain})
    if ptype:
        el.set("type", ptype)
    header = ET.SubElement(el, f"{{{ADDRESS}}}addresses")
    for a in addrs:
        ET.SubElement(header, f"{{{ADDRESS}}}address", a)
    if body:
        ET.SubElement(el, "{jabber:client}body").text = body
    sender.send_raw(ET.tostring(el, encoding="unicode"))


async def test_the_host_advertises_the_feature(env):
    (a,) = await clients(env, "alice")
    info = await a["xep_0030"].get_info(jid=env.host)
    check(ADDRESS in info["disco_info"]["features"], "http://jabber.org/protocol/address advertised")


async def test_message_to_three_recipients_one_bcc(env):
    a, b, c, d = await clients(env, "alice", "bob", "carol", "dave")
    host = env.host
    multicast(a, "message", [{"type": "to", "jid": f"bob@{host}", "desc": "Bob"},
                             {"type": "cc", "jid": f"carol@{host}"},
                             {"type": "bcc", "jid": f"dave@{host}"},
                             {"type": "replyto", "jid": f"alice@{host}"}], body="to three")
    visible = [("to", f"bob@{host}", "true"), ("cc", f"carol@{host}", "true"), ("replyto", f"alice@{host}", None)]
    for who in (b, c):
        m = await who.next_message(lambda m: m["body"] == "to three")
        check(m["from"] == a.boundjid, f"from alice's full JID, unchanged: {m['from']}")
        check(m["to"].bare == who.boundjid.bare, f"addressed to its recipient: {m['to']}")
        check(addresses(m) == visible, f"{who.boundjid.bare} sees to and cc delivered, no bcc: {addresses(m)}")
    m = await d.next_message(lambda m: m["body"] == "to three")
    check(addresses(m) == visible + [("bcc", f"dave@{host}", "true")], f"dave sees his own bcc: {addresses(m)}")
    # Nobody got two copies, and the sender none: a marker sent after arrives with nothing before it.
    for who in (a, b, c, d):
        a.send_message(mto=who.boundjid, mbody="marker")
        await harness._next(who.mm, lambda m: m["body"] == "marker", harness.DEFAULT_TIMEOUT,
                            refuse=lambda m: m["body"] == "to three")


async def test_presence_multicast_and_its_unavailable(env):
    a, b, c = await clients(env, "alice", "bob", "carol")
    host = env.host
    multicast(a, "presence", [{"type": "bcc", "jid": f"bob@{host}/r"}, {"type": "bcc", "jid": f"carol@{host}/r"}])
    for who in (b, c):
        p = await who.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "available"
                                    and addresses(p))
        check(len(addresses(p)) == 1 and addresses(p)[0][1] == str(who.boundjid), f"only its own bcc: {addresses(p)}")
    # §5: the sender going offline tells those it sent available presence to through the service.
    await env.disconnect(a)
    env.clients.remove(a)
    for who in (b, c):
        await who.next_presence(lambda p: p["from"] == a.boundjid and p["type"] == "unavailable")


async def test_errors(env):
    (a,) = await clients(env, "alice")
    host = env.host
    cases = [
        ([{"type": "to", "jid": "@@not-a-jid"}], "jid-malformed"),
        ([{"type": "to", "uri": "sip:bob@example.com"}], "jid-malformed"),
        ([{"jid": f"bob@{host}"}], "bad-request"),
        ([{"type": "to", "jid": f"bob@{host}", "uri": "sip:bob@example.com"}], "bad-request"),
        ([{"type": "to", "jid": f"u{i}@{host}"} for i in range(MAX + 1)], "not-acceptable"),
    ]
    for addrs, want in cases:
        multicast(a, "message", addrs, body="bad")
        err = await a.next_message(lambda m: m["type"] == "error")
        check(muc_util.error_condition(err) == want, f"{want} for {addrs[:2]}…: {err}")
    # The limit itself is fine.
    (b,) = await clients(env, "bob")
    multicast(a, "message", [{"type": "to", "jid": f"bob@{host}"}] +
              [{"type": "cc", "jid": f"u{i}@{host}"} for i in range(MAX - 1)], body="at the limit")
    m = await b.next_message(lambda m: m["body"] == "at the limit")
    check(len(addresses(m)) == MAX, f"all {MAX} addresses: {len(addresses(m))}")


if __name__ == "__main__":
    harness.main(globals(), extra_toml=f"[modules.multicast]\nmax_addresses = {MAX}")
