"""A byte-level XEP-0114 component for tests: it opens a jabber:component:accept stream, computes the
handshake itself and reads stanzas as ElementTree elements, so tests can send what a real component would
and what a broken one might (a wrong secret, a forged 'from')."""
import asyncio
import hashlib
import re
import xml.etree.ElementTree as ET

STREAM_NS = "http://etherx.jabber.org/streams"
ACCEPT_NS = "jabber:component:accept"
STREAMS_NS = "urn:ietf:params:xml:ns:xmpp-streams"
STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def q(ns, name):
    return f"{{{ns}}}{name}"


class RawComponent:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.header = None        # our peer's stream header attributes
        self.elements = asyncio.Queue()
        self.closed = False       # the server's closing tag or EOF arrived
        self.stream_id = None
        self.backlog = []         # elements read while waiting for another one, in arrival order
        self._pump = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self):
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.parser.feed(data)
                for event, el in self.parser.read_events():
                    if event == "start":
                        self.depth += 1
                        if self.depth == 1:
                            self.header = dict(el.attrib)
                            self.stream_id = el.get("id")
                            self.elements.put_nowait(("header", el))
                    else:
                        if self.depth == 2:
                            self.elements.put_nowait(("element", el))
                        elif self.depth == 1:
                            self.elements.put_nowait(("close", el))
                        self.depth -= 1
        except (ConnectionError, ET.ParseError):
            pass
        self.closed = True
        self.elements.put_nowait(("eof", None))

    def send(self, data):
        self.writer.write(data.encode() if isinstance(data, str) else data)

    async def _event(self, timeout=10):
        return await asyncio.wait_for(self.elements.get(), timeout)

    async def open(self, domain, ns=ACCEPT_NS):
        """Sends our header; returns the server's header attributes (or raises if the stream ends first)."""
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='{STREAM_NS}' to='{domain}'>")
        kind, _ = await self._event()
        if kind != "header":
            raise AssertionError(f"no stream header, got {kind}")
        return self.header

    async def handshake(self, secret):
        """Returns None on success, or the stream error's condition name."""
        digest = hashlib.sha1((self.stream_id + secret).encode()).hexdigest()
        self.send(f"<handshake>{digest}</handshake>")
        el = await self.next()
        if el.tag == q(ACCEPT_NS, "handshake"):
            return None
        return stream_error_condition(el)

    async def next(self, pred=lambda el: True, timeout=10):
        """The first element not yet taken that matches pred (others stay for later calls); raises when
        the stream ends first."""
        for i, el in enumerate(self.backlog):
            if pred(el):
                return self.backlog.pop(i)
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for a matching element; unmatched: "
                                     f"{[short(e) for e in self.backlog]}")
            try:
                kind, el = await self._event(left)
            except asyncio.TimeoutError:
                continue
            if kind == "element":
                if pred(el):
                    return el
                self.backlog.append(el)
                continue
            if kind in ("close", "eof"):
                raise AssertionError(f"the stream ended ({kind}) while waiting for an element")

    async def stream_error(self, timeout=10):
        """Waits for a stream error and the end of the stream; returns the condition name."""
        el = await self.next(lambda e: e.tag == q(STREAM_NS, "error"), timeout)
        await self.wait_closed(timeout)
        return stream_error_condition(el)

    async def wait_closed(self, timeout=10):
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            kind, _ = await self._event(max(0.01, deadline - loop.time()))
            if kind in ("close", "eof"):
                return

    async def close(self):
        """Ends our stream cleanly and waits for the server's closing tag."""
        if not self.closed:
            self.send("</stream:stream>")
            await self.wait_closed()
        self.abort()

    def abort(self):
        """Drops the connection without ending the stream."""
        self.closed = True
        self.writer.close()
        self._pump.cancel()


def stream_error_condition(el):
    if el.tag != q(STREAM_NS, "error"):
        raise AssertionError(f"expected a stream error, got {ET.tostring(el)!r}")
    for child in el:
        if child.tag.startswith("{" + STREAMS_NS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return None


def stanza_error_condition(el):
    err = el.find(q(ACCEPT_NS, "error"))
    if err is None:
        return None
    for child in err:
        if child.tag.startswith("{" + STANZAS_NS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return None


def short(el):
    return re.sub(r"\s+", " ", ET.tostring(el, encoding="unicode"))[:400]
