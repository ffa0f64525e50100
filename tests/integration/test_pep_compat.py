"""Issue 12 item 7: PEP data that older clients read in older forms, driven by python3-slixmpp (xep_0048 and
xep_0049 for legacy bookmarks, xep_0054 for vcard-temp, xep_0084 for avatars; raw XEP-0060 requests for
XEP-0402 bookmarks, XEP-0292 vCard4 and XEP-0490 displayed markers, which Debian's slixmpp has no plugin for):

- XEP-0402 §"Compatibility" (urn:xmpp:bookmarks:1#compat): bookmarks stored in private XML (XEP-0048 over
  XEP-0049) appear as items of the private PEP node, with notifications for what changed only, and the
  other way round;
- XEP-0398 (urn:xmpp:pep-vcard-conversion:0): an XEP-0084 avatar becomes the vCard PHOTO and its XEP-0153
  hash is put into the user's presence (broadcast and directed); a vCard PHOTO becomes the XEP-0084 nodes;
- XEP-0292 vCard4 on PEP: the PEP defaults (contacts only), open on request, one item kept, its full name
  and nickname kept equal to vcard-temp's;
- XEP-0490 displayed synchronisation: a whitelist node with max_items 'max', one item per chat, the events
  reaching the account's other resource and nobody else."""
import base64
import hashlib
import sqlite3

import harness
from harness import check
from pubsub_util import (connect, ps, PUBSUB, OWNER, DATA, q, publish_options, send, get, fails, next_event, no_event,
                         drain, event_items, is_event, item_ids, make_contacts, PEP_PLUGINS)
from slixmpp.xmlstream import ET

BOOKMARKS = "urn:xmpp:bookmarks:1"
LEGACY = "storage:bookmarks"
METADATA = "urn:xmpp:avatar:metadata"
AVATAR_DATA = "urn:xmpp:avatar:data"
VCARD = "vcard-temp"
UPDATE = "vcard-temp:x:update"
VCARD4 = "urn:xmpp:vcard4"
VCARD4_NS = "urn:ietf:params:xml:ns:vcard-4.0"
MDS = "urn:xmpp:mds:displayed:0"
SID = "urn:xmpp:sid:0"

LEGACY_PLUGINS = PEP_PLUGINS + ["xep_0045", "xep_0049", "xep_0048", "xep_0223"]
AVATAR_PLUGINS = PEP_PLUGINS + ["xep_0054", "xep_0084"]
PRIVATE_OPTIONS = publish_options(persist_items="true", max_items="max", send_last_published_item="never",
                                  access_model="whitelist")


def config_fields(r):
    return {f.get("var"): [v.text for v in f.findall(q(DATA, "value"))]
            for f in r.find(q(OWNER, "configure")).find(q(DATA, "x")).findall(q(DATA, "field"))}


async def legacy_bookmarks(client):
    r = await client["xep_0048"].get_bookmarks(method="xep_0049")
    storage = r.xml.find("{jabber:iq:private}query").find("{%s}storage" % LEGACY)
    return {c.get("jid"): c for c in storage.findall("{%s}conference" % LEGACY)}, storage


def png(seed):
    return b"\x89PNG\r\n\x1a\n" + bytes((i * seed) % 256 for i in range(4000))


def photo_of(presence):
    x = presence.xml.find("{%s}x" % UPDATE)
    if x is None or x.find("{%s}photo" % UPDATE) is None:
        return None
    return x.find("{%s}photo" % UPDATE).text or ""


async def test_account_advertises_the_conversions(env):
    a = await connect(env, "compat_disco")
    info = await a["xep_0030"].get_info(jid=a.boundjid.bare)
    feats = set(info["disco_info"]["features"])
    check(BOOKMARKS + "#compat" in feats, "urn:xmpp:bookmarks:1#compat on the account (XEP-0402)")
    check("urn:xmpp:pep-vcard-conversion:0" in feats, "urn:xmpp:pep-vcard-conversion:0 on the account (XEP-0398 §2)")


