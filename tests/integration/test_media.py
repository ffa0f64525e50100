"""Issue 15, item 5: pictures. A slixmpp client uploads through XEP-0363 (raw iqs, as test_upload.py) a
real JPEG made here with Debian's tools (vips from libvips-tools writes it, exiftool from
libimage-exiftool-perl adds EXIF and XMP GPS tags and an EXIF orientation), then asks urn:causerie:media:0
what the server made of it: the iq is answered when processing finishes (no polling, no sleep). The
thumbnail and the web-sized copy come back over HTTP with the announced sizes (autorotated), and exiftool
finds no location in them nor in the served original, whose pixels and orientation are unchanged. A host
listed in keep_location keeps the original's location. A corrupt JPEG, a pixel bomb (a PNG whose header
claims 20000 × 20000) and a non-picture get the documented errors, and the server still serves."""
import json
import os
import struct
import subprocess
import tempfile
import zlib

import harness
from harness import ET, check
from test_upload import ask, fetch, slot

NS_MEDIA = "urn:causerie:media:0"
NS_THUMBS = "urn:xmpp:thumbs:1"
KEEP_HOST = "keep.localhost"


def m(name):
    return f"{{{NS_MEDIA}}}{name}"


def ppm(w, h):
    """A gradient picture (red along x, blue along y) as binary PPM, which vips reads."""
    rows = bytearray()
    for y in range(h):
        for x in range(w):
            rows += bytes((x * 255 // (w - 1), 96, y * 255 // (h - 1)))
    return b"P6 %d %d 255\n" % (w, h) + bytes(rows)


def tool(*args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"{args[0]} failed: {r.stderr}")
    return r.stdout


def gps_jpeg(w=1600, h=1200):
    """A JPEG of w × h pixels stored, tagged with orientation 6 (shown rotated: h × w) and a location in
    both EXIF and XMP."""
    d = tempfile.mkdtemp(prefix="causerie-media-")
    src, out = os.path.join(d, "in.ppm"), os.path.join(d, "photo.jpg")
    with open(src, "wb") as f:
        f.write(ppm(w, h))
    tool("vips", "copy", src, out + "[Q=90]")
    tool("exiftool", "-q", "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
         "-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-Orientation#=6",
         "-XMP-exif:GPSLatitude=48.8584 N", "-XMP-exif:GPSLongitude=2.2945 E", out)
    with open(out, "rb") as f:
        data = f.read()
    check(gps_tags(data), "the test picture carries GPS tags")
    return data


def exif(data):
    """exiftool's view of a file's metadata (every group), numbers as numbers."""
    with tempfile.NamedTemporaryFile(suffix=".img") as f:
        f.write(data)
        f.flush()
        return json.loads(tool("exiftool", "-j", "-G", "-n", f.name))[0]


def gps_tags(data):
    return sorted(k for k in exif(data) if "GPS" in k)


def png(w, h, idat):
    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))


async def upload(c, name, data, ctype):
    put, get = await slot(c, name, len(data), ctype)
    status, _, _ = await fetch("PUT", put, data, {"Content-Type": ctype})
    check(status == 201, f"PUT answered {status}")
    return get


async def media(c, url):
    """The media iq, answered when the picture's processing has finished."""
    return await ask(c, f"upload.{c.boundjid.domain}", f"<media xmlns='{NS_MEDIA}' url='{url}'/>")


async def media_error(c, url):
    try:
        res = await media(c, url)
    except harness.IqError as e:
        err = e.iq.xml.find("{jabber:client}error")
        cond = [ch.tag for ch in err]
        return err.get("type"), cond
    raise AssertionError(f"media info for {url} should have been refused: {ET.tostring(res)}")


def thumb(res, which):
    t = res.find(f"{m(which)}/{{{NS_THUMBS}}}thumbnail")
    check(t is not None, f"<{which}> with a XEP-0264 thumbnail: {ET.tostring(res)}")
    return t


