"""Issue 14 item 7, data portability: `causerie export` and `causerie import` (XEP-0227) of a server whose
data slixmpp clients made (accounts, roster, vCard, private XML, PEP posts, offline messages, archives, a
MUC room, a pubsub node), into an empty data directory and out again, byte for byte; hostile files refused
with nothing imported; accounts and data from a real Prosody 0.12 (its data directory, with a persistent
room of its MUC component and a node of its pubsub component) and a real ejabberd 23.01 (export_piefxis),
each started here from its own config, filled by slixmpp, stopped, then imported; and the account download
page (HTTPS, HTTP Basic)."""
import asyncio
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import harness
import muc_util
import peers
import pubsub_util as pu
from harness import check
from slixmpp.xmlstream import ET

PIE = "urn:xmpp:pie:0"


def fresh_server(env, name, hosts=None):
    """Another Causerie config with an empty data directory (not started): an import target."""
    workdir = tempfile.mkdtemp(prefix=f"causerie-{name}-")
    return harness.Server(env.server.binary, workdir, os.path.join(env.output, f"{name}.log"),
                          hosts=hosts or env.server.hosts)


def cli(server, *args):
    return subprocess.run([server.binary, *args, "--config", server.config_path], capture_output=True, text=True,
                          timeout=120)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


async def iq(client, to, payload, itype="set"):
    return await pu.send(client, to, payload, itype)


async def test_export_import_export_gives_the_same_document(env):
    a_jid, a_pw = env.user("alice", "alice-secret")
    b_jid, b_pw = env.user("bob", "bob-secret")
    env.user("carol", "carol-secret")
    a = await muc_util.connect(env, a_jid + "/r", a_pw, pu.PEP_PLUGINS)
    b = await muc_util.connect(env, b_jid + "/r", b_pw, pu.PEP_PLUGINS)
    await pu.make_contacts(a, b)
    await iq(a, None, "<query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bobby'><group>Friends</group>"
                      "</item></query>")
    await iq(a, None, "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME></vCard>")
    await iq(a, None, "<query xmlns='jabber:iq:private'><prefs xmlns='test:prefs'><color>blue</color></prefs></query>")
    for n, visibility in ((1, "presence"), (2, "open")):
        await iq(a, None, pu.ps(f"<publish node='{pu.MICROBLOG}'><item id='post-{n}'><entry xmlns='{pu.ATOM}'>"
                                f"<title>Post {n}</title></entry></item></publish>"
                                + pu.publish_options(access_model=visibility)))
    a.send_message(mto=b_jid, mbody="archived hello", mtype="chat")
    await b.next_message(lambda m: m["body"] == "archived hello")
    a.send_message(mto="carol@localhost", mbody="kept offline", mtype="chat")
    room = muc_util.room_jid(env, "tea")
    await muc_util.create(a, room, "alice", {"muc#roomconfig_persistentroom": True,
                                             "muc#roomconfig_roomname": "Tea party"})
    await muc_util.admin_iq(a, room, [{"jid": b_jid, "affiliation": "member"}])
    a.send_message(mto=room, mbody="in the room", mtype="groupchat")
    await a.next_message(lambda m: m["body"] == "in the room")
    service = f"pubsub.{env.host}"
    await iq(a, service, pu.ps("<create node='news'/>"))
    await iq(a, service, pu.ps("<publish node='news'><item id='n1'><p xmlns='urn:example'>Hi</p></item></publish>"))
    await iq(b, service, pu.ps(f"<subscribe node='news' jid='{b_jid}'/>"))
    await harness.storage_barrier(a)
    await harness.storage_barrier(b)
    await env.close_all()

    # The export reads beside the running server.
    first = os.path.join(env.output, "export-1.xml")
    r = cli(env.server, "export", "-o", first)
    check(r.returncode == 0 and "exported 3 account(s)" in r.stderr, r.stderr)
    check(oct(os.stat(first).st_mode & 0o777) == "0o600", "the export (it holds SCRAM keys) is private")
    doc = open(first).read()
    for expected in ("<user name='alice'>", "mechanism='SCRAM-SHA-256'", "<item jid='bob@localhost' name='Bobby' "
                     "subscription='both'><group>Friends</group></item>", "<FN>Alice Liddell</FN>",
                     "<prefs xmlns='test:prefs'><color>blue</color></prefs>", "<title>Post 2</title>",
                     "<offline-messages><message xmlns='jabber:client'", "<body>kept offline</body>",
                     "<archive xmlns='urn:xmpp:pie:0#mam'>", "<body>archived hello</body>",
                     f"jid='{room}'", "Tea party", "affiliation='member' jid='bob@localhost'",
                     f"jid='{service}'", "<items node='news'><item id='n1' publisher='alice@localhost",
                     "<subscription jid='bob@localhost' subscription='subscribed'"):
        check(expected in doc, f"{expected!r} in the export")

    target = fresh_server(env, "imported")
    r = cli(target, "import", first)
    check(r.returncode == 0 and "imported 3 account(s)" in r.stdout, r.stdout + r.stderr)
    second = os.path.join(env.output, "export-2.xml")
    r = cli(target, "export", "-o", second)
    check(r.returncode == 0, r.stderr)
    check(open(second).read() == doc, "the second export is the first, byte for byte")

    # The imported server works: same passwords, roster, archive, posts, room, offline message.
    target.start()
    try:
        env2 = harness.Env(target, env.output)
        c = await env2.connect("carol@localhost/r", "carol-secret", presence=True)
        await c.next_message(lambda m: m["body"] == "kept offline")
        a2 = await muc_util.connect(env2, a_jid + "/r2", a_pw, pu.PEP_PLUGINS)
        roster = await a2.get_roster()
        check(roster["roster"]["items"]["bob@localhost"]["subscription"] == "both", "roster kept")
        items = await iq(a2, a_jid, pu.ps(f"<items node='{pu.MICROBLOG}'/>"), "get")
        check([i.get("id") for i in items.find(pu.q(pu.PUBSUB, "items"))] == ["post-2", "post-1"], "posts kept")
        res = await iq(a2, None, "<query xmlns='urn:xmpp:mam:2'/>")
        check(res is not None, "MAM query answered")
        await env2.close_all()
    finally:
        target.stop()
        shutil.rmtree(target.workdir, ignore_errors=True)


