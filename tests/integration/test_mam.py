"""Issue 12 item 3, XEP-0313 message archives driven by python3-slixmpp (xep_0313, xep_0359, xep_0059):
1 000 archived messages paged through both ways with the archive ids the recipient saw live, the with /
start / end filters, the full-text field, ids and before-id/after-id (#extended), unknown ids, metadata,
XEP-0441 preferences (never, roster), offline messages archived, forged stanza ids removed, XEP-0424
retraction leaving a tombstone, messages from and to an external component (XEP-0114), and retention
deleting old messages when the server's test clock moves (no waiting: `[testing] manual_clock`)."""

import harness
from harness import check
from component_util import ACCEPT_NS, RawComponent
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
SID = "urn:xmpp:sid:0"
FWD = "urn:xmpp:forward:0"
DELAY = "urn:xmpp:delay"
CLIENT = "jabber:client"
RETRACT = "urn:xmpp:message-retract:1"
FULLTEXT = "{urn:xmpp:fulltext:0}fulltext"

BOT = "bot.localhost"
BOT_SECRET = "bot-secret"

PLUGINS = ["xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359", "xep_0203", "xep_0441"]


def q(ns, name):
    return f"{{{ns}}}{name}"


async def accounts(env, *names):
    """An account per name, each with a connected client (resource 'desk'): [(jid, client), ...]."""
    out = []
    for name in names:
        jid, pw = env.user(name)
        out.append((jid, await env.connect(jid + "/desk", pw, PLUGINS)))
    return out


def stanza_id(msg, by):
    for el in msg.xml.findall(q(SID, "stanza-id")):
        if el.get("by") == by:
            return el.get("id")
    return None


async def advance(client, seconds):
    iq = client.Iq(stype="set", sto=client.boundjid.domain)
    iq.append(ET.fromstring(f"<advance xmlns='urn:causerie:testing:clock' seconds='{seconds}'/>"))
    await iq.send(timeout=10)


_next_query = 0


async def query(client, fields=None, rsm=None, flip=False, to=None):
    """A raw MAM query: returns (results, fin), each result as (archive id, stamp, inner message element).
    Results are the messages carrying this query's queryid that arrived before the iq result."""
    global _next_query
    _next_query += 1
    qid = f"q{_next_query}"
    xml = f"<query xmlns='{MAM}' queryid='{qid}'>"
    if fields:
        xml += f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>{MAM}</value></field>"
        for var, value in fields.items():
            values = value if isinstance(value, list) else [value]
            xml += f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in values) + "</field>"
        xml += "</x>"
    if rsm is not None:
        xml += f"<set xmlns='{RSM}'>" + "".join(
            f"<{k}/>" if v == "" else f"<{k}>{v}</{k}>" for k, v in rsm.items()) + "</set>"
    if flip:
        xml += "<flip-page/>"
    xml += "</query>"
    iq = client.Iq(stype="set")
    if to:
        iq["to"] = to
    iq.append(ET.fromstring(xml))
    results = []

    def on_result(m):
        r = m.xml.find(q(MAM, "result"))
        if r.get("queryid") == qid:
            fwd = r.find(q(FWD, "forwarded"))
            results.append((r.get("id"), fwd.find(q(DELAY, "delay")).get("stamp"), fwd.find(q(CLIENT, "message"))))
    # Result messages have no top-level body, so slixmpp raises no 'message' event for them. Handlers run
    # in stream order: every result is in before the iq result that ends the query.
    client.register_handler(Callback(qid, MatchXPath(f"{{{CLIENT}}}message/{{{MAM}}}result"), on_result))
    try:
        result = await iq.send(timeout=20)
    finally:
        client.remove_handler(qid)
    return results, result.xml.find(q(MAM, "fin"))


async def all_pages(client, fields, max_):
    """Pages forward with RSM <after/> until the server says the result is complete."""
    out, pages, after = [], 0, None
    while True:
        rsm = {"max": str(max_)}
        if after:
            rsm["after"] = after
        res, fin = await query(client, fields, rsm)
        out += res
        pages += 1
        if fin.get("complete") == "true":
            return out, pages
        check(res, "an incomplete page is not empty")
        after = rsm_of(fin)[1]


def bodies(results):
    return [m.findtext(q(CLIENT, "body")) for _, _, m in results]


