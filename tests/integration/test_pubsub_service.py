"""Issue 4: the XEP-0060 pubsub service (pubsub.<host>) driven by python3-slixmpp: node lifecycle,
publish/retract/purge with notifications, subscriptions approved by the owner through a data form,
every access model allowing and refusing the right users, affiliations, RSM paging over 100+ items,
the precise error conditions, and persistence across a restart."""
import asyncio

import harness
from harness import check, IqError
from pubsub_util import (ps, PUBSUB, OWNER, EVENT, DATA, RSM, q, form, node_config, send, get, fails, watch,
                         next_event, no_event, drain, event_items, is_event, item_ids, make_contacts, set_groups)
from slixmpp.xmlstream import ET

PLUGINS = ["xep_0030", "xep_0060", "xep_0004"]


def svc(env):
    return "pubsub." + env.host


async def users(env, *names):
    clients = []
    for n in names:
        jid, pw = env.user(n)
        clients.append(await env.connect(jid + "/res", pw, PLUGINS, setup=watch))
    return clients


def entry(text):
    return f"<entry xmlns='http://www.w3.org/2005/Atom'><title>{text}</title></entry>"


async def test_service_discovery(env):
    (a,) = await users(env, "disco")
    items = await a["xep_0030"].get_items(jid=env.host)
    check(svc(env) in [i[0] for i in items["disco_items"]["items"]], "the host lists its pubsub service")
    info = await a["xep_0030"].get_info(jid=svc(env))
    check(("pubsub", "service", None, "Publish-Subscribe") in info["disco_info"]["identities"], "pubsub/service identity")
    feats = set(info["disco_info"]["features"])
    for f in ("persistent-items", "multi-items", "publish-options", "rsm", "create-nodes", "access-whitelist",
              "subscription-options", "modify-affiliations", "item-expire"):
        check(PUBSUB + "#" + f in feats, f"feature {f} advertised")
    # Movim hard-codes these names: they are pubsub services too.
    for alias in ("comments.", "spaces."):
        info = await a["xep_0030"].get_info(jid=alias + env.host)
        check(("pubsub", "service", None, "Publish-Subscribe") in info["disco_info"]["identities"], alias + " answers")


async def test_node_lifecycle(env):
    a, b = await users(env, "owner1", "sub1")
    s = svc(env)
    r = await send(a, s, ps("<create node='princely'/><configure>" + node_config(title="Princely Musings",
                                                                                max_items="10") + "</configure>"))
    check(r.find(q(PUBSUB, "create")).get("node") == "princely", "named node created")
    await fails(a, s, ps("<create node='princely'/>"), "conflict")  # §8.1.3.4
    r = await send(a, s, ps("<create/>"))
    instant = r.find(q(PUBSUB, "create")).get("node")
    check(instant, "an instant node gets a generated name (§8.1.2)")
    # Configuration: the form shows current values; changes apply; bad values are refused.
    cfg = await get(a, s, ps("<configure node='princely'/>", OWNER))
    x = cfg.find(q(OWNER, "configure")).find(q(DATA, "x"))
    fields = {f.get("var"): [v.text for v in f.findall(q(DATA, "value"))] for f in x.findall(q(DATA, "field"))}
    check(fields["pubsub#title"] == ["Princely Musings"] and fields["pubsub#max_items"] == ["10"], f"config form {fields}")
    check("pubsub#access_model" in fields and "pubsub#send_last_published_item" in fields, "full node_config form")
    await send(a, s, ps("<configure node='princely'>" + node_config(description="Updates", max_items="max") + "</configure>", OWNER))
    await fails(a, s, ps("<configure node='princely'>" + node_config(max_items="lots") + "</configure>", OWNER), "not-acceptable")
    await fails(a, s, ps("<configure node='princely'>" + node_config(flavour="vanilla") + "</configure>", OWNER), "not-acceptable")
    await fails(a, s, ps("<configure node='princely'>" + node_config(access_model="secret") + "</configure>", OWNER),
                "not-acceptable", "unsupported-access-model")
    await fails(b, s, ps("<configure node='princely'/>", OWNER), "forbidden", itype="get")
    await fails(a, s, ps("<configure/>", OWNER), "bad-request", "nodeid-required", itype="get")
    await fails(a, s, ps("<configure node='nope'/>", OWNER), "item-not-found", itype="get")
    d = await get(a, s, ps("<default/>", OWNER))
    check(d.find(q(OWNER, "default")).find(q(DATA, "x")) is not None, "default configuration form (§8.3)")
    # Meta-data in disco#info (§5.4).
    info = await b["xep_0030"].get_info(jid=s, node="princely")
    meta = info["disco_info"].xml.find(q(DATA, "x"))
    mf = {f.get("var"): [v.text for v in f.findall(q(DATA, "value"))] for f in meta.findall(q(DATA, "field"))}
    check(mf["pubsub#title"] == ["Princely Musings"] and mf["pubsub#description"] == ["Updates"], f"meta-data {mf}")
    check(mf["pubsub#creator"] == [a.boundjid.bare] and mf["pubsub#max_items"] == ["max"], "creator and max_items")
    check("pubsub#creation_date" in mf and mf["pubsub#num_subscribers"] == ["0"], "creation date and subscriber count")
    # Deletion: only by the owner; subscribers hear of it, with the redirect (§8.4).
    await send(b, s, ps(f"<subscribe node='princely' jid='{b.boundjid.bare}'/>"))
    await fails(b, s, ps("<delete node='princely'/>", OWNER), "forbidden")
    drain(b)
    await send(a, s, ps("<delete node='princely'><redirect uri='xmpp:pubsub.example.org?;node=elsewhere'/></delete>", OWNER))
    m = await next_event(b, lambda m: m.xml.find(q(EVENT, "event")) is not None)
    d = m.xml.find(q(EVENT, "event")).find(q(EVENT, "delete"))
    check(d is not None and d.get("node") == "princely", "subscriber told of the deletion")
    check(d.find(q(EVENT, "redirect")).get("uri") == "xmpp:pubsub.example.org?;node=elsewhere", "with the redirect")
    await fails(b, s, ps("<items node='princely'/>"), "item-not-found", itype="get")
    await fails(a, s, ps("<delete node='princely'/>", OWNER), "item-not-found")
    await send(a, s, ps(f"<delete node='{instant}'/>", OWNER))


