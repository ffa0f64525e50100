"""Issue 6, XEP-0045 room types with python3-slixmpp against the real server: each type lets in and keeps
out the right people — members-only, password-protected, moderated (with voice requests), non-anonymous
and semi-anonymous, maximum occupants, persistent and temporary, logged."""
import asyncio

import harness
from harness import check
from muc_util import (USER, codes, item, error_condition, form_values, join, join_error, create, configure, leave,
                      iq_error, admin_iq, presence_from, room_jid, users)


async def test_members_only(env):
    alice, bob, carol, dave = await users(env, "mo_alice", "mo_bob", "mo_carol", "mo_dave")
    room = room_jid(env, "members")
    await create(alice, room, "Alice", {"muc#roomconfig_membersonly": True})
    info = await bob["xep_0030"].get_info(jid=room)
    check("muc_membersonly" in info["disco_info"]["features"], "muc_membersonly advertised")
    # §7.2.7: not on the member list.
    check(await join_error(bob, room, "Bob") == "registration-required", "non-member refused")
    await admin_iq(alice, room, [{"affiliation": "member", "jid": bob.boundjid.bare}])
    pres, *_ = await join(bob, room, "Bob")
    check(item(pres)["affiliation"] == "member", "member enters")
    # §9.5: a member may not invite unless the room allows it; an admin's invitation makes a member.
    bob["xep_0045"].invite(room, carol.boundjid.bare)
    err = await bob.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "forbidden", f"member invitation refused: {error_condition(err)}")
    alice["xep_0045"].invite(room, carol.boundjid.bare, reason="join us")
    await carol.next_message(lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}invite") is not None)
    await join(carol, room, "Carol")
    await configure(alice, room, {"muc#roomconfig_allowinvites": True})
    bob["xep_0045"].invite(room, dave.boundjid.bare)
    await dave.next_message(lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}invite") is not None)
    await join(dave, room, "Dave")


async def test_password_protected(env):
    alice, bob, carol = await users(env, "pw_alice", "pw_bob", "pw_carol")
    room = room_jid(env, "secret")
    await create(alice, room, "Alice", {"muc#roomconfig_passwordprotectedroom": True,
                                        "muc#roomconfig_roomsecret": "cauldronburn"})
    info = await bob["xep_0030"].get_info(jid=room)
    check("muc_passwordprotected" in info["disco_info"]["features"], "muc_passwordprotected advertised")
    # §7.2.6
    check(await join_error(bob, room, "Bob") == "not-authorized", "no password")
    check(await join_error(bob, room, "Bob", password="wrong") == "not-authorized", "wrong password")
    await join(bob, room, "Bob", password="cauldronburn")
    # §7.8.2: the room adds the password to its invitations.
    alice["xep_0045"].invite(room, carol.boundjid.bare)
    m = await carol.next_message(lambda m: m.xml.find(f"{{{USER}}}x/{{{USER}}}invite") is not None)
    check(m.xml.find(f"{{{USER}}}x/{{{USER}}}password").text == "cauldronburn", "password in the invitation")
    # A password-protected room needs a password (§10.1.3: not-acceptable).
    form = await alice["xep_0045"].get_room_config(room)
    form.get_fields()["muc#roomconfig_roomsecret"]["value"] = ""
    cond = await iq_error(alice["xep_0045"].set_room_config(room, form))
    check(cond == "not-acceptable", f"empty password refused: {cond}")


async def test_moderated_and_voice_requests(env):
    alice, bob = await users(env, "md_alice", "md_bob")
    room = room_jid(env, "moderated")
    await create(alice, room, "Alice", {"muc#roomconfig_moderatedroom": True})
    pres, *_ = await join(bob, room, "Bob")
    check(item(pres)["role"] == "visitor", "unaffiliated users enter a moderated room as visitors (§5.1.2)")
    bob.send_message(mto=room, mbody="may I?", mtype="groupchat")
    err = await bob.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "forbidden", "visitors have no voice (§7.4)")
    # §7.13: a voice request reaches the moderator as an approval form…
    bob["xep_0045"].request_voice(room, "participant")
    req = await alice.next_message(lambda m: m["from"] == room and form_values(m).get("FORM_TYPE") ==
                                   "http://jabber.org/protocol/muc#request")
    values = form_values(req)
    check(values["muc#roomnick"] == "Bob" and values["muc#jid"] == str(bob.boundjid), f"approval form: {values}")
    # …who approves it (§8.6): Bob is a participant now, and everybody is told.
    answer = alice.make_message(mto=room)
    form = alice["xep_0004"].make_form("submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/muc#request")
    form.add_field(var="muc#role", value="participant")
    form.add_field(var="muc#jid", value=str(bob.boundjid))
    form.add_field(var="muc#roomnick", value="Bob")
    form.add_field(var="muc#request_allow", value="true")
    answer.append(form)
    answer.send()
    p = await bob.next_presence(lambda p: p["from"] == f"{room}/Bob" and item(p).get("role") == "participant")
    check(110 in codes(p), "self-presence with the new role")
    bob.send_message(mto=room, mbody="thank you", mtype="groupchat")
    await alice.next_message(lambda m: m["body"] == "thank you")