def rsm_of(fin):
    s = fin.find(q(RSM, "set"))
    return s.findtext(q(RSM, "first")), s.findtext(q(RSM, "last"))


async def test_thousand_messages_paged_both_ways(env):
    (a_jid, alice), (b_jid, bob) = await accounts(env, "alice", "bob")
    n = 1000
    for i in range(n):
        alice.send_message(mto=b_jid, mbody=f"m{i}", mtype="chat")
    live = {}
    for i in range(n):
        m = await bob.next_message(lambda m: m["body"] == f"m{i}")
        live[f"m{i}"] = stanza_id(m, b_jid)
    check(all(live.values()), "every message reached bob with a stanza-id by his account")
    check(len(set(live.values())) == n, "the ids are unique")
    await harness.storage_barrier(alice)  # the archive writes queued before it are committed

    # Forward, 100 at a time, with slixmpp's MAM iterator (RSM <after/>).
    seen = []
    ids = []
    async for page in bob["xep_0313"].retrieve(with_jid=a_jid, iterator=True, rsm={"max": 100}):
        for r in page["mam"]["results"]:
            seen.append(r["mam_result"]["forwarded"]["stanza"]["body"])
            ids.append(r["mam_result"]["id"])
    check(seen == [f"m{i}" for i in range(n)], f"1000 in order forward, got {len(seen)}: {seen[:3]}…")
    check(ids == [live[f"m{i}"] for i in range(n)], "archive ids are the stanza-ids delivered live")

    # Backward from the end (RSM <before/>, then <before>first</before>).
    back = []
    async for page in bob["xep_0313"].retrieve(with_jid=a_jid, iterator=True, reverse=True, rsm={"max": 100}):
        back.extend(r["mam_result"]["forwarded"]["stanza"]["body"] for r in page["mam"]["results"])
    # Each page comes in archive order; pages come newest first.
    pages = [back[k:k + 100] for k in range(0, n, 100)]
    check(pages[0] == [f"m{i}" for i in range(900, 1000)], "the last page first")
    check([b for p in reversed(pages) for b in p] == [f"m{i}" for i in range(n)], "1000 backward")

    # The sender's archive has them too, as outgoing messages, under its own ids.
    out, pages = await all_pages(alice, {"with": b_jid}, 1000)
    check(bodies(out) == [f"m{i}" for i in range(n)], f"alice's archive: {len(out)}")
    check(pages == 4, f"the server caps a page at max_page (250): {pages} pages")
    check(out[0][2].get("to") == b_jid and out[0][2].get("from") == a_jid + "/desk", "as sent")
    check(not set(i for i, _, _ in out) & set(live.values()), "the sender's ids are its own")

    # flip-page: the same page, newest first; after-id/before-id bound a range.
    flipped, _ = await query(bob, {"with": a_jid, "after-id": live["m10"], "before-id": live["m15"]}, flip=True)
    check(bodies(flipped) == ["m14", "m13", "m12", "m11"], f"flipped range: {bodies(flipped)}")
    picked, _ = await query(bob, {"ids": [live["m7"], live["m3"]]})
    check(bodies(picked) == ["m3", "m7"], f"ids: {bodies(picked)}")
    last, fin = await query(bob, {"with": a_jid}, {"max": "5", "before": ""})
    check(bodies(last) == [f"m{i}" for i in range(995, 1000)] and fin.get("complete") != "true", "last page of 5")
    check(rsm_of(fin) == (live["m995"], live["m999"]), "RSM first/last")


async def test_unknown_ids_and_other_archives_refused(env):
    [(c_jid, carl)] = await accounts(env, "carl")
    for fields, rsm in (({"after-id": "no-such-id"}, None), ({"ids": ["nope"]}, None), (None, {"after": "nope"}),
                        (None, {"before": "nope"})):
        try:
            await query(carl, fields, rsm)
            raise AssertionError(f"{fields or rsm}: an unknown id must be refused")
        except harness.IqError as e:
            check(e.iq["error"]["condition"] == "item-not-found", f"item-not-found, got {e.iq['error']['condition']}")
    try:
        await query(carl, {"with": "x@localhost"}, to="alice@localhost")
        raise AssertionError("another account's archive must be refused")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "forbidden", "forbidden")
    try:
        await query(carl, {"{urn:example}unknown": "x"})
        raise AssertionError("an unknown field must be refused")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "feature-not-implemented", "feature-not-implemented (§4.1.6)")
    empty, fin = await query(carl, {"with": "nobody@localhost"})
    check(empty == [] and fin.get("complete") == "true", "no match is a complete empty result")