async def test_hostile_files_are_refused_and_nothing_is_imported(env):
    target = fresh_server(env, "hostile")
    d = tempfile.mkdtemp(prefix="causerie-hostile-")
    scram = ("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>{iter}"
             "</iter-count><salt>c2FsdA==</salt><server-key>{key}</server-key><stored-key>{key}</stored-key>"
             "</scram-credentials>")
    key20 = base64.b64encode(b"k" * 20).decode()
    good = "<user name='fine' password='a-fine-password'/>"

    def doc(body):
        return f"<?xml version='1.0'?><server-data xmlns='{PIE}'><host jid='localhost'>{good}{body}</host></server-data>"
    cases = [
        ("billion laughs", "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 "
         "'&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'><!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
         f"<server-data xmlns='{PIE}'><host jid='localhost'>{good}<user name='x' password='&lol3;'/></host>"
         "</server-data>", "DOCTYPE is not allowed"),
        ("external entity", "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
         f"<server-data xmlns='{PIE}'>&e;</server-data>", "DOCTYPE is not allowed"),
        ("wrong hash", doc("<user name='w'>" + scram.format(iter=4096, key=base64.b64encode(b"k" * 32).decode())
                           + "</user>"), "SCRAM keys are not 20 bytes"),
        ("iterations", doc("<user name='i'>" + scram.format(iter=1, key=key20) + "</user>"), "outside [4096"),
        ("invalid JID", doc("<user name='j'>" + scram.format(iter=4096, key=key20) + "<query xmlns='jabber:iq:roster'>"
                            "<item jid='not a@jid@x'/></query></user>"), "invalid JID"),
        ("duplicate user", doc(good), "already exists"),
        ("truncated", doc("<user name='t'"), "not well-formed"),
        ("host not served", doc("").replace("jid='localhost'", "jid='elsewhere.example'"), "not served"),
    ]
    try:
        for name, text, error in cases:
            path = write(os.path.join(d, name.replace(" ", "-") + ".xml"), text)
            r = cli(target, "import", path)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            check(r.returncode != 0 and len(lines) == 1, f"{name}: one error line, got {r.stderr!r}")
            check(error in lines[0] and "nothing was imported" in lines[0], f"{name}: {lines[0]}")
            check(r.stdout == "", f"{name}: nothing reported imported")
        # A huge file is refused by its size before anything is read into the database.
        big = write(os.path.join(d, "big.xml"), doc("<user name='b' password='a-fine-password'>" +
                                                   "<x xmlns='pad'/>" * 20000 + "</user>"))
        r = cli(target, "import", big, "--max-size", "65536")
        check(r.returncode != 0 and "larger than the import limit" in r.stderr, r.stderr)
        # After all that, the data directory holds no account at all.
        r = cli(target, "export")
        check(r.returncode == 0 and "<user" not in r.stdout, r.stdout)
        r = cli(target, "import", write(os.path.join(d, "ok.xml"), doc("")))
        check(r.returncode == 0 and "imported 1 account(s)" in r.stdout, r.stdout + r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(target.workdir, ignore_errors=True)


def https_get(env, path, auth=None, port=None):
    ctx = ssl.create_default_context(cafile=env.server.cert_path)
    conn = http.client.HTTPSConnection("localhost", port or env.server.extra_ports["https"], context=ctx, timeout=20)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), body


