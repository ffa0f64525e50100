"""Issue 12, item 5: XEP-0357 push notifications. The app server is a slixmpp ComponentXMPP the test runs on
a component listener (XEP-0114); it records every pubsub publish it receives and answers it (or, for the
node 'broken', answers with an error). Clients enable push with a publish-options form, then their session
is detached (XEP-0198: the TCP connection cut, the session waiting for resumption) or ended; a message
for them reaches the app server as a publish with the urn:xmpp:push:summary form.

That something was NOT published is checked with a marker: a later message for another registration,
sent after it along the same path (the server handles one sender's stanzas in order, and notifications
leave through one storage lane and one component connection), must be the next publish."""
import asyncio

import slixmpp
from slixmpp.exceptions import XMPPError
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

import harness
from harness import check

APP = "push.localhost"
SECRET = "push-secret"
PUSH = "urn:xmpp:push:0"
PUBSUB = "http://jabber.org/protocol/pubsub"
XDATA = "jabber:x:data"
SM = "urn:xmpp:sm:3"
PLUGINS = ["xep_0030", "xep_0198", "xep_0199"]
# Accounts meant to be fully offline log in without stream management: the server keeps a resumable
# session detached even after a clean </stream:stream> (see the report of this branch), which would
# take the detached path instead of offline storage.
OFFLINE_PLUGINS = ["xep_0030", "xep_0199"]

COMPONENT = f"""
[[component]]
domain = "{APP}"
secret = "{SECRET}"
"""


class AppServer(slixmpp.ComponentXMPP):
    """The XMPP Push Service of an app server (XEP-0357 §2): takes publishes, answers them."""

    def __init__(self, port):
        super().__init__(APP, SECRET, "127.0.0.1", port)
        self.publishes = asyncio.Queue()
        self.register_handler(Callback("push publish", MatchXPath(f"{{{self.default_ns}}}iq/{{{PUBSUB}}}pubsub"),
                                       self.on_publish))

    def on_publish(self, iq):
        publish = iq.xml.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish")
        self.publishes.put_nowait(iq)
        if publish is not None and publish.get("node") == "broken":
            raise XMPPError("item-not-found", etype="cancel")
        iq.reply().send()

    async def next_publish(self, timeout=harness.DEFAULT_TIMEOUT):
        iq = await asyncio.wait_for(self.publishes.get(), timeout)
        return Publish(iq)


class Publish:
    """What the server published: the node, the summary form and the publish options."""

    def __init__(self, iq):
        self.iq = iq
        self.sender = str(iq["from"])
        p = iq.xml.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish")
        self.node = p.get("node") if p is not None else None
        form = p.find(f"{{{PUBSUB}}}item/{{{PUSH}}}notification/{{{XDATA}}}x") if p is not None else None
        self.summary = fields(form)
        options = iq.xml.find(f"{{{PUBSUB}}}pubsub/{{{PUBSUB}}}publish-options/{{{XDATA}}}x")
        self.options = fields(options)

    def __repr__(self):
        return f"<publish node={self.node} summary={self.summary} options={self.options}>"


def fields(form):
    if form is None:
        return None
    return {f.get("var"): f.findtext(f"{{{XDATA}}}value") for f in form.findall(f"{{{XDATA}}}field")}


APP_SERVER = []  # one connection for the script (a second one for the same domain would be refused)


async def app_server(env):
    if APP_SERVER:
        return APP_SERVER[0]
    comp = AppServer(env.server.extra_ports["component"])
    started = asyncio.get_event_loop().create_future()
    comp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
    comp.connect()
    await asyncio.wait_for(started, 10)
    APP_SERVER.append(comp)
    return comp


async def connect_sm(env, name, resource="phone"):
    jid, pw = env.user(name)
    loop = asyncio.get_event_loop()
    enabled = loop.create_future()

    def setup(cl):
        cl.add_event_handler("sm_enabled", lambda _: enabled.done() or enabled.set_result(True))
    c = await env.connect(f"{jid}/{resource}", pw, PLUGINS, setup=setup)
    await asyncio.wait_for(enabled, 10)
    check(c["xep_0198"].sm_id, "resumption allowed")
    return c


