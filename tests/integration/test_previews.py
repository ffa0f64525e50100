"""Issue 15 item 4: link previews (urn:causerie:preview:0, docs/protocol/previews.md) and the image proxy,
fetched by the server's outbound HTTP client with its SSRF guard.

The pages are served by this test on 127.0.0.1, which the main server allow-lists ([http_client] allow =
["127.0.0.1/32"]): title, description, site name and image come back, the image through the signed
proxy (and byte for byte, with the proxy's headers); answers are cached until the server's test clock
passes cache_ttl; requests are rate-limited per account. Over https the page server's certificate comes
from a test CA given as [http_client] ca_file: a certificate for the asked name is accepted, one for
another name refused before any request.

SSRF attempts are refused before any connection, with loopback as the only target ever: a canary socket
listens on 127.0.0.2 (not allow-listed) and must never see a connection — not from a redirect of an allowed
page to it, nor from a second server without any allow-list asked for a name that a dnsmasq on loopback
resolves to 127.0.0.2 (or to the allowed page server's 127.0.0.1). A huge page is refused, a forged proxy
signature gets 403 without a fetch. No test makes the server connect to a non-loopback address: private
ranges are covered by the classifier's unit tests (tests/unit/address_classifier_test.cpp)."""
import hashlib
import hmac
import atexit
import base64
import http.client
import http.server
import os
import select
import shutil
import ssl
import socket
import tempfile
import threading
import urllib.parse

import harness
from federation import Dns, TestCA
from harness import ET, check

NS = "urn:causerie:preview:0"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
TTL = 3600
PER_MINUTE = 5


def q(name):
    return f"{{{NS}}}{name}"


class Canary:
    """A listening socket on 127.0.0.2 that must never be connected to."""

    def __init__(self):
        self.sock = socket.socket()
        for _ in range(50):  # a port below 32768, as every test server's
            try:
                self.sock.bind(("127.0.0.2", harness.free_port()))
                break
            except OSError:
                continue
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connected(self):
        """Whether a connection is waiting (it would have been made before the refusal we observed)."""
        ready, _, _ = select.select([self.sock], [], [], 0)
        return bool(ready)


class Pages:
    """The test's web server on 127.0.0.1: records every request (path, headers)."""

    def __init__(self, canary_port, tls=None):
        self.requests = []
        pages = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                pages.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                path = self.path.split("?")[0]
                if path == "/article":
                    body = ("<!doctype html><html><head><meta charset='utf-8'><title>Fallback title</title>"
                            "<meta property='og:title' content='A caf\u00e9 &amp; its story'>"
                            "<meta property='og:description' content='What the page is about.'>"
                            "<meta property='og:site_name' content='Test Site'>"
                            "<meta property='og:type' content='article'>"
                            "<meta property='og:image' content='/img.png'>"
                            "</head><body><meta property='og:title' content='not this'></body></html>").encode()
                    self.reply(200, "text/html; charset=utf-8", body, {"Set-Cookie": "tracker=1"})
                elif path == "/plain":
                    self.reply(200, "text/html", b"<html><head><title>Only a title</title></head><body>x</body></html>")
                elif path == "/img.png":
                    self.reply(200, "image/png", PNG, {"Set-Cookie": "tracker=1"})
                elif path == "/fake.png":
                    self.reply(200, "image/png", b"<html><script>alert(1)</script></html>")
                elif path == "/moved":
                    self.reply(301, "text/plain", b"", {"Location": "/plain"})
                elif path == "/to-canary":
                    self.reply(302, "text/plain", b"", {"Location": f"http://127.0.0.2:{canary_port}/inside"})
                elif path == "/huge":
                    # No Content-Length: the body runs to the close, 4 MiB, more than the limit.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    try:
                        self.wfile.write(b"<html><head><title>huge</title></head><body>")
                        chunk = b"x" * 65536
                        for _ in range(64):
                            self.wfile.write(chunk)
                    except OSError:
                        pass  # the server stopped reading: what the test expects
                else:
                    self.reply(404, "text/plain", b"no")

            def reply(self, status, ctype, body, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path):
        return sum(1 for p, _ in self.requests if p.split("?")[0] == path)


CANARY = Canary()
PAGES = Pages(CANARY.port)
# https: a test CA the server trusts through [http_client] ca_file; one server with a certificate for
# localhost (the name the test asks for), one whose certificate names another host.
CA_DIR = tempfile.mkdtemp(prefix="causerie-it-ca-")
atexit.register(shutil.rmtree, CA_DIR, True)
CA = TestCA(CA_DIR)
HTTPS = Pages(CANARY.port, tls=CA.issue("localhost", names=["localhost"], xmpp_addr=False))
WRONG_NAME = Pages(CANARY.port, tls=CA.issue("other.test", names=["other.test"], xmpp_addr=False))


async def ask(client, payload, stype="get"):
    iq = client.Iq(stype=stype, sto=client.boundjid.domain)
    iq.append(ET.fromstring(payload))
    res = await iq.send(timeout=30)
    return res.xml[0] if len(res.xml) else None