async def test_publish_retract_purge(env):
    a, b = await users(env, "pub2", "sub2")
    s = svc(env)
    await send(a, s, ps("<create node='news'/>"))
    await send(b, s, ps(f"<subscribe node='news' jid='{b.boundjid.bare}'/>"))
    await send(a, s, ps(f"<subscribe node='news' jid='{a.boundjid.bare}'/>"))  # a witness of the node's events
    drain(b)
    # With an id: the subscriber gets the payload and the publisher attribute (§7.1.2.3).
    await send(a, s, ps("<publish node='news'><item id='first'>" + entry("one") + "</item></publish>"))
    m = await next_event(b, is_event("item", "news", "first"))
    (kind, iid, publisher, payload) = event_items(m, "news")[0]
    check(publisher == a.boundjid.bare, "the event carries the publisher")
    check(payload is not None and payload.find("{http://www.w3.org/2005/Atom}title").text == "one", "with the payload")
    # Without an id: the service makes one and says which (§7.1.2).
    r = await send(a, s, ps("<publish node='news'><item>" + entry("two") + "</item></publish>"))
    gen = r.find(q(PUBSUB, "publish")).find(q(PUBSUB, "item")).get("id")
    check(gen, "generated item id returned")
    await next_event(b, is_event("item", "news", gen))
    # Re-publishing an id overwrites it and makes it the newest (§7.1.2, "publication order").
    await send(a, s, ps("<publish node='news'><item id='first'>" + entry("one, edited") + "</item></publish>"))
    r = await get(b, s, ps("<items node='news'/>"))
    check(item_ids(r) == ["first", gen], f"newest first, one copy per id: {item_ids(r)}")
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).get("publisher") == a.boundjid.bare, "items carry publisher")
    r = await get(b, s, ps(f"<items node='news' max_items='1'/>"))
    check(item_ids(r) == ["first"], "max_items returns the most recent")
    r = await get(b, s, ps(f"<items node='news'><item id='{gen}'/><item id='missing'/></items>"))
    check(item_ids(r) == [gen], "items by id; missing ones absent")
    # Retraction: refused to others, notified when asked (§7.2).
    await fails(b, s, ps("<retract node='news'><item id='first'/></retract>"), "forbidden")
    await fails(a, s, ps("<retract node='news'><item id='ghost'/></retract>"), "item-not-found")
    await fails(a, s, ps("<retract node='news'/>"), "bad-request", "item-required")
    drain(b)
    await send(a, s, ps("<retract node='news' notify='true'><item id='first'/></retract>"))
    await next_event(b, is_event("retract", "news", "first"))
    # Purge: one <purge/> notification (§8.5).
    await send(a, s, ps("<publish node='news'><item id='third'>" + entry("three") + "</item></publish>"))
    await fails(b, s, ps("<purge node='news'/>", OWNER), "forbidden")
    drain(b)
    await send(a, s, ps("<purge node='news'/>", OWNER))
    m = await next_event(b, lambda m: m.xml.find(q(EVENT, "event")) is not None and
                         m.xml.find(q(EVENT, "event")).find(q(EVENT, "purge")) is not None)
    r = await get(a, s, ps("<items node='news'/>"))
    check(item_ids(r) == [], "purged")
    # Unsubscribed: no more events.
    await send(b, s, ps(f"<unsubscribe node='news' jid='{b.boundjid.bare}'/>"))
    await fails(b, s, ps(f"<unsubscribe node='news' jid='{b.boundjid.bare}'/>"), "unexpected-request", "not-subscribed")
    drain(b)
    await send(a, s, ps("<publish node='news'><item id='four'>" + entry("four") + "</item></publish>"))
    # slixmpp's own xep_0060 calls work against the service.
    await a["xep_0060"].publish(s, "news", id="five", payload=ET.fromstring(entry("five")))
    await next_event(a, is_event("item", "news", "five"))  # so the fan-out of 'four' is over
    await no_event(b, is_event("item", "news"))
    items = await b["xep_0060"].get_items(s, "news", max_items=1)
    check([i["id"] for i in items["pubsub"]["items"]] == ["five"], "slixmpp get_items")