async def test_disco_announces_media(env):
    c = await env.connect(*env.user("disco"))
    info = await ask(c, f"upload.{env.host}", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    feats = [f.get("var") for f in info.findall("{http://jabber.org/protocol/disco#info}feature")]
    check(NS_MEDIA in feats, f"feature {NS_MEDIA}: {feats}")


async def test_jpeg_with_location(env):
    c = await env.connect(*env.user("alice"))
    data = await harness.in_thread(gps_jpeg)
    get = await upload(c, "paris.jpg", data, "application/octet-stream")  # the declared type is not trusted
    res = await media(c, get)
    check(res.tag == m("media") and res.get("url") == get, f"media answer: {ET.tostring(res)}")
    # Orientation 6: 1600 × 1200 stored, 1200 × 1600 shown.
    check((res.get("media-type"), res.get("width"), res.get("height")) == ("image/jpeg", "1200", "1600"),
          f"original described: {res.attrib}")
    bh = res.get("blurhash", "")
    check(len(bh) == 28 and bh[0] == "L", f"a 4 × 3 blurhash: {bh!r}")
    expected = {"thumb": (240, 320), "web": (960, 1280)}
    for which, (w, h) in expected.items():
        t = thumb(res, which)
        check((t.get("media-type"), t.get("width"), t.get("height")) == ("image/jpeg", str(w), str(h)),
              f"{which} announced: {t.attrib}")
        check(t.get("uri").endswith(f"/{which}/paris.jpg"), f"{which} URL: {t.get('uri')}")
        status, hdr, body = await fetch("GET", t.get("uri"))
        check(status == 200 and hdr.get("content-type") == "image/jpeg", f"GET {which}: {status} {hdr}")
        check(hdr.get("x-content-type-options") == "nosniff" and "sandbox" in hdr.get("content-security-policy", ""),
              f"{which} safety headers: {hdr}")
        check("immutable" in hdr.get("cache-control", ""), f"{which} caching: {hdr.get('cache-control')}")
        meta = await harness.in_thread(exif, body)
        check((meta.get("File:ImageWidth"), meta.get("File:ImageHeight")) == (w, h), f"{which} really {w}×{h}: "
              f"{meta.get('File:ImageWidth')}×{meta.get('File:ImageHeight')}")
        left = [k for k in meta if k.startswith(("EXIF:", "XMP:", "XMP-")) or "GPS" in k]
        check(not left, f"{which} carries no metadata: {left}")
    # The original: no location anywhere, the orientation and the compressed pixels as uploaded.
    status, hdr, body = await fetch("GET", get)
    check(status == 200 and hdr.get("content-type") == "image/jpeg", f"original: {status} {hdr}")
    meta = await harness.in_thread(exif, body)
    gps = [k for k in meta if "GPS" in k]
    check(not gps, f"the original's location removed: {gps}")
    check(meta.get("EXIF:Orientation") == 6, f"orientation kept: {meta.get('EXIF:Orientation')}")
    check(body[body.rindex(b"\xff\xda"):] == data[data.rindex(b"\xff\xda"):], "the original's scan data unchanged")
    check(len(body) < len(data), "the XMP block is gone")
    # The same question again: answered from what was stored.
    again = await media(c, get)
    check(again.get("blurhash") == bh, "the same answer")


async def test_keep_location_host(env):
    jid = f"kept@{KEEP_HOST}"
    env.server.cli("user", "add", jid, "--password", "pw-xxxxxxxx", check=False)
    c = await env.connect(jid, "pw-xxxxxxxx")
    data = await harness.in_thread(gps_jpeg, 640, 480)
    get = await upload(c, "kept.jpg", data, "image/jpeg")
    res = await media(c, get)
    status, _, body = await fetch("GET", get)
    check(status == 200 and body == data, "the original stored as uploaded on a keep_location host")
    check(await harness.in_thread(gps_tags, body), "its location kept")
    status, _, small = await fetch("GET", thumb(res, "thumb").get("uri"))
    check(status == 200 and not await harness.in_thread(gps_tags, small), "the thumbnail still has none")


async def test_bad_pictures_refused_server_serves(env):
    c = await env.connect(*env.user("mallory"))
    good = await harness.in_thread(gps_jpeg, 320, 200)
    # Corrupt: a JPEG cut after its headers and a third of its scan.
    cut = good[:good.rindex(b"\xff\xda") + 200] + b"\x00" * 64
    get = await upload(c, "cut.jpg", cut, "image/jpeg")
    etype, cond = await media_error(c, get)
    check(etype == "modify" and m("undecodable") in cond, f"corrupt picture: {etype} {cond}")
    status, _, body = await fetch("GET", get)
    check(status == 200 and body[body.rindex(b"\xff\xda"):] == cut[cut.rindex(b"\xff\xda"):],
          f"the corrupt file itself still served: {status}")
    check(not await harness.in_thread(gps_tags, body), "without its location")
    uri = get.rsplit("/", 1)
    status, _, _ = await fetch("GET", f"{uri[0]}/thumb/{uri[1]}")
    check(status == 404, f"no thumbnail of a corrupt picture: {status}")
    # A pixel bomb: 400 million pixels claimed by a 100-byte PNG, refused on its header.
    bomb = png(20000, 20000, zlib.compress(b"\x00" * 1000))
    get = await upload(c, "bomb.png", bomb, "image/png")
    etype, cond = await media_error(c, get)
    check(etype == "modify" and m("too-many-pixels") in cond, f"pixel bomb: {etype} {cond}")
    # Not a picture at all (whatever its declared type).
    get = await upload(c, "notes.png", b"just some text, not a PNG\n", "image/png")
    etype, cond = await media_error(c, get)
    check(m("not-image") in cond, f"not a picture: {cond}")
    # A URL the service never handed out.
    etype, cond = await media_error(c, get.replace("/upload/", "/upload/0") )
    check("{urn:ietf:params:xml:ns:xmpp-stanzas}item-not-found" in cond, f"unknown URL: {cond}")
    # And the server still makes copies.
    get = await upload(c, "fine.jpg", good, "image/jpeg")
    res = await media(c, get)
    t = thumb(res, "thumb")
    check((t.get("width"), t.get("height")) == ("200", "320"), f"after the bad ones: {t.attrib}")


if __name__ == "__main__":
    harness.main(globals(), hosts=("localhost", KEEP_HOST), listeners=[("http", "http", "none")],
                 extra_toml="[modules.upload]\nmax_file_size = 5000000\nquota = 50000000\n"
                            "max_image_pixels = 4000000\n" f"keep_location = [\"{KEEP_HOST}\"]\n")
