"""Observability and operations (issue 14 item 8): Prometheus /metrics on the admin listener, read while
clients chat and parsed as the Prometheus text format (prometheus_client's parser, plus the stricter line
rules below); `causerie status`; SIGHUP reloads (a certificate swapped under a live session, other
changes reported as needing a restart, a broken file refused); `causerie cert import` from a fake Let's
Encrypt live directory; `make install`'s layout (cmake --install with DESTDIR)."""
import asyncio
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import harness
import web_client
from harness import check, free_port, wait_until

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{{LABEL}(?:,{LABEL})*\}})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def strict_parse(text):
    """Text format 0.0.4, strictly: every line a HELP, a TYPE or a sample of the family last declared,
    each family declared once, values that parse as floats, histograms cumulative and ending in +Inf
    equal to _count. Returns {sample name with labels: value}."""
    check(text.endswith("\n"), "the page ends with a newline")
    samples, declared, current = {}, set(), None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            check(re.fullmatch(NAME, name), f"HELP names a metric: {line!r}")
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            check(typ in TYPES, f"known type: {line!r}")
            check(name not in declared, f"{name} declared once")
            declared.add(name)
            current = (name, typ)
            continue
        m = SAMPLE.match(line)
        check(m, f"a sample line: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        check(current is not None, f"{name} comes after a TYPE")
        family, typ = current
        allowed = {family} if typ in ("counter", "gauge", "untyped") else {family + s for s in ("_bucket", "_sum", "_count")}
        check(name in allowed, f"{name} belongs to the family {family} declared before it")
        float(value)
        samples[name + labels] = float(value)
    # Histograms: cumulative buckets, +Inf = count.
    for name in declared:
        buckets = [(k, v) for k, v in samples.items() if k.startswith(name + "_bucket{")]
        if not buckets:
            continue
        values = [v for _, v in buckets]
        check(values == sorted(values), f"{name} buckets are cumulative")
        check(buckets[-1][0].endswith('le="+Inf"}') and buckets[-1][1] == samples[name + "_count"],
              f"{name}: the +Inf bucket equals _count")
    return samples


def scrape(env):
    port = env.server.extra_ports["admin"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        check(r.status == 200, "200 OK")
        check(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"])
        text = r.read().decode()
    # The reference parser must read all of it too.
    families = {f.name for f in text_string_to_metric_families(text)}
    check("causerie_sessions" in families and "causerie_storage_commit_duration_seconds" in families,
          f"families parsed: {sorted(families)}")
    return strict_parse(text)


def sessions(s):
    return sum(s[f'causerie_sessions{{transport="{t}"}}'] for t in ("tcp", "websocket", "bosh"))


async def test_metrics_follow_logins_and_messages_while_clients_chat(env):
    m0 = await harness.in_thread(scrape, env)
    for key in ("causerie_build_info", "causerie_uptime_seconds", "causerie_resident_memory_bytes",
                'causerie_s2s_connections{direction="in"}', 'causerie_storage_queue_depth{lane="write"}'):
        check(any(k.startswith(key) for k in m0), f"{key} is exported")
    check(m0["causerie_resident_memory_bytes"] > 1_000_000, "RSS read from /proc")

    a = await env.connect(*env.user("mia"))
    await wait_until(lambda: sessions(scrape(env)) == sessions(m0) + 1, "a login raises the session gauge")
    b = await env.connect(*env.user("noe"))
    await wait_until(lambda: sessions(scrape(env)) == sessions(m0) + 2, "a second login raises it again")

    m1 = await harness.in_thread(scrape, env)
    a.send_message(mto=b.boundjid.bare, mbody="counted", mtype="chat")
    await b.next_message(lambda m: m["body"] == "counted")
    m2 = await harness.in_thread(scrape, env)
    check(m2['causerie_stanzas_received_total{kind="message"}'] == m1['causerie_stanzas_received_total{kind="message"}'] + 1,
          "one message received")
    check(m2['causerie_stanzas_sent_total{kind="message"}'] == m1['causerie_stanzas_sent_total{kind="message"}'] + 1,
          "one message sent")

    # Scrapes during a burst of traffic: every page parses, counters never go back.
    async def burst():
        for i in range(300):
            a.send_message(mto=b.boundjid.bare, mbody=f"burst {i}", mtype="chat")
        await b.next_message(lambda m: m["body"] == "burst 299", timeout=30)
    task = asyncio.ensure_future(burst())
    last = m2
    while not task.done():
        now = await harness.in_thread(scrape, env)
        for k in ('causerie_stanzas_received_total{kind="message"}', 'causerie_stanzas_sent_total{kind="message"}',
                  "causerie_storage_commit_duration_seconds_count"):
            check(now[k] >= last[k], f"{k} does not go back")
        last = now
    await task
    m3 = await harness.in_thread(scrape, env)
    check(m3['causerie_stanzas_received_total{kind="message"}'] >= m2['causerie_stanzas_received_total{kind="message"}'] + 300,
          "the burst was counted")
    # The messages were archived (XEP-0313): the write lane committed and timed it.
    check(m3["causerie_storage_commit_duration_seconds_count"] > m1["causerie_storage_commit_duration_seconds_count"],
          "commits were timed")

    await env.disconnect(a)
    await wait_until(lambda: sessions(scrape(env)) == sessions(m0) + 1, "a logout lowers the session gauge")


async def test_websocket_and_bosh_sessions_are_counted_by_their_transport(env):
    port = env.server.extra_ports["web"]
    ws_key, bosh_key = 'causerie_sessions{transport="websocket"}', 'causerie_sessions{transport="bosh"}'
    m0 = await harness.in_thread(scrape, env)
    jid, password = env.user("wes")
    ws, _ = await web_client.ws_login(port, jid, password)
    await wait_until(lambda: scrape(env)[ws_key] == m0[ws_key] + 1, "a WebSocket login raises its gauge")
    bosh = web_client.BoshSession(port)
    await bosh.login(jid, password)
    await wait_until(lambda: scrape(env)[bosh_key] == m0[bosh_key] + 1, "a BOSH login raises its gauge")
    await bosh.request(type="terminate")
    await bosh.close()
    ws.close()
    await wait_until(lambda: scrape(env)[ws_key] == m0[ws_key] and scrape(env)[bosh_key] == m0[bosh_key],
                     "both gauges fall back when the sessions end")


async def test_status_summarises_and_says_when_the_server_is_down(env):
    c = await env.connect(*env.user("ida"))
    r = env.server.cli("status")
    check("is running" in r.stdout and "sessions: " in r.stdout and "storage:" in r.stdout, r.stdout)
    check(re.search(r"sessions: [1-9]\d* \(", r.stdout), f"the session is counted: {r.stdout}")
    await env.disconnect(c)
    # A configuration whose admin listener nobody serves: exit status 3, as LSB status scripts expect.
    d = tempfile.mkdtemp(prefix="causerie-status-")
    try:
        cfg = os.path.join(d, "causerie.toml")
        with open(cfg, "w") as f:
            f.write(f'[server]\ndata_dir = "{d}/data"\n[[host]]\nname = "localhost"\n'
                    f'[[listener]]\ntype = "admin"\naddress = "127.0.0.1"\nport = {free_port()}\n')
        r = subprocess.run([env.server.binary, "status", "--config", cfg], capture_output=True, text=True, timeout=30)
        check(r.returncode == 3 and "not running" in r.stdout, f"status of a stopped server: {r.returncode} {r.stdout}")
        with open(cfg, "w") as f:
            f.write(f'[server]\ndata_dir = "{d}/data"\n[[host]]\nname = "localhost"\n')
        r = subprocess.run([env.server.binary, "status", "--config", cfg], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "no admin listener" in r.stderr, r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def test_sighup_reports_what_needs_a_restart_and_refuses_a_broken_file(env):
    a = await env.connect(*env.user("ana"))
    b = await env.connect(*env.user("leo"))
    path = env.server.config_path
    with open(path) as f:
        original = f.read()
    try:
        with open(path, "a") as f:
            f.write("\n[http]\nrequests_per_second = 40\n")
        mark = env.server.log_mark()
        env.server.proc.send_signal(signal.SIGHUP)
        await env.server.wait_log("'http.requests_per_second' changed: takes effect after a restart", since=mark)
        await env.server.wait_log("reload done", since=mark)
        with open(path, "w") as f:
            f.write(original + "\n[limits\n")
        mark = env.server.log_mark()
        env.server.proc.send_signal(signal.SIGHUP)
        await env.server.wait_log("nothing changed", since=mark)
    finally:
        with open(path, "w") as f:
            f.write(original)
    a.send_message(mto=b.boundjid.bare, mbody="still here", mtype="chat")
    await b.next_message(lambda m: m["body"] == "still here")
    s = await harness.in_thread(scrape, env)
    check(s['causerie_config_reloads_total{result="ok"}'] >= 1 and s['causerie_config_reloads_total{result="failed"}'] >= 1,
          "reloads are counted")


def make_certificate(directory, cn, names):
    """A self-signed EC certificate and key, as certbot lays them out (fullchain.pem, privkey.pem)."""
    os.makedirs(directory, exist_ok=True)
    san = ",".join(f"DNS:{n}" for n in names)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "30", "-subj", f"/CN={cn}", "-addext", f"subjectAltName={san}",
                    "-keyout", os.path.join(directory, "privkey.pem"), "-out", os.path.join(directory, "fullchain.pem")],
                   check=True, capture_output=True)
    os.chmod(os.path.join(directory, "privkey.pem"), 0o600)


def pem_fingerprint(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def served_fingerprint(port):
    """The SHA-256 of the certificate a new direct-TLS connection is shown (SNI localhost)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["xmpp-client"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


async def test_cert_import_refuses_what_it_should(env):
    d = tempfile.mkdtemp(prefix="causerie-le-")
    try:
        live = os.path.join(d, "live")
        make_certificate(os.path.join(live, "elsewhere.example"), "elsewhere.example", ["elsewhere.example"])
        r = env.server.cli("cert", "import", os.path.join(live, "elsewhere.example"), check=False)
        check(r.returncode == 1 and "not named after a host" in r.stderr, r.stderr)
        # A key that is not the certificate's.
        make_certificate(os.path.join(live, "localhost"), "localhost", ["localhost"])
        make_certificate(os.path.join(d, "other"), "localhost", ["localhost"])
        shutil.copy(os.path.join(d, "other", "privkey.pem"), os.path.join(live, "localhost", "privkey.pem"))
        r = env.server.cli("cert", "import", live, check=False)
        check(r.returncode == 1 and "match" in r.stderr, r.stderr)  # "does not match", "key values mismatch"
        check("skipped" in r.stdout and "elsewhere.example" in r.stdout, r.stdout)
        # A certificate for another name, in a directory named after the host.
        make_certificate(os.path.join(live, "localhost"), "wrong.example", ["wrong.example"])
        r = env.server.cli("cert", "import", os.path.join(live, "localhost"), check=False)
        check(r.returncode == 1 and "does not name localhost" in r.stderr, r.stderr)
        check(not os.path.exists(os.path.join(env.server.data_dir, "certs", "localhost.crt")), "nothing imported")
    finally:
        shutil.rmtree(d, ignore_errors=True)


async def test_cert_import_and_sighup_swap_the_certificate_under_a_live_session(env):
    a = await env.connect(*env.user("eva"))
    b = await env.connect(*env.user("tom"))
    port = env.server.tls_port
    before = await harness.in_thread(served_fingerprint, port)
    check(before == pem_fingerprint(env.server.cert_path), "the generated certificate is served at first")
    d = tempfile.mkdtemp(prefix="causerie-le-")
    try:
        live = os.path.join(d, "live", "localhost")
        make_certificate(live, "localhost", ["localhost", "*.localhost"])
        mark = env.server.log_mark()
        r = env.server.cli("cert", "import", live)
        check("imported localhost" in r.stdout and "asked the running server" in r.stdout, r.stdout)
        await env.server.wait_log("reload done", since=mark)
        key = os.path.join(env.server.data_dir, "certs", "localhost.key")
        check(os.stat(key).st_mode & 0o077 == 0, "the imported key is readable by its owner only")
        after = await harness.in_thread(served_fingerprint, port)
        check(after == pem_fingerprint(os.path.join(live, "fullchain.pem")), "a new connection sees the new certificate")
        check(after != before, "the certificate changed")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    # The sessions made before the swap go on.
    a.send_message(mto=b.boundjid.bare, mbody="after the swap", mtype="chat")
    await b.next_message(lambda m: m["body"] == "after the swap")
    b.send_message(mto=a.boundjid.bare, mbody="and back", mtype="chat")
    await a.next_message(lambda m: m["body"] == "and back")


async def test_install_lays_out_the_files(env):
    build = os.path.dirname(env.server.binary)
    prefix = "/usr/local"
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_INSTALL_PREFIX:"):
                prefix = line.strip().split("=", 1)[1]
    dest = tempfile.mkdtemp(prefix="causerie-install-")
    try:
        def install():
            return subprocess.run(["cmake", "--install", build], env={**os.environ, "DESTDIR": dest},
                                  capture_output=True, text=True, timeout=120)
        r = await harness.in_thread(install)
        check(r.returncode == 0, r.stderr)
        root = dest + prefix
        binary = os.path.join(root, "bin", "causerie")
        check(os.access(binary, os.X_OK), "bin/causerie installed")
        unit = open(os.path.join(root, "lib", "systemd", "system", "causerie.service")).read()
        check(f"ExecStart={prefix}/bin/causerie run --config {prefix}/etc/causerie/causerie.toml" in unit, unit)
        for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ExecReload=/bin/kill -HUP $MAINPID"):
            check(option in unit, f"{option} in the unit")
        # systemd's own parser: no unknown key, no bad value (the paths pointed into the staged tree, since
        # it also checks that ExecStart exists).
        staged = os.path.join(dest, "causerie.service")
        with open(staged, "w") as f:
            f.write(unit.replace(f"{prefix}/bin/causerie", binary))
        r = subprocess.run(["systemd-analyze", "verify", staged], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stderr.strip() == "", f"systemd-analyze verify: {r.stderr}")
        conf = os.path.join(root, "etc", "causerie", "causerie.toml")
        check(os.path.exists(conf), "the configuration installed")
        for doc in ("ADMIN.md", "causerie.example.toml"):
            check(os.path.exists(os.path.join(root, "share", "doc", "causerie", doc)), f"{doc} installed")
        # An upgrade keeps the admin's configuration.
        with open(conf, "a") as f:
            f.write("# edited by the admin\n")
        r = await harness.in_thread(install)
        check(r.returncode == 0 and "Kept:" in r.stdout, r.stdout)
        check(open(conf).read().endswith("# edited by the admin\n"), "the configuration was kept")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


harness.main(globals(), listeners=[("admin", "admin", "none"), ("web", "http", "none")])