async def test_max_items_and_expiry(env):
    (a,) = await users(env, "maxer")
    s = svc(env)
    await send(a, s, ps("<create node='small'/><configure>" + node_config(max_items="3") + "</configure>"))
    for i in range(5):
        await send(a, s, ps(f"<publish node='small'><item id='i{i}'>" + entry(str(i)) + "</item></publish>"))
    r = await get(a, s, ps("<items node='small'/>"))
    check(item_ids(r) == ["i4", "i3", "i2"], f"max_items keeps the newest three: {item_ids(r)}")
    await send(a, s, ps("<configure node='small'>" + node_config(publish_node_full="reject") + "</configure>", OWNER))
    await fails(a, s, ps("<publish node='small'><item id='i9'>" + entry("9") + "</item></publish>"), "conflict", "node-full")
    # pubsub#item_expire: items older than the limit disappear.
    await send(a, s, ps("<create node='stories'/><configure>" + node_config(item_expire="2") + "</configure>"))
    await send(a, s, ps("<publish node='stories'><item id='s1'>" + entry("story") + "</item></publish>"))
    r = await get(a, s, ps("<items node='stories'/>"))
    check(item_ids(r) == ["s1"], "fresh item visible")

    # The service's clock is the server's test clock: the item is 1 s old once it moves 1 s, and past
    # its two seconds once it moves 2 s more.
    await harness.advance_clock(a, 1)
    r = await get(a, s, ps("<items node='stories'/>"))
    check(item_ids(r) == ["s1"], f"an item younger than item_expire is still there: {item_ids(r)}")
    await harness.advance_clock(a, 2)
    r = await get(a, s, ps("<items node='stories'/>"))
    check(item_ids(r) == [], f"expired item gone: {item_ids(r)}")


