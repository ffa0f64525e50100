"""Issue 4: microblogging (XEP-0277) and communities (XEP-0472) with python3-slixmpp, and the public
pages. The scenario: Alice posts one contacts-only and one public entry; Bob (a contact) is notified of
both and comments on one; Carol (not a contact) reads only the public one and is refused the other; the
public entry is on Alice's HTML page and Atom feed, the private one is not; after a restart everything
is still there. Also: comments by non-owners carry the publisher, communities are discoverable with
their metadata, hostile posts are neutralised on the page, and an oversized publish on the default
configuration ends the stream with a clear policy-violation.

The pages are fetched over the server's HTTP listener (an "http" listener on a free port)."""
import asyncio
import urllib.parse
import xml.etree.ElementTree as StdET

import harness
import pubsub_util
from harness import check
from pubsub_util import (ps, PUBSUB, OWNER, DATA, ATOM, MICROBLOG, q, node_config, publish_options, send, get, fails,
                         watch, next_event, no_event, drain, event_items, is_event, item_ids, make_contacts, http_get)
from slixmpp.xmlstream import ET

COMMENTS = MICROBLOG + ":comments/"


async def connect(env, name, interests=(MICROBLOG,), resource="web", create=True):
    return await pubsub_util.connect(env, name, interests, resource=resource, create=create)


def post(item_id, title, body, comments_service=None, comments_node=None):
    link = ""
    if comments_node:
        href = f"xmpp:{comments_service}?;node=" + urllib.parse.quote(comments_node, safe="")
        link = f"<link rel='replies' title='comments' href='{href}'/>"
    return (f"<item id='{item_id}'><entry xmlns='{ATOM}'><title type='text'>{title}</title>"
            f"<content type='text'>{body}</content>{link}<id>tag:{item_id}</id>"
            f"<published>2026-01-0{1 if 'priv' in item_id else 2}T10:00:00Z</published></entry></item>")


def atom_entries(body):
    feed = StdET.fromstring(body)
    check(feed.tag == q(ATOM, "feed"), "an Atom feed")
    return [(e.findtext(q(ATOM, "title")), e.findtext(q(ATOM, "content")) or "") for e in feed.findall(q(ATOM, "entry"))]


async def check_public_pages(env, alice_jid, public_title, private_title):
    status, ctype, body, headers = http_get(env, f"/blog/{alice_jid}")
    check(status == 200 and "text/html" in ctype, f"blog page served: {status} {ctype}")
    check(public_title in body, "the public entry is on the page")
    check(private_title not in body and "Only for my contacts" not in body, "the contacts-only entry is not")
    check("<strong>this</strong>" in body, "Markdown rendered")
    check('name="viewport"' in body, "readable on a phone")
    check("default-src 'none'" in headers.get("Content-Security-Policy", ""), "a strict CSP")
    status, ctype, body, _ = http_get(env, f"/blog/{alice_jid}/atom.xml")
    check(status == 200 and "atom+xml" in ctype, f"feed served: {status} {ctype}")
    entries = atom_entries(body)
    check([t for t, _ in entries] == [public_title], f"the feed has the public entry only: {entries}")
    check("<strong>this</strong>" in entries[0][1], "with its rendered content")
    check(http_get(env, "/blog/nobody@" + env.host)[0] == 404, "no blog, no page")


