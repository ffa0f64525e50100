"""Small XMPP-over-HTTP clients for the protocol tests, on the standard library only (asyncio): an HTTP/1.1
keep-alive connection, a WebSocket client (RFC 6455, masked frames, the 'xmpp' subprotocol of RFC 7395),
and a BOSH client (XEP-0124/0206) that keeps a long poll open on one connection and sends on another.
They speak just enough to log in with SASL PLAIN (the tests' server counts loopback HTTP as secure) and to
exchange stanzas; everything else is left to the tests, which send raw XML to probe the server."""
import asyncio
import base64
import os
import random
import struct
import xml.etree.ElementTree as ET

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
STREAMS = "http://etherx.jabber.org/streams"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
HTTPBIND = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"
CLIENT = "jabber:client"


def q(ns, name):
    return f"{{{ns}}}{name}"


def plain_auth(jid, password):
    user = jid.split("@")[0]
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


class HttpConnection:
    """One persistent HTTP/1.1 connection."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port, host="127.0.0.1"):
        r, w = await asyncio.open_connection(host, port)
        return cls(r, w)

    async def request(self, method, path, body=b"", headers=None, timeout=90):
        if isinstance(body, str):
            body = body.encode()
        h = {"Host": f"localhost", "Content-Length": str(len(body))}
        h.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        return await asyncio.wait_for(self.read_response(method), timeout)

    async def read_response(self, method="GET"):
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = (await self.reader.readline()).decode().rstrip("\r\n")
            if not line:
                break
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        body = await self.reader.readexactly(n) if n and method != "HEAD" else b""
        return status, headers, body

    def close(self):
        self.writer.close()


class WebSocket:
    """A WebSocket client connection (RFC 6455): masked frames out, whole messages in."""

    def __init__(self, reader, writer, response_headers):
        self.reader, self.writer, self.headers = reader, writer, response_headers
        self.close_code = None

    @classmethod
    async def connect(cls, port, path="/xmpp-websocket", protocol="xmpp", origin=None, ssl=None):
        """Returns (status, headers, websocket or None). `ssl`: an SSLContext for wss://."""
        if ssl:
            r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ssl, server_hostname="localhost")
        else:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", "Host: localhost", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        if origin:
            lines.append(f"Origin: {origin}")
        w.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await w.drain()
        conn = HttpConnection(r, w)
        status, headers, _ = await conn.read_response()
        if status != 101:
            w.close()
            return status, headers, None
        return status, headers, cls(r, w, headers)

    def send_frame(self, opcode, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big") if n else b""
        self.writer.write(head + mask + masked)

    async def send(self, text):
        self.send_frame(0x1, text)
        await self.writer.drain()

    async def recv_frame(self, timeout=10):
        b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        check_unmasked = not (b1 & 0x80)
        assert check_unmasked, "server frames must not be masked (RFC 6455 §5.1)"
        return b0 & 0x0F, bool(b0 & 0x80), await self.reader.readexactly(n)

    async def recv(self, timeout=10):
        """The next text message as a string, or None once the server closed (close code in close_code).
        Pings are answered."""
        parts = []
        while True:
            op, fin, data = await self.recv_frame(timeout)
            if op == 0x9:
                self.send_frame(0xA, data)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                try:
                    self.send_frame(0x8, data[:2])
                    await self.writer.drain()
                except ConnectionError:
                    pass
                return None
            parts.append(data)
            if fin:
                return b"".join(parts).decode()

    async def recv_xml(self, timeout=10):
        text = await self.recv(timeout)
        return None if text is None else ET.fromstring(text)

    async def recv_until_closed(self, timeout=10):
        """Every message until the server's close frame: [elements], close code."""
        out = []
        while True:
            el = await self.recv_xml(timeout)
            if el is None:
                return out, self.close_code
            out.append(el)

    def close(self):
        self.writer.close()


async def ws_login(port, jid, password, resource="ws"):
    """A WebSocket XMPP session, authenticated (PLAIN) and bound; returns (ws, full_jid)."""
    status, _, ws = await WebSocket.connect(port)
    assert status == 101, f"upgrade refused: {status}"
    domain = jid.split("@")[1]
    open_ = f"<open xmlns='{FRAMING}' to='{domain}' version='1.0'/>"
    await ws.send(open_)
    assert (await ws.recv_xml()).tag == q(FRAMING, "open")
    features = await ws.recv_xml()
    mechs = [m.text for m in features.iter(q(SASL, "mechanism"))]
    assert "PLAIN" in mechs, f"PLAIN not offered: {mechs}"
    await ws.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain_auth(jid, password)}</auth>")
    res = await ws.recv_xml()
    assert res.tag == q(SASL, "success"), f"auth failed: {ET.tostring(res)}"
    await ws.send(open_)
    assert (await ws.recv_xml()).tag == q(FRAMING, "open")
    await ws.recv_xml()  # features
    await ws.send(f"<iq xmlns='{CLIENT}' type='set' id='b1'><bind xmlns='{BIND}'><resource>{resource}</resource></bind></iq>")
    res = await ws.recv_xml()
    full = res.find(f"{q(BIND, 'bind')}/{q(BIND, 'jid')}").text
    return ws, full


