"""Issue 6, XEP-0045 §8–§10 with python3-slixmpp against the real server: kick, ban, voice, moderator
status, member/admin/owner lists and their privilege rules, the presence broadcasts that announce each
change (301, 307, 321, 322), configuration-change notices (104, 170–173), destruction with a reason
and an alternate venue."""
import asyncio

import harness
from harness import check
from muc_util import (USER, codes, item, error_condition, join, join_error, create, configure, leave, iq_error,
                      admin_iq, admin_list, presence_from, none_received, room_jid, users)


async def setup(env, prefix, n, config=None):
    clients = await users(env, *[f"{prefix}_{x}" for x in ("alice", "bob", "carol", "dave")[:n]])
    room = room_jid(env, prefix)
    await create(clients[0], room, "Alice", config)
    nicks = ("Alice", "Bob", "Carol", "Dave")[:n]
    for c, nick in zip(clients[1:], nicks[1:]):
        await join(c, room, nick)
    # A join returns when the joiner has its self-presence; the copies of its presence sent to earlier
    # occupants travel on their own connections and may still be on the way. Wait for them, or a test's
    # next_presence(from this nick) could take the stale join presence for the change it awaits.
    for i, c in enumerate(clients):
        for nick in nicks[i + 1:]:
            await c.next_presence(presence_from(room, nick, unavailable=False))
    for c in clients:
        c.drain()
    return room, clients


async def test_kick(env):
    room, (alice, bob, carol) = await setup(env, "kick", 3)
    await alice["xep_0045"].set_role(room, "Bob", "none", reason="Avaunt, you cullion!")
    # §8.2: the kicked occupant hears it with 110, 307, the actor and the reason; the others with 307.
    p = await bob.next_presence(presence_from(room, "Bob", unavailable=True))
    check(codes(p) == {110, 307}, f"kicked: {codes(p)}")
    check(item(p).get("actor") == "Alice" and item(p).get("reason") == "Avaunt, you cullion!", f"actor/reason {item(p)}")
    p = await carol.next_presence(presence_from(room, "Bob", unavailable=True))
    check(codes(p) == {307} and item(p)["role"] == "none", "the others are told")
    # A participant cannot kick (§8: forbidden).
    await join(bob, room, "Bob")
    cond = await iq_error(bob["xep_0045"].set_role(room, "Carol", "none"))
    check(cond == "forbidden", f"participant kicking: {cond}")
    # A moderator who is a mere member cannot kick an admin (§8.2: not-allowed).
    await admin_iq(alice, room, [{"affiliation": "admin", "jid": carol.boundjid.bare}])
    await admin_iq(alice, room, [{"affiliation": "member", "jid": bob.boundjid.bare}])
    await alice["xep_0045"].set_role(room, "Bob", "moderator")
    cond = await iq_error(bob["xep_0045"].set_role(room, "Carol", "none"))
    check(cond == "not-allowed", f"member kicking an admin: {cond}")
    # Role and affiliation in one item is a bad request (§17.5 rule 4).
    cond = await iq_error(admin_iq(alice, room, [{"nick": "Bob", "role": "none", "affiliation": "none"}]))
    check(cond == "bad-request", f"both in one item: {cond}")


async def test_ban(env):
    room, (alice, bob, carol) = await setup(env, "ban", 3)
    await admin_iq(alice, room, [{"affiliation": "outcast", "jid": bob.boundjid.bare, "reason": "Treason"}])
    # §9.1: 301 to the banned occupant and to the others.
    p = await bob.next_presence(presence_from(room, "Bob", unavailable=True))
    check(codes(p) == {110, 301} and item(p)["affiliation"] == "outcast", f"banned: {codes(p)} {item(p)}")
    p = await carol.next_presence(presence_from(room, "Bob", unavailable=True))
    check(codes(p) == {301}, "the others are told")
    check(await join_error(bob, room, "Bob") == "forbidden", "§7.2.8: the banned cannot enter")
    bans = await admin_list(alice, room, affiliation="outcast")
    check([b["jid"] for b in bans] == [bob.boundjid.bare], f"ban list: {bans}")
    # Only admins see the ban list; admins cannot ban owners; nobody bans themselves.
    check(await iq_error(admin_list(carol, room, affiliation="outcast")) == "forbidden", "participant: ban list")
    await admin_iq(alice, room, [{"affiliation": "admin", "jid": carol.boundjid.bare}])
    cond = await iq_error(admin_iq(carol, room, [{"affiliation": "outcast", "jid": alice.boundjid.bare}]))
    check(cond == "not-allowed", f"admin banning owner: {cond}")
    cond = await iq_error(admin_iq(alice, room, [{"affiliation": "outcast", "jid": alice.boundjid.bare}]))
    check(cond == "conflict", f"banning oneself: {cond}")
    # Lifting the ban (affiliation none, §9.2).
    await admin_iq(carol, room, [{"affiliation": "none", "jid": bob.boundjid.bare}])
    await join(bob, room, "Bob")