async def test_legacy_bookmarks_become_pep_items(env):
    old = await connect(env, "bm_user", plugins=LEGACY_PLUGINS, resource="old")
    new = await connect(env, "bm_user", [BOOKMARKS], resource="new", create=False)
    contact = await connect(env, "bm_contact", [BOOKMARKS])
    await make_contacts(old, contact)
    drain(new)
    rooms = {f"coven@conference.{env.host}": ("Coven", True, "witch"),
             f"orchard@conference.{env.host}": ("Orchard", False, "romeo"),
             f"balcony@conference.{env.host}": ("Balcony", True, "juliet")}
    storage = old["xep_0048"].stanza.Bookmarks()
    for jid, (name, autojoin, nick) in rooms.items():
        storage.add_conference(jid, nick, name=name, autojoin=autojoin)
    storage.add_url("https://example.org/", name="a web page")
    await old["xep_0048"].set_bookmarks(storage, method="xep_0049")
    # Each room is announced to the account's resource that asked for +notify.
    seen = set()
    while len(seen) < 3:
        m = await next_event(new, is_event("item", BOOKMARKS))
        for (_, item_id, _, payload) in event_items(m, BOOKMARKS):
            seen.add(item_id)
            name, autojoin, nick = rooms[item_id]
            check(payload.tag == "{%s}conference" % BOOKMARKS and payload.get("name") == name and
                  (payload.get("autojoin") == "true") == autojoin and
                  payload.find("{%s}nick" % BOOKMARKS).text == nick, f"the room as a XEP-0402 item: {item_id}")
    r = await get(new, None, ps(f"<items node='{BOOKMARKS}'/>"))
    check(sorted(item_ids(r)) == sorted(rooms), "the PEP node holds every room")
    # The converted node is private and keeps every room (XEP-0411 §7, XEP-0402).
    cfg = config_fields(await get(new, None, ps(f"<configure node='{BOOKMARKS}'/>", OWNER)))
    check(cfg["pubsub#access_model"] == ["whitelist"] and cfg["pubsub#max_items"] == ["max"],
          f"whitelist and max_items max: {cfg}")
    await fails(contact, old.boundjid.bare, ps(f"<items node='{BOOKMARKS}'/>"), "not-allowed", "closed-node", itype="get")
    # A replacement list: one room changed, one removed, one unchanged (no event for that one).
    storage = old["xep_0048"].stanza.Bookmarks()
    storage.add_conference(f"coven@conference.{env.host}", "witch", name="Coven", autojoin=True)
    storage.add_conference(f"orchard@conference.{env.host}", "romeo", name="The orchard", autojoin=True)
    storage.add_url("https://example.org/", name="a web page")
    await old["xep_0048"].set_bookmarks(storage, method="xep_0049")
    unchanged = is_event("item", BOOKMARKS, f"coven@conference.{env.host}")
    m = await next_event(new, is_event("item", BOOKMARKS, f"orchard@conference.{env.host}"), refuse=unchanged)
    check(event_items(m, BOOKMARKS)[0][3].get("name") == "The orchard", "the changed room announced")
    await next_event(new, is_event("retract", BOOKMARKS, f"balcony@conference.{env.host}"), refuse=unchanged)
    await no_event(new, unchanged)
    await no_event(contact, is_event("item", BOOKMARKS))  # a contact asking +notify learns nothing
    # The legacy client reads back its list, the web page included.
    got, storage = await legacy_bookmarks(old)
    check(sorted(got) == [f"coven@conference.{env.host}", f"orchard@conference.{env.host}"], f"legacy list: {sorted(got)}")
    urls = storage.findall("{%s}url" % LEGACY)
    check(len(urls) == 1 and urls[0].get("url") == "https://example.org/", "the <url/> bookmark kept")


