"""Issue 14 item 3: XEP-0050 ad-hoc commands and the XEP-0133 service administration commands, driven
by python3-slixmpp (its xep_0050 and xep_0004 plugins) as the host's admin (`admins` of the [[host]]) and
refused to everyone else; the same operations from the `causerie` command line beside the running
server (through its control socket), and without one where no live server is needed. The server runs
on a manual clock, so session expiry is tested by moving it."""
import asyncio
import os
import stat

import harness
from harness import check, IqError
from slixmpp.xmlstream import ET

ADMIN = "http://jabber.org/protocol/admin"
CMDS = "http://jabber.org/protocol/commands"
PLUGINS = ["xep_0030", "xep_0004", "xep_0050", "xep_0199"]
NODES = ["add-user", "delete-user", "disable-user", "reenable-user", "end-user-session", "change-user-password",
         "user-stats", "get-registered-users-num", "get-disabled-users-num", "get-online-users-num",
         "get-registered-users-list", "get-disabled-users-list", "get-online-users-list", "announce", "set-motd",
         "edit-motd", "delete-motd"]


def node(name):
    return f"{ADMIN}#{name}"


async def admin_client(env, resource="console"):
    jid, pw = env.user("admin")
    return await env.connect(f"{jid}/{resource}", pw, PLUGINS)


