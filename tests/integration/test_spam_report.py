"""Issue 12, item 6: XEP-0377 reports on top of XEP-0191 blocking, with python3-slixmpp. A user blocks a
spammer with a <report/> in the block item: the spammer is blocked as any other, and the host's admins
(`admins` of its [[host]], here two) receive the report as a message (an online admin at once, an offline one from
offline storage); a report without its required reason is a bad request and blocks nothing."""
import asyncio

import harness
from harness import check
from slixmpp.xmlstream import ET

PLUGINS = ["xep_0030", "xep_0191", "xep_0199"]
BLOCKING = "urn:xmpp:blocking"
REPORTING = "urn:xmpp:reporting:1"


async def block_with_report(client, jid, report):
    iq = client.Iq(stype="set")
    iq.append(ET.fromstring(f"<block xmlns='{BLOCKING}'><item jid='{jid}'>{report}</item></block>"))
    return await iq.send(timeout=10)


async def blocklist(c):
    r = await c["xep_0191"].get_blocked()
    return sorted(str(j) for j in r["blocklist"]["items"])


async def test_features(env):
    jid, pw = env.user("feat")
    c = await env.connect(f"{jid}/r", pw, PLUGINS)
    for target in (env.host, jid):
        info = await c["xep_0030"].get_info(jid=target, cached=False)
        features = info["disco_info"]["features"]
        for f in (REPORTING, "urn:xmpp:reporting:reason:spam:0", "urn:xmpp:reporting:reason:abuse:0",
                  BLOCKING):
            check(f in features, f"{target} advertises {f}")


async def test_report_blocks_and_reaches_the_admins(env):
    admin_jid, admin_pw = env.user("admin")
    admin = await env.connect(f"{admin_jid}/console", admin_pw, PLUGINS)
    j_jid, j_pw = env.user("juliet")
    juliet = await env.connect(f"{j_jid}/chamber", j_pw, PLUGINS)
    r_jid, r_pw = env.user("romeo")
    romeo = await env.connect(f"{r_jid}/orchard", r_pw, PLUGINS)
    mark = env.server.log_mark()
    await block_with_report(juliet, r_jid,
                            f"<report xmlns='{REPORTING}' reason='urn:xmpp:reporting:spam'>"
                            "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@localhost' id='28482-98726-73623'/>"
                            "<text xml:lang='en'>Never came trouble to my house like this.</text></report>")
    m = await admin.next_message(lambda m: m["from"] == env.host)
    body = m["body"]
    check(f"{j_jid} blocked and reported {r_jid} for spam" in body, body)
    check("Never came trouble to my house like this." in body and "28482-98726-73623" in body, body)
    report = m.xml.find(f"{{{REPORTING}}}report")
    check(report is not None and report.get("reason") == "urn:xmpp:reporting:spam", "the report itself comes along")
    await env.server.wait_log(f"report: {j_jid} blocked and reported {r_jid} for spam", since=mark)
    # Blocked as without a report (XEP-0377 §4: "MUST block the JID ... just as ... if no report").
    check(await blocklist(juliet) == [r_jid], "romeo is on juliet's blocklist")
    try:
        iq = romeo.Iq(stype="get", sto=f"{j_jid}/chamber")
        iq.append(ET.fromstring("<ping xmlns='urn:xmpp:ping'/>"))
        await iq.send(timeout=10)
        raise AssertionError("a blocked JID's iq reached juliet")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "service-unavailable", str(e.iq))


async def test_offline_admin_gets_it_later_and_a_report_needs_a_reason(env):
    admin_jid, admin_pw = env.user("admin2")  # never online before: the report waits in offline storage
    k_jid, k_pw = env.user("kate")
    kate = await env.connect(f"{k_jid}/r", k_pw, PLUGINS)
    s_jid, _ = env.user("spammer")
    # No reason: bad request, nothing blocked, nothing reported.
    try:
        await block_with_report(kate, s_jid, f"<report xmlns='{REPORTING}'/>")
        raise AssertionError("a report without a reason was accepted")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "bad-request", str(e.iq))
    check(await blocklist(kate) == [], "nothing blocked")
    await block_with_report(kate, s_jid, f"<report xmlns='{REPORTING}' reason='urn:xmpp:reporting:abuse'/>")
    admin = await env.connect(f"{admin_jid}/console", admin_pw, PLUGINS)
    m = await admin.next_message(lambda m: m["from"] == env.host and "kate" in m["body"])
    check(f"{k_jid} blocked and reported {s_jid} for abuse" in m["body"],
          f"the first report reaching the admin is the one with a reason: {m['body']}")


if __name__ == "__main__":
    harness.main(globals(), host_toml='admins = ["admin@localhost", "admin2@localhost"]')
