"""Issue 15 items 1 and 2: the server-side news feed (docs/protocol/feed.md), XEP-0470 attachments with
the summary the server counts, and Movim's "♥" comments, with python3-slixmpp.

The scenario: a reader follows 20 people (2 contacts, 18 explicit subscriptions to open microblogs) and
5 communities; it pages through its feed with RSM both ways and filters, new posts reach it live, a
contacts-only post never reaches a stranger's feed, mentions of it are found, likes on its posts are
counted once per person; bad requests get the right errors."""
import urllib.parse

import harness
import pubsub_util
from harness import check
from pubsub_util import (ps, ATOM, MICROBLOG, DATA, RSM, q, node_config, publish_options, send, get, fails,
                         next_event, drain, is_event, make_contacts)

FEED = "urn:causerie:feed:0"
EVENT = "http://jabber.org/protocol/pubsub#event"
ATT = "urn:xmpp:pubsub-attachments:1"
SUMMARY = "urn:xmpp:pubsub-attachments:summary:1"


async def connect(env, name, interests=(MICROBLOG,)):
    return await pubsub_util.connect(env, name, interests, resource="web")


def entry(item_id, title, content="", extra=""):
    return (f"<item id='{item_id}'><entry xmlns='{ATOM}'><title>{title}</title>"
            f"<content type='text'>{content}</content>{extra}<id>tag:{item_id}</id></entry></item>")


async def post(client, item_id, title, to=None, node=MICROBLOG, access=None, content="", extra=""):
    opts = publish_options(access_model=access) if access else ""
    await send(client, to, ps(f"<publish node='{node}'>{entry(item_id, title, content, extra)}</publish>{opts}"))


async def feed(client, max=None, after=None, before=None, filters=None, to=None):
    """One page: ([(id, kinds, service, node, item id, publisher, title)], complete, first, last)."""
    form = ""
    if filters is not None:
        form = (f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>{FEED}</value></field>"
                "<field var='filter'>" + "".join(f"<value>{f}</value>" for f in filters) + "</field></x>")
    rsm = ""
    if max is not None or after is not None or before is not None:
        rsm = f"<set xmlns='{RSM}'>" + (f"<max>{max}</max>" if max is not None else "")
        rsm += f"<after>{after}</after>" if after is not None else ""
        rsm += (f"<before>{before}</before>" if before else "<before/>") if before is not None else ""
        rsm += "</set>"
    r = await get(client, to or client.boundjid.bare, f"<query xmlns='{FEED}'>{form}{rsm}</query>")
    check(r.tag == q(FEED, "feed"), "a feed page")
    out = []
    for res in r.findall(q(FEED, "result")):
        msg = res.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
        items = msg.find(q(EVENT, "event")).find(q(EVENT, "items"))
        item = items.find(q(EVENT, "item"))
        e = item.find(q(ATOM, "entry"))
        title = e.findtext(q(ATOM, "title")) if e is not None else None
        out.append((int(res.get("id")), res.get("kinds").split(), msg.get("from"), items.get("node"), item.get("id"),
                    item.get("publisher"), title))
    s = r.find(q(RSM, "set"))
    return out, r.get("complete") == "true", s.findtext(q(RSM, "first")), s.findtext(q(RSM, "last"))


async def walk(client, max, filters=None):
    """Every entry, page by page from the newest (RSM after), then back from the oldest (RSM before)."""
    return await pubsub_util.walk_pages(lambda **kw: feed(client, **kw), max, filters=filters)