async def test_user_downloads_their_own_data(env):
    jid, pw = env.user("dora", "dora-explorer")
    c = await env.connect(jid + "/r", pw, pu.PEP_PLUGINS)
    await iq(c, None, "<vCard xmlns='vcard-temp'><FN>Dora</FN></vCard>")
    await iq(c, None, pu.ps(f"<publish node='{pu.MICROBLOG}'><item id='trip'><entry xmlns='{pu.ATOM}'>"
                            "<title>To the mountain</title></entry></item></publish>"))
    await iq(c, None, "<query xmlns='jabber:iq:roster'><item jid='boots@localhost' name='Boots'/></query>")
    await harness.storage_barrier(c)
    status, headers, body = https_get(env, "/account/export")
    check(status == 401 and "Basic" in headers.get("WWW-Authenticate", ""), f"{status} {headers}")
    status, _, _ = https_get(env, "/account/export", auth=f"{jid}:wrong-password")
    check(status == 401, f"wrong password: {status}")
    status, headers, body = https_get(env, "/account/export", auth=f"{jid}:{pw}")
    check(status == 200 and headers["Content-Type"].startswith("application/xml"), f"{status} {headers}")
    check(f'filename="{jid}.xml"' in headers.get("Content-Disposition", ""), str(headers))
    root = ET.fromstring(body)
    user = root.find(f"{{{PIE}}}host/{{{PIE}}}user")
    check(user is not None and user.get("name") == "dora", body[:300])
    text = body.decode()
    for expected in ("<FN>Dora</FN>", "<title>To the mountain</title>", "<item jid='boots@localhost' name='Boots'"):
        check(expected in text, f"{expected!r} in the download")
    check("scram-credentials" not in text, "no password hashes in a user's download")
    # The username alone is taken on the Host's domain.
    status, _, body2 = https_get(env, "/account/export", auth=f"dora:{pw}")
    check(status == 200 and body2 == body, f"username only: {status}")
    # Plain HTTP is refused: the password would cross the network in clear.
    conn = http.client.HTTPConnection("127.0.0.1", env.server.extra_ports["http"], timeout=20)
    conn.request("GET", "/account/export",
                 headers={"Authorization": "Basic " + base64.b64encode(f"{jid}:{pw}".encode()).decode()})
    r = conn.getresponse()
    check(r.status == 403 and b"HTTPS" in r.read(), f"plain HTTP: {r.status}")
    conn.close()
    # Guessing is cut short: after 5 failures this address waits (429), even with the right password.
    for _ in range(5):
        https_get(env, "/account/export", auth=f"{jid}:guess")
    status, _, _ = https_get(env, "/account/export", auth=f"{jid}:{pw}")
    check(status == 429, f"after 5 failures: {status}")