async def preview(client, url):
    return await ask(client, f"<preview xmlns='{NS}' url='{url}'/>")


async def preview_error(client, url):
    try:
        r = await preview(client, url)
    except harness.IqError as e:
        # The condition element itself (slixmpp's own list lacks some RFC 6120 conditions).
        err = e.iq.xml.find("{jabber:client}error")
        stanzas = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
        cond = next((c.tag[len(stanzas):] for c in err if c.tag.startswith(stanzas) and c.tag != stanzas + "text"), "")
        return cond, err.findtext(stanzas + "text")
    raise AssertionError(f"a preview of {url} should have failed: {ET.tostring(r)}")


def http_get(url):
    u = urllib.parse.urlsplit(url)
    check(u.hostname == "127.0.0.1", f"loopback URL: {url}")
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers={"Cookie": "session=secret",
                                                                                   "Referer": "http://client.example/"})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


async def test_preview_of_a_page_with_its_image_through_the_proxy(env):
    c = await env.connect(*env.user("reader"))
    p = await preview(c, PAGES.url("/article"))
    check(p.tag == q("preview"), f"a preview: {ET.tostring(p)}")
    check(p.findtext(q("title")) == "A caf\u00e9 & its story", f"og:title wins: {ET.tostring(p)}")
    check(p.findtext(q("description")) == "What the page is about.", f"description: {ET.tostring(p)}")
    check(p.findtext(q("site-name")) == "Test Site", f"site name: {ET.tostring(p)}")
    check(p.findtext(q("type")) == "article", f"type: {ET.tostring(p)}")
    image = p.find(q("image")).get("url")
    proxy = f"http://127.0.0.1:{env.server.extra_ports['http']}/proxy/image?"
    check(image.startswith(proxy), f"the image goes through the proxy: {image}")
    check(PAGES.count("/img.png") == 0, "the image is not fetched before a client asks for it")
    status, headers, body = await harness.in_thread(http_get, image)
    check(status == 200, f"proxied image: {status} {body[:200]!r}")
    check(body == PNG, "the image byte for byte")
    check(headers.get("content-type") == "image/png", f"content type: {headers}")
    check("default-src 'none'" in headers.get("content-security-policy", ""), f"CSP: {headers}")
    check("max-age" in headers.get("cache-control", ""), f"cache headers: {headers}")
    check("set-cookie" not in headers, f"no cookie of the origin passed on: {headers}")
    fetched = [h for path, h in PAGES.requests if path == "/img.png"]
    check(len(fetched) == 1, f"one fetch of the image: {PAGES.requests}")
    check("cookie" not in fetched[0] and "referer" not in fetched[0], f"no cookie or referrer sent: {fetched[0]}")


async def test_cached_until_the_ttl_passes(env):
    c = await env.connect(*env.user("cacher"))
    before = PAGES.count("/plain")
    p = await preview(c, PAGES.url("/plain"))
    check(p.findtext(q("title")) == "Only a title", f"title from <title>: {ET.tostring(p)}")
    check(p.find(q("image")) is None, "no image")
    p2 = await preview(c, PAGES.url("/plain"))
    check(ET.tostring(p2) == ET.tostring(p), "the same answer")
    check(PAGES.count("/plain") == before + 1, f"the second answer came from the cache: {PAGES.requests}")
    await ask(c, f"<advance xmlns='urn:causerie:testing:clock' seconds='{TTL + 1}'/>", stype="set")
    await preview(c, PAGES.url("/plain"))
    check(PAGES.count("/plain") == before + 2, "fetched again once expired")


async def test_redirect_followed_and_final_url_given(env):
    c = await env.connect(*env.user("redirected"))
    p = await preview(c, PAGES.url("/moved"))
    check(p.get("final-url") == PAGES.url("/plain"), f"final URL: {ET.tostring(p)}")
    check(p.findtext(q("title")) == "Only a title", f"the target's title: {ET.tostring(p)}")


async def test_redirect_to_a_refused_address_is_not_followed(env):
    c = await env.connect(*env.user("redirect-ssrf"))
    cond, text = await preview_error(c, PAGES.url("/to-canary"))
    check(cond == "forbidden", f"forbidden: {cond} {text}")
    check("127.0.0.2" not in (text or ""), f"the internal address is not told: {text}")
    check(PAGES.count("/to-canary") == 1, "the allowed page was fetched")
    check(not CANARY.connected(), "no connection to 127.0.0.2")


async def test_huge_page_refused(env):
    c = await env.connect(*env.user("huge"))
    cond, text = await preview_error(c, PAGES.url("/huge"))
    check(cond == "not-acceptable", f"not-acceptable: {cond} {text}")
    check("larger than" in (text or ""), f"says why: {text}")


async def test_bad_urls(env):
    c = await env.connect(*env.user("badurl"))
    for url in ("ftp://127.0.0.1/", "http://user:pw@127.0.0.1/", "javascript:alert(1)", "", "http://127.0.0.1:0/"):
        cond, _ = await preview_error(c, url)
        check(cond == "bad-request", f"{url!r}: bad-request, got {cond}")