async def test_event_options(env):
    """deliver_payloads, notify_retract, send_last_published_item (on subscription and at login),
    notification_type normal (kept for an offline subscriber), include_body, transient nodes."""
    a, b = await users(env, "eventer", "listener")
    s = svc(env)
    await send(a, s, ps("<create node='light'/><configure>" +
                        node_config(deliver_payloads="false", notify_retract="false") + "</configure>"))
    await send(a, s, ps("<publish node='light'><item id='l1'>" + entry("heavy payload") + "</item></publish>"))
    # on_sub_and_presence (the default): the last item comes with the subscription, with a delay stamp.
    await send(b, s, ps(f"<subscribe node='light' jid='{b.boundjid.bare}'/>"))
    m = await next_event(b, is_event("item", "light", "l1"))
    check(m.xml.find("{urn:xmpp:delay}delay") is not None, "last item stamped with XEP-0203 delay")
    check(event_items(m, "light")[0][3] is None, "deliver_payloads=false: no payload in events")
    await send(a, s, ps("<publish node='light'><item id='l2'>" + entry("more") + "</item></publish>"))
    m = await next_event(b, is_event("item", "light", "l2"))
    check(event_items(m, "light")[0][3] is None, "notification only")
    r = await get(b, s, ps("<items node='light'><item id='l2'/></items>"))
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{http://www.w3.org/2005/Atom}entry") is not None,
          "the payload is fetched on demand")
    drain(b)
    await send(a, s, ps("<retract node='light'><item id='l1'/></retract>"))  # notify_retract=false
    await send(a, s, ps("<retract node='light' notify='1'><item id='l2'/></retract>"))  # asked explicitly
    await next_event(b, is_event("retract", "light", "l2"), refuse=is_event("retract", "light", "l1"))
    # At the next login, the subscriber gets the last item again (on_sub_and_presence, §6.1.7).
    await send(a, s, ps("<publish node='light'><item id='l3'>" + entry("latest") + "</item></publish>"))
    await env.disconnect(b)
    b = await env.connect(b.boundjid.bare + "/back", "pw-xxxxxxxx", PLUGINS, setup=watch)
    await next_event(b, is_event("item", "light", "l3"))
    # notification_type=normal: a bare subscriber who is offline finds the event in offline storage.
    await send(a, s, ps("<create node='letters'/><configure>" +
                        node_config(notification_type="normal", send_last_published_item="never") + "</configure>"))
    await send(b, s, ps(f"<subscribe node='letters' jid='{b.boundjid.bare}'/>"))
    await send(a, s, ps(f"<subscribe node='letters' jid='{a.boundjid.bare}'/>"))  # a witness, online
    await env.disconnect(b)
    await send(a, s, ps("<publish node='letters'><item id='while-away'>" + entry("you were out") + "</item></publish>"))
    # The fan-out hands b's copy to the offline store (a storage write) before a's is delivered; a write
    # of a's after that is committed after it.
    await next_event(a, is_event("item", "letters", "while-away"))
    await harness.storage_barrier(a)
    b = await env.connect(b.boundjid.bare + "/later", "pw-xxxxxxxx", PLUGINS, setup=watch)
    m = await next_event(b, is_event("item", "letters", "while-away"))
    check(m.xml.get("type") in (None, "normal"), "a normal message, kept offline")
    # include_body: the entry's title as a body, for those who asked.
    await send(b, s, ps(f"<options node='letters' jid='{b.boundjid.bare}'>" +
                        form(PUBSUB + "#subscribe_options", {"pubsub#include_body": "true"}) + "</options>"))
    drain(b)
    await send(a, s, ps("<publish node='letters'><item id='with-body'>" + entry("Dear Bob") + "</item></publish>"))
    m = await next_event(b, is_event("item", "letters", "with-body"))
    check(m["body"] == "Dear Bob", f"body: {m['body']!r}")
    # A transient notification-only node: no item, an empty <items/> event.
    await send(a, s, ps("<create node='pings'/><configure>" +
                        node_config(persist_items="false", deliver_payloads="false") + "</configure>"))
    await send(b, s, ps(f"<subscribe node='pings' jid='{b.boundjid.bare}'/>"))
    drain(b)
    await send(a, s, ps("<publish node='pings'/>"))
    m = await next_event(b, lambda m: m.xml.find(q(EVENT, "event")) is not None and
                         m.xml.find(q(EVENT, "event")).find(q(EVENT, "items")) is not None)
    check(len(m.xml.find(q(EVENT, "event")).find(q(EVENT, "items"))) == 0, "empty items event")
    await fails(a, s, ps("<publish node='pings'><item>" + entry("x") + "</item></publish>"), "bad-request", "item-forbidden")
    await fails(b, s, ps("<items node='pings'/>"), "feature-not-implemented", "unsupported", itype="get")


