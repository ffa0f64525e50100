"""Issue 15 item 6: tags, search and explore (docs/protocol/explore.md), with python3-slixmpp.

Several users post with hashtags (Atom <category/>) and text; tag search and text search over public posts
page with RSM both ways; a contacts-only post and a closed community's post are never found, neither by
search nor on the tag pages (HTML and Atom, fetched over HTTP and parsed); an edit that drops a tag and a
retraction take a post out of the results; XEP-0433 channel search lists communities with the explore
extension (type, items, subscribers, last activity, picture); the people list holds only those who opted
into the XEP-0055 directory; bad input gets clear errors; posts stored before the index existed are
indexed by the backfill when the server starts."""
import html.parser
import os
import sqlite3
import xml.etree.ElementTree as StdET
from xml.sax.saxutils import quoteattr

import harness
import pubsub_util
from harness import check
from pubsub_util import (http_get, ps, ATOM, MICROBLOG, DATA, RSM, q, node_config, publish_options, send, get, fails,
                         make_contacts)

EXPLORE = "urn:causerie:explore:0"
EVENT = "http://jabber.org/protocol/pubsub#event"
CS = "urn:xmpp:channel-search:0:search"
PARAMS = "urn:xmpp:channel-search:0:search-params"
PUBSUB_TYPE = "{urn:causerie:channel-search}pubsub"
BY_ACTIVITY = "{urn:causerie:explore:0}activity"
REGISTER = "jabber:iq:register"


def search_service(env):
    return f"search.{env.host}"


async def connect(env, name):
    return await pubsub_util.connect(env, name, (), resource="x")


def entry(title, content="", tags=(), image=None):
    cats = "".join(f"<category term='{t}'/>" for t in tags)
    pic = f"<link rel='enclosure' type='image/jpeg' href={quoteattr(image)}/>" if image else ""
    return (f"<entry xmlns='{ATOM}'><title>{title}</title><content type='text'>{content}</content>{cats}{pic}"
            "</entry>")


async def post(client, item_id, title, content="", tags=(), access="open", to=None, node=MICROBLOG, image=None):
    opts = publish_options(access_model=access) if access else ""
    await send(client, to, ps(f"<publish node='{node}'><item id='{item_id}'>{entry(title, content, tags, image)}"
                              f"</item></publish>{opts}"))


async def search(client, env, tag=None, text=None, max=None, after=None, before=None):
    """One page: ([(position, service, node, item id, publisher, title)], complete, first, last)."""
    body = (f"<tag>{tag}</tag>" if tag is not None else "") + (f"<text>{text}</text>" if text is not None else "")
    if max is not None or after is not None or before is not None:
        body += f"<set xmlns='{RSM}'>" + (f"<max>{max}</max>" if max is not None else "")
        body += f"<after>{after}</after>" if after is not None else ""
        body += (f"<before>{before}</before>" if before else "<before/>") if before is not None else ""
        body += "</set>"
    r = await get(client, search_service(env), f"<posts xmlns='{EXPLORE}'>{body}</posts>")
    check(r.tag == q(EXPLORE, "posts"), "a page of posts")
    out = []
    for res in r.findall(q(EXPLORE, "result")):
        fwd = res.find("{urn:xmpp:forward:0}forwarded")
        check(fwd.find("{urn:xmpp:delay}delay").get("stamp"), "the publication time")
        msg = fwd.find("{jabber:client}message")
        items = msg.find(q(EVENT, "event")).find(q(EVENT, "items"))
        item = items.find(q(EVENT, "item"))
        e = item.find(q(ATOM, "entry"))
        out.append((int(res.get("id")), msg.get("from"), items.get("node"), item.get("id"), item.get("publisher"),
                    e.findtext(q(ATOM, "title"))))
    s = r.find(q(RSM, "set"))
    return out, r.get("complete") == "true", s.findtext(q(RSM, "first")), s.findtext(q(RSM, "last"))


async def titles(client, env, **kw):
    return [p[5] for p in (await search(client, env, max=50, **kw))[0]]


async def walk(client, env, max, **kw):
    return await pubsub_util.walk_pages(lambda **k: search(client, env, **k), max, **kw)