async def test_filters_fulltext_form_and_metadata(env):
    (c_jid, carol), (d_jid, dave), (e_jid, erin) = await accounts(env, "carol", "dave", "erin")
    form = await dave["xep_0313"].get_fields()
    fields = [f["var"] for f in form["fields"]]
    check(FULLTEXT in fields and "before-id" in fields, f"the form advertises the extended and full-text fields: {fields}")
    info = await dave["xep_0030"].get_info(jid=d_jid)
    for f in (MAM, MAM + "#extended", SID, RETRACT, RETRACT + "#tombstone"):
        check(f in info["disco_info"]["features"], f"the account advertises {f}")

    texts = ["The zebra crossed early", "nothing much at noon", "A Zèbre and a giraffe at night"]
    for i, t in enumerate(texts):
        carol.send_message(mto=d_jid, mbody=t, mtype="chat")
        await dave.next_message(lambda m: m["body"] == t)
        if i < 2:
            await advance(carol, 3600)  # an hour between them, on the server's clock
    erin.send_message(mto=d_jid, mbody="zebra from erin", mtype="chat")
    await dave.next_message(lambda m: m["body"] == "zebra from erin")
    await harness.storage_barrier(erin)

    every, _ = await query(dave, {"with": c_jid})
    check(bodies(every) == texts, f"with filters carol: {bodies(every)}")
    stamps = [s for _, s, _ in every]
    mid, _ = await query(dave, {"with": c_jid, "start": stamps[1], "end": stamps[1]})
    check(bodies(mid) == [texts[1]], f"start and end are inclusive: {bodies(mid)}")
    later, _ = await query(dave, {"start": stamps[1]})
    check(bodies(later) == texts[1:] + ["zebra from erin"], f"start only: {bodies(later)}")
    before, _ = await query(dave, {"end": stamps[1]})
    check(bodies(before) == texts[:2], f"end only: {bodies(before)}")

    found, _ = await query(dave, {FULLTEXT: "zebra"})
    check(bodies(found) == [texts[0], "zebra from erin"], f"full text: {bodies(found)}")
    found, _ = await query(dave, {FULLTEXT: "zebre giraffe", "with": c_jid})
    check(bodies(found) == [texts[2]], f"every word, accents folded: {bodies(found)}")
    found, _ = await query(carol, {FULLTEXT: "giraf*"})
    check(bodies(found) == [texts[2]], "the sender's archive is searched too, by prefix")

    md = await dave["xep_0313"].get_archive_metadata()
    meta = md.xml.find(q(MAM, "metadata"))
    check(meta.find(q(MAM, "start")).get("id") == every[0][0], "metadata: first id")
    check(meta.find(q(MAM, "end")).get("id") is not None, "metadata: last id")
    f_jid, f_pw = env.user("fresh")
    fresh = await env.connect(f_jid + "/x", f_pw, PLUGINS)
    md = await fresh["xep_0313"].get_archive_metadata()
    check(len(md.xml.find(q(MAM, "metadata"))) == 0, "an empty archive: empty metadata")