async def test_pep_bookmarks_seen_by_legacy_clients(env):
    new = await connect(env, "bm_modern", [BOOKMARKS], resource="new")
    old = await connect(env, "bm_modern", plugins=LEGACY_PLUGINS, resource="old", create=False)
    room = f"theplay@conference.{env.host}"
    await send(new, None, ps(f"<publish node='{BOOKMARKS}'><item id='{room}'>"
                             f"<conference xmlns='{BOOKMARKS}' name='The Play&apos;s the Thing' autojoin='true'>"
                             f"<nick>JC</nick><password>secret</password><extensions><x xmlns='urn:test'/></extensions>"
                             f"</conference></item></publish>" + PRIVATE_OPTIONS))
    got, _ = await legacy_bookmarks(old)
    check(list(got) == [room], f"the XEP-0402 bookmark in private storage: {list(got)}")
    c = got[room]
    check(c.get("name") == "The Play's the Thing" and c.get("autojoin") in ("true", "1") and
          c.find("{%s}nick" % LEGACY).text == "JC" and c.find("{%s}password" % LEGACY).text == "secret",
          "name, autojoin, nick and password carried over")
    # A legacy client rewriting the same list leaves the item (and its extensions) alone.
    drain(new)
    storage = old["xep_0048"].stanza.Bookmarks()
    storage.append(ET.fromstring(ET.tostring(c)))
    await old["xep_0048"].set_bookmarks(storage, method="xep_0049")
    r = await get(new, None, ps(f"<items node='{BOOKMARKS}'/>"))
    payload = r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{%s}conference" % BOOKMARKS)
    check(payload.find("{%s}extensions" % BOOKMARKS) is not None, "an unchanged room keeps its XEP-0402 extensions")
    await send(new, None, ps(f"<retract node='{BOOKMARKS}' notify='true'><item id='{room}'/></retract>"))
    await next_event(new, is_event("retract", BOOKMARKS, room), refuse=is_event("item", BOOKMARKS))
    got, _ = await legacy_bookmarks(old)
    check(not got, "retracted: gone from the legacy list")


async def test_bookmarks_stored_before_the_conversion_are_moved(env):
    """XEP-0411 §6: rooms a legacy client stored through an older server become PEP items at the next login."""
    jid, _ = env.user("bm_veteran")
    await env.close_all()
    env.server.stop()
    db = sqlite3.connect(f"{env.server.data_dir}/causerie.db")
    with db:
        db.execute("INSERT OR REPLACE INTO kv (owner, store, key, value) VALUES (?, 'private', ?, ?)",
                   (jid, LEGACY, f"<storage xmlns='{LEGACY}'><conference jid='old@conference.{env.host}' name='Old' "
                                 f"autojoin='true'><nick>vet</nick></conference><url url='https://example.org/' name='w'/>"
                                 f"</storage>"))
    db.close()
    env.server.start()
    a = await connect(env, "bm_veteran", create=False, plugins=LEGACY_PLUGINS)
    # The bind queued a read that queues the move. The read lane runs its jobs in order, so once a later
    # read is answered the move is queued; the write lane too, so once a later write is answered it is done.
    await get(a, None, "<query xmlns='jabber:iq:private'><x xmlns='urn:test:other'/></query>")
    await harness.storage_barrier(a)
    r = await get(a, None, ps(f"<items node='{BOOKMARKS}'/>"))
    check(item_ids(r) == [f"old@conference.{env.host}"], f"the old room is a PEP item: {item_ids(r)}")
    got, storage = await legacy_bookmarks(a)
    check(list(got) == [f"old@conference.{env.host}"] and len(storage.findall("{%s}url" % LEGACY)) == 1,
          "the legacy list unchanged for legacy clients")


