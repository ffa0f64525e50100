"""Issue 4: PEP (XEP-0163) on every account, driven by python3-slixmpp (xep_0060, xep_0163, xep_0084):
disco on the account, notifications only to contacts whose caps (XEP-0115) ask "+notify", the last item
when a contact comes online, publish-options preconditions (XEP-0223), OMEMO device lists and bundles,
avatars (XEP-0084), bookmarks (XEP-0402), several items per node, explicit subscriptions that survive a
restart, large payloads and the payload limit, and the account owner as the only publisher.

The server runs with max_stanza_size = 16 MiB so that a 10 MiB publish reaches the pubsub service and is
refused there with a stanza error (payload-too-big), the session going on."""
import base64
import hashlib

import harness
from harness import check
from pubsub_util import (connect, ps, PUBSUB, OWNER, EVENT, DATA, q, node_config, publish_options, send, get, fails, watch,
                         next_event, no_event, drain, event_items, is_event, item_ids, make_contacts, caps_known)
from slixmpp.xmlstream import ET

from pubsub_util import PEP_PLUGINS as PLUGINS
MOOD = "urn:test:mood"
DEVICES = "eu.siacs.conversations.axolotl.devicelist"
AXOLOTL = "eu.siacs.conversations.axolotl"
OMEMO2 = "urn:xmpp:omemo:2"


def mood(text):
    return f"<mood xmlns='{MOOD}'><text>{text}</text></mood>"


async def test_account_disco_for_movim(env):
    a = await connect(env, "discoa")
    b = await connect(env, "discob")
    info = await b["xep_0030"].get_info(jid=a.boundjid.bare)
    check(("pubsub", "pep", None, None) in info["disco_info"]["identities"], "pubsub/pep identity (XEP-0163 §6.1)")
    feats = set(info["disco_info"]["features"])
    # Movim falls back to a degraded mode without these two.
    for f in ("persistent-items", "multi-items", "publish-options", "auto-create", "filtered-notifications"):
        check(PUBSUB + "#" + f in feats, f"account advertises {f}")
    await send(a, None, ps("<publish node='urn:test:public'><item id='1'>" + mood("hi") + "</item></publish>" +
                           publish_options(access_model="open")))
    await send(a, None, ps("<publish node='urn:test:private'><item id='1'>" + mood("psst") + "</item></publish>"))
    items = await b["xep_0030"].get_items(jid=a.boundjid.bare)
    nodes = [i[1] for i in items["disco_items"]["items"]]
    check("urn:test:public" in nodes and "urn:test:private" not in nodes,
          f"a stranger sees only the nodes it may use (XEP-0163 §6.2): {nodes}")
    mine = await a["xep_0030"].get_items(jid=a.boundjid.bare)
    check({"urn:test:public", "urn:test:private"} <= {i[1] for i in mine["disco_items"]["items"]}, "the owner sees all")
    ninfo = await b["xep_0030"].get_info(jid=a.boundjid.bare, node="urn:test:public")
    check(("pubsub", "leaf", None, None) in ninfo["disco_info"]["identities"], "node disco#info")


async def test_notifications_only_to_contacts_with_notify(env):
    a = await connect(env, "alice", [MOOD])
    bob = await connect(env, "bob", [MOOD])
    dave = await connect(env, "dave")            # a contact without +notify
    carol = await connect(env, "carol", [MOOD])  # +notify, but not a contact
    await make_contacts(a, bob)
    await make_contacts(a, dave)
    for c in (a, bob, dave, carol):
        drain(c)
    await send(a, None, ps("<publish node='urn:test:mood'><item id='current'>" + mood("happy") + "</item></publish>"))
    m = await next_event(bob, is_event("item", MOOD, "current"))
    check(m["from"] == a.boundjid.bare, "PEP notifications come from the account's bare JID (XEP-0163 §4.3.1)")
    check(m["to"] == bob.boundjid.full, "to the interested resource")
    (_, _, publisher, payload) = event_items(m, MOOD)[0]
    check(publisher == a.boundjid.bare and payload.find("{%s}text" % MOOD).text == "happy", "item with payload")
    await next_event(a, is_event("item", MOOD, "current"))  # the owner's own interested resource
    # A second resource of bob without interest gets nothing; the interested one does.
    bob2 = await env.connect(bob.boundjid.bare + "/quiet", "pw-xxxxxxxx", PLUGINS, setup=watch)
    await caps_known(bob2)
    drain(bob)
    await send(a, None, ps("<publish node='urn:test:mood'><item id='current'>" + mood("calm") + "</item></publish>"))
    await next_event(bob, is_event("item", MOOD, "current"))
    # Bob got the second event: the node's first fan-out is over, and it had nothing for dave or carol.
    await no_event(dave, is_event("item", MOOD))
    await no_event(carol, is_event("item", MOOD))
    # Caps changing to ask for the node start notifications (and bring the last item).
    dave["xep_0163"].add_interest(MOOD)
    await dave["xep_0115"].update_caps(broadcast=False)  # the new 'ver', for the next presence
    dave.send_presence()
    m = await next_event(dave, is_event("item", MOOD, "current"))
    check(m.xml.find("{urn:xmpp:delay}delay") is not None, "the last item, stamped with XEP-0203 delay")
    check(event_items(m, MOOD)[0][3].find("{%s}text" % MOOD).text == "calm", "the last item when interest appears")
    # From then on, dave is notified like bob; bob2 (the second fan-out being over) got nothing.
    await send(a, None, ps("<publish node='urn:test:mood'><item id='current'>" + mood("dancing") + "</item></publish>"))
    m = await next_event(dave, is_event("item", MOOD, "current"))
    check(m.xml.find("{urn:xmpp:delay}delay") is None and
          event_items(m, MOOD)[0][3].find("{%s}text" % MOOD).text == "dancing", "live notifications once interested")
    await next_event(bob, is_event("item", MOOD, "current"))
    await no_event(bob2, is_event("item", MOOD))
    await no_event(carol, is_event("item", MOOD))