async def test_voice_and_moderators(env):
    room, (alice, bob, carol) = await setup(env, "voice", 3, {"muc#roomconfig_moderatedroom": True})
    # §8.3 grant voice: everyone sees Bob become a participant.
    await alice["xep_0045"].set_role(room, "Bob", "participant", reason="A worthy witch")
    p = await carol.next_presence(presence_from(room, "Bob", unavailable=False))
    check(item(p)["role"] == "participant" and item(p).get("reason") == "A worthy witch", f"voice granted {item(p)}")
    voice = await alice["xep_0045"].get_roles_list(room, "participant")
    check(voice == ["Bob"], f"§8.5 voice list: {voice}")
    # §8.4 revoke voice.
    await alice["xep_0045"].set_role(room, "Bob", "visitor")
    p = await carol.next_presence(presence_from(room, "Bob", unavailable=False))
    check(item(p)["role"] == "visitor", "voice revoked")
    # §9.6 moderator status; the unaffiliated moderator cannot take the owner's voice (§8.4).
    await alice["xep_0045"].set_role(room, "Carol", "moderator")
    p = await bob.next_presence(presence_from(room, "Carol", unavailable=False))
    check(item(p)["role"] == "moderator", "Carol is a moderator")
    cond = await iq_error(carol["xep_0045"].set_role(room, "Alice", "visitor"))
    check(cond == "not-allowed", f"revoking an owner's voice: {cond}")
    cond = await iq_error(carol["xep_0045"].set_role(room, "Bob", "moderator"))
    check(cond == "forbidden", f"a plain moderator making moderators: {cond}")
    await carol["xep_0045"].set_role(room, "Bob", "participant")  # moderators grant voice
    # §9.7 revoke moderator status.
    await alice["xep_0045"].set_role(room, "Carol", "participant")
    p = await bob.next_presence(presence_from(room, "Carol", unavailable=False))
    check(item(p)["role"] == "participant", "Carol is no longer a moderator")
    cond = await iq_error(alice["xep_0045"].set_role(room, "Nobody", "participant"))
    check(cond == "item-not-found", f"role change for a nick not present: {cond}")


async def test_affiliation_lists(env):
    room, (alice, bob, carol, dave) = await setup(env, "lists", 4)
    # §9.3 membership (with a reserved nick), §10.6 admin, §10.3 owner: each announced to the room.
    await admin_iq(alice, room, [{"affiliation": "member", "jid": bob.boundjid.bare, "nick": "Bob"}])
    p = await carol.next_presence(presence_from(room, "Bob", unavailable=False))
    check(item(p)["affiliation"] == "member", "member")
    await alice["xep_0045"].set_affiliation(room, "admin", jid=carol.boundjid.bare)
    p = await bob.next_presence(presence_from(room, "Carol", unavailable=False))
    check(item(p)["affiliation"] == "admin" and item(p)["role"] == "moderator", "admin and so moderator")
    members = await admin_list(carol, room, affiliation="member")
    check(members == [{"affiliation": "member", "jid": bob.boundjid.bare, "nick": "Bob"}], f"member list {members}")
    check(await alice["xep_0045"].get_affiliation_list(room, "admin") == [carol.boundjid.bare], "admin list")
    # Admins cannot make admins or owners (§10.6), nor read the owner list of a semi-anonymous room (§10.5).
    cond = await iq_error(carol["xep_0045"].set_affiliation(room, "admin", jid=dave.boundjid.bare))
    check(cond == "forbidden", f"admin granting admin: {cond}")
    check(await iq_error(admin_list(carol, room, affiliation="owner")) == "forbidden", "owner list for admins")
    check(await iq_error(admin_list(bob, room, affiliation="member")) == "forbidden", "member list for members")
    # The reserved nick is Bob's (§7.12): he can discover it, others get a conflict.
    info = await bob["xep_0030"].get_info(jid=room, node="x-roomuser-item")
    check(("conference", "text", None, "Bob") in info["disco_info"]["identities"], "reserved nick discovered")
    info = await dave["xep_0030"].get_info(jid=room, node="x-roomuser-item")
    check(not info["disco_info"]["identities"], "no reserved nick for Dave")
    await leave(bob, room, "Bob")
    check(await join_error(dave, room, "Bob") == "conflict", "reserved nickname")
    # Ownership (§10.3, §10.4): the last owner cannot step down; with two owners one can.
    cond = await iq_error(alice["xep_0045"].set_affiliation(room, "admin", jid=alice.boundjid.bare))
    check(cond == "conflict", f"last owner stepping down: {cond}")
    await alice["xep_0045"].set_affiliation(room, "owner", jid=dave.boundjid.bare)
    p = await carol.next_presence(presence_from(room, "Dave", unavailable=False))
    check(item(p)["affiliation"] == "owner", "Dave is an owner")
    await alice["xep_0045"].set_affiliation(room, "admin", jid=alice.boundjid.bare)
    owners = await dave["xep_0045"].get_affiliation_list(room, "owner")
    check(owners == [dave.boundjid.bare], f"owner list: {owners}")
    # Several items at once, checked as a whole: one bad item and nothing changes.
    cond = await iq_error(admin_iq(dave, room, [{"affiliation": "member", "jid": f"newbie@{env.host}"},
                                                {"affiliation": "outcast", "jid": dave.boundjid.bare}]))
    check(cond == "conflict", f"mixed batch refused: {cond}")
    check(f"newbie@{env.host}" not in [m["jid"] for m in await admin_list(dave, room, affiliation="member")],
          "nothing from a refused batch applied")