async def test_subscription_with_owner_approval(env):
    a, b, c = await users(env, "owner3", "asker3", "other3")
    s = svc(env)
    await send(a, s, ps("<create node='club'/><configure>" + node_config(access_model="authorize") + "</configure>"))
    await send(a, s, ps("<publish node='club'><item id='secret'>" + entry("members only") + "</item></publish>"))
    drain(a)
    r = await send(b, s, ps(f"<subscribe node='club' jid='{b.boundjid.bare}'/>"))
    check(r.find(q(PUBSUB, "subscription")).get("subscription") == "pending", "authorize: pending (§6.1.4)")
    await fails(b, s, ps(f"<subscribe node='club' jid='{b.boundjid.bare}'/>"), "not-authorized", "pending-subscription")
    await fails(b, s, ps("<items node='club'/>"), "not-authorized", "not-subscribed", itype="get")
    # The owner gets a subscribe_authorization form (§8.6) and approves it.
    m = await next_event(a, lambda m: m.xml.find(q(DATA, "x")) is not None)
    x = m.xml.find(q(DATA, "x"))
    vals = {f.get("var"): (f.find(q(DATA, "value")).text if f.find(q(DATA, "value")) is not None else None)
            for f in x.findall(q(DATA, "field"))}
    check(vals["FORM_TYPE"] == PUBSUB + "#subscribe_authorization" and vals["pubsub#node"] == "club", f"form {vals}")
    check(vals["pubsub#subscriber_jid"] == b.boundjid.bare, "names the subscriber")
    reply = a.Message()
    reply["to"] = s
    reply["id"] = m["id"]
    reply.append(ET.fromstring(form(PUBSUB + "#subscribe_authorization", {
        "pubsub#subid": vals["pubsub#subid"], "pubsub#node": "club", "pubsub#subscriber_jid": b.boundjid.bare,
        "pubsub#allow": "true"})))
    reply.send()
    m = await next_event(b, lambda m: m.xml.find(q(EVENT, "event")) is not None and
                         m.xml.find(q(EVENT, "event")).find(q(EVENT, "subscription")) is not None)
    check(m.xml.find(q(EVENT, "event")).find(q(EVENT, "subscription")).get("subscription") == "subscribed", "approved")
    r = await get(b, s, ps("<items node='club'/>"))
    check(item_ids(r) == ["secret"], "an approved subscriber reads the items")
    drain(b)
    await send(a, s, ps("<publish node='club'><item id='news'>" + entry("hello members") + "</item></publish>"))
    await next_event(b, is_event("item", "club", "news"))
    # A denied request ends with subscription 'none'.
    await send(c, s, ps(f"<subscribe node='club' jid='{c.boundjid.bare}'/>"))
    m = await next_event(a, lambda m: m.xml.find(q(DATA, "x")) is not None)
    x = m.xml.find(q(DATA, "x"))
    subid = [f.find(q(DATA, "value")).text for f in x.findall(q(DATA, "field")) if f.get("var") == "pubsub#subid"][0]
    reply = a.Message()
    reply["to"] = s
    reply.append(ET.fromstring(form(PUBSUB + "#subscribe_authorization", {
        "pubsub#subid": subid, "pubsub#node": "club", "pubsub#subscriber_jid": c.boundjid.bare, "pubsub#allow": "false"})))
    reply.send()
    m = await next_event(c, lambda m: m.xml.find(q(EVENT, "event")) is not None)
    check(m.xml.find(q(EVENT, "event")).find(q(EVENT, "subscription")).get("subscription") == "none", "denied")
    await fails(c, s, ps("<items node='club'/>"), "not-authorized", "not-subscribed", itype="get")
    # The owner sees the approved subscription and can end it (§8.8).
    r = await get(a, s, ps("<subscriptions node='club'/>", OWNER))
    subs = [(x.get("jid"), x.get("subscription")) for x in r.find(q(OWNER, "subscriptions"))]
    check(subs == [(b.boundjid.bare, "subscribed")], f"owner's list {subs}")
    await send(a, s, ps(f"<subscriptions node='club'><subscription jid='{b.boundjid.bare}' subscription='none'/></subscriptions>", OWNER))
    await fails(b, s, ps("<items node='club'/>"), "not-authorized", itype="get")


async def test_access_models(env):
    a, friend, contact, stranger = await users(env, "owner4", "friend4", "contact4", "stranger4")
    s = svc(env)
    await make_contacts(a, friend)
    await make_contacts(a, contact)
    await set_groups(a, friend.boundjid.bare, ["Friends"])
    await set_groups(a, contact.boundjid.bare, ["Work"])
    models = {"m-open": {"access_model": "open"}, "m-presence": {"access_model": "presence"},
              "m-roster": {"access_model": "roster", "roster_groups_allowed": "Friends"},
              "m-whitelist": {"access_model": "whitelist"}, "m-authorize": {"access_model": "authorize"}}
    for node, cfg in models.items():
        await send(a, s, ps(f"<create node='{node}'/><configure>" + node_config(**cfg) + "</configure>"))
        await send(a, s, ps(f"<publish node='{node}'><item id='x'>" + entry(node) + "</item></publish>"))
    # Expected outcome of (retrieve, subscribe) per user and node; None = allowed.
    expected = {
        "m-open": {friend: (None, "subscribed"), contact: (None, "subscribed"), stranger: (None, "subscribed")},
        "m-presence": {friend: (None, "subscribed"), contact: (None, "subscribed"),
                       stranger: (("not-authorized", "presence-subscription-required"),) * 2},
        "m-roster": {friend: (None, "subscribed"), contact: (("not-authorized", "not-in-roster-group"),) * 2,
                     stranger: (("not-authorized", "not-in-roster-group"),) * 2},
        "m-whitelist": {friend: (("not-allowed", "closed-node"),) * 2, contact: (("not-allowed", "closed-node"),) * 2,
                        stranger: (("not-allowed", "closed-node"),) * 2},
        "m-authorize": {friend: (("not-authorized", "not-subscribed"), "pending"),
                        contact: (("not-authorized", "not-subscribed"), "pending"),
                        stranger: (("not-authorized", "not-subscribed"), "pending")},
    }
    for node, per_user in expected.items():
        for user, (read, sub) in per_user.items():
            who = f"{user.boundjid.bare} on {node}"
            if read is None:
                r = await get(user, s, ps(f"<items node='{node}'/>"))
                check(item_ids(r) == ["x"], f"{who} reads")
            else:
                await fails(user, s, ps(f"<items node='{node}'/>"), read[0], read[1], itype="get")
            if isinstance(sub, str):
                r = await send(user, s, ps(f"<subscribe node='{node}' jid='{user.boundjid.bare}'/>"))
                check(r.find(q(PUBSUB, "subscription")).get("subscription") == sub, f"{who} subscribes: {sub}")
            else:
                await fails(user, s, ps(f"<subscribe node='{node}' jid='{user.boundjid.bare}'/>"), sub[0], sub[1])
    # The owner always may; whitelisting a member lets it in; an outcast is forbidden everywhere.
    for node in models:
        r = await get(a, s, ps(f"<items node='{node}'/>"))
        check(item_ids(r) == ["x"], f"owner reads {node}")
    await send(a, s, ps(f"<affiliations node='m-whitelist'><affiliation jid='{stranger.boundjid.bare}' affiliation='member'/></affiliations>", OWNER))
    r = await get(stranger, s, ps("<items node='m-whitelist'/>"))
    check(item_ids(r) == ["x"], "a member of the whitelist reads")
    await send(a, s, ps(f"<affiliations node='m-open'><affiliation jid='{stranger.boundjid.bare}' affiliation='outcast'/></affiliations>", OWNER))
    await fails(stranger, s, ps("<items node='m-open'/>"), "forbidden", itype="get")
    await fails(stranger, s, ps(f"<subscribe node='m-open' jid='{stranger.boundjid.bare}'/>"), "forbidden")