async def test_last_item_when_contact_comes_online(env):
    a = await connect(env, "erin")
    f = await connect(env, "frank", [MOOD])
    await make_contacts(a, f)
    await send(a, None, ps("<publish node='urn:test:mood'><item id='current'>" + mood("waiting") + "</item></publish>"))
    await env.disconnect(f)
    f2 = await connect(env, "frank", [MOOD], resource="again", create=False)
    m = await next_event(f2, is_event("item", MOOD, "current"))
    check(m.xml.find("{urn:xmpp:delay}delay") is not None, "stamped with XEP-0203 delay")
    check(event_items(m, MOOD)[0][3].find("{%s}text" % MOOD).text == "waiting", "the last published item")


async def test_publish_options(env):
    a = await connect(env, "opts")
    stranger = await connect(env, "nosy")
    # A new node takes the preconditions as configuration (§7.1.5, XEP-0223).
    await send(a, None, ps("<publish node='urn:test:open'><item id='1'>" + mood("x") + "</item></publish>" +
                           publish_options(access_model="open", persist_items="true", max_items="10")))
    r = await get(stranger, a.boundjid.bare, ps("<items node='urn:test:open'/>"))
    check(item_ids(r) == ["1"], "auto-created open node")
    cfg = await get(a, None, ps("<configure node='urn:test:open'/>", OWNER))
    fields = {f.get("var"): [v.text for v in f.findall(q(DATA, "value"))]
              for f in cfg.find(q(OWNER, "configure")).find(q(DATA, "x")).findall(q(DATA, "field"))}
    check(fields["pubsub#access_model"] == ["open"] and fields["pubsub#max_items"] == ["10"], f"configured {fields}")
    # Met preconditions: success; unmet ones: conflict/precondition-not-met, and nothing is published.
    await send(a, None, ps("<publish node='urn:test:open'><item id='2'>" + mood("y") + "</item></publish>" +
                           publish_options(access_model="open", persist_items="1")))
    for opts in (publish_options(access_model="presence"), publish_options(max_items="1"),
                 publish_options(persist_items="false"), publish_options(colour="blue")):
        await fails(a, None, ps("<publish node='urn:test:open'><item id='3'>" + mood("z") + "</item></publish>" + opts),
                    "conflict", "precondition-not-met")
    r = await get(a, None, ps("<items node='urn:test:open'/>"))
    check(item_ids(r) == ["2", "1"], "nothing published on a failed precondition")
    # Every node-config field Movim sends is understood, as precondition and at creation.
    movim = dict(persist_items="true", max_items="max", itemreply="publisher", notify_retract="true",
                 send_last_published_item="never", access_model="presence", item_expire="86400",
                 deliver_payloads="false", type="urn:xmpp:pubsub-social-feed:1")
    await send(a, None, ps("<publish node='urn:test:stories'><item id='s'>" + mood("story") + "</item></publish>" +
                           publish_options(**movim)))
    await send(a, None, ps("<publish node='urn:test:stories'><item id='t'>" + mood("story 2") + "</item></publish>" +
                           publish_options(**movim)))
    info = await stranger["xep_0030"].get_info(jid=a.boundjid.bare, node="urn:test:open")
    check("pubsub#type" in str(info), "meta-data on a PEP node")