class PageParser(html.parser.HTMLParser):
    """OpenGraph properties, links, and the text of <h2> titles of an HTML page."""

    def __init__(self):
        super().__init__()
        self.og, self.links, self.titles, self._in_h2 = {}, [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("property", "").startswith("og:"):
            self.og[a["property"]] = a.get("content")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.titles.append(data)


def parse_page(body):
    p = PageParser()
    p.feed(body)
    return p


async def test_search_pages_and_tag_pages(env):
    alice, bob, carol = await connect(env, "alice"), await connect(env, "bob"), await connect(env, "carol")
    friend = await connect(env, "friend")
    await make_contacts(alice, friend)
    await post(alice, "veg", "Roasted vegetables", "A recipe with **carrots**", tags=("Cooking", "#XMPP"))
    await post(alice, "secret", "Secret plans", "classified carrots", tags=("xmpp", "cooking"), access="presence")
    await post(bob, "cmp", "Servers compared", "which server for carrots", tags=("xmpp", "draft"))
    for i in range(5):
        await post(carol, f"c{i}", f"Carol note {i}", f"note number {i}", tags=("ＸＭＰＰ",),
                   image="https://pics.example/p.jpg?a=1&b=2" if i == 4 else None)
    s = "pubsub." + env.host
    await send(bob, s, ps("<create node='closedclub'/><configure>" +
                          node_config(access_model="whitelist", type="urn:xmpp:pubsub-social-feed:1") + "</configure>"))
    await post(bob, "club1", "Members only", "carrots for members", tags=("xmpp",), access=None, to=s, node="closedclub")

    # Tag search: the normalised tag whatever the spelling, public posts only, paged both ways.
    found = await walk(alice, env, 3, tag="#Xmpp")
    check([p[5] for p in found] == ["Carol note 4", "Carol note 3", "Carol note 2", "Carol note 1", "Carol note 0",
                                    "Servers compared", "Roasted vegetables"], f"tag search: {[p[5] for p in found]}")
    me = alice.boundjid.bare
    veg = found[-1]
    check(veg[1:5] == (me, MICROBLOG, "veg", me), f"service, node, item id and publisher: {veg}")
    check(await titles(friend, env, tag="cooking") == ["Roasted vegetables"], "a contact does not find it either")
    # Text search, and both together.
    check(await titles(alice, env, text="carrots") == ["Servers compared", "Roasted vegetables"], "text search")
    check(await titles(alice, env, text="CARROTS recipe") == ["Roasted vegetables"], "every word must match")
    check(await titles(alice, env, text="classified") == [], "a contacts-only post is never found")
    check(await titles(alice, env, text="members") == [], "nor a closed community's")
    check(await titles(alice, env, tag="draft", text="carrots") == ["Servers compared"], "tag and text")
    check(len(await walk(alice, env, 2, text="note")) == 5, "text search pages too")
    # FTS5 syntax in the user's words is text.
    for words in ('carrots" OR "secret', "NEAR(carrots classified)", "content:carrots", "carrots*", "^carrots"):
        await search(alice, env, text=words)
    check(await titles(alice, env, text='carrots" OR "classified') == [], "quotes are not operators")

    # Tag pages over HTTP: HTML with OpenGraph and tag links, Atom parsed as XML.
    status, ctype, body, headers = http_get(env, "/tag/xmpp")
    check(status == 200 and "text/html" in ctype, f"tag page: {status} {ctype}")
    check("default-src 'none'" in headers.get("Content-Security-Policy", ""), "the blog pages' CSP")
    page = parse_page(body)
    check(page.titles[:2] == ["Carol note 4", "Carol note 3"] and "Roasted vegetables" in page.titles,
          f"the public posts: {page.titles}")
    check("Secret plans" not in body and "Members only" not in body and "classified" not in body,
          "no contacts-only or closed post on the tag page")
    for prop in ("og:title", "og:description", "og:type", "og:url", "og:image"):
        check(page.og.get(prop), f"{prop} present: {page.og}")
    check(page.og["og:image"] == "https://pics.example/p.jpg?a=1&b=2", f"og:image unescaped right: {page.og}")
    check(page.og["og:url"].endswith("/tag/xmpp"), f"og:url: {page.og['og:url']}")
    check("/tag/cooking" in page.links and "/tag/draft" in page.links, "tags link to their pages")
    check(f"/blog/{me}#post-veg" in page.links, "each post links to its blog")
    check(http_get(env, "/tag/XMPP")[2].count("<article") == len(page.titles), "the same page for any spelling")
    status, ctype, body, _ = http_get(env, "/tag/xmpp.atom")
    check(status == 200 and "atom+xml" in ctype, f"tag feed: {status} {ctype}")
    feed = StdET.fromstring(body)
    entries = feed.findall(q(ATOM, "entry"))
    check([e.findtext(q(ATOM, "title")) for e in entries][:1] == ["Carol note 4"] and len(entries) == 7,
          f"the Atom entries: {len(entries)}")
    check(all("xmpp" in [c.get("term") for c in e.findall(q(ATOM, "category"))] for e in entries), "categories")
    check("Secret plans" not in body, "no contacts-only post in the Atom feed")
    check(http_get(env, "/tag/cooking.atom")[2].count("<entry>") == 1, "one public cooking post")
    check(http_get(env, "/tag/a%2Fb")[0] == 404 and http_get(env, "/tag/" + "a" * 200)[0] == 404, "no such tag page")
    check(http_get(env, "/tag/xmpp?after=zz")[0] == 400, "a bad page position")
    # The blog pages gained OpenGraph and tag links too.
    blog = parse_page(http_get(env, f"/blog/{me}")[2])
    check(blog.og.get("og:title") and blog.og.get("og:url", "").endswith(f"/blog/{me}"), f"blog OpenGraph: {blog.og}")
    check("/tag/cooking" in blog.links, "tags linked from the blog")

    # An edit that drops a tag, and a retraction, take posts out of the results.
    await post(bob, "cmp", "Servers compared again", "which server for turnips", tags=("draft",))
    check("Servers compared" not in await titles(alice, env, tag="xmpp"), "edited without the tag: gone")
    check(await titles(alice, env, text="carrots") == ["Roasted vegetables"], "old text gone")
    check(await titles(alice, env, text="turnips") == ["Servers compared again"], "new text found")
    await send(alice, None, ps(f"<retract node='{MICROBLOG}'><item id='veg'/></retract>"))
    check(await titles(alice, env, tag="cooking") == [], "retracted: gone from tag search")
    check(await titles(alice, env, text="carrots") == [], "and from text search")
    check("Roasted vegetables" not in http_get(env, "/tag/xmpp")[2], "and from the tag page")
    # A post whose new version is contacts-only is no longer public.
    await post(carol, "c0", "Carol note 0", "note number 0", tags=("xmpp",), access="presence")
    check("Carol note 0" not in await titles(alice, env, tag="xmpp"), "narrowed visibility: gone")


async def test_bad_requests(env):
    alice = await connect(env, "badreq")
    svc = search_service(env)

    async def bad(body, condition="bad-request"):
        return await fails(alice, svc, f"<posts xmlns='{EXPLORE}'>{body}</posts>", condition, itype="get")
    await bad("")
    await bad("<tag></tag>")
    await bad("<tag>   </tag>")
    await bad("<tag>two words</tag>")
    await bad("<tag>" + "x" * 5000 + "</tag>")
    await bad("<tag>a</tag><tag>b</tag>")
    await bad("<text>  \" * ( ) </text>")
    await bad("<text>" + "w " * 300 + "</text>")
    rsm = f"<set xmlns='{RSM}'>"
    await bad(f"<tag>a</tag>{rsm}<max>lots</max></set>")
    await bad(f"<tag>a</tag>{rsm}<after>1</after><before>2</before></set>")
    await bad(f"<tag>a</tag>{rsm}<after>zzz</after></set>", "item-not-found")
    await bad(f"<tag>a</tag>{rsm}<index>2</index></set>", "feature-not-implemented")
    await fails(alice, svc, f"<people xmlns='{EXPLORE}'>{rsm}<after>nobody@nowhere</after></set></people>",
                "item-not-found", itype="get")
    info = await get(alice, svc, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    check(EXPLORE in [f.get("var") for f in info.findall("{http://jabber.org/protocol/disco#info}feature")],
          "the service advertises explore")


async def test_explore_communities_and_people(env):
    owner, fan1, fan2 = await connect(env, "cowner"), await connect(env, "fan1"), await connect(env, "fan2")
    lurker = await connect(env, "lurker")
    s = "pubsub." + env.host
    await send(owner, s, ps("<create node='kitchen'/><configure>" +
                            node_config(access_model="open", title="Kitchen", description="We cook",
                                        type="urn:xmpp:pubsub-social-feed:1") + "</configure>"))
    await send(owner, s, ps("<create node='photos'/><configure>" +
                            node_config(access_model="open", title="Photos", description="Pictures",
                                        type="urn:xmpp:pubsub-social-feed:gallery:1") + "</configure>"))
    await send(owner, s, ps("<create node='secretclub'/><configure>" +
                            node_config(access_model="whitelist", title="Secret club") + "</configure>"))
    await post(owner, "k1", "Soup", tags=("cooking",), access=None, to=s, node="kitchen")
    await post(owner, "p1", "Sunset", access=None, to=s, node="photos", image="https://pics.example/sunset.jpg")
    for fan in (fan1, fan2):
        await send(fan, s, ps(f"<subscribe node='kitchen' jid='{fan.boundjid.bare}'/>"))
    await send(fan1, s, ps(f"<subscribe node='photos' jid='{fan1.boundjid.bare}'/>"))
    # A community post is found by tag like a person's.
    found = (await search(lurker, env, tag="cooking"))[0]
    check([(p[1], p[2], p[3]) for p in found] == [(s, "kitchen", "k1")], f"community post found: {found}")

    fields = {"all": "true", "types": [PUBSUB_TYPE], "key": BY_ACTIVITY}
    form = (f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>{PARAMS}</value></field>" +
            "".join(f"<field var='{k}'>" + "".join(f"<value>{v}</value>" for v in (vs if isinstance(vs, list) else [vs]))
                    + "</field>" for k, vs in fields.items()) + "</x>")
    r = await get(lurker, search_service(env), f"<search xmlns='{CS}'>{form}</search>")
    listed = {}
    for item in r.findall(q(CS, "item")):
        c = item.find(q(EXPLORE, "community"))
        check(c is not None, "every community carries the explore extension")
        listed[item.findtext("{urn:causerie:channel-search}node")] = (
            item.findtext(q(CS, "name")), item.findtext(q(CS, "description")), item.findtext(q(CS, "nusers")),
            c.get("type"), c.get("items"), c.get("last-activity"), c.findtext(q(EXPLORE, "avatar")))
    check("secretclub" not in listed, "closed communities are not listed")
    check(listed["kitchen"][:5] == ("Kitchen", "We cook", "2", "blog", "1") and listed["kitchen"][5],
          f"kitchen: {listed['kitchen']}")
    check(listed["photos"][:5] == ("Photos", "Pictures", "1", "gallery", "1") and
          listed["photos"][6] == "https://pics.example/sunset.jpg", f"photos: {listed['photos']}")
    order = [item.findtext("{urn:causerie:channel-search}node") for item in r.findall(q(CS, "item"))]
    check(order.index("photos") < order.index("kitchen"), f"most recent activity first: {order}")

    # People: only those who registered with the directory, paged by address.
    svc = search_service(env)
    for who, nick in ((owner, "Chef"), (fan1, "First fan")):
        await send(who, svc, f"<query xmlns='{REGISTER}'><nick>{nick}</nick></query>")
    r = await get(lurker, svc, f"<people xmlns='{EXPLORE}'/>")
    people = [(p.get("jid"), p.get("nick")) for p in r.findall(q(EXPLORE, "person"))]
    check(people == sorted([(owner.boundjid.bare, "Chef"), (fan1.boundjid.bare, "First fan")]), f"people: {people}")
    check(fan2.boundjid.bare not in [p[0] for p in people] and lurker.boundjid.bare not in [p[0] for p in people],
          "only opted-in people")
    r = await get(lurker, svc, f"<people xmlns='{EXPLORE}'><set xmlns='{RSM}'><max>1</max></set></people>")
    check(len(r.findall(q(EXPLORE, "person"))) == 1 and r.findtext(f"{{{RSM}}}set/{{{RSM}}}count") == str(len(people)),
          "paged, with a count")
    await send(fan1, svc, f"<query xmlns='{REGISTER}'><remove/></query>")
    r = await get(lurker, svc, f"<people xmlns='{EXPLORE}'/>")
    check(fan1.boundjid.bare not in [p.get("jid") for p in r.findall(q(EXPLORE, "person"))], "unlisted again")


async def test_backfill_indexes_posts_stored_before(env):
    writer = await connect(env, "oldtimer")
    for i in range(3):
        await post(writer, f"old{i}", f"Old post {i}", "from before the index", tags=("history",))
    await post(writer, "oldsecret", "Old secret", "from before the index", tags=("history",), access="presence")
    check(len(await titles(writer, env, tag="history")) == 3, "indexed live")
    # As if these posts had been stored by a server without the index: empty it and record a backfill.
    await env.close_all()
    env.server.stop()
    db = sqlite3.connect(os.path.join(env.server.data_dir, "causerie.db"))
    with db:
        db.execute("DELETE FROM post_tags")
        db.execute("DELETE FROM post_text")
        db.execute("UPDATE post_index_backfill SET next_seq = 0, until_seq = (SELECT MAX(seq) FROM pubsub_items)")
    db.close()
    mark = env.server.log_mark()
    env.server.start()
    await env.server.wait_log("post index backfill", since=mark, what="the backfill")
    await env.server.wait_log(", done", since=mark, what="the backfill's end")
    reader = await connect(env, "newcomer")
    check(await titles(reader, env, tag="history") == ["Old post 2", "Old post 1", "Old post 0"],
          "the backfill indexed the public posts only")
    check(await titles(reader, env, text="before index") == ["Old post 2", "Old post 1", "Old post 0"], "and their text")


if __name__ == "__main__":
    harness.main(globals(), listeners=[("http", "http", "none")])