# --- Prosody 0.12 and ejabberd 23.01, started here from their own configs ---------------------------------

def spawn(args, cwd, log, env=None):
    out = open(log, "a")
    return subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True, preexec_fn=peers._die_with_parent), out


def stop(proc, out):
    """Ends the process group started by spawn, by its id."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait()
    out.close()


def wait_port(proc, port, what, timeout=60):
    peers._wait_port(proc, "127.0.0.1", port, time.monotonic() + timeout, what)


async def peer_client(jid, password, port, tls):
    """A slixmpp client of a peer server (its certificate is not checked: a throw-away self-signed one)."""
    c = harness.Client(jid, password)
    for p in ("xep_0030", "xep_0054", "xep_0049", "xep_0060"):
        c.register_plugin(p)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c.ssl_context = ctx
    started = asyncio.get_event_loop().create_future()
    c.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
    c.add_event_handler("failed_all_auth", lambda _: started.done() or started.set_exception(AssertionError("auth")))
    if tls:
        c.connect(("127.0.0.1", port))
    else:
        c.connect(("127.0.0.1", port), disable_starttls=True, force_starttls=False)
    await asyncio.wait_for(started, 20)
    return c


async def fill_peer(alice, bob_jid, domain):
    """What both peers get from slixmpp: a roster with groups, a vCard, private XML, a PEP post, and an
    offline message to bob (who never logs in)."""
    await alice.update_roster(bob_jid, name="Bob B", groups=["Friends", "Work"])
    await iq(alice, None, "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME></vCard>")
    await iq(alice, None, "<query xmlns='jabber:iq:private'><prefs xmlns='test:prefs'><color>blue</color></prefs>"
                          "</query>")
    await iq(alice, None, pu.ps(f"<publish node='{pu.MICROBLOG}'><item id='post1'><entry xmlns='{pu.ATOM}'>"
                                "<title>From elsewhere</title></entry></item></publish>"))
    alice.send_message(mto=bob_jid, mbody="hi bob, you are offline", mtype="chat")
    await harness.round_trip(alice)  # the message was handled before the ping's answer
    await alice.disconnect()


MUC_NS = "http://jabber.org/protocol/muc"
PROSODY_ROOM = "tea@conference.p.test"
PROSODY_PUBSUB = "pubsub.p.test"


async def fill_prosody_services(alice):
    """What Prosody's components get from slixmpp: a persistent members-only room (name, description,
    subject, an owner, a member with a reserved nickname, an outcast, two archived messages) on its MUC
    component, and a node with a title, two items, a publisher and a subscriber on its pubsub component."""
    room = PROSODY_ROOM
    pres = ET.fromstring(f"<presence xmlns='jabber:client' to='{room}/Alice'><x xmlns='{MUC_NS}'/></presence>")
    alice.send(alice.Presence(xml=pres))
    await alice.next_presence(lambda p: p["from"] == f"{room}/Alice" and
                              p.xml.find(f"{{{MUC_NS}#user}}x/{{{MUC_NS}#user}}status[@code='201']") is not None)
    await iq(alice, room, f"<query xmlns='{MUC_NS}#owner'>" + pu.form(MUC_NS + "#roomconfig", {
        "muc#roomconfig_roomname": "Tea party", "muc#roomconfig_roomdesc": "Afternoon tea, members only",
        "muc#roomconfig_persistentroom": "1", "muc#roomconfig_membersonly": "1", "muc#roomconfig_publicroom": "0",
        "muc#roomconfig_whois": "anyone", "muc#roomconfig_changesubject": "0"}) + "</query>")
    # Prosody 0.12 applies the first <item/> of a muc#admin set only: one request each.
    for item in ("<item jid='bob@p.test' affiliation='member' nick='Bobby'/>",
                 "<item jid='mallory@elsewhere.example' affiliation='outcast'><reason>spam</reason></item>"):
        await iq(alice, room, f"<query xmlns='{MUC_NS}#admin'>{item}</query>")
    # slixmpp has no event for a message without a body: the reflections of the two below come after it.
    alice.send_message(mto=room, msubject="Earl Grey or Darjeeling?", mtype="groupchat")
    for body in ("Welcome to tea", "Milk first?"):
        alice.send_message(mto=room, mbody=body, mtype="groupchat")
        await alice.next_message(lambda m: m["from"] == f"{room}/Alice" and m["body"] == body)
    svc = PROSODY_PUBSUB
    await iq(alice, svc, pu.ps("<create node='news'/><configure>" + pu.node_config(title="Tea news", max_items="10")
                               + "</configure>"))
    for n, title in (("n1", "Scones are ready"), ("n2", "Jam or cream first")):
        await iq(alice, svc, pu.ps(f"<publish node='news'><item id='{n}'><entry xmlns='{pu.ATOM}'><title>{title}"
                                   "</title></entry></item></publish>"))
    await iq(alice, svc, pu.ps("<affiliations node='news'><affiliation jid='bob@p.test' affiliation='publisher'/>"
                               "</affiliations>", pu.OWNER))
    await iq(alice, svc, pu.ps("<subscribe node='news' jid='alice@p.test'/>"))


async def check_prosody_services(env2, mech):
    """Causerie serves what fill_prosody_services left in Prosody's components."""
    room = PROSODY_ROOM
    a = await muc_util.connect(env2, "alice@p.test/m", "alice-pass", pu.PEP_PLUGINS, mech=mech)
    info = await a["xep_0030"].get_info(jid=room)
    feats = set(info["disco_info"]["features"])
    for f in ("muc_persistent", "muc_membersonly", "muc_hidden", "muc_nonanonymous", "muc_unsecured"):
        check(f in feats, f"the imported room has {f}: {sorted(feats)}")
    check(("conference", "text", None, "Tea party") in info["disco_info"]["identities"], "the room's name")
    check(muc_util.form_values(info).get("muc#roominfo_description") == "Afternoon tea, members only",
          f"the room's description: {muc_util.form_values(info)}")
    pres, subject, _, history = await muc_util.join(a, room, "Alice")
    check(muc_util.item(pres).get("affiliation") == "owner", f"alice owns the room: {muc_util.item(pres)}")
    check(subject["subject"] == "Earl Grey or Darjeeling?" and subject["from"] == f"{room}/Alice",
          f"the subject and who set it: {subject}")
    check([m["body"] for m in history] == ["Welcome to tea", "Milk first?"], f"the history: {history}")
    form = (await a["xep_0045"].get_room_config(room)).get_fields()
    check(form["muc#roomconfig_roomname"]["value"] == "Tea party" and form["muc#roomconfig_membersonly"]["value"]
          and form["muc#roomconfig_persistentroom"]["value"] and form["muc#roomconfig_whois"]["value"] == "anyone",
          "the room's configuration")
    for aff, expected in (("owner", ["alice@p.test"]), ("member", ["bob@p.test"]),
                          ("outcast", ["mallory@elsewhere.example"])):
        got = await muc_util.admin_list(a, room, affiliation=aff)
        check([i["jid"] for i in got] == expected, f"{aff}s: {got}")
    members = await muc_util.admin_list(a, room, affiliation="member")
    check(members[0].get("nick") == "Bobby", f"bob's reserved nickname: {members}")
    svc = PROSODY_PUBSUB
    items = await iq(a, svc, pu.ps("<items node='news'/>"), "get")
    got = {i.get("id"): i.findtext(f"{{{pu.ATOM}}}entry/{{{pu.ATOM}}}title")
           for i in items.find(pu.q(pu.PUBSUB, "items"))}
    check(got == {"n1": "Scones are ready", "n2": "Jam or cream first"}, f"the node's items: {got}")
    config = await iq(a, svc, pu.ps("<configure node='news'/>", pu.OWNER), "get")
    fields = {f.get("var"): f.findtext(f"{{{pu.DATA}}}value") for f in config.iter(f"{{{pu.DATA}}}field")}
    check(fields.get("pubsub#title") == "Tea news" and fields.get("pubsub#max_items") == "10",
          f"the node's configuration: {fields}")
    affs = await iq(a, svc, pu.ps("<affiliations node='news'/>", pu.OWNER), "get")
    got = {e.get("jid"): e.get("affiliation") for e in affs.iter(f"{{{pu.OWNER}}}affiliation")}
    check(got == {"alice@p.test": "owner", "bob@p.test": "publisher"}, f"the node's affiliations: {got}")
    subs = await iq(a, svc, pu.ps("<subscriptions node='news'/>", pu.OWNER), "get")
    got = {e.get("jid"): e.get("subscription") for e in subs.iter(f"{{{pu.OWNER}}}subscription")}
    check(got == {"alice@p.test": "subscribed"}, f"the node's subscriptions: {got}")


