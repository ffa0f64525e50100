"""Issue 6, XEP-0045 occupant use cases with python3-slixmpp (xep_0045, xep_0030, xep_0249…) against
the real server: discovery, instant and reserved rooms, join order, messages, subject, private
messages, nicknames (Unicode, service-modified, empty, blank, too long, conflict), multi-session,
XEP-0410 self-ping, XEP-0421 occupant ids, invitations (mediated, decline, XEP-0249 direct), leaving by
disconnecting."""
import asyncio

import harness
from slixmpp.xmlstream import ET
from harness import check
from muc_util import (form_values, USER, MUC, DELAY, codes, item, occupant_id, error_condition, join, join_error, create,
                      configure, leave, iq_error, presence_from, none_received, service, room_jid, users, connect)


async def test_discovery(env):
    alice, bob = await users(env, "d_alice", "d_bob")
    svc = service(env)
    # §6.1: the server lists its chat service.
    items = await alice["xep_0030"].get_items(jid=env.host)
    check(svc in [i[0] for i in items["disco_items"]["items"]], f"{svc} is listed by {env.host}")
    # §6.2: the service says what it is.
    info = await alice["xep_0030"].get_info(jid=svc)
    check(("conference", "text", None, "Chatrooms") in info["disco_info"]["identities"], "conference/text identity")
    for f in (MUC, "urn:xmpp:occupant-id:0", "http://jabber.org/protocol/muc#stable_id"):
        check(f in info["disco_info"]["features"], f"service feature {f}")

    lounge, hidden = room_jid(env, "lounge"), room_jid(env, "backroom")
    await create(alice, lounge, "Alice", {"muc#roomconfig_roomname": "The Lounge"})
    await join(bob, lounge, "Bob")
    await create(alice, hidden, "Alice", {"muc#roomconfig_publicroom": False})
    await create(bob, room_jid(env, "annex"), "Bob")
    # §6.3: public rooms with their occupant counts; hidden rooms are not listed.
    items = await bob["xep_0030"].get_items(jid=svc)
    listed = {i[0]: i[2] for i in items["disco_items"]["items"]}
    check(listed.get(lounge) == "The Lounge (2)", f"lounge listed with its count, got {listed}")
    check(hidden not in listed and len(listed) == 2, f"the hidden room is not listed: {listed}")
    # §6.4: room features and the XEP-0128 muc#roominfo form.
    info = await bob["xep_0030"].get_info(jid=lounge)
    feats = set(info["disco_info"]["features"])
    for f in ("muc_public", "muc_temporary", "muc_open", "muc_unmoderated", "muc_semianonymous", "muc_unsecured",
              MUC, "urn:xmpp:occupant-id:0", "http://jabber.org/protocol/muc#stable_id",
              "http://jabber.org/protocol/muc#self-ping-optimization"):
        check(f in feats, f"room feature {f}")
    check(("conference", "text", None, "The Lounge") in info["disco_info"]["identities"], "room identity has its name")
    form = form_values(info)
    check(form["FORM_TYPE"] == "http://jabber.org/protocol/muc#roominfo", "muc#roominfo form")
    check(form["muc#roominfo_occupants"] == "2", f"occupant count, got {form}")
    # XEP-0059 paging of the listing: one at a time, with the total.
    iq = bob.Iq()
    iq["type"], iq["to"] = "get", svc
    iq.append(ET.fromstring("<query xmlns='http://jabber.org/protocol/disco#items'>"
                            "<set xmlns='http://jabber.org/protocol/rsm'><max>1</max></set></query>"))
    page = await iq.send(timeout=10)
    rsm = "{http://jabber.org/protocol/rsm}"
    got = page.xml.findall("{http://jabber.org/protocol/disco#items}query/{http://jabber.org/protocol/disco#items}item")
    check(len(got) == 1, f"one item per page, got {len(got)}")
    check(page.xml.find(f".//{rsm}set/{rsm}count").text == str(len(listed)), "the count of all public rooms")
    last = page.xml.find(f".//{rsm}set/{rsm}last").text
    iq = bob.Iq()
    iq["type"], iq["to"] = "get", svc
    iq.append(ET.fromstring("<query xmlns='http://jabber.org/protocol/disco#items'><set xmlns="
                            f"'http://jabber.org/protocol/rsm'><max>10</max><after>{last}</after></set></query>"))
    rest = await iq.send(timeout=10)
    after = [i.get("jid") for i in rest.xml.iter("{http://jabber.org/protocol/disco#items}item")]
    check(last not in after and len(after) == len(listed) - 1, f"the next page: {after}")
    hidden_info = await bob["xep_0030"].get_info(jid=hidden)
    check("muc_hidden" in hidden_info["disco_info"]["features"], "hidden room says muc_hidden")
    # A room that does not exist: item-not-found.
    cond = await iq_error(bob["xep_0030"].get_info(jid=room_jid(env, "nowhere")))
    check(cond == "item-not-found", f"nonexistent room: {cond}")


