"""Issue 12, item 8: XEP-0363 HTTP File Upload served by Causerie's own HTTP listener. A slixmpp client
asks upload.localhost for slots (raw iqs: Debian's slixmpp xep_0363 plugin needs aiohttp, which is not
packaged here) and Python's http.client does the PUTs and GETs against the loopback listener: an image
comes back byte for byte with a safe Content-Type, a Range GET gets 206, over-size and over-quota slots
are refused with XEP-0363 §4's errors, tampered or expired URLs get 403, and files expire when the
server's test clock moves past `expire_after`."""
import http.client
import os
import urllib.parse

import harness
from harness import ET, check

NS = "urn:xmpp:http:upload:0"
MAX = 100000
QUOTA = 250000
EXPIRE = 3600


def q(name):
    return f"{{{NS}}}{name}"


async def ask(client, to, payload, stype="get"):
    iq = client.Iq(stype=stype, sto=to)
    iq.append(ET.fromstring(payload))
    res = await iq.send(timeout=10)
    return res.xml[0] if len(res.xml) else None


async def slot(client, filename, size, content_type="application/octet-stream"):
    s = await ask(client, f"upload.{client.boundjid.domain}",
                  f"<request xmlns='{NS}' filename='{filename}' size='{size}' content-type='{content_type}'/>")
    check(s.tag == q("slot"), f"a slot: {ET.tostring(s)}")
    return s.find(q("put")).get("url"), s.find(q("get")).get("url")


async def slot_error(client, filename, size):
    try:
        await slot(client, filename, size)
    except harness.IqError as e:
        return e.iq
    raise AssertionError(f"a slot for {size} bytes should have been refused")


def request(method, url, body=None, headers=None):
    """(status, headers as a lower-cased dict, body) of one HTTP request; only loopback URLs."""
    u = urllib.parse.urlsplit(url)
    check(u.hostname == "127.0.0.1", f"loopback URL: {url}")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    try:
        target = u.path + ("?" + u.query if u.query else "")
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


async def fetch(method, url, body=None, headers=None):
    return await harness.in_thread(request, method, url, body, headers)


async def advance_clock(client, seconds):
    await ask(client, client.boundjid.domain, f"<advance xmlns='urn:causerie:testing:clock' seconds='{seconds}'/>",
              stype="set")


def image(size):
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