async def test_preferences_never_and_roster(env):
    (f_jid, frank), (g_jid, grace) = await accounts(env, "frank", "grace")
    default, always, never = await frank["xep_0441"].get_preferences()
    check((default, list(always), list(never)) == ("always", [], []), "the server's default: always, empty lists")

    await frank["xep_0441"].set_preferences(default="never")
    grace.send_message(mto=f_jid, mbody="not kept", mtype="chat")
    m = await frank.next_message(lambda m: m["body"] == "not kept")
    check(stanza_id(m, f_jid) is None, "no stanza-id when nothing is archived")
    frank.send_message(mto=g_jid, mbody="not kept either", mtype="chat")
    await grace.next_message(lambda m: m["body"] == "not kept either")

    # default='roster': grace is not in frank's roster yet, then she is.
    r = await frank["xep_0441"].set_preferences(default="roster", always=[], never=[])
    check(r["mam_prefs"]["default"] == "roster", "applied preferences are returned")
    grace.send_message(mto=f_jid, mbody="stranger", mtype="chat")
    m = await frank.next_message(lambda m: m["body"] == "stranger")
    check(stanza_id(m, f_jid) is None, "not in the roster: not archived")
    await frank.update_roster(g_jid, name="Grace")
    grace.send_message(mto=f_jid, mbody="friend", mtype="chat")
    m = await frank.next_message(lambda m: m["body"] == "friend")
    friend_id = stanza_id(m, f_jid)
    check(friend_id is not None, "in the roster: archived, with its id")
    frank.send_message(mto=g_jid, mbody="reply to a friend", mtype="chat")
    await grace.next_message(lambda m: m["body"] == "reply to a friend")
    await harness.storage_barrier(frank)
    await harness.storage_barrier(grace)
    kept, _ = await query(frank, {"with": g_jid})
    check(bodies(kept) == ["friend", "reply to a friend"], f"frank's archive: {bodies(kept)}")
    check(kept[0][0] == friend_id, "the delivered id")
    # grace archives everything (her default), frank's 'never' notwithstanding.
    hers, _ = await query(grace, {"with": f_jid})
    check(bodies(hers) == ["not kept", "not kept either", "stranger", "friend", "reply to a friend"], f"grace: {bodies(hers)}")

    # A never list wins over the default.
    await frank["xep_0441"].set_preferences(default="always", always=[], never=[g_jid])
    grace.send_message(mto=f_jid, mbody="listed never", mtype="chat")
    m = await frank.next_message(lambda m: m["body"] == "listed never")
    check(stanza_id(m, f_jid) is None, "never list")
    default, always, never = await frank["xep_0441"].get_preferences()
    check(default == "always" and [str(j) for j in never] == [g_jid], "stored preferences")


async def test_offline_messages_are_archived(env):
    h_jid, h_pw = env.user("henry")
    i_jid, i_pw = env.user("ivan")
    ivan = await env.connect(i_jid + "/desk", i_pw, PLUGINS)
    ivan.send_message(mto=h_jid, mbody="while you were away", mtype="chat")
    await harness.storage_barrier(ivan)
    henry = await env.connect(h_jid + "/phone", h_pw, PLUGINS)
    m = await henry.next_message(lambda m: m["body"] == "while you were away")
    sid = stanza_id(m, h_jid)
    check(sid is not None, "the offline message carries its archive id")
    got, _ = await query(henry, {"ids": [sid]})
    check(bodies(got) == ["while you were away"], "and is in the archive under it")


async def test_forged_stanza_ids_are_removed(env):
    (l_jid, lisa), (m_jid, mike) = await accounts(env, "lisa", "mike")
    msg = lisa.make_message(mto=m_jid, mbody="forged", mtype="chat")
    for by in (m_jid, l_jid, "localhost"):
        msg.append(ET.fromstring(f"<stanza-id xmlns='{SID}' by='{by}' id='fake-{by}'/>"))
    msg.append(ET.fromstring(f"<stanza-id xmlns='{SID}' by='elsewhere.example' id='theirs'/>"))
    msg.send()
    got = await mike.next_message(lambda m: m["body"] == "forged")
    ids = [(e.get("by"), e.get("id")) for e in got.xml.findall(q(SID, "stanza-id"))]
    mine = [i for by, i in ids if by == m_jid]
    check(len(mine) == 1 and not mine[0].startswith("fake"), f"one id by mike, the server's: {ids}")
    check(not [i for by, i in ids if by in (l_jid, "localhost")], f"no claims for our other JIDs: {ids}")
    check(("elsewhere.example", "theirs") in ids, "another entity's id is left alone (XEP-0359 §4 rule 3)")
    await harness.storage_barrier(lisa)
    got, _ = await query(mike, {"ids": [mine[0]]})
    check(bodies(got) == ["forged"], "archived once, under the server's id")