async def test_instant_reserved_and_cancelled_rooms(env):
    alice, bob = await users(env, "c_alice", "c_bob")
    room = room_jid(env, "reserved")
    pres, subject, occupants, history = await join(alice, room, "Alice")
    check(codes(pres) >= {110, 201}, f"creation says 110 and 201, got {codes(pres)}")
    check(item(pres)["affiliation"] == "owner" and item(pres)["role"] == "moderator", "the creator owns the room")
    # §7.2.11: locked until configured.
    check(await join_error(bob, room, "Bob") == "item-not-found", "locked room refuses others")
    form = await alice["xep_0045"].get_room_config(room)
    fields = form.get_fields()
    check("muc#roomconfig_membersonly" in fields, "configuration form offered")
    fields["muc#roomconfig_roomname"]["value"] = "Reserved"
    fields["muc#roomconfig_roomdesc"]["value"] = "configured before anyone came"
    await alice["xep_0045"].set_room_config(room, form)
    await join(bob, room, "Bob")
    info = await bob["xep_0030"].get_info(jid=room)
    check(form_values(info)["muc#roominfo_description"] == "configured before anyone came", "description set")
    # A non-owner gets no configuration form (§10.2).
    cond = await iq_error(bob["xep_0045"].get_room_config(room))
    check(cond == "forbidden", f"non-owner config: {cond}")
    # Cancelling the initial configuration destroys the room (§10.1.3).
    gone = room_jid(env, "cancelled")
    await join(bob, gone, "Bob")
    await bob["xep_0045"].cancel_config(gone)
    p = await bob.next_presence(presence_from(gone, "Bob", unavailable=True))
    check(p.xml.find(f"{{{USER}}}x/{{{USER}}}destroy") is not None, "destroy notice on cancel")
    check(await iq_error(bob["xep_0030"].get_info(jid=gone)) == "item-not-found", "cancelled room is gone")


async def test_join_order_messages_and_occupant_ids(env):
    alice, bob, carol = await users(env, "o_alice", "o_bob", "o_carol")
    room = room_jid(env, "order")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    carol.drain()
    pres, subject, occupants, history = await join(carol, room, "Carol")
    # §7.1: occupants first, self-presence after them, then the subject.
    seen = []
    while not carol.mp.empty():
        p = carol.mp.get_nowait()
        if p["from"].bare == room:
            seen.append(p["from"].resource)
    check(seen[-1] == "Carol" and set(seen[:-1]) == {"Alice", "Bob"}, f"roster before self, got {seen}")
    check(subject["subject"] == "" and subject["from"].bare == room, "empty subject sent on join")
    # §7.4: reflected to everyone, from the occupant JID, with the sender's id; XEP-0421 occupant ids.
    bob.send_message(mto=room, mbody="Harpier cries", mtype="groupchat", mfrom=None)
    msg = bob.make_message(mto=room, mbody="tis time", mtype="groupchat")
    msg["id"] = "stable-1"
    msg.send()
    got = {}
    for c in (alice, bob, carol):
        m = await c.next_message(lambda m: m["body"] == "tis time")
        check(m["id"] == "stable-1", "muc#stable_id: the id is kept")
        check(m["from"] == f"{room}/Bob", "from Bob's occupant JID")
        got[c.boundjid.bare] = occupant_id(m)
    check(len(set(got.values())) == 1 and None not in got.values(), f"one occupant id for Bob, got {got}")
    bob_id = got[bob.boundjid.bare]
    # Stable across visits, different from anyone else's and from Bob's id in another room.
    await leave(bob, room, "Bob")
    pres, *_ = await join(bob, room, "Bobby")
    check(occupant_id(pres) == bob_id, "the same occupant id after rejoining under another nick")
    check(occupant_id(pres) != occupant_id((await join(bob, room_jid(env, "order2"), "Bob"))[0]),
          "occupant ids differ between rooms")
    # Not an occupant: not-acceptable (§7.4).
    await leave(carol, room, "Carol")
    carol.send_message(mto=room, mbody="let me in", mtype="groupchat")
    err = await carol.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "not-acceptable", f"non-occupant message: {error_condition(err)}")


