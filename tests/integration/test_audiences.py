"""Issue 15 item 7: per-post audiences (docs/protocol/audiences.md) with python3-slixmpp.

Alice has Bob in her roster group "Family" and Carol in "Work" (both sharing presence both ways); Dave is
a stranger. Alice posts one entry for Family only, one for all her contacts and one public. Bob gets the
Family post by notification, items query and news feed; Carol and Dave get it nowhere — asked for by id it
is as absent as an id that never existed (the same empty answer, §6.5.9.11), an RSM anchor on it is as
unknown as a missing one — and they can neither like nor comment it. The public HTML page and Atom feed
never show it. Moving Bob out of Family hides it from him at once, in queries and in his feed. Also: the
empty audience (the publisher alone), an edit without options keeps the audience, a disagreeing request
is refused, the last item sent on a new +notify is the newest the reader may see, and `causerie export`
keeps the audience (and `import` reads it back)."""
import http.client
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import xml.etree.ElementTree as StdET

import harness
import pubsub_util
from harness import check
from pubsub_util import (ps, PUBSUB, ATOM, MICROBLOG, RSM, q, node_config, publish_options, send, get, fails,
                         next_event, no_event, drain, is_event, event_items, item_ids, make_contacts, set_groups)

FEED = "urn:causerie:feed:0"
EVENT = "http://jabber.org/protocol/pubsub#event"
AUDIENCE = "urn:causerie:audience:0"
ATT = "urn:xmpp:pubsub-attachments:1"
SUMMARY = "urn:xmpp:pubsub-attachments:summary:1"
COMMENTS = MICROBLOG + ":comments/"


async def connect(env, name):
    return await pubsub_util.connect(env, name, (MICROBLOG,), resource="web")


def entry(item_id, title, groups=None, comments=None):
    audience = ""
    if groups is not None:
        audience = f"<audience xmlns='{AUDIENCE}'>" + "".join(f"<group>{g}</group>" for g in groups) + "</audience>"
    link = ""
    if comments:
        link = f"<link rel='replies' title='comments' href='xmpp:{comments[0]}?;node={urllib.parse.quote(comments[1], safe='')}'/>"
    return (f"<item id='{item_id}'><entry xmlns='{ATOM}'><title>{title}</title><content type='text'>{title}</content>"
            f"{audience}{link}<id>tag:{item_id}</id></entry></item>")


async def publish(client, item, opts=""):
    await send(client, None, ps(f"<publish node='{MICROBLOG}'>{item}</publish>{opts}"))


def family_only():
    return publish_options(access_model="roster", roster_groups_allowed=["Family"])


async def items(client, owner, body=""):
    r = await get(client, owner, ps(f"<items node='{MICROBLOG}'>{body}</items>"))
    return item_ids(r)


async def by_id(client, owner, item_id):
    """The raw answer to an items request naming one item, as text (to compare answers)."""
    r = await get(client, owner, ps(f"<items node='{MICROBLOG}'><item id='{item_id}'/></items>"))
    return StdET.tostring(r, encoding="unicode")


async def feed_ids(client):
    r = await get(client, client.boundjid.bare, f"<query xmlns='{FEED}'><set xmlns='{RSM}'><max>50</max></set></query>")
    out = []
    for res in r.findall(q(FEED, "result")):
        msg = res.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
        item = msg.find(q(EVENT, "event")).find(q(EVENT, "items")).find(q(EVENT, "item"))
        out.append(item.get("id"))
    return out