async def test_feed(env):
    s = "pubsub." + env.host
    reader = await connect(env, "reader")
    r = reader.boundjid.bare
    people = [await connect(env, f"person{i:02}", interests=()) for i in range(20)]
    for p in people[:2]:
        await make_contacts(reader, p)
    # Before the reader follows them: one open post each, brought into the feed by the subscription.
    for i, p in enumerate(people):
        await post(p, f"early{i}", f"Early {i}", access="open")
    for p in people[2:]:
        await send(reader, p.boundjid.bare, ps(f"<subscribe node='{MICROBLOG}' jid='{r}'/>"))
    owner = await connect(env, "community_owner", interests=())
    for c in range(5):
        await send(owner, s, ps(f"<create node='club{c}'/><configure>" +
                                node_config(type="urn:xmpp:pubsub-social-feed:1", max_items="max") + "</configure>"))
        await post(owner, f"c{c}-0", f"Club {c} first", to=s, node=f"club{c}")
        await send(reader, s, ps(f"<subscribe node='club{c}' jid='{r}'/>"))
        await post(owner, f"c{c}-1", f"Club {c} second", to=s, node=f"club{c}")
    drain(reader)
    # After: a post by each person; the reader's contacts get theirs live (PEP), subscribers too.
    for i, p in enumerate(people):
        await post(p, f"late{i}", f"Late {i}", access="open")
        await next_event(reader, is_event("item", MICROBLOG, f"late{i}"))
    # A contacts-only post of someone the reader follows without being a contact never reaches it.
    stranger_friend = await connect(env, "friend_of_person19")
    await make_contacts(people[19], stranger_friend)
    await post(people[19], "secret", "Contacts only", access="presence")
    await next_event(stranger_friend, is_event("item", MICROBLOG, "secret"))
    # A mention from someone the reader does not follow, in an open post, and one in a private post.
    outsider = await connect(env, "outsider", interests=())
    await post(outsider, "hello", "Hi", access="open", content=f"hello xmpp:{r} !")
    await post(outsider, "hidden", "Hidden", access="presence", content=f"hello xmpp:{r} !")

    everything = await walk(reader, 7)
    titles = [e[6] for e in everything]
    check(len(everything) == 20 * 2 + 5 * 2 + 1, f"every post and the mention: {len(everything)} {titles}")
    check("Contacts only" not in titles and "Hidden" not in titles, "nothing the reader may not read")
    check(titles[0] == "Hi" and titles[1] == "Late 19", f"newest first: {titles[:3]}")
    people_only = await walk(reader, 9, ["people"])
    check(len(people_only) == 40 and all("people" in e[1] for e in people_only), "people filter")
    check({e[2] for e in people_only} == {p.boundjid.bare for p in people}, "from the 20 people's services")
    communities = await walk(reader, 4, ["communities"])
    check(len(communities) == 10 and all(e[2] == s for e in communities), "communities filter, with the service")
    check({e[3] for e in communities} == {f"club{c}" for c in range(5)}, "and the node")
    mentions = (await feed(reader, filters=["mentions"]))[0]
    check([(e[2], e[4], e[5]) for e in mentions] == [(outsider.boundjid.bare, "hello", outsider.boundjid.bare)],
          f"mentions: {mentions}")
    # The contact who may read the contacts-only post has it in its feed.
    friend_feed = (await feed(stranger_friend))[0]
    check([e[4] for e in friend_feed] == ["secret"], f"a contact's feed has the contacts-only post: {friend_feed}")
    # A page of the default size, and a page beyond the oldest.
    page, complete, _, _ = await feed(reader)
    check(len(page) == 20 and not complete, "default page of 20")
    page, complete, _, _ = await feed(reader, max=5, after=everything[-1][0])
    check(page == [] and complete, "nothing older than the oldest")