async def test_subject(env):
    alice, bob, carol = await users(env, "s_alice", "s_bob", "s_carol")
    room = room_jid(env, "topic")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    # §8.1: by default only moderators change the subject.
    bob["xep_0045"].set_subject(room, "mine now")
    err = await bob.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "forbidden", "participants may not change the subject")
    alice["xep_0045"].set_subject(room, "Fire Burn and Cauldron Bubble!")
    m = await bob.next_message(lambda m: m["subject"] == "Fire Burn and Cauldron Bubble!")
    check(m["from"] == f"{room}/Alice", "subject change comes from the moderator's nick")
    _, subject, _, _ = await join(carol, room, "Carol")
    check(subject["subject"] == "Fire Burn and Cauldron Bubble!", "subject on join")
    check(subject.xml.find(f"{{{DELAY}}}delay") is not None, "subject carries a delay stamp")
    await configure(alice, room, {"muc#roomconfig_changesubject": True})
    bob["xep_0045"].set_subject(room, "ours")
    await carol.next_message(lambda m: m["subject"] == "ours")


async def test_private_messages(env):
    alice, bob, carol = await users(env, "p_alice", "p_bob", "p_carol")
    room = room_jid(env, "whisper")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    bob.send_message(mto=f"{room}/Alice", mbody="psst", mtype="chat")
    m = await alice.next_message(lambda m: m["body"] == "psst")
    check(m["from"] == f"{room}/Bob" and m["type"] == "chat", "PM from Bob's occupant JID")
    check(m.xml.find(f"{{{USER}}}x") is not None, "§7.5: the room marks private messages")
    for to, mtype, want in ((f"{room}/Nobody", "chat", "item-not-found"), (f"{room}/Alice", "groupchat", "bad-request")):
        bob.send_message(mto=to, mbody="x", mtype=mtype)
        err = await bob.next_message(lambda m: m["type"] == "error")
        check(error_condition(err) == want, f"PM to {to} as {mtype}: {error_condition(err)}")
    carol.send_message(mto=f"{room}/Alice", mbody="stranger", mtype="chat")
    err = await carol.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "not-acceptable", "non-occupants cannot send private messages")
    await configure(alice, room, {"muc#roomconfig_allowpm": "none"})
    bob.send_message(mto=f"{room}/Alice", mbody="still?", mtype="chat")
    err = await bob.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "forbidden", "allowpm=none")