async def test_publish_models_and_affiliations(env):
    a, b, c = await users(env, "owner5", "pub5", "reader5")
    s = svc(env)
    await send(a, s, ps("<create node='board'/>"))
    # publish_model "publishers": others are forbidden until made publisher or publish-only.
    await fails(b, s, ps("<publish node='board'><item>" + entry("hi") + "</item></publish>"), "forbidden")
    await send(a, s, ps(f"<affiliations node='board'><affiliation jid='{b.boundjid.bare}' affiliation='publisher'/>"
                        f"<affiliation jid='{c.boundjid.bare}' affiliation='publish-only'/></affiliations>", OWNER))
    await send(b, s, ps("<publish node='board'><item id='b1'>" + entry("from b") + "</item></publish>"))
    await send(c, s, ps("<publish node='board'><item id='c1'>" + entry("from c") + "</item></publish>"))
    await fails(c, s, ps("<items node='board'/>"), "forbidden", itype="get")  # publish-only does not read
    await fails(c, s, ps("<retract node='board'><item id='b1'/></retract>"), "forbidden")  # nor delete others'
    await send(c, s, ps("<retract node='board'><item id='c1'/></retract>"))  # but its own
    await send(b, s, ps("<purge node='board'/>", OWNER))  # publishers may purge (§4.1)
    r = await get(a, s, ps("<affiliations node='board'/>", OWNER))
    affs = sorted((x.get("jid"), x.get("affiliation")) for x in r.find(q(OWNER, "affiliations")))
    check(affs == sorted([(a.boundjid.bare, "owner"), (b.boundjid.bare, "publisher"), (c.boundjid.bare, "publish-only")]),
          f"affiliation list {affs}")
    # One's own affiliations and subscriptions across the service (§5.6, §5.7).
    r = await get(b, s, ps("<affiliations/>"))
    check(("board", "publisher") in [(x.get("node"), x.get("affiliation")) for x in r.find(q(PUBSUB, "affiliations"))],
          "own affiliations")
    await fails(b, s, ps("<affiliations node='board'/>", OWNER), "forbidden", itype="get")
    # The only owner cannot step down (§8.9.2.4).
    await fails(a, s, ps(f"<affiliations node='board'><affiliation jid='{a.boundjid.bare}' affiliation='none'/></affiliations>", OWNER),
                "not-acceptable")
    # publish_model "open": anyone who may read may publish; "subscribers": subscribers only.
    await send(a, s, ps("<configure node='board'>" + node_config(publish_model="subscribers") + "</configure>", OWNER))
    await send(a, s, ps(f"<affiliations node='board'><affiliation jid='{c.boundjid.bare}' affiliation='none'/></affiliations>", OWNER))
    await fails(c, s, ps("<publish node='board'><item>" + entry("x") + "</item></publish>"), "forbidden")
    await send(c, s, ps(f"<subscribe node='board' jid='{c.boundjid.bare}'/>"))
    await send(c, s, ps("<publish node='board'><item id='c2'>" + entry("as subscriber") + "</item></publish>"))
    r = await get(c, s, ps("<subscriptions/>"))
    check([(x.get("node"), x.get("subscription")) for x in r.find(q(PUBSUB, "subscriptions"))] == [("board", "subscribed")],
          "own subscriptions")


