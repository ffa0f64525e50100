"""SIGHUP reloads hosts and limits without dropping sessions (issue 14 item 8): one configuration change
adds a host (served at once, its MUC service included), removes another (its sessions end with
<host-gone/>, RFC 6120 §4.9.3.6), opens registration and names an admin on the host that stays, and
lowers [limits] max_stanza_size — while the sessions of the host that stays go on chatting. A change
that would make a host of a service's domain is refused whole."""
import asyncio
import signal

import harness
from harness import check, RawClient, in_thread

HOSTS = ("localhost", "old.example")


def write_config(env, text):
    with open(env.server.config_path, "w") as f:
        f.write(text)


async def sighup(env, expect="reload done"):
    mark = env.server.log_mark()
    env.server.proc.send_signal(signal.SIGHUP)
    await env.server.wait_log(expect, since=mark)


def big_message(to, size):
    return f"<message to='{to}' type='chat'><body>{'x' * size}</body></message>"


async def test_hosts_and_limits_change_under_live_sessions(env):
    ana = await env.connect(*env.user("ana"))
    bob = await env.connect(*env.user("bob"))
    env.server.cli("user", "add", "oli@old.example", "--password", "pw-oli-123456")
    oli = await env.connect("oli@old.example", "pw-oli-123456")
    host_gone = asyncio.get_event_loop().create_future()
    oli.add_event_handler("stream_error", lambda e: host_gone.done() or host_gone.set_result(e["condition"]))
    # Before: a 30 000-byte message is within the default limits, registration on localhost is closed.
    raw = RawClient(env.server)
    await in_thread(raw.login, "bob", "pw-" + "x" * 8, "before")
    raw.send(big_message("ana@localhost", 30000))
    await ana.next_message(lambda m: len(m["body"]) == 30000)
    raw.close()
    why = await env.connect("newbie@localhost", "pw-newbie-123", register=True, expect_failure=True)
    # Closed: no in-band registration is offered, so the client goes on to SASL for an account that
    # does not exist.
    check("not-authorized" in str(why), f"registration refused while closed: {why!r}")

    original = open(env.server.config_path).read()
    changed = (original.replace('name = "old.example"', 'name = "new.example"')
               .replace('name = "localhost"\nregistration = "closed"',
                        'name = "localhost"\nregistration = "open"\nadmins = ["ana@localhost"]')
               + "\n[limits]\nmax_stanza_size = 20000\n")
    check(changed.count("new.example") == 1 and 'registration = "open"' in changed, "the test edits the file it means to")
    write_config(env, changed)
    await sighup(env)

    # The removed host's session ends with <host-gone/>; the others go on.
    check(await asyncio.wait_for(host_gone, harness.DEFAULT_TIMEOUT) == "host-gone", "old.example's session got host-gone")
    ana.send_message(mto="bob@localhost", mbody="still here", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "still here")

    # The added host is served: an account there logs in and chats with localhost, and its MUC service
    # answers (started by the module when the host was added).
    env.server.cli("user", "add", "nina@new.example", "--password", "pw-nina-123456")
    nina = await env.connect("nina@new.example", "pw-nina-123456", plugins=("xep_0030",))
    nina.send_message(mto="ana@localhost", mbody="hello from the new host", mtype="chat")
    await ana.next_message(lambda m: m["body"] == "hello from the new host" and m["from"].bare == "nina@new.example")
    items = await nina["xep_0030"].get_items(jid="new.example")
    jids = [i[0] for i in items["disco_items"]["items"]]
    check("conference.new.example" in jids, f"the new host lists its MUC service: {jids}")
    info = await nina["xep_0030"].get_info(jid="conference.new.example")
    check(any(i[0] == "conference" for i in info["disco_info"]["identities"]), "the MUC service answers")
    # The removed host is not served any more: a login there fails.
    why = await env.connect("oli@old.example", "pw-oli-123456", expect_failure=True)
    check(why is not None, "old.example refuses logins")

    # Registration on localhost is open now.
    newbie = await env.connect("newbie@localhost", "pw-newbie-123", register=True)
    newbie.send_message(mto="ana@localhost", mbody="registered after the reload", mtype="chat")
    await ana.next_message(lambda m: m["body"] == "registered after the reload")

    # A new connection is held to the new max_stanza_size (RFC 6120 §4.9.3.12 policy-violation).
    raw = RawClient(env.server)
    try:
        await in_thread(raw.login, "bob", "pw-" + "x" * 8, "after")
        raw.send(big_message("ana@localhost", 30000))
        text = await in_thread(raw.read_until, "</stream:stream>")
        check("policy-violation" in text, f"a stanza over the new limit ends the stream: {text[-300:]}")
    finally:
        raw.close()

    # A file that would make a host of a service's domain is refused whole: the new host stays served.
    write_config(env, changed.replace('name = "new.example"', 'name = "conference.localhost"'))
    await sighup(env, expect="nothing changed")
    nina.send_message(mto="ana@localhost", mbody="the refused reload changed nothing", mtype="chat")
    await ana.next_message(lambda m: m["body"] == "the refused reload changed nothing")
    write_config(env, changed)


harness.main(globals(), hosts=HOSTS, registration={"localhost": "closed"})