async def test_nicknames(env):
    alice, bob, carol = await users(env, "n_alice", "n_bob", "n_carol")
    room = room_jid(env, "nicks")
    await create(alice, room, "Alice")
    # Conflict (§7.2.9).
    check(await join_error(bob, room, "Alice") == "conflict", "nick in use")
    # Unicode nicknames.
    uni = "Ünïcødé 魔女 🧙"
    pres, *_ = await join(bob, room, uni)
    check(pres["from"].resource == uni and 210 not in codes(pres), "Unicode nick kept as is")
    await alice.next_presence(presence_from(room, uni, unavailable=False))
    # The service changed the nick (stringprep maps fullwidth letters): 210 (§7.2.3).
    carol.send_raw(f"<presence to='{room}/ＣＡＲＯＬ'><x xmlns='{MUC}'/></presence>")
    p = await carol.next_presence(lambda p: p["from"].bare == room and 110 in codes(p))
    check(p["from"].resource == "CAROL" and 210 in codes(p), f"fullwidth nick mapped, 210: {p['from']} {codes(p)}")
    carol.send_presence(pto=f"{room}/CAROL", ptype="unavailable")
    await carol.next_presence(presence_from(room, "CAROL", unavailable=True, code=110))
    # No nick, a blank nick, a nick that is too long (§17.1).
    carol.send_raw(f"<presence to='{room}'><x xmlns='{MUC}'/></presence>")
    err = await carol.next_presence(lambda p: p["type"] == "error")
    check(error_condition(err) == "jid-malformed", f"no nick: {error_condition(err)}")
    carol.send_raw(f"<presence to='{room}/   '><x xmlns='{MUC}'/></presence>")
    err = await carol.next_presence(lambda p: p["type"] == "error")
    check(error_condition(err) == "jid-malformed", f"blank nick: {error_condition(err)}")
    check(await join_error(carol, room, "x" * 65) == "not-acceptable", "nick longer than 64 characters")
    await join(carol, room, "魔" * 64)  # 64 characters (192 bytes) is fine
    # Nick change (§7.6): 303 with the new nick, then presence from it.
    alice.drain()
    bob.send_presence(pto=f"{room}/Bob")
    gone = await alice.next_presence(presence_from(room, uni, unavailable=True))
    check(303 in codes(gone) and item(gone).get("nick") == "Bob", f"303 with the new nick: {codes(gone)} {item(gone)}")
    await alice.next_presence(presence_from(room, "Bob", unavailable=False))
    self_new = await bob.next_presence(presence_from(room, "Bob", unavailable=False, code=110))
    check(self_new is not None, "self-presence for the new nick")
    bob.send_presence(pto=f"{room}/Alice")
    err = await bob.next_presence(lambda p: p["type"] == "error")
    check(error_condition(err) == "conflict", "nick change into a nick in use")
    bob.send_presence(pto=f"{room}/" + "y" * 65)
    err = await bob.next_presence(lambda p: p["type"] == "error")
    check(error_condition(err) == "not-acceptable", "nick change to a nick too long")
    # A custom exit message travels with the unavailable presence (§7.14).
    alice.drain()
    bob["xep_0045"].leave_muc(room, "Bob", msg="gone where the goblins go")
    p = await alice.next_presence(presence_from(room, "Bob", unavailable=True))
    check(p["status"] == "gone where the goblins go" and item(p)["role"] == "none", "exit status and role none")


async def test_multi_session_and_self_ping(env):
    jid, pw = env.user("m_alice")
    a1 = await connect(env, jid + "/one", pw)
    a2 = await connect(env, jid + "/two", pw)
    (bob,) = await users(env, "m_bob")
    room = room_jid(env, "sessions")
    await create(a1, room, "Alice")
    await join(bob, room, "Bob")
    await join(a2, room, "Alice")  # same account, same nick: a second session (§7.2.9)
    bob.send_message(mto=room, mbody="to both", mtype="groupchat")
    for c in (a1, a2):
        await c.next_message(lambda m: m["body"] == "to both")
    bob.send_message(mto=f"{room}/Alice", mbody="private to both", mtype="chat")
    for c in (a1, a2):
        await c.next_message(lambda m: m["body"] == "private to both")
    a2.send_message(mto=room, mbody="from two", mtype="groupchat")
    m = await bob.next_message(lambda m: m["body"] == "from two")
    check(m["from"] == f"{room}/Alice", "either session speaks as Alice")
    # XEP-0410: a self-ping is answered by the room while joined…
    await a2["xep_0199"].ping(jid=f"{room}/Alice", timeout=5)
    # …one session leaving does not take Alice out of the room…
    bob.drain()
    a2["xep_0045"].leave_muc(room, "Alice")
    await a2.next_presence(presence_from(room, "Alice", unavailable=True, code=110))
    a1.send_message(mto=room, mbody="still here", mtype="groupchat")
    m = await bob.next_message(lambda m: m["body"] == "still here")
    # The room handled the leave before that message: whatever it told Bob of it came first.
    none_received(bob, presence_from(room, "Alice", unavailable=True), "Alice left for Bob", before=m)
    # …and a session that left gets not-acceptable.
    try:
        await a2["xep_0199"].ping(jid=f"{room}/Alice", timeout=5)
        raise AssertionError("self-ping after leaving should fail")
    except harness.IqError as e:
        check(e.condition == "not-acceptable", f"self-ping after leaving: {e.condition}")