async def enable(client, node, secret=None, jid=APP):
    iq = client.Iq(stype="set")
    form = ""
    if secret:
        form = (f"<x xmlns='{XDATA}' type='submit'>"
                "<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"
                f"<field var='secret'><value>{secret}</value></field></x>")
    iq.append(ET.fromstring(f"<enable xmlns='{PUSH}' jid='{jid}' node='{node}'>{form}</enable>"))
    return await iq.send(timeout=10)


async def disable(client, node=None, jid=APP):
    iq = client.Iq(stype="set")
    node_attr = f" node='{node}'" if node else ""
    iq.append(ET.fromstring(f"<disable xmlns='{PUSH}' jid='{jid}'{node_attr}/>"))
    return await iq.send(timeout=10)


async def cut(env, client):
    """The TCP connection goes without a closing stream (a phone changing networks); the session waits."""
    mark = env.server.log_mark()
    client.transport.abort()
    await env.server.wait_log(f"{client.boundjid} detached, resumable", since=mark)


async def offline_with_push(env, name, node):
    """An account that enabled push and then logged out: no session at all."""
    jid, pw = env.user(name)
    c = await env.connect(f"{jid}/phone", pw, OFFLINE_PLUGINS)
    await enable(c, node)
    await env.disconnect(c)
    return jid, pw


async def test_discovery_and_bad_requests(env):
    jid, pw = env.user("disco")
    c = await env.connect(f"{jid}/r", pw, PLUGINS)
    info = await c["xep_0030"].get_info(jid=jid, cached=False)
    check(PUSH in info["disco_info"]["features"], "§3: the account advertises urn:xmpp:push:0")
    for bad, condition in ((f"<enable xmlns='{PUSH}' node='n'/>", "bad-request"),
                           (f"<enable xmlns='{PUSH}' jid='a@b@c' node='n'/>", "jid-malformed"),
                           (f"<enable xmlns='{PUSH}' jid='{APP}' node='n'><x xmlns='{XDATA}' type='submit'>"
                            "<field var='FORM_TYPE'><value>urn:example:not-options</value></field></x></enable>",
                            "bad-request"),
                           (f"<disable xmlns='{PUSH}'/>", "bad-request")):
        iq = c.Iq(stype="set")
        iq.append(ET.fromstring(bad))
        try:
            await iq.send(timeout=10)
            raise AssertionError(f"accepted: {bad}")
        except harness.IqError as e:
            check(e.iq["error"]["condition"] == condition, f"{bad}: {e.iq['error']['condition']}")
    # Someone else's account: forbidden.
    other, _ = env.user("disco-other")
    iq = c.Iq(stype="set", sto=other)
    iq.append(ET.fromstring(f"<enable xmlns='{PUSH}' jid='{APP}' node='n'/>"))
    try:
        await iq.send(timeout=10)
        raise AssertionError("enabled push for another account")
    except harness.IqError as e:
        check(e.iq["error"]["condition"] == "forbidden", str(e.iq))


async def test_detached_session_is_pushed(env):
    app = await app_server(env)
    a_jid, a_pw = env.user("alice")
    alice = await env.connect(a_jid + "/desk", a_pw, PLUGINS)
    bob = await connect_sm(env, "bob")
    bob_bare = bob.boundjid.bare
    await enable(bob, "bob-phone", secret="s3cr3t")
    # While bob is connected, messages reach him and nothing is published.
    alice.send_message(mto=bob.boundjid, mbody="you are here", mtype="chat")
    await bob.next_message(lambda m: m["body"] == "you are here")
    await cut(env, bob)
    # A chat state alone wakes nobody; the message after it does, and is the first publish.
    state = alice.Message(sto=bob.boundjid, stype="chat")
    state.append(ET.fromstring("<composing xmlns='http://jabber.org/protocol/chatstates'/>"))
    state.send()
    alice.send_message(mto=bob.boundjid, mbody="wake up", mtype="chat")
    p = await app.next_publish()
    check(p.sender == bob_bare, f"§5: published from the account: {p.sender}")
    check(p.node == "bob-phone", str(p))
    check(p.summary.get("FORM_TYPE") == "urn:xmpp:push:summary", str(p))
    check(p.summary.get("message-count") == "1", str(p))
    check(p.summary.get("last-message-sender") == str(alice.boundjid), str(p))
    check("last-message-body" not in p.summary, f"no body unless the operator allows it: {p}")
    check(p.options.get("FORM_TYPE") == "http://jabber.org/protocol/pubsub#publish-options"
          and p.options.get("secret") == "s3cr3t", f"the enable form as publish options: {p}")
    alice.send_message(mto=bob_bare, mbody="again", mtype="chat")
    p = await app.next_publish()
    check(p.node == "bob-phone" and p.summary.get("message-count") == "2", f"counted: {p}")
    # The phone comes back: both messages are there, resumed.
    loop = asyncio.get_event_loop()
    resumed = loop.create_future()
    bob.add_event_handler("session_resumed", lambda _: resumed.done() or resumed.set_result(True))
    bob.connect(("127.0.0.1", env.server.c2s_port))
    await asyncio.wait_for(resumed, 10)
    await bob.next_message(lambda m: m["body"] == "again")
    # Done with this phone: when its stream closes, what it did not acknowledge goes to offline storage
    # (XEP-0198 §5), which would otherwise push again into the next test's app server.
    await disable(bob)


