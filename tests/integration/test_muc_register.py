"""XEP-0045 §7.10 registration with a room and §9.9 approval of registration requests, with
python3-slixmpp (xep_0077 for jabber:iq:register, xep_0004 for the muc#register forms) against the real
server: the form, registering in an open room (membership announced, nickname reserved: §7.12 discovery,
§7.2.9 conflict), outcasts and closed registration refused, a members-only room's admins approving a
request, cancelling, and registrations surviving a restart."""
import harness
from harness import check
from muc_util import (codes, item, error_condition, join, join_error, create, configure, leave, iq_error,
                      admin_iq, admin_list, presence_from, room_jid, users, connect)

REGISTER = "http://jabber.org/protocol/muc#register"
PLUGINS = ["xep_0077", "xep_0066"]
PASSWORD = "pw-" + "x" * 8


async def get_registration(client, room):
    return await client["xep_0077"].get_registration(jid=room, timeout=10)


def fields(form):
    return form.get_fields()


def form_type(f):
    """slixmpp reads hidden fields as lists."""
    v = f["FORM_TYPE"]["value"]
    return v[0] if isinstance(v, list) and len(v) == 1 else v


async def register(client, room, nick, **extra):
    """Submits the muc#register form (§7.10) with the nickname and any other muc#register_* values."""
    form = client["xep_0004"].make_form("submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=REGISTER)
    form.add_field(var="muc#register_roomnick", value=nick)
    for var, value in extra.items():
        form.add_field(var=f"muc#register_{var}", value=value)
    iq = client.Iq()
    iq["type"] = "set"
    iq["to"] = room
    iq["register"].append(form)
    return await iq.send(timeout=10)


async def reserved_nick(client, room):
    info = await client["xep_0030"].get_info(jid=room, node="x-roomuser-item")
    names = [i[3] for i in info["disco_info"]["identities"]]
    return names[0] if names else None


async def test_form_and_open_room_registration(env):
    alice, bob, carol = await users(env, "ro_alice", "ro_bob", "ro_carol", extra_plugins=PLUGINS)
    room = room_jid(env, "reg_open")
    await create(alice, room, "Alice")
    await join(bob, room, "bobby")
    await alice.next_presence(presence_from(room, "bobby", unavailable=False))
    # §7.10: the registration form, with the FORM_TYPE and a required nickname.
    res = await get_registration(bob, room)
    check(not res["register"]["registered"], "not registered yet")
    f = fields(res["register"]["form"])
    check(form_type(f) == REGISTER, f"FORM_TYPE {form_type(f)}")
    for var in ("first", "last", "roomnick", "url", "email", "faqentry"):
        check(f"muc#register_{var}" in f, f"muc#register_{var} in the form")
    check(f["muc#register_roomnick"]["required"], "the nickname is required")
    check(f"muc#register_faqentry" in f and f["muc#register_faqentry"]["type"] == "text-multi", "faq is text-multi")
    # Registering in an open room: a member at once, announced to the room (§7.10).
    await register(bob, room, "Bob", first="Robert", email="bob@example.org")
    def membership(p):
        return presence_from(room, "bobby", unavailable=False)(p) and item(p).get("affiliation") == "member"
    p = await alice.next_presence(membership)
    check(item(p)["role"] == "participant" and item(p)["jid"] == str(bob.boundjid), f"membership announced {item(p)}")
    p = await bob.next_presence(membership)
    check(110 in codes(p), f"bob sees his membership {codes(p)}")
    # Already registered: <registered/> and the nickname (§7.10); §7.12 discovery; the member list.
    res = await get_registration(bob, room)
    check(res["register"]["registered"] and res["register"]["username"] == "Bob", f"registered: {res['register']}")
    check(await reserved_nick(bob, room) == "Bob", "§7.12: the reserved nickname is discovered")
    check(await reserved_nick(carol, room) is None, "carol has none")
    members = await admin_list(alice, room, affiliation="member")
    check(members == [{"affiliation": "member", "jid": bob.boundjid.bare, "nick": "Bob"}], f"member list {members}")
    # The nickname is Bob's: §7.2.9 conflict on joining with it, §7.10 conflict on registering it.
    check(await join_error(carol, room, "Bob") == "conflict", "§7.2.9: reserved nickname")
    check(await iq_error(register(carol, room, "Bob")) == "conflict", "§7.10: nickname already reserved")
    # …and Bob himself may use it.
    await leave(bob, room, "bobby")
    pres, *_ = await join(bob, room, "Bob")
    check(item(pres)["affiliation"] == "member", "bob enters as a member with his nickname")
    # A submission without a form is a bad request (§7.10).
    iq = carol.Iq()
    iq["type"] = "set"
    iq["to"] = room
    iq.enable("register")
    check(await iq_error(iq.send(timeout=10)) == "bad-request", "no form")


async def test_refusals_and_cancel(env):
    alice, bob, eve = await users(env, "rr_alice", "rr_bob", "rr_eve", extra_plugins=PLUGINS)
    room, closed = room_jid(env, "reg_rules"), room_jid(env, "reg_closed")
    await create(alice, room, "Alice")
    # Outcasts may not register (§7.2.8 applies to membership too): forbidden.
    await admin_iq(alice, room, [{"affiliation": "outcast", "jid": eve.boundjid.bare}])
    check(await iq_error(get_registration(eve, room)) == "forbidden", "outcast asking for the form")
    check(await iq_error(register(eve, room, "Eve")) == "forbidden", "outcast registering")
    # A room whose owner closed registration: not-allowed (§7.10).
    await create(alice, closed, "Alice", {"{urn:causerie:muc}registration": "none"})
    check(await iq_error(get_registration(bob, closed)) == "not-allowed", "closed: the form")
    check(await iq_error(register(bob, closed, "Bob")) == "not-allowed", "closed: registering")
    info = await bob["xep_0030"].get_info(jid=closed)
    check("jabber:iq:register" not in info["disco_info"]["features"], "closed: no jabber:iq:register feature")
    info = await bob["xep_0030"].get_info(jid=room)
    check("jabber:iq:register" in info["disco_info"]["features"], "open: jabber:iq:register feature")
    # A nonexistent room (§7.10): item-not-found.
    check(await iq_error(get_registration(bob, room_jid(env, "reg_nowhere"))) == "item-not-found", "no such room")
    # Cancelling (XEP-0077 §3.2): the membership and the nickname go.
    await register(bob, room, "Bob")
    check(await reserved_nick(bob, room) == "Bob", "registered")
    await bob["xep_0077"].cancel_registration(jid=room, timeout=10)
    check(await reserved_nick(bob, room) is None, "the reservation is gone")
    check(await admin_list(alice, room, affiliation="member") == [], "no member left")
    cond = await iq_error(bob["xep_0077"].cancel_registration(jid=room, timeout=10))
    check(cond == "registration-required", f"cancelling twice: {cond}")


async def test_members_only_approval(env):
    alice, bob, carol = await users(env, "ra_alice", "ra_bob", "ra_carol", extra_plugins=PLUGINS)
    room = room_jid(env, "reg_members")
    await create(alice, room, "Alice", {"muc#roomconfig_membersonly": True})
    alice.drain()
    check(await join_error(bob, room, "Bob") == "registration-required", "§7.2.7: not a member yet")
    # §9.9: the request is received, and the owner gets the approval form.
    await register(bob, room, "Bob", first="Robert", faqentry="Just another witch.")
    m = await alice.next_message(lambda m: m["from"] == room and m.xml.find("{jabber:x:data}x") is not None)
    f = fields(m["form"])
    check(form_type(f) == REGISTER, "an approval form of muc#register")
    check(f["muc#register_roomnick"]["value"] == "Bob" and f["muc#register_first"]["value"] == "Robert",
          "with the request's data")
    check(f["muc#jid"]["value"] == bob.boundjid.bare, f"naming who asks: {f['muc#jid']['value']}")
    check(f["muc#register_allow"]["type"] == "boolean", "and the muc#register_allow checkbox")
    # Not approved yet: still outside. A non-admin cannot approve (forbidden).
    check(await join_error(bob, room, "Bob") == "registration-required", "waiting for approval")
    answer = m["form"]
    answer["type"] = "submit"
    answer.set_values({"muc#register_allow": True})
    fake = carol.Message()
    fake["to"] = room
    fake.append(answer)
    fake.send()
    err = await carol.next_message(lambda m: m["type"] == "error")
    check(error_condition(err) == "forbidden", f"a non-admin approving: {error_condition(err)}")
    # The owner approves: bob is a member with his nickname, invited (§9.5), and may enter.
    ok = alice.Message()
    ok["to"] = room
    ok.append(answer)
    ok.send()
    inv = await bob.next_message(lambda m: m["from"] == room and m.xml.find("{http://jabber.org/protocol/muc#user}x/"
                                                                             "{http://jabber.org/protocol/muc#user}invite") is not None)
    check(inv is not None, "bob is invited")
    pres, *_ = await join(bob, room, "Bob")
    check(item(pres)["affiliation"] == "member", f"bob entered as a member {item(pres)}")
    check(await reserved_nick(bob, room) == "Bob", "with his reserved nickname")
    members = await admin_list(alice, room, affiliation="member")
    check(members == [{"affiliation": "member", "jid": bob.boundjid.bare, "nick": "Bob"}], f"member list {members}")


async def test_registration_survives_restart(env):
    alice, bob, carol = await users(env, "rp_alice", "rp_bob", "rp_carol", extra_plugins=PLUGINS)
    room = room_jid(env, "reg_kept")
    await create(alice, room, "Alice", {"muc#roomconfig_persistentroom": True})
    await register(bob, room, "Bob")
    await env.restart()
    b2 = await connect(env, bob.boundjid.bare + "/again", PASSWORD, PLUGINS)
    c2 = await connect(env, carol.boundjid.bare + "/again", PASSWORD, PLUGINS)
    res = await get_registration(b2, room)
    check(res["register"]["registered"] and res["register"]["username"] == "Bob", "still registered after restart")
    check(await join_error(c2, room, "Bob") == "conflict", "the nickname is still reserved")
    pres, *_ = await join(b2, room, "Bob")
    check(item(pres)["affiliation"] == "member", "still a member")


harness.main(globals())