async def test_avatar_becomes_vcard_photo_and_presence_hash(env):
    a = await connect(env, "av_pub", plugins=AVATAR_PLUGINS)
    b = await connect(env, "av_contact", plugins=AVATAR_PLUGINS)
    await make_contacts(a, b)
    image = png(7)
    avatar_id = hashlib.sha1(image).hexdigest()
    await a["xep_0084"].publish_avatar(image)
    await a["xep_0084"].publish_avatar_metadata([{"id": avatar_id, "type": "image/png", "bytes": len(image)}])
    # XEP-0398 §3.1: the vCard others read now has the photo.
    r = await b["xep_0054"].get_vcard(a.boundjid.bare)
    photo = r.xml.find("{%s}vCard" % VCARD).find("{%s}PHOTO" % VCARD)
    check(photo is not None, "a PHOTO in the vCard")
    check(base64.b64decode(photo.find("{%s}BINVAL" % VCARD).text) == image and
          photo.find("{%s}TYPE" % VCARD).text == "image/png", "the avatar's bytes and type")
    # §4: the hash goes into the presence the client sends without one...
    b.drain()
    a.send_presence(pstatus="with avatar")
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "with avatar")
    check(photo_of(p) == avatar_id, f"the XEP-0153 hash in the broadcast presence: {photo_of(p)}")
    # ...and into directed presence (a MUC join would be one), but an empty <photo/> is left alone.
    a.send_presence(pto=b.boundjid.full, pstatus="directed")
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "directed")
    check(photo_of(p) == avatar_id, "the hash in directed presence")
    pres = a.make_presence(pstatus="no avatar here")
    pres.append(ET.fromstring(f"<x xmlns='{UPDATE}'><photo/></x>"))
    pres.send()
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "no avatar here")
    check(photo_of(p) == "", "a client's empty <photo/> kept (XEP-0398 §4)")
    # Disabling the avatar (XEP-0084 §4.7: empty metadata) removes the photo.
    await send(a, None, ps(f"<publish node='{METADATA}'><item id='none'><metadata xmlns='{METADATA}'/></item></publish>"))
    r = await b["xep_0054"].get_vcard(a.boundjid.bare)
    check(r.xml.find("{%s}vCard" % VCARD).find("{%s}PHOTO" % VCARD) is None, "no PHOTO once the avatar is disabled")
    a.send_presence(pstatus="avatar gone")
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "avatar gone")
    check(photo_of(p) == "", "an empty photo element: no avatar")
    # A new session knows the hash from the stored vCard.
    image2 = png(11)
    id2 = hashlib.sha1(image2).hexdigest()
    await a["xep_0084"].publish_avatar(image2)
    await a["xep_0084"].publish_avatar_metadata([{"id": id2, "type": "image/png", "bytes": len(image2)}])
    await env.disconnect(a)
    b.drain()
    a2 = await env.connect(a.boundjid.bare + "/again", "pw-xxxxxxxx", AVATAR_PLUGINS)
    # The server reads the hash when the resource is bound, on the storage read lane, which runs its jobs
    # in order: once a later read (this vCard request) is answered, the hash is known.
    await a2["xep_0054"].get_vcard(a2.boundjid.bare)
    a2.send_presence(pstatus="back")
    p = await b.next_presence(lambda p: p["from"] == a2.boundjid and p["status"] == "back")
    check(photo_of(p) == id2, f"the hash after logging in again: {photo_of(p)}")


async def test_vcard_photo_becomes_avatar(env):
    a = await connect(env, "vc_pub", plugins=AVATAR_PLUGINS)
    b = await connect(env, "vc_contact", plugins=AVATAR_PLUGINS)  # xep_0084 asks metadata+notify
    await make_contacts(a, b)
    drain(b)
    image = png(13)
    avatar_id = hashlib.sha1(image).hexdigest()
    vcard = a["xep_0054"].make_vcard()
    vcard["FN"] = "Vic Card"
    vcard["PHOTO"]["TYPE"] = "image/png"
    vcard["PHOTO"]["BINVAL"] = image
    await a["xep_0054"].publish_vcard(vcard)
    # XEP-0398 §3.2: data under the image's SHA-1, then metadata pointing to it, announced to contacts.
    m = await next_event(b, is_event("item", METADATA, avatar_id))
    info = event_items(m, METADATA)[0][3].find("{%s}info" % METADATA)
    check(info.get("id") == avatar_id and info.get("type") == "image/png" and info.get("bytes") == str(len(image)),
          "metadata with id, type and bytes")
    r = await b["xep_0084"].retrieve_avatar(a.boundjid.bare, avatar_id)
    check(r["pubsub"]["items"]["item"]["avatar_data"]["value"] == image, "the data node holds the image")
    r = await b["xep_0054"].get_vcard(a.boundjid.bare)
    check(r.xml.find("{%s}vCard" % VCARD).find("{%s}FN" % VCARD).text == "Vic Card", "the vCard itself stored")
    b.drain()
    a.send_presence(pstatus="vcard set")
    p = await b.next_presence(lambda p: p["from"] == a.boundjid and p["status"] == "vcard set")
    check(photo_of(p) == avatar_id, "the hash in presence after a vCard set")


