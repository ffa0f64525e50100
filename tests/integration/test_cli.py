"""Issue 2, the command line: every subcommand works, and every error is one clear line and a non-zero exit."""
import os
import socket
import subprocess
import tempfile
import harness
from harness import check


def run(env, *args, config=True, input=None):
    cmd = [env.server.binary, *args]
    if config:
        cmd += ["--config", env.server.config_path]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=input)


_movers = 0


async def wait_refused(env, jid, password):
    """A running server sees changes made by another process at its next check of the accounts'
    generation counter, made by a login at most once a second by the server's clock (a test clock here):
    once that clock has moved a second, the next login with these credentials, which worked before the
    change, is refused."""
    global _movers
    _movers += 1
    mover_jid, mover_pw = env.user(f"clockmover{_movers}")
    mover = await env.connect(mover_jid + "/clock", mover_pw)
    await harness.advance_clock(mover, 1)
    mover.disconnect()
    check(await env.login_refused(jid + "/x", password), f"the running server still lets {jid} in with {password!r}")


def one_line_error(r, contains):
    check(r.returncode != 0, f"non-zero exit for: {r.args}")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(len(lines) == 1, f"one line on stderr, got {lines}")
    check(contains in lines[0], f"{contains!r} not in {lines[0]!r}")


async def test_user_commands(env):
    r = run(env, "user", "add", "Dora@localhost", "--password", "explorer")
    check(r.returncode == 0 and "created dora@localhost" in r.stdout, r.stdout + r.stderr)
    one_line_error(run(env, "user", "add", "dora@localhost", "--password", "again"), "already exists")
    one_line_error(run(env, "user", "add", "not a jid", "--password", "x"), "not a valid account address")
    one_line_error(run(env, "user", "add", "x@elsewhere.example", "--password", "x"), "not served")
    one_line_error(run(env, "user", "add", "y@localhost", "--password", ""), "empty")
    r = run(env, "user", "passwd", "dora@localhost", "--password", "-", input="new-secret\n")
    check(r.returncode == 0, r.stderr)
    c = await env.connect("dora@localhost/x", "new-secret")
    c.disconnect()
    one_line_error(run(env, "user", "passwd", "ghost@localhost", "--password", "x"), "no account")
    r = run(env, "user", "list", "localhost")
    check("dora@localhost" in r.stdout.split(), r.stdout)
    one_line_error(run(env, "user", "list", "nowhere.example"), "not served")
    r = run(env, "user", "del", "dora@localhost")
    check(r.returncode == 0, r.stderr)
    one_line_error(run(env, "user", "del", "dora@localhost"), "no account")
    await wait_refused(env, "dora@localhost", "new-secret")


async def test_changes_from_the_command_line_reach_a_running_server(env):
    # The server caches credentials of recent logins; a change made by another process must still count.
    jid, pw = env.user("cached", "first-pass")
    c = await env.connect(jid + "/x", pw)
    c.disconnect()
    check(run(env, "user", "passwd", jid, "--password", "second-pass").returncode == 0, "passwd")
    await wait_refused(env, jid, "first-pass")
    c = await env.connect(jid + "/x", "second-pass")
    c.disconnect()
    check(run(env, "user", "del", jid).returncode == 0, "del")
    await wait_refused(env, jid, "second-pass")


async def test_check_and_version(env):
    r = run(env, "version", config=False)
    check(r.returncode == 0 and r.stdout.startswith("causerie "), r.stdout)
    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good.toml")
        port = harness.free_port()
        with open(good, "w") as f:
            f.write(f'[server]\ndata_dir = "{d}/data"\n[[host]]\nname = "example.org"\n'
                    f'[[listener]]\ntype = "c2s"\naddress = "127.0.0.1"\nport = {port}\n')
        r = subprocess.run([env.server.binary, "check", "--config", good], capture_output=True, text=True)
        check(r.returncode == 0 and f"OK    listener 127.0.0.1:{port} (c2s, STARTTLS): port free" in r.stdout,
              r.stdout + r.stderr)
        # example.org is a special-use name: without [dns] servers nothing is asked of the system's resolver.
        check("WARN  example.org: DNS not checked" in r.stdout, r.stdout)
        # A port in use is named.
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
            r = subprocess.run([env.server.binary, "check", "--config", good], capture_output=True, text=True)
            busy = [l for l in r.stdout.splitlines() if l.startswith(f"ERROR listener 127.0.0.1:{port} ")]
            check(r.returncode != 0 and len(busy) == 1 and "in use" in busy[0], r.stdout)
        # Bad syntax and bad values: one line naming the file and line, or the key.
        bad = os.path.join(d, "bad.toml")
        with open(bad, "w") as f:
            f.write('[server]\nworkers = "many"\n[[host]]\nname = "example.org"\n')
        one_line_error(subprocess.run([env.server.binary, "check", "--config", bad], capture_output=True, text=True),
                       "server.workers")
        with open(bad, "w") as f:
            f.write('[[host]\nname = "x"\n')
        one_line_error(subprocess.run([env.server.binary, "check", "--config", bad], capture_output=True, text=True),
                       "bad.toml:1")
        # A certificate that does not name the host.
        cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=other.example",
                        "-addext", "subjectAltName=DNS:other.example"], capture_output=True, check=True)
        with open(bad, "w") as f:
            f.write(f'[server]\ndata_dir = "{d}/data"\n[tls]\ncertificate = "{cert}"\nkey = "{key}"\n'
                    '[[host]]\nname = "example.org"\n')
        r = subprocess.run([env.server.binary, "check", "--config", bad], capture_output=True, text=True)
        check(r.returncode != 0 and f"ERROR example.org: certificate {cert} does not name example.org "
              "(names: other.example)" in r.stdout.splitlines(), r.stdout)
        # `run` with a bad config fails the same way, before listening.
        one_line_error(subprocess.run([env.server.binary, "run", "--config", os.path.join(d, "missing.toml")],
                                      capture_output=True, text=True), "missing.toml")


if __name__ == "__main__":
    harness.main(globals(), extra_toml=harness.MANUAL_CLOCK)