async def test_likes(env):
    s = "pubsub." + env.host
    author = await connect(env, "author")
    a = author.boundjid.bare
    fans = [await connect(env, f"fan{i}", interests=()) for i in range(3)]
    comments = "urn:xmpp:microblog:0:comments/post1"
    await send(author, s, ps(f"<create node='{comments}'/>"))
    link = f"<link rel='replies' title='comments' href='xmpp:{s}?;node={urllib.parse.quote(comments, safe='')}'/>"
    await post(author, "post1", "My post", access="open", extra=link)
    target = f"xmpp:{a}?;node={urllib.parse.quote(MICROBLOG, safe='')};item=post1"
    att = f"{ATT}/{target}"
    summary_node = f"{SUMMARY}/{MICROBLOG}"

    def attachments(noticed=True, reactions=()):
        body = "<noticed/>" if noticed else ""
        if reactions:
            body += "<reactions>" + "".join(f"<reaction>{x}</reaction>" for x in reactions) + "</reactions>"
        return f"<attachments xmlns='{ATT}'>{body}</attachments>"

    async def attach(who, payload, item_id=None):
        item = f"<item id='{item_id}'>" if item_id else "<item>"
        await send(who, a, ps(f"<publish node='{att}'>{item}{payload}</item></publish>"))

    async def summary():
        r = await get(author, a, ps(f"<items node='{summary_node}'><item id='post1'/></items>"))
        sm = r.find(q(pubsub_util.PUBSUB, "items")).find(q(pubsub_util.PUBSUB, "item")).find(q(SUMMARY, "summary"))
        n = sm.find(q(SUMMARY, "noticed"))
        reacts = {x.text: int(x.get("count", "1")) for x in sm.iter(q(SUMMARY, "reaction"))}
        return (int(n.get("count")) if n is not None else 0), reacts

    await attach(fans[0], attachments(reactions=["👍"]))
    await attach(fans[0], attachments(reactions=["👍"]))  # again: still one person
    await attach(fans[1], attachments(reactions=["👍", "🎉"]), item_id=fans[1].boundjid.bare)
    check(await summary() == (2, {"👍": 2, "🎉": 1}), f"counted once per person: {await summary()}")
    # Movim: a "♥" comment is a like; fan1 liked both ways and counts once, fan2 only by comment.
    for f in fans[1:]:
        await send(f, s, ps(f"<publish node='{comments}'>{entry('heart-' + f.boundjid.user, '♥')}</publish>"))
    check((await summary())[0] == 3, f"Movim likes: {await summary()}")
    await send(fans[2], s, ps(f"<retract node='{comments}'><item id='heart-{fans[2].boundjid.user}'/></retract>"))
    await send(fans[0], a, ps(f"<retract node='{att}'><item id='{fans[0].boundjid.bare}'/></retract>"))
    check(await summary() == (1, {"👍": 1, "🎉": 1}), f"retractions uncount: {await summary()}")
    # Comments and likes on the author's post are in its feed.
    await send(fans[0], s, ps(f"<publish node='{comments}'>{entry('c1', 'Nice')}</publish>"))
    likes = (await feed(author, filters=["likes"]))[0]
    check({e[5] for e in likes} == {fans[1].boundjid.bare}, f"likes in the feed: {likes}")
    said = (await feed(author, filters=["comments"]))[0]
    check([e[4] for e in said] == ["c1"], f"comments in the feed: {said}")
    # Publisher checked, payload checked, no manual node creation.
    await fails(fans[2], a, ps(f"<publish node='{att}'><item id='{fans[0].boundjid.bare}'>{attachments()}</item></publish>"),
                "bad-request")
    await fails(fans[2], a, ps(f"<publish node='{att}'><item><noticed xmlns='urn:test'/></item></publish>"), "bad-request")
    await fails(author, a, ps(f"<create node='{ATT}/xmpp:{a}?;node=x;item=y'/>"), "not-allowed")
    await fails(author, a, ps(f"<publish node='{summary_node}'><item id='post1'>{attachments()}</item></publish>"),
                "not-allowed")
    await fails(fans[2], a, ps(f"<publish node='{ATT}/xmpp:{a}?;node=urn%3Axmpp%3Amicroblog%3A0;item=nope'>"
                               f"<item>{attachments()}</item></publish>"), "item-not-found")
    # A contacts-only post cannot be liked by a stranger: to it the post does not exist.
    await post(author, "post2", "Private", access="presence")
    await fails(fans[2], a, ps(f"<publish node='{ATT}/xmpp:{a}?;node=urn%3Axmpp%3Amicroblog%3A0;item=post2'>"
                               f"<item>{attachments()}</item></publish>"), "item-not-found")