async def test_scenario_contacts_only_and_public_posts(env):
    alice = await connect(env, "alice")
    bob = await connect(env, "bob")
    carol = await connect(env, "carol")
    await make_contacts(alice, bob)
    s = "pubsub." + env.host
    a = alice.boundjid.bare
    # Comments nodes first, as Movim creates them (open by its own configuration: the server makes
    # each follow its post's visibility).
    for pid in ("priv1", "pub1"):
        await send(alice, s, ps(f"<create node='{COMMENTS}{pid}'/><configure>" +
                                node_config(access_model="open", publish_model="open", max_items="max") + "</configure>"))
        await send(alice, s, ps(f"<subscribe node='{COMMENTS}{pid}' jid='{a}'/>"))
    for c in (alice, bob, carol):
        drain(c)
    await send(alice, None, ps("<publish node='urn:xmpp:microblog:0'>" +
                               post("priv1", "Family dinner", "Only for my contacts", s, COMMENTS + "priv1") +
                               "</publish>" + publish_options(access_model="presence")))
    await send(alice, None, ps("<publish node='urn:xmpp:microblog:0'>" +
                               post("pub1", "Hello world", "Everyone may read **this**", s, COMMENTS + "pub1") +
                               "</publish>" + publish_options(access_model="open")))
    # Bob, a contact asking microblog+notify, is notified of both.
    await next_event(bob, is_event("item", MICROBLOG, "priv1"))
    m = await next_event(bob, is_event("item", MICROBLOG, "pub1"))
    check(event_items(m, MICROBLOG)[0][2] == a, "posts carry their publisher")
    # Carol, not a contact, is notified of neither. Once Bob has the event of a later publication (Alice
    # saves her public post again, unchanged), the node's fan-outs of both posts are over.
    await send(alice, None, ps("<publish node='urn:xmpp:microblog:0'>" +
                               post("pub1", "Hello world", "Everyone may read **this**", s, COMMENTS + "pub1") +
                               "</publish>" + publish_options(access_model="open")))
    await next_event(bob, is_event("item", MICROBLOG, "pub1"))
    await no_event(carol, is_event("item", MICROBLOG))
    # Bob comments on the contacts-only post; Alice (subscribed to her comments node) hears of it
    # with Bob as the publisher.
    comment = f"<item id='c1'><entry xmlns='{ATOM}'><title>Looks great!</title><author><name>Bob</name></author></entry></item>"
    await send(bob, s, ps(f"<publish node='{COMMENTS}priv1'>{comment}</publish>"))
    m = await next_event(alice, is_event("item", COMMENTS + "priv1", "c1"))
    check(event_items(m, COMMENTS + "priv1")[0][2] == bob.boundjid.bare, "the comment carries its publisher")
    r = await get(alice, s, ps(f"<items node='{COMMENTS}priv1'/>"))
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).get("publisher") == bob.boundjid.bare, "stored with it too")
    # Carol sees only the public entry; asked for by id, the other is as absent as a missing item (an
    # empty answer, §6.5.9.11: nothing tells her it exists); she cannot read or join its discussion.
    r = await get(carol, a, ps("<items node='urn:xmpp:microblog:0'/>"))
    check(item_ids(r) == ["pub1"], f"Carol reads only the public entry: {item_ids(r)}")
    r = await get(carol, a, ps("<items node='urn:xmpp:microblog:0'><item id='priv1'/></items>"))
    check(item_ids(r) == [], "the contacts-only entry by id: absent")
    await fails(carol, s, ps(f"<items node='{COMMENTS}priv1'/>"), "not-authorized", "presence-subscription-required", itype="get")
    await fails(carol, s, ps(f"<publish node='{COMMENTS}priv1'><item><entry xmlns='{ATOM}'><title>hi</title></entry></item></publish>"),
                "forbidden")
    await send(carol, s, ps(f"<publish node='{COMMENTS}pub1'><item id='c2'><entry xmlns='{ATOM}'><title>Hi Alice</title></entry></item></publish>"))
    r = await get(bob, a, ps("<items node='urn:xmpp:microblog:0'/>"))
    check(item_ids(r) == ["pub1", "priv1"], "Bob reads both, newest first")
    await check_public_pages(env, a, "Hello world", "Family dinner")

    await env.restart()
    alice = await connect(env, "alice", create=False, resource="again")
    bob = await connect(env, "bob", create=False, resource="again")
    carol = await connect(env, "carol", create=False, resource="again")
    r = await get(carol, a, ps("<items node='urn:xmpp:microblog:0'/>"))
    check(item_ids(r) == ["pub1"], "after a restart, Carol still reads only the public entry")
    r = await get(carol, a, ps("<items node='urn:xmpp:microblog:0'><item id='priv1'/></items>"))
    check(item_ids(r) == [], "and not the other by id")
    r = await get(bob, a, ps("<items node='urn:xmpp:microblog:0'/>"))
    check(item_ids(r) == ["pub1", "priv1"], "and Bob both")
    r = await get(bob, s, ps(f"<items node='{COMMENTS}priv1'/>"))
    check([(i.get("id"), i.get("publisher")) for i in r.find(q(PUBSUB, "items"))] == [("c1", bob.boundjid.bare)],
          "the comment survives with its publisher")
    await fails(carol, s, ps(f"<items node='{COMMENTS}priv1'/>"), "not-authorized", itype="get")
    await check_public_pages(env, a, "Hello world", "Family dinner")


async def test_comment_by_non_owner_on_open_pep_node(env):
    """Movim's switch: comments on a PEP node with publish_model=open carry the publisher."""
    owner = await connect(env, "pep_owner", interests=(COMMENTS + "p9",))
    guest = await connect(env, "pep_guest", interests=())
    node = COMMENTS + "p9"
    await send(owner, None, ps(f"<create node='{node}'/><configure>" +
                               node_config(access_model="open", publish_model="open") + "</configure>"))
    drain(owner)
    await send(guest, owner.boundjid.bare, ps(f"<publish node='{node}'><item id='g1'><entry xmlns='{ATOM}'>"
                                               f"<title>nice</title></entry></item></publish>"))
    m = await next_event(owner, is_event("item", node, "g1"))
    check(event_items(m, node)[0][2] == guest.boundjid.bare, "publisher stamped by the service, not the client")
    # A client cannot forge it.
    await send(guest, owner.boundjid.bare, ps(f"<publish node='{node}'><item id='g2' publisher='{owner.boundjid.bare}'>"
                                               f"<entry xmlns='{ATOM}'><title>forged?</title></entry></item></publish>"))
    r = await get(owner, None, ps(f"<items node='{node}'><item id='g2'/></items>"))
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).get("publisher") == guest.boundjid.bare, "not forgeable")