def http_get(env, path):
    port = env.server.extra_ports["http"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": f"{env.host}:{port}"})
    r = conn.getresponse()
    return r.status, r.read().decode("utf-8")


async def test_family_post(env):
    alice, bob, carol, dave = [await connect(env, n) for n in ("alice", "bob", "carol", "dave")]
    a = alice.boundjid.bare
    s = "pubsub." + env.host
    await make_contacts(alice, bob)
    await make_contacts(alice, carol)
    await set_groups(alice, bob.boundjid.bare, ["Family"])
    await set_groups(alice, carol.boundjid.bare, ["Work"])
    # The Family post's comments node, made the way Movim makes it (open by its own configuration: the
    # server makes it follow the post's audience).
    cnode = COMMENTS + "fam1"
    await send(alice, s, ps(f"<create node='{cnode}'/><configure>" +
                            node_config(access_model="open", publish_model="open", max_items="max") + "</configure>"))
    for c in (alice, bob, carol, dave):
        drain(c)

    await publish(alice, entry("fam1", "Family dinner", groups=["Family"], comments=(s, cnode)), family_only())
    await publish(alice, entry("all1", "For my contacts"), publish_options(access_model="presence"))
    await publish(alice, entry("pub1", "Hello world"), publish_options(access_model="open"))

    # Notifications: Bob and Alice's own resource get the Family post; Carol only the later ones. One
    # worker serves a node's events in order, so once Carol has the next post the first one's fan-out
    # is over: she (and Dave, no contact at all) never got it.
    m = await next_event(bob, is_event("item", MICROBLOG, "fam1"))
    audience = m.xml.find(f".//{{{ATOM}}}entry/{{{AUDIENCE}}}audience")
    check(audience is not None and [g.text for g in audience] == ["Family"], "the event carries the entry's <audience/>")
    await next_event(alice, is_event("item", MICROBLOG, "fam1"))
    await next_event(carol, is_event("item", MICROBLOG, "all1"), refuse=is_event("item", MICROBLOG, "fam1"))
    await next_event(carol, is_event("item", MICROBLOG, "pub1"))
    await no_event(carol, is_event("item", MICROBLOG, "fam1"))
    await no_event(dave, is_event("item", MICROBLOG))

    # Items queries.
    check(await items(bob, a) == ["pub1", "all1", "fam1"], "Bob reads the Family post")
    check(await items(carol, a) == ["pub1", "all1"], "Carol does not")
    check(await items(dave, a) == ["pub1"], "Dave reads only the public post")
    check(await items(alice, a) == ["pub1", "all1", "fam1"], "Alice reads all her posts")
    check("fam1" in await by_id(bob, a, "fam1"), "Bob gets it by id")
    for who in (carol, dave):
        hidden, missing = await by_id(who, a, "fam1"), await by_id(who, a, "never-was")
        check(hidden == missing, f"asked for by id, the hidden post answers like a missing one: {hidden} / {missing}")
        check("Family dinner" not in hidden, "and nothing of it")
        await fails(who, a, ps(f"<items node='{MICROBLOG}'/><set xmlns='{RSM}'><after>fam1</after></set>"),
                    "item-not-found", itype="get")
    r = await get(carol, a, ps(f"<items node='{MICROBLOG}'/><set xmlns='{RSM}'><max>10</max></set>"))
    check(r.find(q(RSM, "set")).findtext(q(RSM, "count")) == "2", "RSM counts only what Carol may see")
    r = await get(carol, a, "<query xmlns='http://jabber.org/protocol/disco#items' node='urn:xmpp:microblog:0'/>")
    check([i.get("name") for i in r] == ["pub1", "all1"], "disco#items lists only what Carol may see")

    # The news feed.
    check("fam1" in await feed_ids(bob), "Bob's feed has the Family post")
    check("fam1" not in await feed_ids(carol), "Carol's does not")
    check(await feed_ids(dave) == [], "Dave's is empty")

    # The public page and Atom feed.
    status, page = http_get(env, f"/blog/{a}")
    check(status == 200 and "Hello world" in page, "the public page shows the public post")
    check("Family dinner" not in page and "For my contacts" not in page, "and not the others")
    status, atom = http_get(env, f"/blog/{a}/atom.xml")
    titles = [e.findtext(q(ATOM, "title")) for e in StdET.fromstring(atom).findall(q(ATOM, "entry"))]
    check(titles == ["Hello world"], f"the Atom feed has the public post only: {titles}")
    status, page = http_get(env, f"/blog/{a}?after=fam1")
    check("Family dinner" not in page, "paging from the hidden post shows nothing of it")

    # Comments: the comments node follows the post's audience.
    await send(bob, s, ps(f"<publish node='{cnode}'>{entry('c1', 'Yum')}</publish>"))
    await fails(carol, s, ps(f"<publish node='{cnode}'>{entry('c2', 'Me too')}</publish>"), "forbidden")
    await fails(carol, s, ps(f"<publish node='{cnode}'>{entry('c3', '♥')}</publish>"), "forbidden")
    await fails(carol, s, ps(f"<items node='{cnode}'/>"), "not-authorized", itype="get")
    await fails(dave, s, ps(f"<items node='{cnode}'/>"), "not-authorized", itype="get")
    r = await get(bob, s, ps(f"<items node='{cnode}'/>"))
    check(item_ids(r) == ["c1"], "Bob reads the comments")

    # XEP-0470: Bob likes it; Carol and Dave cannot (as if the post did not exist), nor read the summary.
    att = f"{ATT}/xmpp:{a}?;node={urllib.parse.quote(MICROBLOG, safe='')};item=fam1"
    like = f"<item><attachments xmlns='{ATT}'><noticed/></attachments></item>"
    await send(bob, a, ps(f"<publish node='{att}'>{like}</publish>"))
    for who in (carol, dave):
        await fails(who, a, ps(f"<publish node='{att}'>{like}</publish>"), "item-not-found")
    summary = f"{SUMMARY}/{MICROBLOG}"
    r = await get(bob, a, ps(f"<items node='{summary}'><item id='fam1'/></items>"))
    check(item_ids(r) == ["fam1"], "Bob reads the post's summary")
    r = await get(carol, a, ps(f"<items node='{summary}'><item id='fam1'/></items>"))
    check(item_ids(r) == [], "Carol does not")
    r = await get(carol, a, ps(f"<items node='{att}'/>"))
    check(item_ids(r) == [], "nor its attachments")
    r = await get(bob, a, ps(f"<items node='{att}'/>"))
    check(item_ids(r) == [bob.boundjid.bare], "which Bob reads")

    # Retracting the hidden post as a stranger: the same answer as for a missing one.
    await fails(carol, a, ps(f"<retract node='{MICROBLOG}'><item id='fam1'/></retract>"), "item-not-found")

    # An edit that states no audience (no options, no element) keeps the post's.
    await publish(alice, entry("fam1", "Family dinner (edited)", comments=(s, cnode)))
    await next_event(bob, is_event("item", MICROBLOG, "fam1"))
    check(await items(carol, a) == ["pub1", "all1"], "an edit does not widen the post")

    # Moving Bob out of Family hides the post from him from then on, feed included.
    await set_groups(alice, bob.boundjid.bare, ["Friends"])
    check(await items(bob, a) == ["pub1", "all1"], "out of Family, Bob no longer reads it")
    check("fam1" not in await feed_ids(bob), "nor finds it in his feed")
    await fails(bob, s, ps(f"<publish node='{cnode}'>{entry('c4', 'Hm')}</publish>"), "forbidden")
    # Back in Family, he sees it again (it was never a copy of the roster).
    await set_groups(alice, bob.boundjid.bare, ["Family", "Friends"])
    check(await items(bob, a) == ["fam1", "pub1", "all1"], "back in Family, Bob reads it again")
    check("fam1" in await feed_ids(bob), "and his feed shows it again")


async def test_audience_edges(env):
    alice, bob = await connect(env, "edge_alice"), await connect(env, "edge_bob")
    a = alice.boundjid.bare
    await make_contacts(alice, bob)
    await set_groups(alice, bob.boundjid.bare, ["Family"])
    drain(bob)
    # The empty audience: the publisher alone (a group nobody is in: nobody yet).
    await publish(alice, entry("me1", "Note to self"), publish_options(access_model="roster"))
    await publish(alice, entry("ghost1", "For a group nobody is in", groups=["Nobody"]))
    await publish(alice, entry("fam2", "Family only", groups=["Family"]))
    await next_event(bob, is_event("item", MICROBLOG, "fam2"), refuse=is_event("item", MICROBLOG, "me1"))
    await no_event(bob, is_event("item", MICROBLOG, "ghost1"))
    check(await items(bob, a) == ["fam2"], "the empty audience and an unused group show Bob nothing")
    check(await items(alice, a) == ["fam2", "ghost1", "me1"], "Alice reads her own")
    # The element alone sets the audience; with options, both must agree.
    await fails(alice, None, ps(f"<publish node='{MICROBLOG}'>{entry('x1', 'x', groups=['Work'])}</publish>" +
                                family_only()), "conflict", "precondition-not-met")
    await fails(alice, None, ps(f"<publish node='{MICROBLOG}'>{entry('x2', 'x')}</publish>" +
                                publish_options(access_model="presence", roster_groups_allowed=["Family"])),
                "conflict", "precondition-not-met")
    await fails(alice, None, ps(f"<publish node='{MICROBLOG}'>{entry('x3', 'x', groups=[''])}</publish>"), "bad-request")
    check(await items(alice, a) == ["fam2", "ghost1", "me1"], "nothing refused was stored")
    # The node itself stays as it was (the options configured the post, not the node).
    r = await get(alice, a, ps(f"<configure node='{MICROBLOG}'/>", pubsub_util.OWNER))
    model = [f for f in r.iter("{jabber:x:data}field") if f.get("var") == "pubsub#access_model"][0]
    check(model.findtext("{jabber:x:data}value") == "presence", "the microblog node keeps its access model")
    # The last item sent on a new "+notify" is the newest post that reader may see.
    await send(alice, a, ps(f"<configure node='{MICROBLOG}'>" + node_config(send_last_published_item="on_sub_and_presence") +
                            "</configure>", pubsub_util.OWNER))
    await publish(alice, entry("me2", "Another note", groups=[]))
    bob2 = await pubsub_util.connect(env, "edge_bob", (MICROBLOG,), resource="second", create=False)
    m = await next_event(bob2, is_event("item", MICROBLOG), refuse=is_event("item", MICROBLOG, "me2"))
    check(event_items(m, MICROBLOG)[0][1] == "fam2", f"Bob's new resource gets the newest post he may see: {event_items(m)}")
    alice2 = await pubsub_util.connect(env, "edge_alice", (MICROBLOG,), resource="second", create=False)
    m = await next_event(alice2, is_event("item", MICROBLOG))
    check(event_items(m, MICROBLOG)[0][1] == "me2", "Alice's new resource gets her newest")


async def test_export_keeps_the_audience(env):
    alice, bob = await connect(env, "exp_alice"), await connect(env, "exp_bob")
    await make_contacts(alice, bob)
    await set_groups(alice, bob.boundjid.bare, ["Family; and friends"])
    await publish(alice, entry("fam9", "Exported", groups=["Family; and friends"]))
    await harness.storage_barrier(alice)
    await env.close_all()
    binary = env.server.binary
    first = os.path.join(env.output, "audiences-export-1.xml")
    r = subprocess.run([binary, "export", "-o", first, "--config", env.server.config_path], capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, r.stderr)
    doc = open(first).read()
    check("access='roster;Family%3B and friends'" in doc, "the export keeps the audience")
    workdir = tempfile.mkdtemp(prefix="causerie-audiences-")
    try:
        target = harness.Server(binary, workdir, os.path.join(env.output, "audiences-import.log"), hosts=env.server.hosts)
        cfg = ["--config", target.config_path]
        r = subprocess.run([binary, "import", first, *cfg], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, r.stdout + r.stderr)
        r = subprocess.run([binary, "export", *cfg], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0 and "access='roster;Family%3B and friends'" in r.stdout, "and the import reads it back")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


harness.main(globals(), listeners=[("http", "http", "none")])