async def test_members_only_removals_and_config_notices(env):
    room, (alice, bob, carol) = await setup(env, "notices", 3)
    await admin_iq(alice, room, [{"affiliation": "member", "jid": bob.boundjid.bare}])
    # §10.2: the room becomes members-only: Carol, no member, leaves with 322; §10.2.1: 104.
    await configure(alice, room, {"muc#roomconfig_membersonly": True})
    p = await carol.next_presence(presence_from(room, "Carol", unavailable=True))
    check(codes(p) == {110, 322}, f"322: {codes(p)}")
    p = await bob.next_presence(presence_from(room, "Carol", unavailable=True))
    check(322 in codes(p), "the others see 322")
    m = await bob.next_message(lambda m: m["from"] == room and codes(m))
    check(codes(m) == {104}, f"config change notice: {codes(m)}")
    # §9.4: revoking membership in a members-only room removes the user with 321.
    await admin_iq(alice, room, [{"affiliation": "none", "jid": bob.boundjid.bare}])
    p = await bob.next_presence(presence_from(room, "Bob", unavailable=True))
    check(codes(p) == {110, 321}, f"321: {codes(p)}")
    # §10.2.1 privacy codes.
    await admin_iq(alice, room, [{"affiliation": "member", "jid": bob.boundjid.bare}])
    await join(bob, room, "Bob")
    for config, code in (({"muc#roomconfig_whois": "anyone"}, 172), ({"muc#roomconfig_whois": "moderators"}, 173),
                         ({"muc#roomconfig_enablelogging": True}, 170), ({"muc#roomconfig_enablelogging": False}, 171)):
        await configure(alice, room, config)
        m = await bob.next_message(lambda m: m["from"] == room and codes(m))
        check(codes(m) == {code}, f"{config}: {codes(m)}")


async def test_destroy(env):
    room, (alice, bob, carol) = await setup(env, "doomed", 3)
    cond = await iq_error(bob["xep_0045"].destroy(room, reason="mine"))
    check(cond == "forbidden", f"§10.9: only owners destroy: {cond}")
    venue = room_jid(env, "newhome")
    bob.drain()
    await alice["xep_0045"].destroy(room, reason="Macbeth doth come.", altroom=venue)
    for c, nick in ((bob, "Bob"), (carol, "Carol"), (alice, "Alice")):
        p = await c.next_presence(presence_from(room, nick, unavailable=True))
        d = p.xml.find(f"{{{USER}}}x/{{{USER}}}destroy")
        check(d is not None and d.get("jid") == venue, f"{nick}: destroy with the alternate venue")
        check(d.find(f"{{{USER}}}reason").text == "Macbeth doth come.", f"{nick}: with the reason")
    # One presence each, no broadcast of the others leaving: the room sent its broadcasts before it
    # answered Alice, so a round trip of Bob's now comes back after any of them.
    await harness.round_trip(bob)
    none_received(bob, presence_from(room, "Carol"), "Bob was told of Carol leaving a destroyed room")
    check(await iq_error(bob["xep_0030"].get_info(jid=room)) == "item-not-found", "the room is gone")


harness.main(globals())