async def test_communities(env):
    alice = await connect(env, "community_owner", interests=())
    bob = await connect(env, "community_poster", interests=())
    reader = await connect(env, "community_reader", interests=())
    s = "pubsub." + env.host
    await send(alice, s, ps("<create node='gardening'/><configure>" +
                            node_config(title="Gardening", description="Tomatoes and such", max_items="max",
                                        type="urn:xmpp:pubsub-social-feed:1", notify_retract="true") + "</configure>"))
    await send(alice, s, ps(f"<affiliations node='gardening'><affiliation jid='{bob.boundjid.bare}' affiliation='publisher'/></affiliations>", OWNER))
    await send(reader, s, ps(f"<subscribe node='gardening' jid='{reader.boundjid.bare}'/>"))
    drain(reader)
    for i, who in enumerate((alice, bob, bob)):
        await send(who, s, ps(f"<publish node='gardening'><item id='g{i}'><entry xmlns='{ATOM}'><title>Tip {i}</title>"
                              f"<content type='text'>Water *early*</content></entry></item></publish>"))
    m = await next_event(reader, is_event("item", "gardening", "g2"))
    check(event_items(m, "gardening")[0][2] == bob.boundjid.bare, "several publishers")
    items = await reader["xep_0030"].get_items(jid=s)
    listed = {(i[1], i[2]) for i in items["disco_items"]["items"]}
    check(("gardening", "Gardening") in listed, f"the community is discoverable by title: {listed}")
    info = await reader["xep_0030"].get_info(jid=s, node="gardening")
    x = info["disco_info"].xml.find(q(DATA, "x"))
    f = {fl.get("var"): [v.text for v in fl.findall(q(DATA, "value"))] for fl in x.findall(q(DATA, "field"))}
    check(f["pubsub#title"] == ["Gardening"] and f["pubsub#description"] == ["Tomatoes and such"], "title, description")
    check(f["pubsub#type"] == ["urn:xmpp:pubsub-social-feed:1"], "XEP-0472 type")
    check(f["{urn:causerie:pubsub}num_items"] == ["3"] and f["pubsub#num_subscribers"] == ["1"], f"counts {f}")
    check(sorted(f["pubsub#publisher"]) == [bob.boundjid.bare], "publishers listed")
    page = http_get(env, f"/blog/community/gardening@{s}")
    check(page[0] == 200 and "Tip 2" in page[2] and "<em>early</em>" in page[2], "community page")
    feed = http_get(env, f"/blog/community/gardening@{s}/atom.xml")
    check([t for t, _ in atom_entries(feed[2])] == ["Tip 2", "Tip 1", "Tip 0"], "community feed, newest first")


async def test_hostile_input(env):
    mallory = await connect(env, "mallory", interests=())
    victim = await connect(env, "victim", interests=())
    m = mallory.boundjid.bare
    await send(mallory, None, ps("<publish node='urn:xmpp:microblog:0'><item id='x1'><entry xmlns='%s'>"
                                 "<title>&lt;script&gt;alert(1)&lt;/script&gt;Free prizes</title>"
                                 "<content type='text'>[win](javascript:alert(document.cookie)) "
                                 "&lt;img src=x onerror=alert(2)&gt; &lt;a href=\"javascript:alert(3)\"&gt;x&lt;/a&gt;</content>"
                                 "</entry></item></publish>" % ATOM + publish_options(access_model="open")))
    body = http_get(env, f"/blog/{m}")[2]
    check("Free prizes" in body, "the post is shown")
    check("<script" not in body and "javascript:" not in body and "onerror=" not in body, "and neutralised")
    feed = http_get(env, f"/blog/{m}/atom.xml")[2]
    check(len(atom_entries(feed)) == 1 and "javascript:" not in feed, "the feed too")
    # Someone else's PEP is not writable.
    await fails(victim, m, ps("<publish node='urn:xmpp:microblog:0'><item id='x1'><entry xmlns='%s'><title>defaced</title>"
                              "</entry></item></publish>" % ATOM), "forbidden")
    # On the default configuration a stanza over limits.max_stanza_size (256 KiB) never reaches the
    # pubsub service: the stream ends with <policy-violation/> and a text naming the limit. (With a
    # larger stanza limit the service answers payload-too-big instead: test_pep.py.)
    loop = asyncio.get_event_loop()
    got = loop.create_future()
    mallory.add_event_handler("stream_error", lambda e: got.done() or got.set_result(e))
    iq = mallory.Iq(stype="set")
    iq.append(ET.fromstring(ps("<publish node='urn:test:huge'><item><blob xmlns='urn:test'>" + "A" * (10 * 1024 * 1024) +
                               "</blob></item></publish>")))
    iq.send()
    err = await asyncio.wait_for(got, 30)
    check(err["condition"] == "policy-violation", f"stream error {err['condition']}")
    check("262144" in (err["text"] or ""), f"the error names the limit: {err['text']!r}")
    await fails(victim, m, ps("<items node='urn:test:huge'/>"), "item-not-found", itype="get")


harness.main(globals(), listeners=[("http", "http", "none")])