async def test_vcard4_on_pep(env):
    a = await connect(env, "v4_owner")
    b = await connect(env, "v4_contact", [VCARD4])
    stranger = await connect(env, "v4_stranger")
    await make_contacts(a, b)
    drain(b)

    def card(fn):
        return (f"<vcard xmlns='{VCARD4_NS}'><fn><text>{fn}</text></fn><nickname><text>{fn.lower()}</text></nickname>"
                f"<impp><uri>xmpp:{a.boundjid.bare}</uri></impp></vcard>")
    await send(a, None, ps(f"<publish node='{VCARD4}'><item id='current'>{card('Ann')}</item></publish>"))
    m = await next_event(b, is_event("item", VCARD4, "current"))
    check(event_items(m, VCARD4)[0][3].find("{%s}fn/{%s}text" % (VCARD4_NS, VCARD4_NS)).text == "Ann",
          "a contact asking urn:xmpp:vcard4+notify gets the vCard")
    cfg = config_fields(await get(a, None, ps(f"<configure node='{VCARD4}'/>", OWNER)))
    check(cfg["pubsub#access_model"] == ["presence"] and cfg["pubsub#max_items"] == ["1"], f"defaults: {cfg}")
    await fails(stranger, a.boundjid.bare, ps(f"<items node='{VCARD4}'/>"), "not-authorized", "presence-subscription-required",
                itype="get")
    # Movim publishes it public with publish-options; a new vCard replaces the old one.
    await fails(a, None, ps(f"<publish node='{VCARD4}'><item id='current'>{card('Anna')}</item></publish>" +
                            publish_options(access_model="open")), "conflict", "precondition-not-met")
    await send(a, None, ps(f"<configure node='{VCARD4}'>" +
                           f"<x xmlns='{DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
                           f"<value>{PUBSUB}#node_config</value></field><field var='pubsub#access_model'>"
                           f"<value>open</value></field></x></configure>", OWNER))
    await send(a, None, ps(f"<publish node='{VCARD4}'><item id='v2'>{card('Anna')}</item></publish>" +
                           publish_options(access_model="open")))
    r = await get(stranger, a.boundjid.bare, ps(f"<items node='{VCARD4}'/>"))
    check(item_ids(r) == ["v2"], f"one vCard kept, readable by anyone once open: {item_ids(r)}")
    # FN and NICKNAME follow between vCard4 and vcard-temp, both ways; the rest stays where it was written.
    r = await get(stranger, a.boundjid.bare, f"<vCard xmlns='{VCARD}'/>")
    check(r.find("{%s}FN" % VCARD).text == "Anna" and r.find("{%s}NICKNAME" % VCARD).text == "anna",
          "vCard4 names in vcard-temp")
    drain(b)
    await send(a, None, f"<vCard xmlns='{VCARD}'><FN>Anne Other</FN><NICKNAME>nan</NICKNAME><NOTE>here</NOTE></vCard>")
    def renamed(m):
        # The notification of the earlier publish of v2 may still be on its way: wait for the new names.
        if not is_event("item", VCARD4, "v2")(m):
            return False
        fn = event_items(m, VCARD4)[0][3].find("{%s}fn/{%s}text" % (VCARD4_NS, VCARD4_NS))
        return fn is not None and fn.text == "Anne Other"
    m = await next_event(b, renamed)
    got = event_items(m, VCARD4)[0][3]
    check(got.find("{%s}fn/{%s}text" % (VCARD4_NS, VCARD4_NS)).text == "Anne Other" and
          got.find("{%s}nickname/{%s}text" % (VCARD4_NS, VCARD4_NS)).text == "nan" and
          got.find("{%s}impp" % VCARD4_NS) is not None and got.find("{%s}note" % VCARD4_NS) is None,
          "vcard-temp names in the vCard4 item, its other properties kept")
    c = await connect(env, "v4_movim")
    await send(c, None, ps(f"<publish node='{VCARD4}'><item id='current'>{card('Cy')}</item></publish>" +
                           publish_options(access_model="open", persist_items="true")))
    r = await get(stranger, c.boundjid.bare, ps(f"<items node='{VCARD4}'/>"))
    check(item_ids(r) == ["current"], "created open by publish-options (XEP-0223)")


