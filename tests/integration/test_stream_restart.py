"""Issue 10, item 5: stream restarts after SASL for clients that write an XML declaration (and a newline
after each element) on every stream open — Debian's go-sendxmpp, Pidgin, Psi. A login whose credentials
come from the cache is answered while the <auth/> read is still being parsed, so whatever followed it in
that read ("\\n") must not reach the new stream's parser as text before its declaration."""
import asyncio
import base64
import shutil

import harness
import muc_util
import web_client as wc
from harness import check, RawClient

DECL = "<?xml version='1.0' encoding='UTF-8'?>"


def raw_login(env, user, password, direct_tls=False, scram=False):
    """One login the way go-sendxmpp does it: newline after every element, declaration on every header."""
    c = RawClient(env.server, direct_tls=direct_tls)
    header = (f"<?xml version='1.0'?>\n<stream:stream to='{env.host}' xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>\n")
    if not direct_tls:
        c.send(header)
        c.read_until("</stream:features>")
        c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\n")
        c.read_until("<proceed")
        c._wrap()
    c.buffer = b""
    c.send(header)
    c.read_until("</stream:features>")
    c.buffer = b""
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>\n")
    got = c.read_until("success")
    check("<success" in got, f"login {user}: {got}")
    c.buffer = b""
    c.send(header)
    got = c.read_until("</stream:features>")
    check("<bind" in got and "stream:error" not in got, f"restarted stream for {user}: {got}")
    c.buffer = b""
    c.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>\n")
    got = c.read_until("</iq>")
    check("<jid>" in got, f"bind for {user}: {got}")
    c.send("</stream:stream>")
    c.closed_by_peer()
    c.sock.close()


async def test_repeated_logins_with_declaration_and_trailing_newline(env):
    jid, pw = env.user("decl")
    user = jid.split("@")[0]
    # The first login reads credentials from storage; the next ones find them in the cache (and about once a
    # second a login goes to storage again): both paths, over STARTTLS and direct TLS.
    for i in range(20):
        await asyncio.to_thread(raw_login, env, user, pw, i % 2 == 1)


async def run_sendxmpp(env, *args, stdin):
    proc = await asyncio.create_subprocess_exec(
        shutil.which("go-sendxmpp"), "-n", "-j", f"127.0.0.1:{env.server.c2s_port}", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    return proc.returncode, out.decode(errors="replace")


async def test_go_sendxmpp_chat_and_room_messages(env):
    check(shutil.which("go-sendxmpp"), "go-sendxmpp is installed (scripts/deps.sh)")
    s_jid, s_pw = env.user("sender")
    r_jid, r_pw = env.user("reader")
    reader = await muc_util.connect(env, r_jid + "/desk", r_pw)
    # Ten one-to-one messages, each a new go-sendxmpp login (cached credentials from the second on).
    for i in range(10):
        rc, out = await run_sendxmpp(env, "-u", s_jid, "-p", s_pw, r_jid, stdin=f"hello {i}\n")
        check(rc == 0, f"go-sendxmpp run {i} failed ({rc}): {out}")
        m = await reader.next_message(lambda m: m["type"] != "groupchat" and m["body"].strip() == f"hello {i}")
        check(m["from"].bare == s_jid, "from the sender's account")

    room = muc_util.room_jid(env, "sendxmpp")
    await muc_util.create(reader, room, "reader")
    rc, out = await run_sendxmpp(env, "-u", s_jid, "-p", s_pw, "-c", "-a", "gosender", room, stdin="to the room\n")
    check(rc == 0, f"go-sendxmpp to a room failed ({rc}): {out}")
    m = await reader.next_message(lambda m: m["type"] == "groupchat" and m["body"].strip() == "to the room")
    check(m["from"].resource == "gosender", f"sent under its nickname, got {m['from']}")


async def ws_login_with_declarations(env, jid, password, resource):
    """RFC 7395 §3.3.3 allows (does not recommend) a declaration in each message: every message has one."""
    status, _, ws = await wc.WebSocket.connect(env.server.extra_ports["web"])
    check(status == 101, f"upgrade refused: {status}")
    open_ = f"{DECL}<open xmlns='{wc.FRAMING}' to='{env.host}' version='1.0'/>"
    await ws.send(open_)
    check((await ws.recv_xml()).tag == wc.q(wc.FRAMING, "open"), "open answered")
    await ws.recv_xml()
    await ws.send(f"{DECL}<auth xmlns='{wc.SASL}' mechanism='PLAIN'>{wc.plain_auth(jid, password)}</auth>")
    res = await ws.recv_xml()
    check(res.tag == wc.q(wc.SASL, "success"), f"auth over WebSocket: {res.tag}")
    await ws.send(open_)
    check((await ws.recv_xml()).tag == wc.q(wc.FRAMING, "open"), "restart answered")
    await ws.recv_xml()
    await ws.send(f"{DECL}\n<iq xmlns='{wc.CLIENT}' type='set' id='b1'><bind xmlns='{wc.BIND}'>"
                  f"<resource>{resource}</resource></bind></iq>")
    res = await ws.recv_xml()
    check(res.find(f"{wc.q(wc.BIND, 'bind')}/{wc.q(wc.BIND, 'jid')}") is not None, "bound over WebSocket")
    return ws


async def test_websocket_and_bosh_messages_with_declarations(env):
    jid, pw = env.user("webdecl")
    r_jid, r_pw = env.user("webreader")
    reader = await env.connect(r_jid + "/desk", r_pw)
    for i in range(5):  # storage, then cached credentials
        ws = await ws_login_with_declarations(env, jid, pw, f"ws{i}")
        await ws.send(f"{DECL}<message xmlns='{wc.CLIENT}' to='{r_jid}' type='chat'><body>ws {i}</body></message>")
        await reader.next_message(lambda m: m["body"] == f"ws {i}")
        ws.close()

    class DeclaringBosh(wc.BoshSession):
        async def post_raw(self, body, conn=None):
            return await super().post_raw(DECL + "\n" + body, conn)

    for i in range(3):
        bosh = DeclaringBosh(env.server.extra_ports["web"])
        await bosh.login(jid, pw, resource=f"bosh{i}")
        # The request carrying the message is held (hold=1) until there is something to answer: the
        # terminate request, sent once the message has arrived, releases it.
        held = asyncio.ensure_future(
            bosh.request(f"<message xmlns='{wc.CLIENT}' to='{r_jid}' type='chat'><body>bosh {i}</body></message>"))
        await reader.next_message(lambda m: m["body"] == f"bosh {i}")
        await bosh.request(type="terminate")
        await held
        await bosh.close()


if __name__ == "__main__":
    harness.main(globals(), listeners=[("web", "http", "none")])