async def test_omemo_device_list_and_bundles(env):
    a = await connect(env, "omemo_a")
    b = await connect(env, "omemo_b", [DEVICES, OMEMO2 + ":devices"])
    stranger = await connect(env, "omemo_c")
    await make_contacts(a, b)
    drain(b)
    # Conversations (legacy OMEMO): device list "current" and one bundle node per device, both open.
    devlist = f"<list xmlns='{AXOLOTL}'><device id='12345'/><device id='4223'/></list>"
    await send(a, None, ps(f"<publish node='{DEVICES}'><item id='current'>{devlist}</item></publish>" +
                           publish_options(access_model="open")))
    bundle = (f"<bundle xmlns='{AXOLOTL}'><signedPreKeyPublic signedPreKeyId='1'>{'A' * 44}</signedPreKeyPublic>"
              f"<signedPreKeySignature>{'B' * 88}</signedPreKeySignature><identityKey>{'C' * 44}</identityKey><prekeys>" +
              "".join(f"<preKeyPublic preKeyId='{i}'>{'D' * 44}</preKeyPublic>" for i in range(100)) + "</prekeys></bundle>")
    await send(a, None, ps(f"<publish node='{AXOLOTL}.bundles:12345'><item id='current'>{bundle}</item></publish>" +
                           publish_options(access_model="open")))
    m = await next_event(b, is_event("item", DEVICES, "current"))
    devices = [d.get("id") for d in event_items(m, DEVICES)[0][3]]
    check(devices == ["12345", "4223"], "a contact is told of the device list")
    # Anyone may fetch them (that is how a stranger starts an encrypted chat).
    r = await get(stranger, a.boundjid.bare, ps(f"<items node='{DEVICES}'/>"))
    check(item_ids(r) == ["current"], "device list fetched by a stranger")
    r = await get(stranger, a.boundjid.bare, ps(f"<items node='{AXOLOTL}.bundles:12345' max_items='1'/>"))
    got = r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{%s}bundle" % AXOLOTL)
    check(len(got.find("{%s}prekeys" % AXOLOTL)) == 100, "the whole bundle")
    # OMEMO 2 (XEP-0384 v0.8): devices in one item, bundles as several items of one node.
    await send(a, None, ps(f"<publish node='{OMEMO2}:devices'><item id='current'><devices xmlns='{OMEMO2}'>"
                           f"<device id='12345'/></devices></item></publish>" +
                           publish_options(access_model="open", max_items="max")))
    for dev in ("12345", "999"):
        await send(a, None, ps(f"<publish node='{OMEMO2}:bundles'><item id='{dev}'><bundle xmlns='{OMEMO2}'>"
                               f"<spk id='1'>AA</spk></bundle></item></publish>" +
                               publish_options(access_model="open", max_items="max")))
    r = await get(stranger, a.boundjid.bare, ps(f"<items node='{OMEMO2}:bundles'/>"))
    check(sorted(item_ids(r)) == ["12345", "999"], "several items per node: one bundle per device")
    r = await get(stranger, a.boundjid.bare, ps(f"<items node='{OMEMO2}:bundles'><item id='999'/></items>"))
    check(item_ids(r) == ["999"], "one device's bundle by id")
    await next_event(b, is_event("item", OMEMO2 + ":devices", "current"))


async def test_avatars_xep_0084(env):
    plugins = PLUGINS + ["xep_0084"]
    a = await connect(env, "avatar_a", plugins=plugins)
    b = await connect(env, "avatar_b", plugins=plugins)  # xep_0084 asks metadata+notify itself
    await make_contacts(a, b)
    drain(b)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # about 10 KB
    avatar_id = hashlib.sha1(png).hexdigest()
    await a["xep_0084"].publish_avatar(png)
    await a["xep_0084"].publish_avatar_metadata([{"id": avatar_id, "type": "image/png", "bytes": len(png)}])
    m = await next_event(b, is_event("item", "urn:xmpp:avatar:metadata", avatar_id))
    check(m["pubsub_event"]["items"]["item"]["avatar_metadata"]["info"]["id"] == avatar_id, "metadata event")
    r = await b["xep_0084"].retrieve_avatar(a.boundjid.bare, avatar_id)
    check(r["pubsub"]["items"]["item"]["avatar_data"]["value"] == png, "the avatar data, intact")


async def test_bookmarks_xep_0402(env):
    a = await connect(env, "bookmarks", ["urn:xmpp:bookmarks:1"])
    other = await connect(env, "snoop")
    opts = publish_options(persist_items="true", max_items="max", send_last_published_item="never",
                           access_model="whitelist")
    for room in ("coven", "orchard", "balcony"):
        await send(a, None, ps(f"<publish node='urn:xmpp:bookmarks:1'><item id='{room}@conference.{env.host}'>"
                               f"<conference xmlns='urn:xmpp:bookmarks:1' name='{room}' autojoin='true'>"
                               f"<nick>me</nick></conference></item></publish>" + opts))
    r = await get(a, None, ps("<items node='urn:xmpp:bookmarks:1'/>"))
    check(len(item_ids(r)) == 3, "every bookmark kept (several items per node)")
    await fails(other, a.boundjid.bare, ps("<items node='urn:xmpp:bookmarks:1'/>"), "not-allowed", "closed-node", itype="get")
    drain(a)
    await send(a, None, ps(f"<retract node='urn:xmpp:bookmarks:1' notify='true'><item id='orchard@conference.{env.host}'/></retract>"))
    await next_event(a, is_event("retract", "urn:xmpp:bookmarks:1", f"orchard@conference.{env.host}"))
    r = await get(a, None, ps("<items node='urn:xmpp:bookmarks:1'/>"))
    check(len(item_ids(r)) == 2, "retracted")