def submit_form(c, fields):
    form = c["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=ADMIN)
    for var, value in fields.items():
        if isinstance(value, list):
            ftype = "jid-multi" if var == "accountjids" else "text-multi"
            form.add_field(var=var, ftype=ftype, value=value)
        else:
            form.add_field(var=var, value=value)
    return form


async def execute(c, name, sessionid=None, action="execute", payload=None):
    r = await c["xep_0050"].send_command(c.boundjid.domain, node(name), action=action, sessionid=sessionid,
                                         payload=payload, timeout=10)
    return r["command"]


async def run(c, name, fields=None):
    """Runs a command to its end: the form it shows (if any) answered with `fields`. Returns the last
    <command/>."""
    first = await execute(c, name)
    if first["status"] == "completed":
        return first
    check(first["status"] == "executing", f"{name}: {first}")
    check(first.xml.find(f"{{{CMDS}}}actions") is not None, f"{name}: the stage lists its actions")
    return await execute(c, name, first["sessionid"], "complete", submit_form(c, fields or {}))


def result_values(cmd, var):
    x = cmd.xml.find("{jabber:x:data}x")
    check(x is not None, f"a result form in {cmd}")
    for f in x.findall("{jabber:x:data}field"):
        if f.get("var") == var:
            return [v.text or "" for v in f.findall("{jabber:x:data}value")]
    raise AssertionError(f"no field {var} in {ET.tostring(x)}")


def notes(cmd):
    return [(n.get("type") or "info", n.text or "") for n in cmd.xml.findall(f"{{{CMDS}}}note")]


async def refused(coro, condition, app=None):
    try:
        await coro
    except IqError as e:
        got = e.iq["error"]["condition"]
        check(got == condition, f"expected {condition}, got {got}: {e.iq}")
        if app:
            check(e.iq.xml.find(f".//{{{CMDS}}}{app}") is not None, f"expected <{app}/> in {e.iq}")
        return e.iq["error"]["text"]
    raise AssertionError(f"expected a {condition} error")


async def ended(env, jid, since):
    await env.server.wait_log(f": {jid} disconnected", since=since, what=f"the session of {jid} to end")


async def test_listed_and_described_for_admins_only(env):
    admin = await admin_client(env)
    items = await admin["xep_0050"].get_commands(admin.boundjid.domain)
    listed = {i[1] for i in items["disco_items"]["items"]}
    for n in NODES:
        check(node(n) in listed, f"{n} listed for the admin")
    info = await admin["xep_0030"].get_info(jid=admin.boundjid.domain, cached=False)
    check(CMDS in info["disco_info"]["features"], "the server advertises ad-hoc commands")
    ninfo = await admin["xep_0030"].get_info(jid=admin.boundjid.domain, node=node("announce"), cached=False)
    check(("automation", "command-node", None, "Send Announcement to Online Users") in ninfo["disco_info"]["identities"],
          ninfo)
    check(CMDS in ninfo["disco_info"]["features"] and "jabber:x:data" in ninfo["disco_info"]["features"], ninfo)

    jid, pw = env.user("plain")
    user = await env.connect(f"{jid}/r", pw, PLUGINS)
    items = await user["xep_0050"].get_commands(user.boundjid.domain)
    # A user sees only the command for his own account (sign_out_everywhere.cpp).
    check([i[1] for i in items["disco_items"]["items"]] == ["urn:causerie:account#sign-out-everywhere"],
          f"no admin command listed for a non-admin: {items}")
    await refused(user["xep_0030"].get_info(jid=user.boundjid.domain, node=node("announce"), cached=False), "forbidden")


async def test_every_command_refused_to_a_non_admin(env):
    jid, pw = env.user("mallory")
    user = await env.connect(f"{jid}/r", pw, PLUGINS)
    for n in NODES:
        await refused(execute(user, n), "forbidden")
    # Not even with a session id taken from an admin's session.
    admin = await admin_client(env)
    first = await execute(admin, "announce")
    await refused(execute(user, "announce", first["sessionid"], "complete",
                          submit_form(user, {"announcement": ["hi"]})), "forbidden")


async def test_add_change_password_and_delete_user(env):
    admin = await admin_client(env)
    done = await run(admin, "add-user", {"accountjid": "newbie@localhost", "password": "first-pass",
                                         "password-verify": "first-pass"})
    check(done["status"] == "completed", done)
    c = await env.connect("newbie@localhost/a", "first-pass")
    await refused(run(admin, "add-user", {"accountjid": "newbie@localhost", "password": "x-pass-1",
                                          "password-verify": "x-pass-1"}), "conflict")
    await refused(run(admin, "add-user", {"accountjid": "other@localhost", "password": "one-pass",
                                          "password-verify": "two-pass"}), "bad-request")
    await run(admin, "change-user-password", {"accountjid": "newbie@localhost", "password": "second-pass"})
    check(await env.login_refused("newbie@localhost/b", "first-pass"), "the old password is refused")
    check(not await env.login_refused("newbie@localhost/b", "second-pass"), "the new password works")
    await refused(run(admin, "change-user-password", {"accountjid": "ghost@localhost", "password": "whatever1"}),
                  "item-not-found")
    mark = env.server.log_mark()
    done = await run(admin, "delete-user", {"accountjids": ["newbie@localhost", "ghost@localhost"]})
    check(("error", "no account ghost@localhost") in notes(done), notes(done))
    await ended(env, c.boundjid, mark)
    check(await env.login_refused("newbie@localhost/c", "second-pass"), "a deleted account cannot log in")


async def test_disable_and_reenable(env):
    admin = await admin_client(env)
    jid, pw = env.user("naughty")
    c = await env.connect(f"{jid}/r", pw)
    mark = env.server.log_mark()
    await run(admin, "disable-user", {"accountjids": [jid]})
    await ended(env, c.boundjid, mark)
    check(await env.login_refused(f"{jid}/again", pw), "a disabled account cannot log in")
    num = await run(admin, "get-disabled-users-num")
    check(result_values(num, "disabledusersnum") == ["1"], num)
    lst = await run(admin, "get-disabled-users-list", {"max_items": "none"})
    check(result_values(lst, "disableduserjids") == [jid], lst)
    await run(admin, "reenable-user", {"accountjids": [jid]})
    check(not await env.login_refused(f"{jid}/again", pw), "a re-enabled account logs in")


async def test_end_user_session(env):
    admin = await admin_client(env)
    jid, pw = env.user("kicked")
    a = await env.connect(f"{jid}/one", pw)
    b = await env.connect(f"{jid}/two", pw)
    mark = env.server.log_mark()
    await run(admin, "end-user-session", {"accountjids": [f"{jid}/one"]})
    await ended(env, a.boundjid, mark)
    await harness.round_trip(b)  # the other resource is still there
    mark = env.server.log_mark()
    done = await run(admin, "end-user-session", {"accountjids": [jid]})
    check(("info", f"1 session(s) of {jid} ended.") in notes(done), notes(done))
    await ended(env, b.boundjid, mark)
    check(not await env.login_refused(f"{jid}/three", pw), "kicked, not banned")


async def test_counts_lists_and_stats(env):
    admin = await admin_client(env)
    jid, pw = env.user("counted")
    c = await env.connect(f"{jid}/desk", pw, PLUGINS)
    registered = result_values(await run(admin, "get-registered-users-list", {"max_items": "none"}),
                               "registereduserjids")
    check(jid in registered and "admin@localhost" in registered, registered)
    num = result_values(await run(admin, "get-registered-users-num"), "registeredusersnum")
    check(num == [str(len(registered))], f"{num} vs {registered}")
    online = result_values(await run(admin, "get-online-users-list", {"max_items": "25"}), "onlineuserjids")
    check(jid in online and "admin@localhost" in online, online)
    check(result_values(await run(admin, "get-online-users-num"), "onlineusersnum") == [str(len(online))], online)
    stats = await run(admin, "user-stats", {"accountjid": jid})
    check(result_values(stats, "onlineresources") == ["desk"], stats)
    check(result_values(stats, "ipaddresses") == ["127.0.0.1"], stats)
    check(result_values(stats, "rostersize") == ["0"], stats)


async def test_announce_reaches_online_users(env):
    admin = await admin_client(env)
    users = []
    for name in ("listener1", "listener2"):
        jid, pw = env.user(name)
        users.append(await env.connect(f"{jid}/r", pw))
    done = await run(admin, "announce", {"announcement": ["Maintenance in 5 minutes.", "Sorry!"]})
    check(done["status"] == "completed", done)
    for u in users:
        m = await u.next_message(lambda m: m["from"] == env.host)
        check(m["type"] == "headline" and m["body"] == "Maintenance in 5 minutes.\nSorry!", m)


async def test_message_of_the_day(env):
    admin = await admin_client(env)
    jid, pw = env.user("early")
    online = await env.connect(f"{jid}/r", pw)
    await run(admin, "set-motd", {"motd": ["Welcome to the server.", "Be nice."]})
    m = await online.next_message(lambda m: m["from"] == env.host)
    check(m["body"] == "Welcome to the server.\nBe nice.", m)
    # The edit form shows the current message; an edit reaches who has not seen it yet.
    first = await execute(admin, "edit-motd")
    x = first.xml.find("{jabber:x:data}x")
    shown = [v.text for f in x.findall("{jabber:x:data}field") if f.get("var") == "motd"
             for v in f.findall("{jabber:x:data}value")]
    check(shown == ["Welcome to the server.", "Be nice."], shown)
    await execute(admin, "edit-motd", first["sessionid"], "complete",
                  submit_form(admin, {"motd": ["Welcome to the server.", "Be very nice."]}))
    jid2, pw2 = env.user("late")
    late = await env.connect(f"{jid2}/r", pw2)
    m = await late.next_message(lambda m: m["from"] == env.host)
    check(m["body"] == "Welcome to the server.\nBe very nice.", m)
    # Once per account: the next login of either is not given it again.
    for who, password in ((jid, pw), (jid2, pw2)):
        mark = env.server.log_mark()
        again = await env.connect(f"{who}/second", password)
        await env.server.wait_log(f"motd: {who} has seen", since=mark)
        await harness.round_trip(again)
        check(not [m for m in harness.queued(again.messages) if m["from"] == env.host], "no second copy")
    await run(admin, "delete-motd")
    r = env.server.cli("motd", "show", "localhost")
    check(r.stdout.strip() == "", r.stdout)


async def test_multi_stage_flow_cancel_and_bad_input(env):
    admin = await admin_client(env)
    first = await execute(admin, "add-user")
    check(first["status"] == "executing" and first["sessionid"], first)
    actions = first.xml.find(f"{{{CMDS}}}actions")
    check(actions.get("execute") == "complete" and actions.find(f"{{{CMDS}}}complete") is not None, first)
    sid = first["sessionid"]
    # Invalid values: the stage stays, and a good answer still works afterwards.
    await refused(execute(admin, "add-user", sid, "complete", submit_form(admin, {"accountjid": "bad@@jid"})),
                  "bad-request", "bad-payload")
    await refused(execute(admin, "add-user", sid, "complete", submit_form(admin, {"accountjid": "x@localhost"})),
                  "bad-request", "bad-payload")  # the passwords are required
    await refused(execute(admin, "add-user", sid, "prev"), "bad-request", "bad-action")
    await refused(execute(admin, "add-user", sid, "fly"), "bad-request", "malformed-action")
    canceled = await execute(admin, "add-user", sid, "cancel")
    check(canceled["status"] == "canceled", canceled)
    await refused(execute(admin, "add-user", sid, "complete", submit_form(admin, {"accountjid": "x@localhost"})),
                  "not-allowed", "session-expired")
    await refused(execute(admin, "add-user", "no-such-session", "complete"), "bad-request", "bad-sessionid")
    # A list-single value that is not one of the options.
    lst = await execute(admin, "get-registered-users-list")
    await refused(execute(admin, "get-registered-users-list", lst["sessionid"], "complete",
                          submit_form(admin, {"max_items": "7"})), "bad-request", "bad-payload")
    # An account of another host.
    await refused(run(admin, "disable-user", {"accountjids": ["someone@elsewhere.example"]}), "bad-request")
    # An unknown node.
    try:
        await admin["xep_0050"].send_command(env.host, f"{ADMIN}#format-disk", timeout=10)
        raise AssertionError("an unknown node was accepted")
    except IqError as e:
        check(e.iq["error"]["condition"] == "item-not-found", e.iq)
    # A session idle past ten minutes of the server's clock has expired.
    stale = await execute(admin, "announce")
    iq = admin.Iq(stype="set", sto=env.host)
    iq.append(ET.fromstring("<advance xmlns='urn:causerie:testing:clock' seconds='601'/>"))
    await iq.send(timeout=10)
    await refused(execute(admin, "announce", stale["sessionid"], "complete",
                          submit_form(admin, {"announcement": ["late"]})), "not-allowed", "session-expired")


def cli(env, *args, check_ok=True, input=None):
    return env.server.cli(*args, check=check_ok, input=input)


async def test_cli_beside_the_running_server(env):
    sock = os.path.join(env.server.data_dir, "control.sock")
    st = os.stat(sock)
    check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.getuid(),
          f"control socket mode {oct(st.st_mode)}")
    jid, pw = env.user("clifan")
    c = await env.connect(f"{jid}/r", pw)
    r = cli(env, "announce", "localhost", "-", input="Server restart at noon.\nThanks.\n")
    check("sent to" in r.stdout, r.stdout)
    m = await c.next_message(lambda m: m["from"] == env.host)
    check(m["type"] == "headline" and m["body"] == "Server restart at noon.\nThanks.", m)
    check(jid in cli(env, "user", "online", "localhost").stdout.split(), "user online lists the client")
    stats = cli(env, "user", "stats", jid).stdout
    check("onlineresources: r" in stats and "ipaddresses: 127.0.0.1" in stats, stats)
    r = cli(env, "adhoc", "localhost", "get-registered-users-num")
    check(r.stdout.startswith("registeredusersnum: "), r.stdout)
    r = cli(env, "adhoc", "localhost", "no-such-command", check_ok=False)
    check(r.returncode != 0 and "item-not-found" in r.stderr, r.stderr)
    mark = env.server.log_mark()
    r = cli(env, "user", "kick", jid)
    check("1 session(s)" in r.stdout, r.stdout)
    await ended(env, c.boundjid, mark)
    # Disabling through the live server ends the session at once and refuses the next login.
    c = await env.connect(f"{jid}/r", pw)
    mark = env.server.log_mark()
    cli(env, "user", "disable", jid)
    await ended(env, c.boundjid, mark)
    check(await env.login_refused(f"{jid}/x", pw), "disabled from the CLI")
    cli(env, "user", "enable", jid)
    c = await env.connect(f"{jid}/r", pw)
    cli(env, "motd", "set", "localhost", "From the command line")
    m = await c.next_message(lambda m: m["from"] == env.host)
    check(m["body"] == "From the command line", m)
    check(cli(env, "motd", "show", "localhost").stdout.strip() == "From the command line", "motd show")
    cli(env, "motd", "delete", "localhost")
    # Deleting a user through the live server ends its session.
    mark = env.server.log_mark()
    check("deleted" in cli(env, "user", "del", jid).stdout, "user del")
    await ended(env, c.boundjid, mark)


async def test_cli_without_a_server(env):
    jid, pw = env.user("offline-admin-target")
    await env.close_all()
    env.server.stop()
    try:
        r = cli(env, "user", "online", "localhost", check_ok=False)
        check(r.returncode != 0 and "no server is running" in r.stderr, r.stderr)
        cli(env, "user", "disable", jid)
        cli(env, "motd", "set", "localhost", "Stored while the server was down")
        check(jid in cli(env, "user", "list", "localhost").stdout.split(), "user list reads the database")
    finally:
        env.server.start()
    check(await env.login_refused(f"{jid}/x", pw), "disabled without a server, refused by the server")
    cli(env, "user", "enable", jid)
    c = await env.connect(f"{jid}/x", pw)
    m = await c.next_message(lambda m: m["from"] == env.host)
    check(m["body"] == "Stored while the server was down", m)


if __name__ == "__main__":
    harness.main(globals(), host_toml='admins = ["admin@localhost"]', extra_toml="[testing]\nmanual_clock = true")