async def check_imported(env, target, domain, mech, more=None):
    """Logs in to Causerie with the peer's passwords and finds what fill_peer made (and what `more` checks)."""
    target.start()
    try:
        env2 = harness.Env(target, env.output)
        if more:
            await more(env2, mech)
        a = await env2.connect(f"alice@{domain}/r", "alice-pass", ["xep_0054"], mech=mech)
        roster = await a.get_roster()
        item = roster["roster"]["items"][f"bob@{domain}"]
        check(item["name"] == "Bob B" and sorted(item["groups"]) == ["Friends", "Work"], f"roster {item}")
        vcard = await iq(a, None, "<vCard xmlns='vcard-temp'/>", "get")
        check(vcard.findtext("{vcard-temp}FN") == "Alice Liddell", ET.tostring(vcard))
        priv = await iq(a, None, "<query xmlns='jabber:iq:private'><prefs xmlns='test:prefs'/></query>", "get")
        check(priv.findtext("{test:prefs}prefs/{test:prefs}color") == "blue", ET.tostring(priv))
        b = await env2.connect(f"bob@{domain}/r", "bob-pass", mech=mech)
        await b.next_message(lambda m: m["body"] == "hi bob, you are offline")
        await env2.close_all()
    finally:
        target.stop()
        shutil.rmtree(target.workdir, ignore_errors=True)