async def test_subscription_options(env):
    a, b = await users(env, "owner6", "sub6")
    s = svc(env)
    await send(a, s, ps("<create node='opts'/>"))
    await fails(b, s, ps(f"<options node='opts' jid='{b.boundjid.bare}'/>"), "unexpected-request", "not-subscribed", itype="get")
    # pubsub#notify_sub: the owner hears of a new subscriber.
    await send(a, s, ps("<configure node='opts'>" + node_config(notify_sub="true") + "</configure>", OWNER))
    drain(a)
    await send(b, s, ps(f"<subscribe node='opts' jid='{b.boundjid.bare}'/>"))
    m = await next_event(a, lambda m: m.xml.find(q(EVENT, "event")) is not None and
                         m.xml.find(q(EVENT, "event")).find(q(EVENT, "subscription")) is not None)
    sub = m.xml.find(q(EVENT, "event")).find(q(EVENT, "subscription"))
    check(sub.get("jid") == b.boundjid.bare and sub.get("subscription") == "subscribed", "owner told of the subscriber")
    r = await get(b, s, ps(f"<options node='opts' jid='{b.boundjid.bare}'/>"))
    check(r.find(q(PUBSUB, "options")).find(q(DATA, "x")) is not None, "options form (§6.3)")
    await fails(b, s, ps(f"<options node='opts' jid='{a.boundjid.bare}'/>"), "forbidden", itype="get")
    await fails(b, s, ps("<options node='opts'/>"), "bad-request", "jid-required", itype="get")
    # pubsub#deliver=false: no more notifications.
    await send(b, s, ps(f"<options node='opts' jid='{b.boundjid.bare}'>" +
                        form(PUBSUB + "#subscribe_options", {"pubsub#deliver": "false"}) + "</options>"))
    drain(b)
    await send(a, s, ps("<publish node='opts'><item id='o1'>" + entry("quiet") + "</item></publish>"))
    await send(b, s, ps(f"<options node='opts' jid='{b.boundjid.bare}'>" +
                        form(PUBSUB + "#subscribe_options", {"pubsub#deliver": "true"}) + "</options>"))
    await send(a, s, ps("<publish node='opts'><item id='o2'>" + entry("loud") + "</item></publish>"))
    await next_event(b, is_event("item", "opts", "o2"), refuse=is_event("item", "opts", "o1"))
    await fails(b, s, ps(f"<options node='opts' jid='{b.boundjid.bare}'>" +
                         form(PUBSUB + "#subscribe_options", {"pubsub#colour": "red"}) + "</options>"), "bad-request")
    d = await get(b, s, ps("<default/>"))
    check(d.find(q(PUBSUB, "default")).find(q(DATA, "x")) is not None, "default subscription options (§6.4)")


async def test_rsm_paging_over_100_items(env):
    (a,) = await users(env, "pager")
    s = svc(env)
    await send(a, s, ps("<create node='many'/><configure>" + node_config(max_items="max") + "</configure>"))
    total = 105
    for i in range(total):
        await send(a, s, ps(f"<publish node='many'><item id='n{i:03}'>" + entry(str(i)) + "</item></publish>"))
    newest_first = [f"n{i:03}" for i in reversed(range(total))]
    seen, after, pages = [], None, 0
    while True:
        rsm = f"<set xmlns='{RSM}'><max>10</max>" + (f"<after>{after}</after>" if after else "") + "</set>"
        r = await get(a, s, ps(rsm + "<items node='many'/>"))  # RSM before <items/>, as Movim sends it
        page = item_ids(r)
        st = r.find(q(RSM, "set"))
        check(st.find(q(RSM, "count")).text == str(total), "count of the whole set")
        if not page:
            break
        check(st.find(q(RSM, "first")).text == page[0] and st.find(q(RSM, "last")).text == page[-1], "page bounds")
        seen += page
        after = page[-1]
        pages += 1
        check(pages < 20, "paging terminates")
    check(seen == newest_first, "every item once, newest first, across 11 pages")
    check(pages == 11, f"{pages} pages of 10")
    # <before/> empty: the last page (the oldest items); <before>id</before>: the page before an item.
    r = await get(a, s, ps(f"<items node='many'/><set xmlns='{RSM}'><max>5</max><before/></set>"))
    check(item_ids(r) == newest_first[-5:], "last page")
    r = await get(a, s, ps(f"<items node='many'/><set xmlns='{RSM}'><max>3</max><before>n050</before></set>"))
    check(item_ids(r) == ["n053", "n052", "n051"], f"page before n050: {item_ids(r)}")
    r = await get(a, s, ps(f"<items node='many'/><set xmlns='{RSM}'><max>2</max><index>4</index></set>"))
    check(item_ids(r) == newest_first[4:6], "index")
    await fails(a, s, ps(f"<items node='many'/><set xmlns='{RSM}'><max>2</max><after>nope</after></set>"), "item-not-found", itype="get")
    await fails(a, s, ps(f"<items node='many'/><set xmlns='{RSM}'><max>x</max></set>"), "bad-request", itype="get")
    r = await get(a, s, ps("<items node='many' max_items='7'/>"))
    check(item_ids(r) == newest_first[:7], "max_items")