async def test_service_discovered_with_max_size(env):
    c = await env.connect(*env.user("disco"))
    items = await ask(c, env.host, "<query xmlns='http://jabber.org/protocol/disco#items'/>")
    check(any(i.get("jid") == f"upload.{env.host}" for i in items), f"upload service listed: {ET.tostring(items)}")
    info = await ask(c, f"upload.{env.host}", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = [f.get("var") for f in info.findall("{http://jabber.org/protocol/disco#info}feature")]
    check(NS in feats, f"feature {NS}: {feats}")
    fields = {f.get("var"): f.findtext("{jabber:x:data}value")
              for f in info.iter("{jabber:x:data}field")}
    check(fields.get("FORM_TYPE") == NS and fields.get("max-file-size") == str(MAX), f"form: {fields}")


async def test_image_round_trip(env):
    c = await env.connect(*env.user("alice"))
    data = image(60000)
    put, get = await slot(c, "holiday photo.png", len(data), "image/png")
    check(put.startswith("http://127.0.0.1:") and "/upload/" in get, f"URLs: {put} {get}")
    status, _, _ = await fetch("PUT", put, data, {"Content-Type": "image/png"})
    check(status == 201, f"PUT answered {status}")
    status, h, body = await fetch("GET", get)
    check(status == 200 and body == data, f"GET answered {status}, {len(body)} bytes")
    check(h.get("content-type") == "image/png", f"type {h.get('content-type')}")
    check(h.get("x-content-type-options") == "nosniff", f"nosniff: {h}")
    check(h.get("content-disposition") == "inline", f"disposition: {h.get('content-disposition')}")
    # The same slot cannot be used twice.
    status, _, _ = await fetch("PUT", put, data)
    check(status == 409, f"second PUT answered {status}")
    # A type a browser would run is served as a download.
    page = b"<html><script>alert(1)</script></html>"
    put, get = await slot(c, "page.html", len(page), "text/html")
    check((await fetch("PUT", put, page))[0] == 201, "html stored")
    status, h, body = await fetch("GET", get)
    check(status == 200 and body == page, f"GET html: {status}")
    check(h.get("content-type") == "application/octet-stream", f"html type {h.get('content-type')}")
    check(h.get("content-disposition") == "attachment", f"html disposition {h.get('content-disposition')}")


async def test_range_get(env):
    c = await env.connect(*env.user("ranger"))
    data = image(5000)
    put, get = await slot(c, "r.png", len(data), "image/png")
    check((await fetch("PUT", put, data))[0] == 201, "stored")
    status, h, body = await fetch("GET", get, headers={"Range": "bytes=10-99"})
    check(status == 206 and body == data[10:100], f"206 with the range: {status} {len(body)}")
    check(h.get("content-range") == f"bytes 10-99/{len(data)}", f"Content-Range {h.get('content-range')}")
    status, h, body = await fetch("GET", get, headers={"Range": "bytes=-7"})
    check(status == 206 and body == data[-7:], f"suffix range: {status} {body!r}")
    status, h, _ = await fetch("GET", get, headers={"Range": f"bytes={len(data)}-"})
    check(status == 416 and h.get("content-range") == f"bytes */{len(data)}", f"416: {status} {h}")
    status, h, _ = await fetch("OPTIONS", get, headers={"Origin": "https://example.org",
                                                       "Access-Control-Request-Method": "PUT"})
    # A browser client's CORS preflight for the PUT (cors_origins defaults to "*").
    check(status == 204 and "PUT" in h.get("access-control-allow-methods", ""), f"preflight: {status} {h}")


async def test_oversize_slot_refused(env):
    c = await env.connect(*env.user("big"))
    iq = await slot_error(c, "huge.bin", MAX + 1)
    check(iq["error"]["condition"] == "not-acceptable" and iq["error"]["type"] == "modify", f"error {iq}")
    tl = iq.xml.find(f"{{jabber:client}}error/{q('file-too-large')}")
    check(tl is not None and tl.findtext(q("max-file-size")) == str(MAX), f"file-too-large: {iq}")
    iq = await slot_error(c, "", 10)
    check(iq["error"]["condition"] == "bad-request", f"no filename: {iq}")


async def test_quota_refused(env):
    c = await env.connect(*env.user("hoarder"))
    for i in range(2):
        data = os.urandom(MAX)
        put, _ = await slot(c, f"f{i}.bin", len(data))
        check((await fetch("PUT", put, data))[0] == 201, f"file {i} stored")
    iq = await slot_error(c, "f3.bin", QUOTA - 2 * MAX + 1)
    check(iq["error"]["condition"] == "resource-constraint", f"over quota: {iq}")
    # Someone else is not affected.
    other = await env.connect(*env.user("modest"))
    await slot(other, "ok.bin", MAX)


async def test_tampered_urls_refused(env):
    c = await env.connect(*env.user("mallory"))
    data = os.urandom(1000)
    put, get = await slot(c, "t.bin", len(data))
    bigger = put.replace(f"&s={len(data)}&", f"&s={len(data) + 1}&")
    check(bigger != put, "size in the URL")
    check((await fetch("PUT", bigger, data + b"x"))[0] == 403, "a changed size is refused")
    u = urllib.parse.urlsplit(put)
    other_path = urllib.parse.urlunsplit(u._replace(path=u.path.rsplit("/", 1)[0] + "/other.bin"))
    check((await fetch("PUT", other_path, data))[0] == 403, "a changed path is refused")
    forged = put[:-4] + ("0000" if not put.endswith("0000") else "1111")
    check((await fetch("PUT", forged, data))[0] == 403, "a wrong signature is refused")
    check((await fetch("PUT", put.split("?")[0], data))[0] == 403, "an unsigned PUT is refused")
    check((await fetch("PUT", put, data + b"more"))[0] == 413, "a longer body is refused")
    check((await fetch("GET", get))[0] == 404, "nothing was stored")
    check((await fetch("PUT", put, data))[0] == 201, "the right PUT still works")


async def test_expired_slot_and_file(env):
    c = await env.connect(*env.user("late"))
    data = os.urandom(2000)
    put, _ = await slot(c, "slow.bin", len(data))
    await advance_clock(c, 301)
    check((await fetch("PUT", put, data))[0] == 403, "an expired slot is refused")
    put, get = await slot(c, "kept.bin", len(data))
    check((await fetch("PUT", put, data))[0] == 201, "stored")
    check((await fetch("GET", get))[0] == 200, "served before expiry")
    file_id = urllib.parse.urlsplit(get).path.split("/")[2]
    path = os.path.join(env.server.data_dir, "upload", file_id + ".data")
    check(os.path.exists(path), f"{path} on disk")
    await advance_clock(c, EXPIRE + 1)
    check((await fetch("GET", get))[0] == 404, "gone after expire_after")
    await harness.wait_until(lambda: not os.path.exists(path), f"{path} removed")


if __name__ == "__main__":
    harness.main(globals(), listeners=[("http", "http", "none")],
                 extra_toml=f"[testing]\nmanual_clock = true\n\n[modules.upload]\nmax_file_size = {MAX}\n"
                            f"quota = {QUOTA}\nexpire_after = {EXPIRE}\n")