class BoshSession:
    """A BOSH session over two keep-alive connections (requests=2): one long poll, one for sending."""

    def __init__(self, port, domain="localhost", wait=10, hold=1):
        self.port, self.domain, self.wait, self.hold = port, domain, wait, hold
        self.rid = random.randint(1 << 20, 1 << 40)
        self.sid = None
        self.inbox = asyncio.Queue()
        self.conns = asyncio.Queue()
        self.terminated = None
        self.poller = None
        self.lock = asyncio.Lock()

    async def connect(self):
        for _ in range(2):
            self.conns.put_nowait(await HttpConnection.open(self.port))
        body = (f"<body xmlns='{HTTPBIND}' xmlns:xmpp='{XBOSH}' rid='{self.rid}' to='{self.domain}' "
                f"xml:lang='en' wait='{self.wait}' hold='{self.hold}' ver='1.11' xmpp:version='1.0'/>")
        status, headers, data = await self.post_raw(body)
        el = ET.fromstring(data)
        self.sid = el.get("sid")
        self.created = el
        return el

    async def post_raw(self, body, conn=None):
        c = conn or await self.conns.get()
        try:
            return await c.request("POST", "/http-bind", body, {"Content-Type": "text/xml; charset=utf-8"})
        finally:
            if conn is None:
                self.conns.put_nowait(c)

    def body(self, payload="", rid=None, **attrs):
        if rid is None:
            self.rid += 1
            rid = self.rid
        extra = "".join(f" {k.replace('__', ':').replace('_', '-') if k != 'xml_lang' else 'xml:lang'}='{v}'"
                        for k, v in attrs.items())
        return (f"<body xmlns='{HTTPBIND}' xmlns:xmpp='{XBOSH}' sid='{self.sid}' rid='{rid}'{extra}>"
                f"{payload}</body>")

    async def request(self, payload="", **attrs):
        """Sends one request (taking the next rid) and returns the response <body/>; its payloads also go
        to the inbox."""
        async with self.lock:
            text = self.body(payload, **attrs)
        status, _, data = await self.post_raw(text)
        assert status == 200, f"HTTP {status}"
        el = ET.fromstring(data)
        for child in el:
            self.inbox.put_nowait(child)
        if el.get("type") == "terminate":
            self.terminated = el
        return el

    def start_polling(self):
        self.polling = True

        async def loop():
            while self.terminated is None and self.polling:
                try:
                    await self.request()
                except (ConnectionError, asyncio.IncompleteReadError):
                    return
        self.poller = asyncio.ensure_future(loop())

    async def stop_polling(self):
        """Sends no more long polls, and returns once the server has answered the one in flight (when
        something arrives for the client, or when its 'wait' is up): then it holds no request."""
        self.polling = False
        if self.poller:
            await self.poller
            self.poller = None

    async def next(self, pred=lambda e: True, timeout=10):
        deadline = asyncio.get_event_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_event_loop().time()
            if left <= 0:
                raise AssertionError("timed out waiting for a BOSH payload")
            el = await asyncio.wait_for(self.inbox.get(), left)
            if pred(el):
                return el

    async def authenticate(self, jid, password):
        """Creates the session, authenticates with PLAIN and restarts the stream (ready to bind, or to
        resume a XEP-0198 session); returns the stream features after the restart."""
        created = await self.connect()
        features = created.find(q(STREAMS, "features"))
        if features is None:
            features = (await self.request()).find(q(STREAMS, "features"))
        resp = await self.request(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain_auth(jid, password)}</auth>")
        if resp.find(q(SASL, "success")) is None:
            await self.next(lambda e: e.tag == q(SASL, "success") or e.tag == q(SASL, "failure"))
        resp = await self.request(xmpp__restart="true", to=self.domain)
        features = resp.find(q(STREAMS, "features"))
        if features is None:
            features = await self.next(lambda e: e.tag == q(STREAMS, "features"))
        return features

    async def login(self, jid, password, resource="bosh"):
        """Creates the session, authenticates with PLAIN, restarts, binds; returns the full JID."""
        await self.authenticate(jid, password)
        resp = await self.request(f"<iq xmlns='{CLIENT}' type='set' id='bind1'><bind xmlns='{BIND}'>"
                                  f"<resource>{resource}</resource></bind></iq>")
        iq = resp.find(q(CLIENT, "iq"))
        if iq is None:
            iq = await self.next(lambda e: e.tag == q(CLIENT, "iq"))
        return iq.find(f"{q(BIND, 'bind')}/{q(BIND, 'jid')}").text

    async def close(self):
        if self.poller:
            self.poller.cancel()
        while not self.conns.empty():
            self.conns.get_nowait().close()