async def test_error_conditions(env):
    a, b = await users(env, "erra", "errb")
    s = svc(env)
    await send(a, s, ps("<create node='errs'/>"))
    await fails(a, s, ps("<publish><item>" + entry("x") + "</item></publish>"), "bad-request", "nodeid-required")
    await fails(a, s, ps("<publish node='errs'><item><a xmlns='urn:x'/><b xmlns='urn:x'/></item></publish>"),
                "bad-request", "invalid-payload")
    await fails(a, s, ps("<publish node='errs'/>"), "bad-request", "item-required")
    await fails(b, s, ps(f"<subscribe node='errs' jid='{a.boundjid.bare}'/>"), "bad-request", "invalid-jid")
    await fails(b, s, ps(f"<subscribe node='nowhere' jid='{b.boundjid.bare}'/>"), "item-not-found")
    await fails(b, s, ps("<items node='errs' max_items='many'/>"), "bad-request", itype="get")
    await fails(b, s, ps("<items node='nowhere'/>"), "item-not-found", itype="get")
    await fails(b, s, ps("<purge node='nowhere'/>", OWNER), "item-not-found")
    await fails(b, s, ps("<frobnicate node='errs'/>"), "feature-not-implemented")
    await fails(b, s, ps("<items node='errs'/>"), "bad-request", itype="set")
    await send(a, s, ps("<create node='transient'/><configure>" + node_config(persist_items="false") + "</configure>"))
    await fails(a, s, ps("<purge node='transient'/>", OWNER), "feature-not-implemented", "unsupported")
    # Bounded: a user creates at most modules.pubsub.max_nodes_per_owner nodes (20 on this server).
    for i in range(18):
        await send(a, s, ps(f"<create node='quota{i}'/>"))
    text = await fails(a, s, ps("<create node='one-too-many'/>"), "policy-violation")
    check("20" in text, f"the limit is named: {text!r}")
    await fails(a, s, ps("<publish node='auto-too-many'><item>" + entry("x") + "</item></publish>"), "policy-violation")


async def test_restart_keeps_everything(env):
    a, b = await users(env, "keeper", "follower")
    s = svc(env)
    await send(a, s, ps("<create node='durable'/><configure>" + node_config(title="Durable", access_model="whitelist") + "</configure>"))
    await send(a, s, ps(f"<affiliations node='durable'><affiliation jid='{b.boundjid.bare}' affiliation='member'/></affiliations>", OWNER))
    await send(b, s, ps(f"<subscribe node='durable' jid='{b.boundjid.bare}'/>"))
    for i in range(3):
        await send(a, s, ps(f"<publish node='durable'><item id='d{i}'>" + entry(f"kept {i}") + "</item></publish>"))
    await env.restart()
    a = await env.connect(a.boundjid.bare + "/again", "pw-xxxxxxxx", PLUGINS, setup=watch)
    b = await env.connect(b.boundjid.bare + "/again", "pw-xxxxxxxx", PLUGINS, setup=watch)
    r = await get(b, s, ps("<items node='durable'/>"))
    check(item_ids(r) == ["d2", "d1", "d0"], "items survive a restart")
    r = await get(a, s, ps("<affiliations node='durable'/>", OWNER))
    check((b.boundjid.bare, "member") in [(x.get("jid"), x.get("affiliation")) for x in r.find(q(OWNER, "affiliations"))],
          "affiliations survive")
    drain(b)
    await send(a, s, ps("<publish node='durable'><item id='d3'>" + entry("after restart") + "</item></publish>"))
    await next_event(b, is_event("item", "durable", "d3"))
    info = await b["xep_0030"].get_info(jid=s, node="durable")
    check("Durable" in str(info), "configuration survives")


harness.main(globals(), extra_toml=harness.MANUAL_CLOCK + "\n[modules.pubsub]\nmax_nodes_per_owner = 20")