async def test_public_subscriptions(env):
    """XEP-0465: a subscription with <public/> is listed on both sides, a plain one nowhere."""
    fan = await connect(env, "pps_fan", interests=())
    star = await connect(env, "pps_star", interests=())
    quiet = await connect(env, "pps_quiet", interests=())
    nosy = await connect(env, "pps_nosy", interests=())
    f, st = fan.boundjid.bare, star.boundjid.bare
    for p in (star, quiet):
        await post(p, "hello", "Hello", access="open")
    await send(fan, st, ps(f"<subscribe node='{MICROBLOG}' jid='{f}'><public xmlns='urn:xmpp:pps:0'/></subscribe>"))
    await send(fan, quiet.boundjid.bare, ps(f"<subscribe node='{MICROBLOG}' jid='{f}'/>"))

    async def listed(service, node, tag):
        r = await get(nosy, service, ps(f"<items node='{node}'/>"))
        items = r.find(q(pubsub_util.PUBSUB, "items")).findall(q(pubsub_util.PUBSUB, "item"))
        return [(el.get("jid"), el.get("node")) for i in items for el in i.findall(q("urn:xmpp:pps:0", tag))]
    check(await listed(f, "urn:xmpp:pps:subscriptions:0", "subscription") == [(st, MICROBLOG)],
          "the fan's public subscriptions: the star's blog only")
    check(await listed(st, "urn:xmpp:pps:subscribers:0/" + MICROBLOG, "subscriber") == [(f, None)],
          "the star's public subscribers")
    await fails(fan, f, ps(f"<publish node='urn:xmpp:pps:subscriptions:0'><item><subscription xmlns='urn:xmpp:pps:0' "
                           f"node='x' jid='{st}'/></item></publish>"), "forbidden")
    await fails(star, st, ps(f"<retract node='urn:xmpp:pps:subscribers:0/{MICROBLOG}'><item id='{f}'/></retract>"), "forbidden")
    await fails(star, st, ps("<create node='urn:xmpp:pps:subscribers:0/x'/>"), "forbidden")
    await fails(star, st, ps(f"<delete node='urn:xmpp:pps:subscribers:0/{MICROBLOG}'/>", pubsub_util.OWNER), "forbidden")
    await send(fan, st, ps(f"<unsubscribe node='{MICROBLOG}' jid='{f}'/>"))
    check(await listed(f, "urn:xmpp:pps:subscriptions:0", "subscription") == [], "unsubscribed: no longer listed")
    check(await listed(st, "urn:xmpp:pps:subscribers:0/" + MICROBLOG, "subscriber") == [], "on either side")


async def test_bad_input(env):
    alice = await connect(env, "bad_alice", interests=())
    bob = await connect(env, "bad_bob", interests=())
    query = f"<query xmlns='{FEED}'>%s</query>"
    await fails(alice, alice.boundjid.bare, query % f"<set xmlns='{RSM}'><after>abc</after></set>", "item-not-found", itype="get")
    await fails(alice, alice.boundjid.bare, query % f"<set xmlns='{RSM}'><max>many</max></set>", "bad-request", itype="get")
    await fails(alice, alice.boundjid.bare, query % f"<set xmlns='{RSM}'><index>3</index></set>", "feature-not-implemented",
                itype="get")
    await fails(alice, alice.boundjid.bare, query % (
        f"<x xmlns='{DATA}' type='submit'><field var='filter'><value>cats</value></field></x>"), "bad-request", itype="get")
    await fails(bob, alice.boundjid.bare, query % "", "forbidden", itype="get")
    page, complete, first, last = await feed(alice)
    check(page == [] and complete and not first, "an empty feed")


harness.main(globals())
