"""Issue 14 item 7, data portability: `causerie export` and `causerie import` (XEP-0227) of a server whose
data slixmpp clients made (accounts, roster, vCard, private XML, PEP posts, offline messages, archives, a
MUC room, a pubsub node), into an empty data directory and out again, byte for byte; hostile files refused
with nothing imported; accounts and data from a real Prosody 0.12 (its data directory) and a real ejabberd
23.01 (export_piefxis), each started here from its own config, filled by slixmpp, stopped, then imported;
and the account download page (HTTPS, HTTP Basic)."""
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


async def check_imported(env, target, domain, mech):
    """Logs in to Causerie with the peer's passwords and finds what fill_peer made."""
    target.start()
    try:
        env2 = harness.Env(target, env.output)
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
""")
    proc, out = spawn(["prosody", "--config", config, "-F"], work, os.path.join(env.output, "prosody.stdout"))
    try:
        wait_port(proc, port, "prosody")
        for name in ("alice", "bob"):
            r = subprocess.run(["prosodyctl", "--config", config, "register", name, "p.test", f"{name}-pass"],
                               capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            check(r.returncode == 0, f"prosodyctl register: {r.stdout} {r.stderr}")
        alice = await peer_client("alice@p.test/x", "alice-pass", port, tls=False)
        await fill_peer(alice, "bob@p.test", "p.test")
    finally:
        stop(proc, out)
    try:
        target = fresh_server(env, "from-prosody", hosts=("p.test",))
        r = cli(target, "import", data, "--from", "prosody")
        check(r.returncode == 0 and "imported 2 account(s)" in r.stdout, r.stdout + r.stderr)
        doc = cli(target, "export").stdout
        check("<title>From elsewhere</title>" in doc, "the PEP post came along")
        check("<archive xmlns='urn:xmpp:pie:0#mam'>" in doc, "the archive came along")
        # Prosody 0.12 keeps SCRAM-SHA-1 keys only: those accounts log in with SCRAM-SHA-1.
        await check_imported(env, target, "p.test", "SCRAM-SHA-1-PLUS")
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