async def test_forged_proxy_signature_is_403_without_a_fetch(env):
    before = PAGES.count("/img.png")
    base = f"http://127.0.0.1:{env.server.extra_ports['http']}/proxy/image"
    target = urllib.parse.quote(PAGES.url("/img.png"), safe="")
    for query in (f"u={target}&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", f"u={target}", "s=abc", ""):
        status, headers, _ = await harness.in_thread(http_get, base + "?" + query)
        check(status == 403, f"{query}: 403, got {status}")
    check(PAGES.count("/img.png") == before, "nothing fetched for a forged signature")


async def test_proxy_serves_images_only(env):
    # A URL the server really signed (the test reads the server's secret), whose content is not an image.
    with open(os.path.join(env.server.data_dir, "preview_secret")) as f:
        secret = f.read().strip()
    url = PAGES.url("/fake.png")
    sig = base64.urlsafe_b64encode(hmac.new(secret.encode(), url.encode(), hashlib.sha256).digest()).rstrip(b"=")
    proxied = (f"http://127.0.0.1:{env.server.extra_ports['http']}/proxy/image?u="
               f"{urllib.parse.quote(url, safe='')}&s={sig.decode()}")
    status, headers, body = await harness.in_thread(http_get, proxied)
    check(status == 502, f"HTML labelled image/png is refused: {status} {body!r}")
    check(b"script" not in body, "none of it passed on")


async def test_rate_limited_per_account(env):
    c = await env.connect(*env.user("eager"))
    other = await env.connect(*env.user("patient"))
    for _ in range(PER_MINUTE):
        await preview(c, PAGES.url("/plain"))
    cond, _ = await preview_error(c, PAGES.url("/plain"))
    check(cond == "policy-violation", f"the {PER_MINUTE + 1}th request in a minute: {cond}")
    await preview(other, PAGES.url("/plain"))  # others are not affected


async def test_https_verified_with_sni_and_host_name(env):
    c = await env.connect(*env.user("secure"))
    p = await preview(c, f"https://localhost:{HTTPS.port}/article")
    check(p.findtext(q("site-name")) == "Test Site", f"the page over https: {ET.tostring(p)}")
    check(HTTPS.count("/article") == 1, "fetched over TLS")
    cond, text = await preview_error(c, f"https://localhost:{WRONG_NAME.port}/article")
    check(cond == "remote-server-not-found" and "TLS" in (text or ""), f"a certificate for another host: {cond} {text}")
    check(WRONG_NAME.count("/article") == 0, "no request after a failed verification")


async def test_names_resolving_to_loopback_refused_without_allow_list(env):
    """A second server with no allow-list, resolving through a dnsmasq on loopback."""
    workdir = tempfile.mkdtemp(prefix="causerie-it-ssrf-")
    dns = Dns(workdir)
    dns.host("internal.test", "127.0.0.2")
    dns.host("pages.test", "127.0.0.1")
    dns.start()
    server = harness.Server(env.server.binary, workdir, os.path.join(env.output, "server-no-allow.log"),
                            extra_toml=f'[dns]\nservers = ["127.0.0.1:{dns.port}"]\ntimeout_ms = 500\n')
    server.start()
    env2 = harness.Env(server, env.output)
    try:
        c = await env2.connect(*env2.user("victim"))
        before = len(PAGES.requests)
        cond, text = await preview_error(c, f"http://internal.test:{CANARY.port}/admin")
        check(cond == "forbidden", f"internal.test -> 127.0.0.2 refused: {cond} {text}")
        await harness.wait_until(lambda: "127.0.0.2 (loopback)" in open(server.log_path).read(),
                                 "the log names the refused address")
        cond, text = await preview_error(c, f"http://pages.test:{PAGES.port}/article")
        check(cond == "forbidden", f"pages.test -> 127.0.0.1 refused without the allow-list: {cond} {text}")
        cond, text = await preview_error(c, PAGES.url("/article"))
        check(cond == "forbidden", f"an IP literal is vetted too: {cond} {text}")
        cond, text = await preview_error(c, f"http://[::ffff:127.0.0.1]:{PAGES.port}/article")
        check(cond == "forbidden", f"an IPv4-mapped literal too: {cond} {text}")
        check(len(PAGES.requests) == before, f"the page server saw nothing: {PAGES.requests[before:]}")
        check(not CANARY.connected(), "no connection to 127.0.0.2")
    finally:
        await env2.close_all()
        server.stop()
        dns.stop()


harness.main(globals(), listeners=[("http", "http", "none")],
             extra_toml=("[testing]\nmanual_clock = true\n\n[http_client]\nallow = [\"127.0.0.1/32\", \"::1/128\"]\n"
                         f"ca_file = \"{CA.cert}\"\n\n"
                         f"[modules.previews]\ncache_ttl = {TTL}\nrequests_per_minute = {PER_MINUTE}\n"
                         "max_page_size = 262144\n"))