async def test_mds_displayed_synchronisation(env):
    phone = await connect(env, "mds_user", [MDS], resource="phone")
    laptop = await connect(env, "mds_user", resource="laptop", create=False)
    contact = await connect(env, "mds_contact", [MDS])
    await make_contacts(laptop, contact)
    drain(phone)
    chats = [f"friend{i}@{env.host}" for i in range(300)] + [f"room@conference.{env.host}"]
    for i, chat in enumerate(chats):
        await send(laptop, None, ps(f"<publish node='{MDS}'><item id='{chat}'><displayed xmlns='{MDS}'>"
                                    f"<stanza-id xmlns='{SID}' by='{laptop.boundjid.bare}' id='sid-{i}'/>"
                                    f"</displayed></item></publish>" + PRIVATE_OPTIONS))
    # The other resource, which asked +notify, hears of every chat; the contact (also +notify) of none.
    m = await next_event(phone, is_event("item", MDS, chats[-1]))
    check(m["from"] == laptop.boundjid.bare and m["to"] == phone.boundjid.full, "from the bare JID to the other resource")
    payload = event_items(m, MDS)[0][3]
    check(payload.find("{%s}stanza-id" % SID).get("id") == f"sid-{len(chats) - 1}", "with the payload")
    await no_event(contact, is_event("item", MDS))
    await fails(contact, laptop.boundjid.bare, ps(f"<items node='{MDS}'/>"), "not-allowed", "closed-node", itype="get")
    # Catching up (XEP-0490 §"Catching up"): one item per chat, more than the default max_items (256).
    r = await get(phone, None, ps(f"<items node='{MDS}'/>"))
    check(len(item_ids(r)) == len(chats), f"every chat kept with max_items=max: {len(item_ids(r))}")
    cfg = config_fields(await get(phone, None, ps(f"<configure node='{MDS}'/>", OWNER)))
    check(cfg["pubsub#access_model"] == ["whitelist"] and cfg["pubsub#max_items"] == ["max"] and
          cfg["pubsub#persist_items"][0] in ("1", "true"), f"configuration: {cfg}")
    # Marking a chat again replaces its item.
    await send(phone, None, ps(f"<publish node='{MDS}'><item id='{chats[0]}'><displayed xmlns='{MDS}'>"
                               f"<stanza-id xmlns='{SID}' by='{phone.boundjid.bare}' id='sid-later'/></displayed>"
                               f"</item></publish>" + PRIVATE_OPTIONS))
    r = await get(laptop, None, ps(f"<items node='{MDS}'><item id='{chats[0]}'/></items>"))
    got = r.find(q(PUBSUB, "items")).find(q(PUBSUB, "item")).find("{%s}displayed/{%s}stanza-id" % (MDS, SID))
    check(got.get("id") == "sid-later", "the newest marker of the chat")
    r = await get(laptop, None, ps(f"<items node='{MDS}'/>"))
    check(len(item_ids(r)) == len(chats), "still one item per chat")


harness.main(globals())