async def test_only_the_owner_publishes(env):
    a = await connect(env, "own_a")
    b = await connect(env, "own_b")
    await make_contacts(a, b)
    await send(a, None, ps("<publish node='urn:test:mood'><item id='current'>" + mood("mine") + "</item></publish>"))
    await fails(b, a.boundjid.bare, ps("<publish node='urn:test:mood'><item id='current'>" + mood("hijack") + "</item></publish>"),
                "forbidden")
    await fails(b, a.boundjid.bare, ps("<publish node='urn:test:new'><item>" + mood("x") + "</item></publish>"), "forbidden")
    await fails(b, a.boundjid.bare, ps("<create node='urn:test:mine'/>"), "forbidden")
    await fails(b, a.boundjid.bare, ps("<delete node='urn:test:mood'/>", OWNER), "forbidden")
    await fails(b, f"nobody@{env.host}", ps("<publish node='x'><item>" + mood("x") + "</item></publish>"), "service-unavailable")
    r = await get(b, a.boundjid.bare, ps("<items node='urn:test:mood'/>"))
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{%s}mood" % MOOD).find("{%s}text" % MOOD).text == "mine",
          "unchanged")


async def test_payload_sizes(env):
    a = await connect(env, "big")
    b = await connect(env, "bigger")
    await make_contacts(a, b)
    # Tens of KB are fine, both ways.
    blob = base64.b64encode(bytes(range(256)) * 160).decode()  # ~55 KB
    await send(a, None, ps(f"<publish node='urn:test:blob'><item id='b'><blob xmlns='urn:test'>{blob}</blob></item></publish>"))
    r = await get(b, a.boundjid.bare, ps("<items node='urn:test:blob'/>"))
    check(r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{urn:test}blob").text == blob, "55 KB round trip")
    # 10 MiB: refused by the pubsub service with a clear stanza error; the session goes on.
    huge = "A" * (10 * 1024 * 1024)
    text = await fails(a, None, ps(f"<publish node='urn:test:blob'><item id='huge'><blob xmlns='urn:test'>{huge}</blob></item></publish>"),
                       "not-acceptable", "payload-too-big")
    check("10485" in text and "at most" in text, f"the error says how big and the limit: {text!r}")
    r = await get(a, None, ps("<items node='urn:test:blob'/>"))
    check(item_ids(r) == ["b"], "nothing stored, and the session still works")


async def test_explicit_subscription_survives_restart(env):
    """Movim's switch: a subscription made with <subscribe/> (as a remote server's user would) to a
    contact's microblog node, with no +notify caps, keeps delivering after a restart."""
    a = await connect(env, "movim_a")
    b = await connect(env, "movim_b")
    await make_contacts(a, b)
    entry = "<entry xmlns='http://www.w3.org/2005/Atom'><title>first</title></entry>"
    await send(a, None, ps(f"<publish node='urn:xmpp:microblog:0'><item id='p1'>{entry}</item></publish>"))
    r = await send(b, a.boundjid.bare, ps(f"<subscribe node='urn:xmpp:microblog:0' jid='{b.boundjid.bare}'/>"))
    check(r.find(q(PUBSUB, "subscription")).get("subscription") == "subscribed", "subscribed explicitly")
    await env.restart()
    a = await connect(env, "movim_a", resource="after", create=False)
    b = await connect(env, "movim_b", resource="after", create=False)
    r = await get(b, a.boundjid.bare, ps("<subscriptions/>"))
    subs = [(x.get("node"), x.get("jid"), x.get("subscription")) for x in r.find(q(PUBSUB, "subscriptions"))]
    check(subs == [("urn:xmpp:microblog:0", b.boundjid.bare, "subscribed")], f"still subscribed: {subs}")
    drain(b)
    await send(a, None, ps(f"<publish node='urn:xmpp:microblog:0'><item id='p2'>{entry}</item></publish>"))
    m = await next_event(b, is_event("item", "urn:xmpp:microblog:0", "p2"))
    check(m["to"] == b.boundjid.bare, "delivered to the subscribed bare JID (XEP-0163 §4.3.1)")


harness.main(globals(), extra_toml="[limits]\nmax_stanza_size = 16777216\n\n[http]\nmax_body_size = 16777216")