async def test_anonymity(env):
    alice, bob, carol = await users(env, "an_alice", "an_bob", "an_carol")
    semi, non = room_jid(env, "semianon"), room_jid(env, "nonanon")
    await create(alice, semi, "Alice")
    pres, _, occupants, _ = await join(bob, semi, "Bob")
    # §7.2.5: in a semi-anonymous room only moderators see real JIDs.
    others = [p for p in occupants if p["from"].resource != "Bob"]
    check(others and all("jid" not in item(p) for p in others), "a participant sees no JIDs of others")
    p = await alice.next_presence(presence_from(semi, "Bob", unavailable=False))
    check(item(p).get("jid") == str(bob.boundjid), "the moderator sees Bob's JID")
    check(100 not in codes(pres), "no 100 in a semi-anonymous room")
    # §7.2.4: non-anonymous: everyone sees them, and the newcomer is warned with 100.
    await create(alice, non, "Alice", {"muc#roomconfig_whois": "anyone"})
    pres, _, occupants, _ = await join(carol, non, "Carol")
    check(100 in codes(pres), "100 on entering a non-anonymous room")
    check(any(item(p).get("jid") == str(alice.boundjid) for p in occupants), "Carol sees Alice's JID")
    info = await carol["xep_0030"].get_info(jid=non)
    check("muc_nonanonymous" in info["disco_info"]["features"], "muc_nonanonymous advertised")


async def test_max_occupants(env):
    alice, bob, carol = await users(env, "mx_alice", "mx_bob", "mx_carol")
    room = room_jid(env, "tiny")
    await create(alice, room, "Alice", {"muc#roomconfig_maxusers": "1"})
    # §7.2.10: full…
    check(await join_error(bob, room, "Bob") == "service-unavailable", "room full")
    # …except for admins and owners.
    await admin_iq(alice, room, [{"affiliation": "admin", "jid": carol.boundjid.bare}])
    await join(carol, room, "Carol")
    check(await join_error(bob, room, "Bob") == "service-unavailable", "still full for others")


async def test_persistent_and_temporary(env):
    alice, bob = await users(env, "pt_alice", "pt_bob")
    temp, kept = room_jid(env, "fleeting"), room_jid(env, "lasting")
    await create(alice, temp, "Alice")
    await create(alice, kept, "Alice", {"muc#roomconfig_persistentroom": True,
                                        "muc#roomconfig_roomname": "Lasting"})
    await leave(alice, temp, "Alice")
    await leave(alice, kept, "Alice")
    # §7.14: the empty temporary room is destroyed; the persistent room stays, listed with 0 occupants.
    check(await iq_error(bob["xep_0030"].get_info(jid=temp)) == "item-not-found", "temporary room gone")
    info = await bob["xep_0030"].get_info(jid=kept)
    check("muc_persistent" in info["disco_info"]["features"], "persistent room still there")
    check(form_values(info)["muc#roominfo_occupants"] == "0", "nobody in it")
    items = await bob["xep_0030"].get_items(jid=f"conference.{env.host}")
    listed = {i[0]: i[2] for i in items["disco_items"]["items"]}
    check(listed.get(kept) == "Lasting (0)", f"listed while empty: {listed}")
    # Entering it again is no creation (no 201); its owner is still its owner.
    pres, *_ = await join(bob, kept, "Bob")
    check(201 not in codes(pres) and item(pres)["affiliation"] == "none", "joined the existing room")
    pres, *_ = await join(alice, kept, "Alice")
    check(item(pres)["affiliation"] == "owner", "owner kept")
    # Made temporary again, it goes away when the last occupant leaves.
    await configure(alice, kept, {"muc#roomconfig_persistentroom": False})
    await leave(bob, kept, "Bob")
    await leave(alice, kept, "Alice")
    check(await iq_error(bob["xep_0030"].get_info(jid=kept)) == "item-not-found", "no longer kept")


async def test_logged_room_warns(env):
    alice, bob = await users(env, "lg_alice", "lg_bob")
    room = room_jid(env, "logged")
    await create(alice, room, "Alice", {"muc#roomconfig_enablelogging": True})
    pres, *_ = await join(bob, room, "Bob")
    check(170 in codes(pres), "§7.2.12: 170 when the room is logged")


harness.main(globals())