async def test_disconnect_leaves_rooms(env):
    alice, bob = await users(env, "x_alice", "x_bob")
    room = room_jid(env, "exits")
    await create(alice, room, "Alice")
    await join(bob, room, "Bob")
    # The client vanishes without leaving: its server says unavailable on its behalf (RFC 6121 §4.6.3).
    bob.abort()
    p = await alice.next_presence(presence_from(room, "Bob", unavailable=True))
    check(item(p)["role"] == "none", "Bob is out of the room")
    # A client that never sent initial presence (nothing for RFC 6121 to broadcast) leaves too.
    jid, pw = env.user("x_carol")
    carol = await connect(env, jid + "/r", pw, presence=False)
    await join(carol, room, "Carol")
    carol.abort()
    await alice.next_presence(presence_from(room, "Carol", unavailable=True))
    # Groupchat 1.0 join (no <x/>) from a non-occupant: kicked with 110 307 333 (§7.2.20).
    (dave,) = await users(env, "x_dave")
    dave.send_presence(pto=f"{room}/Dave")
    p = await dave.next_presence(presence_from(room, "Dave", unavailable=True))
    check(codes(p) == {110, 307, 333}, f"groupchat 1.0 join refused with 110 307 333, got {codes(p)}")


async def test_invitations(env):
    alice, bob, dave = await users(env, "i_alice", "i_bob", "i_dave")
    room = room_jid(env, "party")
    await create(alice, room, "Alice")
    # §7.8.2 mediated invitation, through the room.
    alice["xep_0045"].invite(room, dave.boundjid.bare, reason="Come and see")
    m = await dave.next_message(lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}invite") is not None)
    inv = m.xml.find(f"{{{USER}}}x/{{{USER}}}invite")
    check(m["from"] == room and inv.get("from") == alice.boundjid.bare, f"invitation from the room for Alice: {m}")
    check(inv.find(f"{{{USER}}}reason").text == "Come and see", "reason kept")
    # The invitee declines; the room tells the inviter.
    dave.send_raw(f"<message to='{room}'><x xmlns='{USER}'><decline to='{alice.boundjid.bare}'>"
                  "<reason>Too busy</reason></decline></x></message>")
    d = await alice.next_message(lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}decline") is not None)
    dec = d.xml.find(f"{{{USER}}}x/{{{USER}}}decline")
    check(dec.get("from") == dave.boundjid.bare and dec.find(f"{{{USER}}}reason").text == "Too busy",
          "decline passed on")
    # A decline for an invitation the room never sent is not passed on (no relaying through rooms).
    alice.drain()
    bob.send_raw(f"<message to='{room}'><x xmlns='{USER}'><decline to='{alice.boundjid.bare}'/></x></message>")
    # Non-occupants cannot invite through the room.
    bob["xep_0045"].invite(room, dave.boundjid.bare)
    err = await bob.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "not-acceptable", f"invitation by a non-occupant: {error_condition(err)}")
    # The room takes Bob's stanzas in order: it had dealt with the decline before refusing the invitation.
    await harness.round_trip(alice)
    none_received(alice, lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}decline") is not None, "a stray decline was relayed")
    # XEP-0249 direct invitation: client to client; the server only routes it.
    got = asyncio.get_event_loop().create_future()
    dave.add_event_handler("groupchat_direct_invite", lambda msg: got.done() or got.set_result(msg))
    alice["xep_0249"].send_invitation(dave.boundjid, room, reason="direct")
    msg = await asyncio.wait_for(got, 10)
    check(msg["from"] == alice.boundjid and msg["groupchat_invite"]["jid"] == room, "direct invitation routed")
    check(msg["groupchat_invite"]["reason"] == "direct", "reason kept")


harness.main(globals())