async def test_retraction_leaves_a_tombstone(env):
    (j_jid, judy), (k_jid, kim), (x_jid, xavier) = await accounts(env, "judy", "kim", "xavier")
    oops = judy.make_message(mto=k_jid, mbody="oops, wrong window", mtype="chat")
    oops["id"] = "orig-1"
    oops.send()
    await kim.next_message(lambda m: m["body"] == "oops, wrong window")
    # Someone else naming judy's message id retracts nothing.
    forged = xavier.make_message(mto=k_jid, mbody="retracted (fallback)", mtype="chat")
    forged.append(ET.fromstring(f"<retract xmlns='{RETRACT}' id='orig-1'/>"))
    forged.send()
    await kim.next_message(lambda m: m["body"] == "retracted (fallback)")
    retraction = judy.make_message(mto=k_jid, mbody="/me retracted a message", mtype="chat")
    retraction["id"] = "retract-1"
    retraction.append(ET.fromstring(f"<retract xmlns='{RETRACT}' id='orig-1'/>"))
    retraction.append(ET.fromstring("<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>"))
    retraction.append(ET.fromstring("<store xmlns='urn:xmpp:hints'/>"))
    retraction.send()
    await kim.next_message(lambda m: m["body"] == "/me retracted a message")
    await harness.storage_barrier(judy)
    await harness.storage_barrier(xavier)
    for who, other in ((kim, j_jid), (judy, k_jid)):
        res, _ = await query(who, {"with": other})
        check(len(res) == 2, f"the original and the retraction stay in the archive: {bodies(res)}")
        tomb = res[0][2]
        check(tomb.get("id") == "orig-1" and tomb.find(q(CLIENT, "body")) is None, "the original's content is gone")
        r = tomb.find(q(RETRACT, "retracted"))
        check(r is not None and r.get("id") == "retract-1" and r.get("stamp"), "a tombstone naming the retraction")
        check(res[1][2].find(q(RETRACT, "retract")) is not None, "the retraction itself is archived")
        found, _ = await query(who, {FULLTEXT: "oops"})
        check(found == [], "the retracted text is no longer searchable")


async def test_messages_from_and_to_a_component(env):
    # Messages with a component (a gateway's contacts) are archived like any other, in both directions;
    # the component never sees the account's archive id.
    [(p_jid, paul)] = await accounts(env, "paul")
    comp = await RawComponent.connect(env.server.extra_ports["component"])
    try:
        await comp.open(BOT)
        check(await comp.handshake(BOT_SECRET) is None, "the component is accepted")
        comp.send(f"<message xmlns='{ACCEPT_NS}' from='weather@{BOT}/feed' to='{p_jid}' type='chat' id='w1'>"
                  "<body>sunny all day</body></message>")
        m = await paul.next_message(lambda m: m["body"] == "sunny all day")
        sid = stanza_id(m, p_jid)
        check(sid is not None, "a message from a component gets the account's archive id")
        paul.send_message(mto=f"weather@{BOT}", mbody="thanks", mtype="chat")
        got = await comp.next(lambda el: el.tag == q(ACCEPT_NS, "message"))
        check(got.findtext(q(ACCEPT_NS, "body")) == "thanks", "the reply reaches the component")
        check(got.find(q(SID, "stanza-id")) is None, "without the sender's archive id (XEP-0313 §5.1.2)")
        await harness.storage_barrier(paul)
        res, _ = await query(paul, {"with": f"weather@{BOT}"})
        check(bodies(res) == ["sunny all day", "thanks"] and res[0][0] == sid, f"both directions: {bodies(res)}")
        check(res[0][2].get("from") == f"weather@{BOT}/feed", "as received")
    finally:
        await comp.close()


async def test_retention_deletes_old_messages_on_the_test_clock(env):
    # Last: it empties the archives of everything the other tests stored.
    (n_jid, nora), (o_jid, oscar) = await accounts(env, "nora", "oscar")
    nora.send_message(mto=o_jid, mbody="old news", mtype="chat")
    await oscar.next_message(lambda m: m["body"] == "old news")
    await harness.storage_barrier(nora)
    mark = env.server.log_mark()
    await advance(nora, 31 * 86400)  # retention = "30d"
    await env.server.wait_log("mam: retention removed", since=mark)
    nora.send_message(mto=o_jid, mbody="fresh news", mtype="chat")
    await oscar.next_message(lambda m: m["body"] == "fresh news")
    await harness.storage_barrier(nora)
    left, _ = await query(oscar, {"with": n_jid})
    check(bodies(left) == ["fresh news"], f"only what is younger than 30 days: {bodies(left)}")
    found, _ = await query(oscar, {FULLTEXT: "news"})
    check(bodies(found) == ["fresh news"], "and the index forgot the rest")


if __name__ == "__main__":
    harness.main(globals(), extra_toml=f"[testing]\nmanual_clock = true\n\n[modules.mam]\nretention = \"30d\"\n\n"
                                       f"[[component]]\ndomain = \"{BOT}\"\nsecret = \"{BOT_SECRET}\"\n",
                 listeners=[("component", "component", "none")])