async def test_import_a_prosody_data_directory(env):
    work = tempfile.mkdtemp(prefix="causerie-prosody-")
    data, port = os.path.join(work, "data"), harness.free_port()
    os.makedirs(data)
    os.makedirs(os.path.join(work, "certs"))
    config = write(os.path.join(work, "prosody.cfg.lua"), f"""-- Written by test_portability.py
run_as_root = true
certificates = "{work}/certs"
pidfile = "{work}/prosody.pid"
data_path = "{data}"
log = {{ info = "{env.output}/prosody.log" }}
c2s_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{}}
s2s_ports = {{}}
s2s_direct_tls_ports = {{}}
http_ports = {{}}
https_ports = {{}}
component_ports = {{}}
network_backend = "epoll"
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = false
modules_enabled = {{ "roster"; "saslauth"; "disco"; "pep"; "private"; "vcard_legacy"; "offline"; "mam"; "ping" }}
VirtualHost "p.test"
Component "conference.p.test" "muc"
modules_enabled = {{ "muc_mam" }}
Component "{PROSODY_PUBSUB}" "pubsub"
admins = {{ "alice@p.test" }}
""")
    proc, out = spawn(["prosody", "--config", config, "-F"], work, os.path.join(env.output, "prosody.stdout"))
    try:
        wait_port(proc, port, "prosody")
        for name in ("alice", "bob"):
            r = subprocess.run(["prosodyctl", "--config", config, "register", name, "p.test", f"{name}-pass"],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            check(r.returncode == 0, f"prosodyctl register: {r.stdout} {r.stderr}")
        alice = await peer_client("alice@p.test/x", "alice-pass", port, tls=False)
        await fill_prosody_services(alice)
        await fill_peer(alice, "bob@p.test", "p.test")
    finally:
        stop(proc, out)
    try:
        target = fresh_server(env, "from-prosody", hosts=("p.test",))
        r = cli(target, "import", data, "--from", "prosody")
        check(r.returncode == 0 and "imported 2 account(s)" in r.stdout and "2 service(s) with 1 room(s)" in r.stdout,
              r.stdout + r.stderr)
        doc = cli(target, "export").stdout
        check("<title>From elsewhere</title>" in doc, "the PEP post came along")
        check("<archive xmlns='urn:xmpp:pie:0#mam'>" in doc, "the archive came along")
        # Prosody 0.12 keeps SCRAM-SHA-1 keys only: those accounts log in with SCRAM-SHA-1.
        await check_imported(env, target, "p.test", "SCRAM-SHA-1-PLUS", check_prosody_services)
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def test_import_ejabberd_export_piefxis(env):
    work = tempfile.mkdtemp(prefix="causerie-ejabberd-")
    c2s, api, dist = harness.free_port(), harness.free_port(), harness.free_port()
    pem = os.path.join(work, "server.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pem + ".key", "-out",
                    pem + ".crt", "-days", "2", "-subj", "/CN=e.test"], check=True, capture_output=True)
    with open(pem, "w") as f:
        f.write(open(pem + ".crt").read() + open(pem + ".key").read())
    os.chmod(pem, 0o600)
    exported = os.path.join(work, "export")
    os.makedirs(exported)
    config = write(os.path.join(work, "ejabberd.yml"), f"""# Written by test_portability.py
hosts: ["e.test"]
loglevel: info
log_rotate_count: 0
certfiles: ["{pem}"]
auth_method: internal
auth_password_format: scram
listen:
  - port: {c2s}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: true
  - port: {api}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  "made by the test":
    from: [mod_http_api]
    who:
      ip: "127.0.0.1/32"
    what: ["register", "export_piefxis"]
modules:
  mod_caps: {{}}
  mod_http_api: {{}}
  mod_offline: {{}}
  mod_ping: {{}}
  mod_private: {{}}
  mod_roster: {{}}
  mod_vcard: {{}}
  mod_pubsub:
    plugins: ["flat", "pep"]
""")
    inetrc = write(os.path.join(work, "inetrc"), '{resolv_conf, ""}.\n{lookup, [file]}.\n')
    penv = dict(os.environ, HOME=work, ERL_LIBS="/usr/lib/x86_64-linux-gnu", ERL_INETRC=inetrc,
                EJABBERD_CONFIG_PATH=config, EJABBERD_LOG_PATH=os.path.join(env.output, "ejabberd.log"),
                ERL_CRASH_DUMP=os.path.join(work, "erl_crash.dump"))
    node = f"causerieport{os.getpid()}@localhost"
    proc, out = spawn(["erl", "-sname", node, "-noinput", "-erl_epmd_port", str(dist), "-start_epmd", "false",
                       "-kernel", "inet_dist_use_interface", "{127,0,0,1}", "-env", "ERL_CRASH_DUMP_BYTES", "0",
                       "-mnesia", "dir", f'"{work}/db"', "-s", "ejabberd"], work,
                      os.path.join(env.output, "ejabberd.stdout"), env=penv)

    def call(command, args):
        req = urllib.request.Request(f"http://127.0.0.1:{api}/api/{command}", data=json.dumps(args).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()
    try:
        wait_port(proc, c2s, "ejabberd")
        wait_port(proc, api, "ejabberd's HTTP API")
        for name in ("alice", "bob"):
            call("register", {"user": name, "host": "e.test", "password": f"{name}-pass"})
        alice = await peer_client("alice@e.test/x", "alice-pass", c2s, tls=True)
        await fill_peer(alice, "bob@e.test", "e.test")
        call("export_piefxis", {"dir": exported})
    finally:
        stop(proc, out)
    try:
        files = sorted(os.listdir(exported))
        main_file = [f for f in files if not f.endswith("_e_test.xml")]
        check(len(main_file) == 1 and len(files) == 2, f"export_piefxis wrote {files}")
        target = fresh_server(env, "from-ejabberd", hosts=("e.test",))
        r = cli(target, "import", os.path.join(exported, main_file[0]))
        check(r.returncode == 0 and "imported 2 account(s)" in r.stdout, r.stdout + r.stderr)
        await check_imported(env, target, "e.test", "SCRAM-SHA-1-PLUS")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    harness.main(globals(), listeners=[("https", "http", "direct"), ("http", "http", "none")])