async def test_offline_account_is_pushed_and_disable_stops_it(env):
    app = await app_server(env)
    a_jid, a_pw = env.user("carol")
    carol = await env.connect(a_jid + "/desk", a_pw, PLUGINS)
    d_jid, d_pw = await offline_with_push(env, "dave", "dave-phone")
    e_jid, _ = await offline_with_push(env, "erin", "erin-phone")
    carol.send_message(mto=d_jid, mbody="are you there?", mtype="chat")
    p = await app.next_publish()
    check(p.sender == d_jid and p.node == "dave-phone", str(p))
    check(p.summary.get("message-count") == "1" and p.summary.get("last-message-sender") == str(carol.boundjid), str(p))
    check(p.options is None, f"no form at enable, no publish options: {p}")
    # dave disables push (every node of the service: no 'node'), then goes away again.
    dave = await env.connect(d_jid + "/phone", d_pw, OFFLINE_PLUGINS)
    await dave.next_message(lambda m: m["body"] == "are you there?")
    await disable(dave)
    await env.disconnect(dave)
    carol.send_message(mto=d_jid, mbody="hello?", mtype="chat")
    carol.send_message(mto=e_jid, mbody="marker", mtype="chat")
    p = await app.next_publish()
    check(p.node == "erin-phone", f"nothing for dave once disabled; the marker for erin came first: {p}")


async def test_app_server_error_disables_the_registration(env):
    app = await app_server(env)
    a_jid, a_pw = env.user("frank")
    frank = await env.connect(a_jid + "/desk", a_pw, PLUGINS)
    g_jid, g_pw = env.user("grace")
    grace = await env.connect(g_jid + "/phone", g_pw, OFFLINE_PLUGINS)
    await enable(grace, "broken")
    await enable(grace, "grace-phone")
    await env.disconnect(grace)
    mark = env.server.log_mark()
    frank.send_message(mto=g_jid, mbody="one", mtype="chat")
    got = sorted([(await app.next_publish()).node, (await app.next_publish()).node])
    check(got == ["broken", "grace-phone"], f"both registrations notified: {got}")
    await env.server.wait_log(f"push: {APP} answered item-not-found for {g_jid} node 'broken': registration disabled",
                              since=mark)
    # Logged after the write that disabled it was committed: later notifications no longer see it.
    frank.send_message(mto=g_jid, mbody="two", mtype="chat")
    p = await app.next_publish()
    check(p.node == "grace-phone" and p.summary.get("message-count") == "2", f"only the working one: {p}")
    h_jid, _ = await offline_with_push(env, "heidi", "heidi-phone")
    frank.send_message(mto=h_jid, mbody="marker", mtype="chat")
    p = await app.next_publish()
    check(p.node == "heidi-phone", f"the broken node got nothing more: {p}")


async def test_registrations_survive_a_restart(env):
    # Last: the restart ends the app server's connection too.
    await app_server(env)
    i_jid, _ = await offline_with_push(env, "ivan", "ivan-phone")
    APP_SERVER.pop().disconnect()
    await env.restart()
    app = await app_server(env)
    a_jid, a_pw = env.user("judy")
    judy = await env.connect(a_jid + "/desk", a_pw, PLUGINS)
    judy.send_message(mto=i_jid, mbody="after the restart", mtype="chat")
    p = await app.next_publish()
    check(p.sender == i_jid and p.node == "ivan-phone", str(p))


if __name__ == "__main__":
    harness.main(globals(), extra_toml=COMPONENT, listeners=[("component", "component", "none")])
